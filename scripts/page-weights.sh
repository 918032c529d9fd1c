#!/usr/bin/env bash
# What a first visit of each page type costs in a real browser: starts a release server on a
# fresh data folder (local mode, with the demo run), waits until the demo run waits for its
# approval, signs in an admin, and measures each page with measure_page.cjs (headless
# Chromium, fresh context per run: every byte and request of a first visit, JS heap).
#
#   scripts/page-weights.sh [--bin PATH] [--site DIR] [--runs N] [--out DIR] [--data DIR]
#
# --bin  the server (default: <target dir>/release/gatehouse, from `cargo leptos build --release`)
# --site its site root with the bundle (default: target/site)
# --runs measured runs per page after one warm-up (default 3)
# --out  where each page's JSON result goes (default: a temporary folder, printed)
# --data instead, a copy of this data folder (one the pages bench kept with
#        GATEHOUSE_BENCH_KEEP_DATA: 1,000 executions), and only /executions?per=100 with its
#        100 rows visible
# MEASURE_PAGE names measure_page.cjs (default ../shared/bench/measure_page.cjs beside the
# repository); playwright-core is installed once into /opt/gatehouse/bench-node.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
source "$repo_root/scripts/env.sh"
bin="${CARGO_TARGET_DIR:-$repo_root/target}/release/gatehouse"
site="$repo_root/target/site"
runs=3
out=""
seed=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --site) site=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --data) seed=$2; shift 2 ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
measure=${MEASURE_PAGE:-$repo_root/../shared/bench/measure_page.cjs}
node_dir=$GATEHOUSE_TOOLS/bench-node
[ -x "$bin" ] || { echo "no server at $bin: run 'cargo leptos build --release' first" >&2; exit 1; }
[ -f "$measure" ] || { echo "no measure_page.cjs at $measure (set MEASURE_PAGE)" >&2; exit 1; }
if [ ! -d "$node_dir/node_modules/playwright-core" ]; then
  mkdir -p "$node_dir"
  (cd "$node_dir" && npm init -y >/dev/null && npm install --no-audit --no-fund playwright-core >&2)
fi

data=$(mktemp -d)
out=${out:-$data/results}
mkdir -p "$out"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  rm -rf "$data/db" 2>/dev/null || true
}
trap cleanup EXIT

if [ -n "$seed" ]; then
  cp -r "$seed" "$data/db"
fi
password=$("$bin" --data-dir "$data/db" users add "bench$$" --role admin | sed -n 's/^password: //p')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$bin" --bind "127.0.0.1:$port" --data-dir "$data/db" --site-root "$site" --mode local \
  --demo-run "$([ -n "$seed" ] && echo false || echo true)" >/dev/null 2>"$data/server.log" &
server_pid=$!
for _ in $(seq 100); do
  curl -sf "$base/readyz" >/dev/null && break
  sleep 0.2
done
cookie=$(curl -s -o /dev/null -D - --data-urlencode "username=bench$$" \
  --data-urlencode "password=$password" --data-urlencode "next=/me" "$base/auth/signin" |
  sed -n 's/^[Ss]et-[Cc]ookie: \(gatehouse_session=[^;]*\).*/\1/p')
[ -n "$cookie" ] || { echo "sign-in failed" >&2; exit 1; }

if [ -n "$seed" ]; then
  BENCH_NODE_MODULES=$node_dir/node_modules node "$measure" --url "$base/executions?per=100" \
    --selector 'table tbody tr a[href*="/executions/"]' --min-rows 100 --runs 5 --warmup 1 \
    --chromium /usr/bin/chromium --cookie "$cookie" --out "$out/list-100.json"
  exit 0
fi
demo=""
for _ in $(seq 300); do
  demo=$(curl -s -X POST -H 'accept: application/json' -b "$cookie" "$base/api/list_approvals" |
    grep -o '"name":"c0ffee00-[^"]*"' | head -n 1 | cut -d'"' -f4 || true)
  [ -n "$demo" ] && break
  sleep 0.5
done
[ -n "$demo" ] || { echo "the demo run never waited for its approval" >&2; exit 1; }

printf '%-10s %-44s %9s %11s %11s %12s %9s\n' page url requests "wire bytes" "gzip bytes" "JS gzip" "heap MB"
measure_one() {
  local name=$1 path=$2 cookie_arg=$3
  local args=(--url "$base$path" --selector h1 --min-rows 1 --runs "$runs" --warmup 1
    --chromium /usr/bin/chromium --label "$name" --out "$out/$name.json")
  [ -n "$cookie_arg" ] && args+=(--cookie "$cookie_arg")
  BENCH_NODE_MODULES=$node_dir/node_modules node "$measure" "${args[@]}" >/dev/null 2>"$out/$name.log" || {
    cat "$out/$name.log" >&2
    exit 1
  }
  python3 - "$out/$name.json" "$name" "$path" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))["summary"]
median = lambda key: result.get(key, {}).get("median")
print(f"{sys.argv[2]:<10} {sys.argv[3][:44]:<44} {median('requests'):>9.0f} {median('wire_bytes'):>11.0f} "
      f"{median('gzip_bytes'):>11.0f} {median('js_gzip_bytes'):>12.0f} {median('js_heap_mb'):>9.1f}")
PY
}
measure_one sign-in /signin ""
measure_one list /executions "$cookie"
measure_one detail "/executions/$demo" "$cookie"
measure_one approval "/approvals/$demo" "$cookie"
measure_one audit /audit "$cookie"
echo "results: $out"
