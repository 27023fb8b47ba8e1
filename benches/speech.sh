#!/usr/bin/env bash
# Binary download benchmark: `cometapi speech` streaming a large audio body from the fake
# server, to a file (`-o`, atomic: temp file then rename) and to a pipe. Checks that peak
# RSS stays under 30 MB (the body must never be held in memory) and that the file has
# every byte, and reports wall time and throughput. Needs /usr/bin/time (GNU time). Not a
# timed test; figures go to docs/performance.md by hand, with the machine they came from.
#
#   bash benches/speech.sh [BYTES]      (default 200000000; env PORT, default 8796; RUNS, default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh

bytes=${1:-200000000}
port=${PORT:-8796}
runs=${RUNS:-3}
max_rss_kb=$((30 * 1024))

command -v /usr/bin/time >/dev/null || { echo "missing /usr/bin/time (apt-get install -y time)" >&2; exit 1; }

cargo build --release --quiet
cargo build --release --quiet --example fake-server
bin="$PWD/target/release/cometapi"

home=$(mktemp -d)
"$PWD/target/release/examples/fake-server" --port "$port" --speech-bytes "$bytes" \
  >"$home/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$home"' EXIT

wait_for_port "$port" "$server" "$home/server.log"

export HOME="$home" COMETAPI_BASE_URL="http://127.0.0.1:$port/v1" COMETAPI_KEY=sk-test-valid-key-0001

worst_rss=0
measure() { # label, then the command line
  local label=$1
  shift
  echo "$label"
  for run in $(seq "$runs"); do
    rm -f "$home/out.mp3"
    start=$EPOCHREALTIME
    /usr/bin/time -v -o "$home/time.txt" "$@"
    end=$EPOCHREALTIME
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$home/time.txt")
    ((rss > worst_rss)) && worst_rss=$rss
    awk -v s="$start" -v e="$end" -v b="$bytes" -v r="$rss" -v n="$run" \
      'BEGIN { t = e - s; printf "  run %d: %.2f s, %.0f MB/s, peak RSS %.1f MB\n", n, t, b / 1e6 / t, r / 1024 }'
  done
}

measure "cometapi speech hi -o out.mp3" sh -c "'$bin' speech hi -o '$home/out.mp3' > /dev/null"
got=$(stat -c %s "$home/out.mp3")
[ "$got" -eq "$bytes" ] || { echo "the file has $got bytes, expected $bytes" >&2; exit 1; }
piped=$("$bin" speech hi | wc -c)
[ "$piped" -eq "$bytes" ] || { echo "the pipe got $piped bytes, expected $bytes" >&2; exit 1; }
measure "cometapi speech hi > /dev/null" sh -c "'$bin' speech hi > /dev/null"

echo
if ((worst_rss > max_rss_kb)); then
  echo "FAIL: peak RSS $((worst_rss / 1024)) MB is over $((max_rss_kb / 1024)) MB" >&2
  exit 1
fi
echo "ok: $bytes bytes each run; peak RSS $(awk "BEGIN{printf \"%.1f\", $worst_rss/1024}") MB (limit $((max_rss_kb / 1024)) MB)"
