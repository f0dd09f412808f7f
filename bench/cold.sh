#!/usr/bin/env bash
# bench/cold.sh (as root): MailCluster and Postfix from process start (issue 18, target 1). Each round starts each MTA
# afresh (empty queue, new data directory), times the launch to its first 220 greeting (readiness), and at once sends
# it the first N messages (default 2,000) with smtp-source, a new connection per message, 20 sessions, 1 KB, to a
# deferred domain (bench/cold-env.sh). Rounds alternate which MTA goes first; the report gives each figure's median.
#
#   bench/cold.sh [ROUNDS] [N]                  # default 3 rounds of 2,000
#   MCCOLD_BIN=/tmp/build bench/cold.sh          # a build published earlier (deploy/publish.sh DIR)
#   MCCOLD_NODE_ENV="DOTNET_TieredPGO=0" ...     # extra environment for the node (experiments)
#   MCCOLD_ONLY=mc ...                           # MailCluster only (compare two builds; Postfix's figure from another run)
#
# Figures per MTA: ready_s (launch to the first 220), rate (msg/s from the first 220 to the Nth 250), total_s (launch
# to the Nth 250), cpu_s (the MTA's cgroup CPU seconds from launch to the Nth 250), cpu_ready (... to the first 220),
# cpu_msg (CPU ms per message after the first 220). Under load from other work on the machine the CPU figures are
# the steadier ones (the rates depend on the share of the cores each MTA gets).
source "$(dirname "$0")/cold-env.sh"
ROUNDS=${1:-3}
N=${2:-2000}
MTAS=(mc pf)
[[ -n "${MCCOLD_ONLY:-}" ]] && MTAS=("$MCCOLD_ONLY")
declare -A RS

cold_round() { # mta
  local mta=$1 t1 rate cpu cpu_ready
  mta_start "$mta"
  cpu_ready=$(calc "$(cpu_ns "$(mta_cg "$mta")") / 1e9" 2)
  if ! nsx smtp-source -s 20 -l 1024 -m "$N" -M client.test -f bench@client.test -t user@defer.test \
       "127.0.0.1:$(mta_port "$mta")" >"$T/src-$mta.log" 2>&1; then
    log "$mta: smtp-source failed: $(tail -2 "$T/src-$mta.log" | tr '\n' ' ')"; RS[rate.$mta]+="fail "; mta_stop "$mta"; return
  fi
  t1=$(now)
  cpu=$(calc "$(cpu_ns "$(mta_cg "$mta")") / 1e9" 2)
  rate=$(calc "$N / ($t1 - $LAUNCHED - $READY_S)" 0)
  RS[ready.$mta]+="$READY_S "; RS[rate.$mta]+="$rate "; RS[cpu.$mta]+="$cpu "; RS[cpu_ready.$mta]+="$cpu_ready "
  RS[cpu_msg.$mta]+="$(calc "($cpu - $cpu_ready) / $N * 1000" 2) "
  # MCCOLD_JITMAP=1: what the JIT compiled up to here, by tier, from the runtime's perf map (a diagnostic: writing the
  # map costs CPU itself).
  if [[ $mta == mc && ${MCCOLD_JITMAP:-0} == 1 ]]; then
    local map="/tmp/perf-$MC_PID.map"
    [[ -f $map ]] && log "mc JIT: $(grep -o '\[[A-Za-z0-9]*\]$' "$map" | sort | uniq -c | tr -s ' \n' ' ')"
    rm -f "$map" "${map%.map}.info" 2>/dev/null || true
  fi
  RS[total.$mta]+="$(calc "$t1 - $LAUNCHED" 2) "
  [[ $mta == mc ]] && RS[cluster.$mta]+="$(mc_cluster_ready) "
  log "$mta: ready ${READY_S} s, first $N at $rate msg/s, done $(calc "$t1 - $LAUNCHED" 2) s after launch, cgroup CPU $cpu s"
  mta_stop "$mta"
  # The cgroup's counter is cumulative: reset it so the next round counts from its own launch.
  echo 0 >"$(mta_cg "$mta")/cpuacct.usage"
}

log "namespace $NS, temp dir $T, $ROUNDS rounds of $N messages; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  order=("${MTAS[@]}"); (( round % 2 == 0 )) && order=($(printf '%s\n' "${MTAS[@]}" | tac))
  for mta in "${order[@]}"; do cold_round "$mta"; done
done

fig() { local v="${RS[$1.$2]:-}"; [[ $v == *fail* ]] && echo fail || median <<<"$v"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "-" }'; }
echo "## Cold start: the first $N messages from process start (medians of $ROUNDS rounds, $(date -u +%FT%TZ))"
echo
echo "Machine: $(nproc) cores, load average at the end $(cut -d' ' -f1-3 /proc/loadavg); .NET $(dotnet --version); node env: ${MCCOLD_NODE_ENV:-none}."
echo
echo "| Figure | MailCluster | Postfix | MC/Postfix |"
echo "|---|---|---|---|"
for f in "ready:Launch to first 220 (s)" "rate:First $N msgs, new connection each, from the first 220 (msg/s)" \
         "total:Launch to the ${N}th 250 (s)" "cpu:CPU s, launch to the ${N}th 250" "cpu_ready:CPU s, launch to the first 220" \
         "cpu_msg:CPU ms per message, first 220 to the ${N}th 250" "cluster:Launch to /healthz/ready (s; MailCluster only)"; do
  k=${f%%:*}
  echo "| ${f#*:} | $(fig "$k" mc) | $(fig "$k" pf) | $(ratio "$(fig "$k" mc)" "$(fig "$k" pf)") |"
done
echo
echo "Every round, MC / Postfix: ready ${RS[ready.mc]:--}/ ${RS[ready.pf]:--}; msg/s ${RS[rate.mc]:--}/ ${RS[rate.pf]:--}."
