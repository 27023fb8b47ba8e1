#!/usr/bin/env bash
# Log export benchmark: `cometapi logs --export` streaming a large CSV from the fake
# server, against `curl` fetching the same URL. Checks that peak RSS stays under 30 MB
# (the body must never be held in memory) and reports wall time and throughput.
# Needs /usr/bin/time (GNU time) and curl. Not a timed test; figures go to
# docs/performance.md by hand, with the machine they came from.
#
#   bash benches/export.sh [ROWS]      (default 2000000; env PORT, default 8797; RUNS, default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh

rows=${1:-2000000}
port=${PORT:-8797}
runs=${RUNS:-3}
max_rss_kb=$((30 * 1024))
token=tok-test-valid-token-0002 # the fake server's access token
url="http://127.0.0.1:$port/api/log/self/export"

for tool in /usr/bin/time curl; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y time curl)" >&2; exit 1; }
done

cargo build --release --quiet
cargo build --release --quiet --example fake-server
bin="$PWD/target/release/cometapi"

home=$(mktemp -d)
# setsid: the server gets its own process group, so cargo and the server stop together.
setsid cargo run --release --quiet --example fake-server -- --port "$port" --export-rows "$rows" \
  >"$home/server.log" 2>&1 &
server=$!
trap 'kill -- -"$server" 2>/dev/null || true; rm -rf "$home"' EXIT

wait_for_port "$port" "$server" "$home/server.log"

export HOME="$home" COMETAPI_BASE_URL="http://127.0.0.1:$port/v1" COMETAPI_ACCESS_TOKEN="$token"

bytes=$("$bin" logs --export | wc -c)
lines=$("$bin" logs --export | wc -l)
echo "export: $rows rows, $lines lines, $bytes bytes ($(awk "BEGIN{printf \"%.1f\", $bytes/1e6}") MB)"
[ "$lines" -eq $((rows + 1)) ] || { echo "expected $((rows + 1)) lines" >&2; exit 1; }

echo
echo "cometapi logs --export > /dev/null"
worst_rss=0
for run in $(seq "$runs"); do
  start=$EPOCHREALTIME
  /usr/bin/time -v -o "$home/time.txt" "$bin" logs --export >/dev/null
  end=$EPOCHREALTIME
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$home/time.txt")
  ((rss > worst_rss)) && worst_rss=$rss
  awk -v s="$start" -v e="$end" -v b="$bytes" -v r="$rss" -v n="$run" \
    'BEGIN { t = e - s; printf "  run %d: %.2f s, %.0f MB/s, peak RSS %.1f MB\n", n, t, b / 1e6 / t, r / 1024 }'
done

echo
echo "curl -s -o /dev/null -H 'Authorization: Bearer ...' $url"
for run in $(seq "$runs"); do
  curl -s -o /dev/null -H "Authorization: Bearer $token" \
    -w "  run $run: %{time_total} s, %{speed_download} B/s, %{size_download} bytes\n" "$url" |
    awk '{ printf "  run %s %.2f s, %.0f MB/s, %s bytes\n", $2, $3, $5 / 1e6, $7 }'
done

echo
if ((worst_rss > max_rss_kb)); then
  echo "FAIL: peak RSS $((worst_rss / 1024)) MB is over $((max_rss_kb / 1024)) MB" >&2
  exit 1
fi
echo "ok: peak RSS $(awk "BEGIN{printf \"%.1f\", $worst_rss/1024}") MB (limit $((max_rss_kb / 1024)) MB)"
