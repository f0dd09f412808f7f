#!/usr/bin/env bash
# bench/first-message.sh (as root): what a fresh node's first messages cost (issue 18, targets 1 and 3). Starts the node
# ROUNDS times as bench/cold.sh does (bench/cold-env.sh: its own network namespace, a fresh data directory), and as
# soon as it greets sends MESSAGES messages to defer.test, one session after another, each SMTP step timed
# (bench/first-message.py). With MCFIRST_JIT=1 it also counts, from the runtime's perf map, the methods the runtime
# compiled for the first message, by tier and by assembly (the map's lines from MCFIRST_SETTLE seconds after the
# greeting, default 0.5, so that what the start itself still compiles then is not counted, to the last reply).
#
#   bench/first-message.sh [ROUNDS] [MESSAGES]      # default 3 rounds of 4 messages
#   MCCOLD_BIN=DIR MCFIRST_JIT=1 bench/first-message.sh 1 1
source "$(dirname "$0")/cold-env.sh"
ROUNDS=${1:-3}
MESSAGES=${2:-4}
[[ ${MCFIRST_JIT:-0} == 1 ]] && MCCOLD_NODE_ENV="DOTNET_PerfMapEnabled=3 DOTNET_PerfMapShowOptimizationTiers=1 ${MCCOLD_NODE_ENV:-}"
for round in $(seq "$ROUNDS"); do
  mc_start
  log "round $round: first 220 ${READY_S} s after launch"
  map=""
  if [[ ${MCFIRST_JIT:-0} == 1 ]]; then
    pid=$(pgrep -f "dotnet $MC_BIN/MailCluster.Host.dll" | head -1)
    map="/tmp/perf-$pid.map"
    sleep "${MCFIRST_SETTLE:-0.5}"
    before=$(wc -l <"$map")
  fi
  nsx python3 "$ROOT/bench/first-message.py" "$MC_PORT" $(printf 'defer.test %.0s' $(seq "$MESSAGES"))
  if [[ -n $map ]]; then
    after=$(wc -l <"$map")
    # With more than one message the count covers them all.
    sed -n "$((before + 1)),${after}p" "$map" >"$T/jit-$round.txt"
    log "methods compiled for the message(s): $(grep -v ' stub' "$T/jit-$round.txt" | grep -o '\[[A-Za-z0-9]*\]$' | sort | uniq -c | tr '\n' ' ')"
    log "tier 0, by assembly: $(grep 'QuickJitted' "$T/jit-$round.txt" | cut -d' ' -f3- | grep -o '\[[A-Za-z0-9._]*\] ' | sort | uniq -c | sort -rn | head -8 | tr -s ' \n' ' ')"
    [[ -n ${MCFIRST_KEEP:-} ]] && cp "$T/jit-$round.txt" "$MCFIRST_KEEP"
    rm -f "$map"
  fi
  mc_stop
done
