#!/usr/bin/env bash
# Conversation-log overhead: the wall time of a one-shot `cometapi chat` against the fake
# server on loopback, with the log on (the default) and with `--no-log`, RUNS runs each
# (default 50), interleaved so machine noise hits both alike. Prints the medians and
# their difference; fails if logging adds 5 ms or more to the median. The log starts
# empty and grows by one conversation per logged run, as in real use. Also times
# `conversations list --search` over the RUNS conversations. Not a timed test; figures
# go to docs/performance.md by hand, with the machine they came from.
#
#   bash benches/chatlog.sh            env: PORT (default 8796), RUNS (default 50)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh

port=${PORT:-8796}
runs=${RUNS:-50}

cargo build --release --quiet
cargo build --release --quiet --example fake-server
bin="$PWD/target/release/cometapi"
server_bin="$PWD/target/release/examples/fake-server"

home=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$home"
}
trap cleanup EXIT
"$server_bin" --port "$port" >"$home/server.log" 2>&1 &
server_pid=$!
wait_for_port "$port" "$server_pid" "$home/server.log"

HOME="$home" BIN="$bin" PORT="$port" RUNS="$runs" python3 - <<'PY'
import os, statistics, subprocess, sys, time
bin, port, runs = os.environ["BIN"], os.environ["PORT"], int(os.environ["RUNS"])
env = {"HOME": os.environ["HOME"], "PATH": "/usr/bin:/bin",
       "COMETAPI_KEY": "sk-test-valid-key-0001",
       "COMETAPI_BASE_URL": f"http://127.0.0.1:{port}/v1"}

def wall(args):
    start = time.perf_counter()
    done = subprocess.run([bin, *args], env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0 or done.stderr:
        sys.exit(f"{args}: exit {done.returncode}: {done.stderr.decode()}")
    return elapsed

for _ in range(5):  # warm-up, not logged
    wall(["chat", "--no-log", "warm up"])
logged, unlogged = [], []
for i in range(runs):
    logged.append(wall(["chat", f"benchmark question {i}"]))
    unlogged.append(wall(["chat", "--no-log", f"benchmark question {i}"]))
on, off = statistics.median(logged), statistics.median(unlogged)
search = statistics.median(wall(["conversations", "list", "--search", "question"]) for _ in range(20))
print(f"chat, log on:   median {on:.2f} ms over {runs} runs")
print(f"chat, --no-log: median {off:.2f} ms over {runs} runs")
print(f"logging adds:   {on - off:.2f} ms (target < 5 ms)")
print(f"conversations list --search over {runs} conversations: median {search:.2f} ms")
if on - off >= 5:
    sys.exit("over the 5 ms target")
PY
