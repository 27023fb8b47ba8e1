# Shared by the benchmark scripts, which `source benches/lib.sh` from the repository root.

# wait_for_port PORT PID LOG: polls until the fake server started as process PID, its
# output going to LOG, is ready (at most ~30 s, no fixed sleep): its port answers and it
# has printed its `listening on` line, which comes after every option (--reply-file,
# --stream-chunks, ...) is in force; a request between the bind and that line could
# get the default reply. Fails with the log if PID ends first or it is never ready.
wait_for_port() {
  local port=$1 pid=$2 log=$3
  for _ in $(seq 300); do
    if grep -q "listening on" "$log" 2>/dev/null \
      && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "fake server did not start on port $port" >&2
  cat "$log" >&2
  exit 1
}
