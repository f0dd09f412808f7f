#!/usr/bin/env bash
# bench/latency.sh (as root): per-message latency over a run at a steady offered rate, MailCluster and Postfix each
# started afresh for every round (issue 18, target 3: p99 at half of Postfix's rate, the first quarter included).
# The load is bench/MailCluster.Bench's `latency` command: open loop (transaction i due at i/rate s, latency counted
# from when it was due: no coordinated omission), one whole session per message (connect, greeting, EHLO, MAIL, RCPT,
# DATA, 1 KB, the 250 after the dot), to a deferred domain; it prints p50/p99 of each quarter of the run. Rounds
# alternate which MTA goes first; the table gives each figure's median over the rounds.
#
#   bench/latency.sh [ROUNDS] [SECONDS]         # default 3 rounds of 30 s
#   MCLAT_RATE=300 bench/latency.sh              # a fixed rate; default: half of Postfix's new-connection rate,
#                                                # measured at the start of the run (4,000 msgs after 1,000 of warm-up)
#   MCLAT_SLICES=8                               # p99 and max of each of the first N seconds, in each round's log line
#   MCCOLD_BIN=DIR, MCCOLD_NODE_ENV="K=V ...", MCCOLD_ONLY=mc|pf: as in bench/cold.sh (bench/cold-env.sh)
source "$(dirname "$0")/cold-env.sh"
ROUNDS=${1:-3}
SECONDS_PER_RUN=${2:-30}
MTAS=(mc pf)
[[ -n "${MCCOLD_ONLY:-}" ]] && MTAS=("$MCCOLD_ONLY")
dotnet build -c Release "$ROOT/bench/MailCluster.Bench/MailCluster.Bench.csproj" -v q -nologo >"$T/tool-build.log" 2>&1 \
  || { tail -20 "$T/tool-build.log"; die "bench tool build failed"; }
TOOL_DLL="$ROOT/bench/MailCluster.Bench/bin/Release/net10.0/MailCluster.Bench.dll"
tool() { nsenter --net="/run/netns/$NS" dotnet "$TOOL_DLL" "$@"; }

if [[ -z "${MCLAT_RATE:-}" ]]; then
  pf_start
  nsx smtp-source -s 20 -l 1024 -m 1000 -M client.test -f bench@client.test -t user@defer.test 127.0.0.1:$PF_PORT >/dev/null
  t0=$(now)
  nsx smtp-source -s 20 -l 1024 -m 4000 -M client.test -f bench@client.test -t user@defer.test 127.0.0.1:$PF_PORT >/dev/null
  PF_RATE=$(calc "4000 / ($(now) - $t0)" 0)
  pf_stop
  MCLAT_RATE=$(calc "$PF_RATE / 2" 0)
  log "Postfix accepts $PF_RATE msg/s with a new connection each: latency rate $MCLAT_RATE msg/s"
fi

declare -A RS
KEYS=(p50_ms p99_ms p99_q1_ms p99_q2_ms p99_q3_ms p99_q4_ms p50_q1_ms max_ms failed)
for round in $(seq "$ROUNDS"); do
  order=("${MTAS[@]}"); (( round % 2 == 0 )) && order=($(printf '%s\n' "${MTAS[@]}" | tac))
  for mta in "${order[@]}"; do
    mta_start "$mta"
    out=$(tool latency --port "$(mta_port "$mta")" --rate "$MCLAT_RATE" --seconds "$SECONDS_PER_RUN" --size 1024 --to user@defer.test --slices "${MCLAT_SLICES:-8}")
    log "$mta (ready ${READY_S} s): $out"
    for k in "${KEYS[@]}"; do RS[$k.$mta]+="$(kv "$k" "$out") "; done
    mta_stop "$mta"
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "-" }'; }
echo "## Latency at $MCLAT_RATE msg/s from process start, ${SECONDS_PER_RUN} s per run (medians of $ROUNDS rounds, $(date -u +%FT%TZ))"
echo
echo "Machine: $(nproc) cores, load average at the end $(cut -d' ' -f1-3 /proc/loadavg); node env: ${MCCOLD_NODE_ENV:-none}."
echo
echo "| Figure (ms) | MailCluster | Postfix | MC/Postfix |"
echo "|---|---|---|---|"
for k in "${KEYS[@]}"; do
  mc=$(median <<<"${RS[$k.mc]:-}"); pf=$(median <<<"${RS[$k.pf]:-}")
  echo "| $k | ${mc:--} | ${pf:--} | $(ratio "$mc" "$pf") |"
done
echo
echo "Every round's p99, MC / Postfix: ${RS[p99_ms.mc]:--}/ ${RS[p99_ms.pf]:--}; first quarter ${RS[p99_q1_ms.mc]:--}/ ${RS[p99_q1_ms.pf]:--}."
