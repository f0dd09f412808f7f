#!/usr/bin/env bash
# bench/ab.sh (as root): two published builds of the node, A and B, measured in alternation under scenario 1's load
# (smtp-source, 20 sessions, 1 KB, deferred domain), to decide whether a change helps. Each build is started afresh per
# pair, warmed up (3,000 messages with and without connection reuse), then measured for ROUNDS rounds of N messages
# with a new connection per message and with connections reused. Prints msg/s, CPU ms per message (the node's cpuacct
# cgroup), context switches per message (all of the node's threads) and the machine's idle share during the round.
#
#   deploy/publish.sh /tmp/a; (change); deploy/publish.sh /tmp/b
#   bench/ab.sh /tmp/a /tmp/b [PAIRS]          # PAIRS (default 2) alternations A B A B ...
#   N=10000 ROUNDS=2 MODES="new reuse e2e relay_new" NODE_ENV="DOTNET_x=1" bench/ab.sh ...
#   NODE_ENV_A="K=v" NODE_ENV_B="K=w" bench/ab.sh /tmp/a /tmp/a   # one build, each side its own extra environment
#   SESSIONS=40 bench/ab.sh ...                 # smtp-source's concurrent sessions (default 20, as bench/run.sh)
#   MCBENCH_PROFILE=1 bench/ab.sh ...           # perf samples each build's first round of each mode (not measured
#                                               # for speed then): reports in bench/profile/ab-<A|B>-<mode>*.txt
#                                               # (MCBENCH_PROFILE=keep also keeps the data: /tmp/ab-<A|B>-<mode>.perf)
#   CTX_BY_THREAD=1 bench/ab.sh ...             # also context switches per message by thread name (voluntary/involuntary)
#   GC_COUNT=1 bench/ab.sh ...                  # also garbage collections per round (gen0, which counts every GC, and
#                                               # gen2), from the node's /metrics (prometheus-net's dotnet_collection_count)
#   MCBENCH_PROFILE_ROUND=2 ...                 # profile round 2 instead (ROUNDS >= 2): past the tiered JIT's
#                                               # re-compilation of the hot path, which fills most of round 1 of relay_new
# Modes: new (a new connection per message), reuse (connections reused), both to a deferred domain (its MX is
# 127.0.0.3, where nothing listens: delivery deferred, the destination backs off, as in bench/run.sh); e2e (connections reused, to relay.test, whose MX is smtp-sink on 127.0.0.2:2600, timed
# until the sink has received all N: end-to-end relay); relay_new (the same with a new connection per message, as
# bench/run.sh's relay_new: the node accepts and delivers at once). Loopback in a private network namespace with dnsmasq.
set -euo pipefail
[[ $(id -u) -eq 0 ]] || { echo "run as root (network namespace, cgroups)" >&2; exit 1; }
[[ $# -ge 2 ]] || { echo "usage: $0 PUBLISHED_A PUBLISHED_B [PAIRS]" >&2; exit 2; }
command -v smtp-source >/dev/null && command -v dnsmasq >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix dnsmasq-base >/dev/null; }
N=${N:-10000}
PROFILE=${MCBENCH_PROFILE:-0}
PERFMAP=$([[ $PROFILE != 0 ]] && echo 1 || echo 0)
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PROFILED="" # label-mode pairs already profiled
PROFILE_ROUND=${MCBENCH_PROFILE_ROUND:-1}
ROUNDS=${ROUNDS:-2}
MODES=${MODES:-new reuse}

NS=mcab$$
CG=/sys/fs/cgroup/cpuacct/mcab$$
DATA=""
# Also on Ctrl-C or a closed output pipe: no node, namespace, cgroup or data directory is left behind.
cleanup() {
  if [[ -d $CG ]]; then
    for p in $(cat "$CG/cgroup.procs"); do kill -9 "$p" 2>/dev/null || true; done
    for _ in $(seq 20); do [[ -z $(cat "$CG/cgroup.procs") ]] && break; sleep 0.1; done
    rmdir "$CG" 2>/dev/null || true
  fi
  local p; for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done # dnsmasq, smtp-sink
  ip netns del "$NS" 2>/dev/null || true
  [[ -n $DATA ]] && rm -rf "$DATA" "$DATA.dnsmasq.log" "$DATA.sink.out"
  DATA=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'exit 141' PIPE

measure() { # label published-dir
  local label=$1 pub=$2 ns=$NS cg=$CG pid
  local side_env; side_env=$([[ $label == A ]] && echo "${NODE_ENV_A:-}" || echo "${NODE_ENV_B:-}")
  DATA=$(mktemp -d /tmp/mcab.XXXXXX)
  local data=$DATA
  ip netns add "$ns"; ip netns exec "$ns" ip link set lo up; mkdir "$cg"
  # DNS and the final destination for e2e (outside the node's cgroup: only the node's CPU is counted).
  ip netns exec "$ns" dnsmasq --keep-in-foreground --port=53 --listen-address=127.0.0.1 --bind-interfaces --no-resolv \
    --no-hosts --user=root --pid-file= --local=/test/ --local-ttl=300 \
    --mx-host=relay.test,mx.relay.test,10 --host-record=mx.relay.test,127.0.0.2 \
    --mx-host=defer.test,mx.defer.test,10 --host-record=mx.defer.test,127.0.0.3 \
    --mx-host=client.test,mx.defer.test,10 >"$data.dnsmasq.log" 2>&1 & disown
  ip netns exec "$ns" smtp-sink -c -u nobody -m 2000 127.0.0.2:2600 1024 >"$data.sink.out" 2>/dev/null & disown
  # shellcheck disable=SC2086 # NODE_ENV and side_env are lists of VAR=value words
  ( exec /bin/bash -c 'echo $$ > "$0/cgroup.procs" && exec ip netns exec "$1" env "${@:2}"' "$cg" "$ns" \
    MailCluster__DataDir="$data/data" MailCluster__Hostname=mc.bench.test MailCluster__Smtp__BindAddress=127.0.0.1 \
    MailCluster__Smtp__MxPort=2525 MailCluster__Smtp__SubmissionPort=2587 MailCluster__Smtp__SubmissionsPort=2465 \
    MailCluster__Domains__Relay__0=defer.test MailCluster__Domains__Relay__1=relay.test MailCluster__Dns__Servers__0=127.0.0.1:53 \
    MailCluster__Outbound__Port=2600 MailCluster__Outbound__AllowPrivateDestinations=true \
    MailCluster__Ops__BindAddress=127.0.0.1 MailCluster__Ops__Port=8080 \
    MailCluster__Smtp__MaxConnectionsPerClient=20000 MailCluster__Smtp__MaxConnections=20000 \
    DOTNET_PerfMapEnabled=$PERFMAP DOTNET_EnableWriteXorExecute=$((1 - PERFMAP)) ${NODE_ENV:-} $side_env dotnet "$pub/MailCluster.Host.dll" ) >"$data/node.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do ip netns exec "$ns" curl -fsS -o /dev/null http://127.0.0.1:8080/healthz/ready 2>/dev/null && break; sleep 0.2; done
  src() { ip netns exec "$ns" smtp-source -s "${SESSIONS:-20}" -l 1024 -m "$1" -M client.test -f a@client.test -t b@defer.test "${@:2}" 127.0.0.1:2525; }
  # smtp-sink -c rewrites "sess=N quit=N mesg=N<CR>" on each event; the last complete one.
  sunk() { local n; n=$(tail -c 300 "$data.sink.out" | grep -ao $'mesg=[0-9]*\r' | tail -1 | tr -dc '0-9'); echo "${n:-0}"; }
  e2e() { # N [FLAGS]: send to relay.test (-d: connections reused), return once the sink has them all (or after 120 s)
    local base; base=$(sunk); src "$1" "${@:2}" -t b@relay.test; local end=$((SECONDS + 120))
    while (( $(sunk) - base < $1 && SECONDS < end )); do sleep 0.05; done; }
  gcs() { ip netns exec "$ns" curl -fsS http://127.0.0.1:8080/metrics 2>/dev/null \
    | awk '/^dotnet_collection_count_total\{generation="0"\}/ { g0 = $2 } /^dotnet_collection_count_total\{generation="2"\}/ { g2 = $2 } END { print g0 + 0, g2 + 0 }'; }
  ctx() { cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { s += $2 } END { print s }'; }
  # One line per thread: tid, name (spaces as _), voluntary and involuntary switches so far.
  ctx_threads() { local t; for t in /proc/"$pid"/task/*; do
    awk -v tid="${t##*/}" -v name="$(tr ' ' _ <"$t/comm" 2>/dev/null)" '/^voluntary_ctxt/ { v = $2 } /^nonvoluntary_ctxt/ { n = $2 } END { print tid, name, v, n }' "$t/status" 2>/dev/null
  done; }
  src 3000; src 3000 -d; [[ " $MODES " == *" e2e "* ]] && e2e 3000 -d; [[ " $MODES " == *" relay_new "* ]] && e2e 3000
  local line="$label"
  for round in $(seq "$ROUNDS"); do
    for mode in $MODES; do
      local flags=() c0 c1 x0 x1 t0 t1 s0 s1 g0=() g1=()
      [[ -n ${GC_COUNT:-} ]] && read -ra g0 < <(gcs)
      [[ $mode == reuse ]] && flags=(-d)
      [[ -n ${CTX_BY_THREAD:-} ]] && ctx_threads >"$data.ctx0"
      read -ra s0 < <(head -1 /proc/stat); c0=$(cat "$cg/cpuacct.usage"); x0=$(ctx); t0=$(date +%s.%N)
      local perf=""
      if [[ $PROFILE != 0 && $round -ge $PROFILE_ROUND && " $PROFILED " != *" $label-$mode "* ]]; then
        PROFILED+=" $label-$mode"; perf record -F 999 -g -o "$data.perf" -p "$pid" >/dev/null 2>&1 & perf=$!; sleep 1
      fi
      case $mode in
        e2e) e2e "$N" -d ;;
        relay_new) e2e "$N" ;;
        *) src "$N" "${flags[@]}" ;;
      esac
      if [[ -n $perf ]]; then
        kill -INT "$perf"; wait "$perf" 2>/dev/null || true; mkdir -p "$ROOT/bench/profile"
        perf report -i "$data.perf" -g none --no-children --sort dso,sym --percent-limit 0.3 --stdio 2>/dev/null \
          | grep -v '^$' | head -150 >"$ROOT/bench/profile/ab-$label-$mode.txt" || true
        perf script -i "$data.perf" 2>/dev/null | python3 "$ROOT/bench/perf-by-subsystem.py" "$N" 999 \
          >"$ROOT/bench/profile/ab-$label-$mode-by-subsystem.txt" || true
        if [[ $PROFILE == keep ]]; then mv "$data.perf" "/tmp/ab-$label-$mode.perf"; else rm -f "$data.perf"; fi
      fi
      t1=$(date +%s.%N); c1=$(cat "$cg/cpuacct.usage"); x1=$(ctx); read -ra s1 < <(head -1 /proc/stat)
      line+=$(awk -v m="$mode" -v c=$((c1 - c0)) -v x=$((x1 - x0)) -v t0="$t0" -v t1="$t1" -v n="$N" \
        -v idle=$((s1[4] - s0[4])) -v all=$(( (s1[1]+s1[2]+s1[3]+s1[4]+s1[5]+s1[6]+s1[7]) - (s0[1]+s0[2]+s0[3]+s0[4]+s0[5]+s0[6]+s0[7]) )) \
        'BEGIN { printf " | %s %5.0f msg/s %.3f CPU-ms %4.1f cs %2.0f%% idle", m, n / (t1 - t0), c / 1e6 / n, x / n, 100 * idle / all }')
      if [[ -n ${GC_COUNT:-} ]]; then read -ra g1 < <(gcs); line+=" $((g1[0] - g0[0])) gc $((g1[1] - g0[1])) gen2"; fi
      if [[ -n ${CTX_BY_THREAD:-} ]]; then # threads that started during the round count from zero
        ctx_threads >"$data.ctx1"
        echo "$label round $round $mode: context switches per message by thread name (voluntary involuntary threads)"
        awk -v n="$N" 'NR == FNR { v0[$1] = $3; n0[$1] = $4; next }
          { v[$2] += $3 - v0[$1]; i[$2] += $4 - n0[$1]; c[$2]++ }
          END { for (k in v) if (v[k] + i[k] > 0) printf "  %-18s %6.2f %6.2f %3d\n", k, v[k] / n, i[k] / n, c[k] }' "$data.ctx0" "$data.ctx1" | sort -k2 -nr
      fi
    done
  done
  echo "$line"
  for p in $(cat "$cg/cgroup.procs"); do kill -9 "$p" 2>/dev/null || true; done
  { wait "$pid" || true; } 2>/dev/null
  cleanup
}

for _ in $(seq "${3:-2}"); do
  measure A "$1"
  measure B "$2"
done
