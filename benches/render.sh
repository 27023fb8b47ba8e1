#!/usr/bin/env bash
# Rendering benchmark: `cometapi chat` on a pty (util-linux `script`), the reply a
# Markdown document (headings, emphasis, lists, a quote, a table, a fenced Rust block)
# repeated REPEAT times and streamed in deltas of 8 characters by the fake server.
# Reports CPU time (user+sys, /usr/bin/time -v inside the pty) per event and peak RSS,
# rendered and with --raw, and piped for reference. Not a timed test; figures go to
# docs/performance.md by hand, with the machine they came from.
#
#   bash benches/render.sh [REPEAT]     (default 2000)
#   env: PORT (default 8799), RUNS (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh

repeat=${1:-2000}
port=${PORT:-8799}
runs=${RUNS:-5}
key=sk-test-valid-key-0001 # the fake server's API key

for tool in /usr/bin/time script; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y time util-linux)" >&2; exit 1; }
done

cargo build --release --quiet
cargo build --release --quiet --example fake-server
bin="$PWD/target/release/cometapi"
server_bin="$PWD/target/release/examples/fake-server"

home=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$home"
}
trap cleanup EXIT

sample='# Section heading

Some **bold**, *italic* and `inline code` text with [a link](https://example.com), long
enough to be a typical line of a model reply about how the code below works.

- first point, with `code`
- second point
  1. nested numbered item

> a quoted remark

| name | value | note |
|------|------:|------|
| alpha | 1 | first |
| beta | 22 | second |

```rust
fn main() {
    let total: u64 = (1..=10).map(|n| n * n).sum();
    println!("{total}");
}
```
'
for _ in $(seq "$repeat"); do printf '%s\n' "$sample"; done >"$home/reply.md"
chars=$(wc -m <"$home/reply.md")
events=$(((chars + 7) / 8))

"$server_bin" --port "$port" --reply-file "$home/reply.md" >"$home/server.log" 2>&1 &
pid=$!
wait_for_port "$port" "$pid" "$home/server.log"
export HOME="$home" COMETAPI_KEY="$key" COMETAPI_BASE_URL="http://127.0.0.1:$port/v1" TERM=xterm-256color
unset NO_COLOR

cmp -s <("$bin" chat hi) "$home/reply.md" || { echo "piped output differs from the reply" >&2; exit 1; }
echo "reply: $repeat documents, $chars characters, $events deltas"

# measure LABEL CMD: one line per run, CPU per event and peak RSS
measure() {
  local label=$1 cmd=$2
  echo
  echo "$label"
  for run in $(seq "$runs"); do
    script -qec "/usr/bin/time -v -o $home/time.txt $cmd" /dev/null >"$home/screen.txt"
    awk -F': ' -v n="$run" -v ev="$events" '
      /User time/ { u = $2 } /System time/ { s = $2 } /Elapsed/ { w = $2 }
      /Maximum resident set size/ { r = $2 }
      END {
        printf "  run %d: user %.2f s + sys %.2f s = %.0f ns/event, wall %s, peak RSS %.1f MB\n", n, u, s, (u + s) * 1e9 / ev, w, r / 1024
      }' "$home/time.txt"
  done
}

measure "pty, rendered" "$bin chat hi"
grep -q $'\e\[38;2;' "$home/screen.txt" || { echo "no highlighted code on the pty: rendering was off" >&2; exit 1; }
measure "pty, --raw" "$bin chat --raw hi"
measure "piped (no pty)" "sh -c '$bin chat hi >/dev/null'"
