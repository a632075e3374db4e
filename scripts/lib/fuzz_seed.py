"""Creates one row of each linkable kind for the fuzz user and prints a schemathesis
configuration (TOML) whose dictionaries bind the link fields (`workspace_id`, `area_id`,
`goal_id`, ...) to those rows. A link must name a row of the caller's workspace, which no schema
can say; without real ids nearly every generated body would be refused for its links alone.

Usage: python3 scripts/lib/fuzz_seed.py BASE_URL ACCESS_TOKEN
"""
import json
import sys
import urllib.request

base, token = sys.argv[1:3]


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data, {"content-type": "application/json", "authorization": "Bearer " + token},
                                 method=method)
    return json.load(urllib.request.urlopen(req))


workspace = next(w["id"] for w in call("GET", "/v1/workspaces")["items"] if w["kind"] == "personal")
area = call("POST", "/v1/areas", {"name": "Fuzz area"})["id"]
goal = call("POST", "/v1/goals", {"title": "Fuzz goal", "area_id": area})["id"]
project = call("POST", "/v1/projects", {"title": "Fuzz project", "goal_id": goal})["id"]
task = call("POST", "/v1/tasks", {"title": "Fuzz task", "project_id": project})["id"]
decision = call("POST", "/v1/decisions", {"title": "Fuzz decision"})["id"]
option = call("POST", "/v1/decision-options", {"decision_id": decision, "title": "Fuzz option"})["id"]

ids = {"workspaces": workspace, "areas": area, "goals": goal, "projects": project, "tasks": task, "decisions": decision,
       "options": option}
bindings = {
    "workspace_id": "workspaces",
    "area_id": "areas",
    "goal_id": "goals",
    "project_id": "projects",
    "task_id": "tasks",
    "parent_id": "tasks",
    "decision_id": "decisions",
    "option_id": "options",
}
for name, value in ids.items():
    print(f"[dictionaries.{name}]\nvalues = [\"{value}\"]\n")
# Versions are unknown to the fuzzer: `If-Match: *` (any version) keeps its writes from failing
# only because it guessed a version.
print("[dictionaries.etags]\nvalues = [\"*\"]\n")
print("[parameters]")
print("\"header.If-Match\" = { dictionary = \"etags\" }")
for field, dictionary in bindings.items():
    print(f"\"body.{field}\" = {{ dictionary = \"{dictionary}\" }}")
    print(f"\"query.{field}\" = {{ dictionary = \"{dictionary}\" }}")
    # Tasks inside a body (the edits of an AI preview).
    print(f"\"body.tasks[*].{field}\" = {{ dictionary = \"{dictionary}\" }}")
# The examples phase sends the documented examples; ids it would copy from earlier responses
# into any id field (a user's id as a workspace_id) say nothing about the schema.
print("\n[phases.examples]\nextra-data-sources = { responses = false }")
