#!/usr/bin/env bash
# Bulk benchmark: `cometapi batch` sending N small chat requests (default 100,000) with
# -j 32 to the fake server on loopback (`--bulk-fast`: a fixed reply, nothing recorded),
# against the same requests sent by `xargs -P 32` running one `curl` each (and `oha` or
# `hey` when installed). Reports requests per second and peak RSS (/usr/bin/time -v);
# fails if cometapi is under 3x the xargs+curl rate or over 50 MB peak RSS. A second
# run over BIG input lines (default 1,000,000; 0 skips it) checks that peak RSS does not
# grow with the input. Not a timed test; figures go to docs/performance.md by hand.
#
#   bash benches/batch.sh [N]
#   env: PORT (default 8796), JOBS (default 32), CURL_N (requests for the curl baseline,
#        default 10000: one process each, so the rate is what matters), BIG (default 1000000),
#        SKIP_BUILD=1 to use the release binaries already built
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh

n=${1:-100000}
port=${PORT:-8796}
jobs=${JOBS:-32}
curl_n=${CURL_N:-10000}
big=${BIG:-1000000}
key=sk-test-valid-key-0001 # the fake server's API key
max_rss_kb=$((50 * 1024))

for tool in /usr/bin/time curl xargs; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y time curl)" >&2; exit 1; }
done

if [ -z "${SKIP_BUILD:-}" ]; then
  cargo build --release --quiet
  cargo build --release --quiet --example fake-server
fi
bin="$PWD/target/release/cometapi"
server_bin="$PWD/target/release/examples/fake-server"

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$server_bin" --port "$port" --bulk-fast >"$work/server.log" 2>&1 &
server_pid=$!
wait_for_port "$port" "$server_pid" "$work/server.log"

export HOME="$work/home" COMETAPI_KEY="$key" COMETAPI_BASE_URL="http://127.0.0.1:$port/v1"
mkdir -p "$HOME"
"$bin" models >/dev/null # the catalog is cached: the runs below fetch it from disk

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
wall_of() { # /usr/bin/time -v output -> seconds
  awk -F': ' '/Elapsed \(wall clock\)/ {
    n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"
}
rss_of() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }

run_batch() { # lines label
  seq 1 "$1" | sed 's/^/prompt /' >"$work/in.txt"
  rm -f "$work/out.jsonl"
  /usr/bin/time -v "$bin" batch "$work/in.txt" -j "$jobs" -m gpt-4o-mini -o "$work/out.jsonl" \
    2>"$work/time-$2.txt" >/dev/null || { cat "$work/time-$2.txt" >&2; exit 1; }
  local lines; lines=$(wc -l <"$work/out.jsonl")
  [ "$lines" -eq "$1" ] || { echo "expected $1 result lines, got $lines" >&2; exit 1; }
  local wall; wall=$(wall_of "$work/time-$2.txt")
  echo "$2: $1 requests in ${wall}s = $(rate "$1" "$wall") req/s, peak RSS $(rss_of "$work/time-$2.txt") KB"
}

run_batch "$n" cometapi
ours_rate=$(rate "$n" "$(wall_of "$work/time-cometapi.txt")")
ours_rss=$(rss_of "$work/time-cometapi.txt")

body='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"prompt"}]}'
seq 1 "$curl_n" >"$work/curl-in.txt"
start=$(date +%s.%N)
xargs -P "$jobs" -n 1 sh -c 'curl -s -o /dev/null -H "authorization: Bearer $0" -H "content-type: application/json" -d "$1" "$2"' \
  "$key" "$body" "$COMETAPI_BASE_URL/chat/completions" -- <"$work/curl-in.txt" 2>/dev/null || true
end=$(date +%s.%N)
curl_wall=$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')
curl_rate=$(rate "$curl_n" "$curl_wall")
echo "xargs -P $jobs curl: $curl_n requests in ${curl_wall}s = $curl_rate req/s"

for tool in oha hey; do
  if command -v "$tool" >/dev/null; then
    case $tool in
      oha) oha -n "$n" -c "$jobs" --no-tui -m POST -H "authorization: Bearer $key" -T application/json -d "$body" "$COMETAPI_BASE_URL/chat/completions" | grep -i "requests/sec" ;;
      hey) hey -n "$n" -c "$jobs" -m POST -H "authorization: Bearer $key" -T application/json -d "$body" "$COMETAPI_BASE_URL/chat/completions" | grep -i "requests/sec" ;;
    esac
  fi
done

if [ "$big" -gt 0 ]; then
  run_batch "$big" "cometapi-big"
  big_rss=$(rss_of "$work/time-cometapi-big.txt")
  [ "$big_rss" -le "$max_rss_kb" ] || { echo "FAIL: peak RSS ${big_rss} KB over $big lines" >&2; exit 1; }
fi

ratio=$(awk -v a="$ours_rate" -v b="$curl_rate" 'BEGIN { printf "%.1f", a / b }')
echo "cometapi is ${ratio}x xargs+curl"
awk -v r="$ratio" 'BEGIN { exit !(r >= 3) }' || { echo "FAIL: under 3x the xargs+curl rate" >&2; exit 1; }
[ "$ours_rss" -le "$max_rss_kb" ] || { echo "FAIL: peak RSS ${ours_rss} KB" >&2; exit 1; }
echo ok
