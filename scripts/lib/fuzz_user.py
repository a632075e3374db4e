"""Signs up, verifies (through the mail folder) and signs in a user who has turned the AI
features on; prints the access token.

Usage: python3 scripts/lib/fuzz_user.py BASE_URL MAIL_DIR EMAIL
"""
import email
import glob
import json
import re
import sys
import time
import urllib.request

base, mail, address = sys.argv[1:4]


def post(path, body):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), {"content-type": "application/json"})
    return json.load(urllib.request.urlopen(req))


creds = {"email": address, "password": "tangerine-Orbit-4417-lamp"}
post("/v1/auth/signup", creds)
for _ in range(100):
    mails = [email.message_from_file(open(f)) for f in sorted(glob.glob(mail + "/*.eml"))]
    mails = [m for m in mails if m["To"] == address]
    if mails:
        break
    time.sleep(0.1)
body = mails[-1].get_payload(decode=True).decode()
post("/v1/auth/verify-email", {"token": re.search(r"token=([\w-]+)", body).group(1)})
token = post("/v1/auth/signin", creds)["access_token"]
consent = urllib.request.Request(base + "/v1/me", json.dumps({"ai_enabled": True}).encode(),
                                 {"content-type": "application/json", "authorization": "Bearer " + token},
                                 method="PATCH")
urllib.request.urlopen(consent).read()
print(token)
