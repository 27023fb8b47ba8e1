#!/usr/bin/env bash
# Streaming chat benchmark: `cometapi chat` reading a generated SSE stream of N chat
# deltas from the fake server on loopback, against `curl -N` fetching the same stream
# and the official Python CLI (cometapi-cli 0.3.10). Reports CPU time (user+sys, from
# /usr/bin/time -v) per event and peak RSS; fails if cometapi is over 0.5 us per event
# (median of the runs) or 20 MB peak RSS, or if it allocates per event: valgrind's dhat
# counts the heap blocks of a 10,000- and a 100,000-event stream, which must differ by
# less than one block per 100 events (skipped, with a note, without valgrind). Not a timed test; figures go to
# docs/performance.md by hand, with the machine they came from.
#
#   bash benches/stream.sh [CHUNKS]     (default 1000000)
#   env: PORT (default 8798), RUNS (default 5), PY_CHUNKS (default 100000; the Python
#        CLI gets a smaller stream from a second server on PORT+1, 0 skips it),
#        PY_CLI (default /tmp/pyref/bin/cometapi)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh

chunks=${1:-1000000}
port=${PORT:-8798}
runs=${RUNS:-5}
py_chunks=${PY_CHUNKS:-100000}
py_cli=${PY_CLI:-/tmp/pyref/bin/cometapi}
key=sk-test-valid-key-0001 # the fake server's API key
max_ns_per_event=500
max_rss_kb=$((20 * 1024))

for tool in /usr/bin/time curl; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y time curl)" >&2; exit 1; }
done

cargo build --release --quiet
cargo build --release --quiet --example fake-server
bin="$PWD/target/release/cometapi"
server_bin="$PWD/target/release/examples/fake-server"

home=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$home"
}
trap cleanup EXIT

start_server() { # port chunks
  "$server_bin" --port "$1" --stream-chunks "$2" >"$home/server-$1.log" 2>&1 &
  pids+=($!)
  wait_for_port "$1" "$!" "$home/server-$1.log"
}

start_server "$port" "$chunks"
export HOME="$home" COMETAPI_KEY="$key"
base="http://127.0.0.1:$port/v1"
body='{"model":"gpt-5.4","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}'

# Every delta is "tok ": the reply is 4 bytes per chunk plus the final newline.
bytes=$(COMETAPI_BASE_URL=$base "$bin" chat hi | wc -c)
[ "$bytes" -eq $((4 * chunks + 1)) ] || { echo "expected $((4 * chunks + 1)) bytes, got $bytes" >&2; exit 1; }
echo "stream: $chunks chat deltas (+ finish, usage and [DONE] events), reply $bytes bytes"

# measure LABEL EVENTS CMD...: one line per run; appends "ns_per_event rss_kb" to $home/LABEL
measure() {
  local label=$1 events=$2
  shift 2
  echo
  echo "$label"
  for run in $(seq "$runs"); do
    /usr/bin/time -v -o "$home/time.txt" "$@" >/dev/null 2>"$home/stderr.txt" ||
      { cat "$home/stderr.txt" >&2; exit 1; }
    awk -F': ' -v n="$run" -v ev="$events" -v out="$home/$label.txt" '
      /User time/ { u = $2 } /System time/ { s = $2 } /Elapsed/ { w = $2 }
      /Maximum resident set size/ { r = $2 }
      END {
        ns = (u + s) * 1e9 / ev
        printf "  run %d: user %.2f s + sys %.2f s = %.0f ns/event, wall %s, peak RSS %.1f MB\n", n, u, s, ns, w, r / 1024
        printf "%.0f %d\n", ns, r >> out
      }' "$home/time.txt"
  done
}

COMETAPI_BASE_URL=$base measure cometapi "$chunks" "$bin" chat hi
measure curl "$chunks" curl -sN -o /dev/null -H "Authorization: Bearer $key" \
  -H 'content-type: application/json' -d "$body" "$base/chat/completions"

if [ "$py_chunks" -gt 0 ] && [ -x "$py_cli" ]; then
  start_server $((port + 1)) "$py_chunks"
  # At most 3 runs: each takes seconds. The figure includes the interpreter's start-up.
  runs=$((runs < 3 ? runs : 3)) COMETAPI_BASE_URL="http://127.0.0.1:$((port + 1))/v1" \
    measure "python-cli-$py_chunks" "$py_chunks" "$py_cli" chat hi
fi

# no_allocation_per_event: the heap blocks of two stream lengths, from dhat's summary.
blocks_of() { # port
  COMETAPI_BASE_URL="http://127.0.0.1:$1/v1" valgrind --tool=dhat \
    --dhat-out-file="$home/dhat.json" "$bin" chat hi 2>&1 >/dev/null |
    sed -n 's/.*Total:.* in \([0-9,]*\) blocks.*/\1/p' | tr -d ','
}
alloc_status=0
if command -v valgrind >/dev/null; then
  start_server $((port + 2)) 10000
  start_server $((port + 3)) 100000
  small=$(blocks_of $((port + 2)))
  large=$(blocks_of $((port + 3)))
  echo
  echo "heap blocks: $small for 10000 events, $large for 100000 (dhat)"
  if [ -z "$small" ] || [ -z "$large" ] || (((large - small) * 100 >= 90000)); then
    echo "FAIL: the stream allocates per event (or dhat gave no count)" >&2
    alloc_status=1
  fi
else
  echo "note: valgrind not found; the no-allocation check was skipped" >&2
fi

echo
median_ns=$(cut -d' ' -f1 "$home/cometapi.txt" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
worst_rss=$(cut -d' ' -f2 "$home/cometapi.txt" | sort -n | tail -1)
status=$alloc_status
if ((median_ns > max_ns_per_event)); then
  echo "FAIL: median $median_ns ns of CPU per event is over $max_ns_per_event ns" >&2
  status=1
fi
if ((worst_rss > max_rss_kb)); then
  echo "FAIL: peak RSS $((worst_rss / 1024)) MB is over $((max_rss_kb / 1024)) MB" >&2
  status=1
fi
((status == 0)) && echo "ok: median $median_ns ns CPU per event (limit $max_ns_per_event), peak RSS $(awk "BEGIN{printf \"%.1f\", $worst_rss/1024}") MB (limit $((max_rss_kb / 1024)) MB)"
exit $status
