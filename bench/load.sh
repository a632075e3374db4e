#!/usr/bin/env bash
# The CRUD load benchmark: the API (release build) under wrk against pgbench running the same SQL
# through the same PostgreSQL, on a fresh database of 1,000 users with 100 tasks each. Prints
# requests/s and latency for the API, transactions/s for pgbench, and their ratio; Today and the
# daily plan; then GET by id
# again while sign-ins flood the server. Usage: bench/load.sh [SECONDS per run, default 10]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
seconds=${1:-10}
connections=${MINIME_BENCH_CONNECTIONS:-16}
clients=${MINIME_BENCH_PG_CLIENTS:-8}
port=${MINIME_BENCH_PORT:-18090}
export MINIME_BENCH_DIR="$root/bench"

command -v wrk >/dev/null || { echo "bench: installing wrk (Debian package)" >&2; apt-get install -y wrk >/dev/null; }
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
MINIME_PG_DATABASE=minime_bench_admin minime_database
admin_url=$DATABASE_URL
psql -q -d "$admin_url" -c 'DROP DATABASE IF EXISTS minime_bench' -c 'CREATE DATABASE minime_bench'
bench_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/minime_bench")))' "$admin_url")
app_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); h = p.netloc.split("@")[-1]; print(u.urlunsplit(p._replace(netloc="minime_app@" + h)))' "$bench_url")

cargo build -q --release -p minime-api -p minime-openloop
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target/release/minime"
DATABASE_URL=$bench_url "$bin" migrate >/dev/null
# Any valid argon2id hash of the sign-in password serves every seeded user.
hash=$(DATABASE_URL=$bench_url "$bin" admin hash-password 'tangerine-Orbit-4417-lamp')
psql -q -d "$bench_url" -v hash="$hash" -f bench/seed.sql

log=$(mktemp)
DATABASE_URL=$bench_url MINIME_LISTEN=127.0.0.1:$port MINIME_MAIL_DIR=$(mktemp -d) RUST_LOG=warn \
  MINIME_RATE_LIMIT_SIGNIN=100000000/60 MINIME_JWT_SECRET=bench-secret-bench-secret-bench-secret-0000 \
  "$bin" serve >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

# With MINIME_BENCH_PERF=DIR, the server is sampled with perf while each op of the CRUD table
# runs (DIR/OP.data; `perf report -i DIR/OP.data --no-children` reads one) and the top frames of
# each are printed at the end.
perf_dir=${MINIME_BENCH_PERF:-}
[ -n "$perf_dir" ] && mkdir -p "$perf_dir"

# wrk: "Requests/sec" and the latency distribution (p50, p99).
api() {
  local out sampler=
  if [ -n "$perf_dir" ] && [ -n "${2:-}" ]; then
    perf record -q -F 499 -g -p "$server" -o "$perf_dir/$1.data" -- sleep "$seconds" 2>/dev/null &
    sampler=$!
  fi
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "bench/wrk/$1.lua" "http://127.0.0.1:$port" 2>&1)
  if [ -n "$sampler" ]; then wait "$sampler" || true; fi
  if grep -q "Non-2xx" <<<"$out"; then echo "bench: $1 had errors:" >&2; echo "$out" >&2; exit 1; fi
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  echo "$rps $p50 $p99"
}
pg() {
  pgbench -n -M prepared -c "$clients" -j 2 -T "$seconds" -f "bench/pgbench/$1.sql" "$app_url" 2>/dev/null \
    | awk '/^tps/ {print int($3)}'
}

# Each op against its SQL twin twice: statement by statement (a round trip each, as the server
# sends them today) and pipelined (the whole transaction in one round trip: the physical limit).
printf '\n%-8s %12s %10s %10s %14s %8s %14s %8s\n' op "API req/s" "API p50" "API p99" "pgbench tps" ratio "pipelined tps" ratio
for op in get list create update; do
  read -r rps p50 p99 < <(api "$op" profile)
  [ "$op" = get ] && peak=$rps
  tps=$(pg "$op")
  piped=$(pg "$op-pipelined")
  ratio=$(python3 -c "print(f'{$rps / $tps:.2f}')")
  piped_ratio=$(python3 -c "print(f'{$rps / $piped:.2f}')")
  printf '%-8s %12.0f %10s %10s %14s %8s %14s %8s\n' "$op" "$rps" "$p50" "$p99" "$tps" "$ratio" "$piped" "$piped_ratio"
done

# Open loop at half the peak: a fixed rate, latency counted from each request's due time.
half=$(python3 -c "print(int($peak / 2))")
read -r achieved olp50 olp99 olp999 errors < <("$target/release/minime-openloop" "http://127.0.0.1:$port" "$half" "$seconds")
printf '\nGET by id at a fixed %s req/s (half the peak): achieved %s req/s, p50 %s, p99 %s, p99.9 %s, %s errors\n' \
  "$half" "$achieved" "$olp50" "$olp99" "$olp999" "$errors"

# GET by id while another wrk floods sign-ins (argon2id on the bounded blocking pool).
read -r quiet_rps _ quiet_p99 < <(api get)
wrk -t1 -c8 -d"$((seconds + 2))s" -s bench/wrk/signin.lua "http://127.0.0.1:$port" >/dev/null 2>&1 &
flood=$!
sleep 1
read -r busy_rps _ busy_p99 < <(api get)
wait $flood || true
printf '\nGET by id, quiet: %.0f req/s, p99 %s; during a sign-in flood: %.0f req/s, p99 %s\n' "$quiet_rps" "$quiet_p99" "$busy_rps" "$busy_p99"
# Today and the daily plan (100 open tasks per user), last: storing plans leaves dead rows whose
# vacuuming would disturb the latency runs above. No SQL twin exists for these, so GET by id from
# the first table is the baseline.
printf '\n%-8s %12s %10s %10s %14s\n' op "API req/s" "API p50" "API p99" "vs get by id"
for op in today plan; do
  read -r rps p50 p99 < <(api "$op")
  printf '%-8s %12.0f %10s %10s %14s\n' "$op" "$rps" "$p50" "$p99" "$(python3 -c "print(f'{$rps / $peak:.2f}')")"
done

if [ -n "$perf_dir" ]; then
  for op in get list create update; do
    printf '\nTop frames of the server during %s (self time, %% of samples):\n' "$op"
    perf report -q -i "$perf_dir/$op.data" --no-children --sort dso,symbol --percent-limit 1.5 --stdio 2>/dev/null \
      | grep -E '^ +[0-9]' | head -25
  done
fi

echo "(machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; server and load generators share it)"
