#!/usr/bin/env bash
# Median and p90 latency of sequential sign-ins (argon2id verification included) against a running
# server, next to an authenticated GET /v1/me as the baseline from the same run.
# Usage: bench/signin-latency.sh [BASE_URL] [MAIL_DIR] [N]
set -euo pipefail
base=${1:-http://127.0.0.1:8080}
mail_dir=${2:-.data/mail}
n=${3:-50}
email="bench-$(date +%s%N)@example.com"
password="tangerine-Orbit-4417-lamp"

json() { curl -sf "$base$1" -H 'content-type: application/json' -d "$2"; }
json /v1/auth/signup "{\"email\":\"$email\",\"password\":\"$password\"}" >/dev/null
for _ in $(seq 50); do
  file=$(grep -l "To: $email" "$mail_dir"/*.eml 2>/dev/null | head -1 || true)
  [ -n "$file" ] && break
  sleep 0.1
done
# Quoted-printable: join soft line breaks and decode "=3D".
token=$(sed -e ':a' -e '/=\r\?$/{N;s/=\r\?\n//;ba}' "$file" | grep -o 'token=3D[A-Za-z0-9_-]*\|token=[A-Za-z0-9_-]*' | head -1 | sed 's/^token=\(3D\)\?//')
json /v1/auth/verify-email "{\"token\":\"$token\"}" >/dev/null

stats() { sort -n | awk '{a[NR]=$1} END {printf "median %.1f ms  p90 %.1f ms  (n=%d)\n", a[int((NR+1)/2)]*1000, a[int(NR*0.9)]*1000, NR}'; }
access=""
echo -n "POST /v1/auth/signin  "
for _ in $(seq "$n"); do
  curl -s -o /tmp/minime-signin.json -w '%{time_total}\n' "$base/v1/auth/signin" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$password\"}"
done | stats
access=$(sed 's/.*"access_token":"\([^"]*\)".*/\1/' /tmp/minime-signin.json)
echo -n "GET  /v1/me           "
for _ in $(seq "$n"); do
  curl -s -o /dev/null -w '%{time_total}\n' "$base/v1/me" -H "authorization: Bearer $access"
done | stats
