#!/usr/bin/env bash
# Prints the state machine's figures: apply throughput, timeline latency, snapshot size and
# time at 100k users / 1M posts, heap bytes per user, follow edge, post and key. Figures only; nothing is asserted.
# Usage: statemachine/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -B install -N
./mvnw -q -B -pl statemachine test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
cp="statemachine/target/test-classes:statemachine/target/classes:$(cat statemachine/target/bench.classpath)"
exec java -Xms6g -Xmx6g -cp "$cp" dev.roost.statemachine.StateMachineBenchmark
