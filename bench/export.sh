#!/usr/bin/env bash
# Data rights at size: one account with 100,000 entities. Downloads GET /v1/account/export from
# the release server and reports entities/s and the server's memory above idle; as the baseline
# of the same run, psql copies the same rows as JSON straight out of PostgreSQL. Then times
# DELETE /v1/account. Usage: bench/export.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
port=${MINIME_BENCH_PORT:-18091}
password='tangerine-Orbit-4417-lamp'

# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
MINIME_PG_DATABASE=minime_bench_admin minime_database
admin_url=$DATABASE_URL
psql -q -d "$admin_url" -c 'DROP DATABASE IF EXISTS minime_export' -c 'CREATE DATABASE minime_export'
url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/minime_export")))' "$admin_url")

cargo build -q --release -p minime-api
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target/release/minime"
DATABASE_URL=$url "$bin" migrate >/dev/null
hash=$(DATABASE_URL=$url "$bin" admin hash-password "$password")
psql -q -d "$url" -v hash="$hash" -f bench/export-seed.sql

DATABASE_URL=$url MINIME_LISTEN=127.0.0.1:$port MINIME_MAIL_DIR=$(mktemp -d) RUST_LOG=warn \
  "$bin" serve >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
base=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
token=$(curl -sf "$base/v1/auth/signin" -H 'content-type: application/json' \
  -d "{\"email\":\"export@example.com\",\"password\":\"$password\"}" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$server/status"; }
curl -sf "$base/v1/me" -H "authorization: Bearer $token" >/dev/null
idle=$(kib VmRSS)
peak_before=$(kib VmHWM)

out=$(mktemp)
start=$(date +%s.%N)
curl -sf "$base/v1/account/export" -H "authorization: Bearer $token" -o "$out"
api_s=$(python3 -c "import time; print(f'{time.time() - $start:.3f}')")
peak=$(kib VmHWM)
entities=$(python3 - "$out" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["complete"] is True
print(doc["manifest"]["counts"]["tasks"] + doc["manifest"]["counts"]["captures"])
PY
)
size=$(stat -c %s "$out")

start=$(date +%s.%N)
psql -q -d "$url" -c "\\copy (SELECT to_jsonb(t)::text FROM app.tasks t ORDER BY t.created_at, t.id) TO '/dev/null'" \
  -c "\\copy (SELECT to_jsonb(t)::text FROM app.capture_items t ORDER BY t.created_at, t.id) TO '/dev/null'"
pg_s=$(python3 -c "import time; print(f'{time.time() - $start:.3f}')")

start=$(date +%s.%N)
status=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$base/v1/account" -H "authorization: Bearer $token" \
  -H 'content-type: application/json' -d "{\"password\":\"$password\"}")
delete_s=$(python3 -c "import time; print(f'{time.time() - $start:.3f}')")
[ "$status" = 200 ] || { echo "bench: delete answered $status" >&2; exit 1; }
left=$(psql -At -d "$url" -c "SELECT (SELECT count(*) FROM app.tasks) + (SELECT count(*) FROM app.capture_items)")

python3 - <<PY
entities, api_s, pg_s = $entities, $api_s, $pg_s
print(f"export: {entities} entities, {$size / 1e6:.1f} MB in {api_s:.2f} s = {entities / api_s:,.0f} entities/s")
print(f"baseline (psql copying the same rows as JSON): {pg_s:.2f} s = {entities / pg_s:,.0f} entities/s; API / baseline = {pg_s / api_s:.2f}")
print(f"server memory: idle {$idle / 1024:.1f} MiB, peak during export {$peak / 1024:.1f} MiB "
      f"(+{($peak - $peak_before) / 1024:.1f} MiB over the peak before it)")
print(f"delete account: {$delete_s:.2f} s, rows left: $left")
PY
echo "(machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB)"
