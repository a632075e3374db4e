"""Sends text no database can store to every operation of the OpenAPI document: a NUL in a
JSON body and in every query parameter, and a lone UTF-16 surrogate in a JSON body. Each must
answer a 4xx problem+json (a NUL names its field), never a 5xx. The fuzzer's random strings
rarely hit these; this sweep hits every operation every time.

Usage: python3 scripts/lib/nul_sweep.py BASE_URL ACCESS_TOKEN
"""
import json
import sys
import urllib.error
import urllib.request

base, token = sys.argv[1:3]
ID = "0195f1d2-7c4e-7b51-9d0e-5b1f3c2a4d6e"
# Operations that would end the sweep's own session or account.
SKIP = {("post", "/v1/auth/signout"), ("delete", "/v1/account"), ("post", "/v1/auth/password"),
        ("delete", "/v1/auth/sessions/{id}")}

doc = json.load(urllib.request.urlopen(base + "/openapi.json"))
failures = []
sent = 0


def send(method, path, body=None, content_type="application/json"):
    headers = {"authorization": "Bearer " + token}
    if body is not None:
        headers["content-type"] = content_type
    req = urllib.request.Request(base + path, body, headers, method=method.upper())
    try:
        with urllib.request.urlopen(req) as res:
            return res.status, res.headers.get("content-type", ""), res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


def check(what, status, content_type, body, want_field=None):
    if status >= 500 or status < 400:
        failures.append(f"{what}: {status} {body[:200]!r}")
        return
    if not content_type.startswith("application/problem+json"):
        failures.append(f"{what}: {status} without problem+json")
        return
    if want_field is not None and status == 422:
        fields = [e.get("field") for e in json.loads(body).get("errors", [])]
        if want_field not in fields:
            failures.append(f"{what}: 422 without the field {want_field!r} ({fields})")


def resolve(schema):
    while isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema or {}


def is_text(prop):
    prop = resolve(prop)
    kinds = prop.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "string" in kinds and "format" not in prop and "enum" not in prop:
        return True
    return any(is_text(p) for p in prop.get("oneOf", []) + prop.get("anyOf", []))


def text_fields(op, json_type):
    """The body's documented example, and the names of its free-text properties."""
    schema = resolve(op["requestBody"]["content"][json_type].get("schema"))
    props = schema.get("properties", {})
    example = dict(schema["example"]) if isinstance(schema.get("example"), dict) else {}
    for name, prop in props.items():
        if "example" in prop and name not in example:
            example[name] = prop["example"]
    return example, [name for name, prop in props.items() if is_text(prop)]


for path, item in doc["paths"].items():
    concrete = "/".join(ID if p.startswith("{") else p for p in path.split("/"))
    for method, op in item.items():
        if method not in ("get", "post", "put", "patch", "delete") or (method, path) in SKIP:
            continue
        content = (op.get("requestBody") or {}).get("content", {})
        json_type = next((t for t in content if t.endswith("json")), None)
        if json_type:
            sent += 2
            status, ct, body = send(method, concrete, b'{"sweep": "a\\u0000b"}', json_type)
            # Some operations answer 404 or 403 before reading a body; a read body names the field.
            check(f"{method.upper()} {path} NUL body", status, ct, body, want_field="sweep")
            status, ct, body = send(method, concrete, b'{"sweep": "\\ud800"}', json_type)
            check(f"{method.upper()} {path} lone surrogate", status, ct, body)
            # Each free-text field of a realistic body in turn.
            example, fields = text_fields(op, json_type)
            for field in fields:
                sent += 1
                doc_body = dict(example, **{field: "a\u0000b"})
                status, ct, body = send(method, concrete, json.dumps(doc_body).encode(), json_type)
                check(f"{method.upper()} {path} NUL in {field}", status, ct, body, want_field=field)
        for param in op.get("parameters", []):
            if param.get("in") != "query":
                continue
            sent += 1
            name = param["name"]
            status, ct, body = send(method, f"{concrete}?{name}=a%00b")
            check(f"{method.upper()} {path}?{name}=NUL", status, ct, body, want_field=name)

if failures:
    print("nul sweep: " + str(len(failures)) + " of " + str(sent) + " requests failed:", file=sys.stderr)
    for f in failures:
        print("  " + f, file=sys.stderr)
    sys.exit(1)
print(f"nul sweep: {sent} requests, every one refused cleanly", file=sys.stderr)
