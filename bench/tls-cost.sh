#!/usr/bin/env bash
# TLS against plaintext, paired: kv-put and post with 64 separate clients and with 64 callers
# sharing one client, on a local 3-node cluster started with TLS (the default) and with
# --insecure in turn, ROUNDS rounds. One line per run, also appended to OUT/results.txt.
# Usage: bench/tls-cost.sh [ROUNDS=2] [OUT=/tmp/tls-cost]
set -uo pipefail
ROUNDS=${1:-2}
OUT=${2:-/tmp/tls-cost}
cd "$(dirname "$0")/.."
mkdir -p "$OUT"
export ROOST_HOME=$OUT/home
for r in $(seq 1 "$ROUNDS"); do
  for mode in tls insecure; do
    ./roost down --wipe >/dev/null 2>&1
    flag=""
    [ "$mode" = insecure ] && flag="--insecure"
    if ! ./roost up $flag --base-port 27001 >/dev/null 2>"$OUT/up.err"; then
      cat "$OUT/up.err"
      exit 1
    fi
    for workload in kv-put post; do
      extra=""
      [ "$workload" = post ] && extra="--users 1000 --follows 10"
      for connections in 64 1; do
        line=$(timeout 300 ./roost bench "$workload" $extra --clients 64 --connections "$connections" \
          --warmup 10 --duration 20 2>>"$OUT/bench.err" | tail -1)
        echo "round $r $mode $workload 64x$connections: $line" | tee -a "$OUT/results.txt"
      done
    done
  done
done
./roost down --wipe >/dev/null 2>&1
