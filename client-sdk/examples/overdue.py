#!/usr/bin/env python3
"""A third-party script with a personal access token: prints what is overdue and plans today.

    MINIME_URL=http://127.0.0.1:8080 MINIME_TOKEN=mm_pat_... python3 overdue.py

Make the token in the API (POST /v1/auth/tokens, scope "read" is enough to read; "write" to plan).
"""
import json
import os
import urllib.error
import urllib.request

BASE = os.environ.get("MINIME_URL", "http://127.0.0.1:8080")
TOKEN = os.environ["MINIME_TOKEN"]


def call(method, path, body=None):
    req = urllib.request.Request(BASE + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"authorization": "Bearer " + TOKEN, "content-type": "application/json"})
    try:
        with urllib.request.urlopen(req) as res:
            return json.load(res)
    except urllib.error.HTTPError as e:
        problem = json.load(e)  # every error is application/problem+json
        raise SystemExit(f"{problem['status']} {problem['type']}: {problem['detail']}")


answer = call("GET", "/v1/assistant?question=overdue")["items"][0]
print(answer["answer"])
for row in answer["rows"]:
    print(f"  - {row['title']} ({row['detail']})")
plan = call("POST", "/v1/plans", {})
for block in plan["blocks"]:
    print(f"{block['start']}  {block['title']}: {block['reason']}")
