#!/usr/bin/env bash
# Start-up benchmark: `cometapi -h`, `--version` and `config path` with no network and
# no config file. Target: under 10 ms each. Needs hyperfine (apt-get install hyperfine).
# Figures go to docs/performance.md by hand, with the machine they came from.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="$PWD/target/release/cometapi"
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
HOME="$home" hyperfine -N --warmup 20 --runs 200 \
  "$bin -h" "$bin --version" "$bin config path"
