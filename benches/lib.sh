# Shared by the benchmark scripts: `source "$(dirname "$0")/lib.sh"`.

# wait_for_port PORT PID LOG: polls until something listens on 127.0.0.1:PORT (at most
# ~30 s, no fixed sleep); fails with the server's log if process PID ends first or the
# port never opens.
wait_for_port() {
  local port=$1 pid=$2 log=$3
  for _ in $(seq 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
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
