#!/usr/bin/env bash
# Embedding benchmark: `cometapi embed --input-file` with 200,000 lines against the fake
# server (batches of 2048, four requests in flight). Checks that every line comes back,
# in input order, and that peak RSS stays under 30 MB (memory must not grow with the
# input). Needs /usr/bin/time (GNU time). Not a timed test; figures go to
# docs/performance.md by hand, with the machine they came from.
#
#   bash benches/embed.sh [LINES]      (default 200000; env PORT, default 8796; RUNS, default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh

lines=${1:-200000}
port=${PORT:-8796}
runs=${RUNS:-3}
max_rss_kb=$((30 * 1024))
key=sk-test-valid-key-0001 # the fake server's API key

command -v /usr/bin/time >/dev/null || { echo "missing /usr/bin/time (apt-get install -y time)" >&2; exit 1; }

cargo build --release --quiet
cargo build --release --quiet --example fake-server
bin="$PWD/target/release/cometapi"

home=$(mktemp -d)
target/release/examples/fake-server --port "$port" >"$home/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$home"' EXIT

wait_for_port "$port" "$server" "$home/server.log"

export HOME="$home/home" COMETAPI_BASE_URL="http://127.0.0.1:$port/v1" COMETAPI_KEY="$key"
mkdir -p "$HOME"
input="$home/lines.txt"
# Sentences of 40-60 bytes, each with its line number so the order can be checked.
awk -v n="$lines" 'BEGIN { for (i = 0; i < n; i++) printf "line %d: the quick brown fox jumps over the lazy dog\n", i }' >"$input"
echo "input: $lines lines, $(wc -c <"$input") bytes"

echo
echo "cometapi embed --input-file lines.txt > out.jsonl"
worst_rss=0
for run in $(seq "$runs"); do
  start=$EPOCHREALTIME
  /usr/bin/time -v -o "$home/time.txt" "$bin" embed --input-file "$input" >"$home/out.jsonl"
  end=$EPOCHREALTIME
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$home/time.txt")
  ((rss > worst_rss)) && worst_rss=$rss
  got=$(wc -l <"$home/out.jsonl")
  [ "$got" -eq "$lines" ] || { echo "expected $lines rows, got $got" >&2; exit 1; }
  # Row i must be line i: compare index and the number inside the input.
  awk '{ want = "{\"index\":" NR - 1 ",\"input\":\"line " NR - 1 ":"; if (index($0, want) != 1) { print "row " NR " out of order: " substr($0, 1, 80) > "/dev/stderr"; exit 1 } }' "$home/out.jsonl"
  awk -v s="$start" -v e="$end" -v n="$lines" -v r="$rss" -v k="$run" \
    'BEGIN { t = e - s; printf "  run %d: %.2f s, %.0f lines/s, peak RSS %.1f MB\n", k, t, n / t, r / 1024 }'
done

echo
if ((worst_rss > max_rss_kb)); then
  echo "FAIL: peak RSS $((worst_rss / 1024)) MB is over $((max_rss_kb / 1024)) MB" >&2
  exit 1
fi
echo "ok: every row in order; peak RSS $(awk "BEGIN{printf \"%.1f\", $worst_rss/1024}") MB (limit $((max_rss_kb / 1024)) MB)"
