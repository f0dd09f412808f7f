# bench/cold-env.sh: sourced by bench/cold.sh and bench/latency.sh (not run on its own). The same world as
# bench/run.sh, in a private network namespace: dnsmasq (MX records) on 127.0.0.1:53, a private Postfix on
# 127.0.0.1:10025 and a MailCluster node on 127.0.0.1:2525, each in its own cpuacct cgroup; mail goes to defer.test,
# whose MX 127.0.0.3 refuses connections (delivery deferred for both MTAs, as in run.sh's scenarios 1 and 3).
# What differs from run.sh: every start is timed from the moment the process is launched to its first 220
# (bench/cold-ready.py polls every 5 ms), and nothing is warmed up: these scripts measure a fresh process.
#
# Environment: MCCOLD_BIN=DIR   use an already published node (deploy/publish.sh DIR) instead of publishing one;
#              MCCOLD_NODE_ENV="K=V ..."  extra environment for the node (experiments: DOTNET_TieredPGO=0, ...).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }
[[ $(id -u) -eq 0 ]] || die "run as root (network namespace, cgroups, Postfix)"
for c in smtp-source dnsmasq python3; do command -v "$c" >/dev/null || die "$c missing (apt-get install postfix dnsmasq-base python3)"; done
ulimit -n 65536 2>/dev/null || true

T="$(mktemp -d /tmp/mccold.XXXXXX)"
chmod 755 "$T"   # the postfix user must reach its queue directory below it
NS="mccold$$"
CG_MC="/sys/fs/cgroup/cpuacct/mccold$$-mc"
CG_PF="/sys/fs/cgroup/cpuacct/mccold$$-pf"
PF_DIR="$T/pf"
MC_PORT=2525
PF_PORT=10025
MC_PID=""
READY_S=""     # set by mta_start: seconds from launch to the first 220
LAUNCHED=""    # set by mta_start: the epoch second the MTA was launched
BG_PIDS=()

env_cleanup() {
  set +e
  [[ -n "$MC_PID" ]] && mc_stop
  [[ -f "$PF_DIR/etc/main.cf" ]] && ip netns exec "$NS" postfix -c "$PF_DIR/etc" stop >/dev/null 2>&1
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 0.5
  for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done   # ours: we made the namespace
  ip netns del "$NS" 2>/dev/null
  rm -rf "/etc/netns/$NS"
  for cg in "$CG_MC" "$CG_PF"; do
    [[ -d "$cg" ]] && { for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done; sleep 0.2; rmdir "$cg"; }
  done
  if [[ "${MCCOLD_KEEP:-0}" == 1 ]]; then log "kept $T"; else rm -rf "$T"; fi
}
trap env_cleanup EXIT
trap 'exit 130' INT TERM

nsx() { ip netns exec "$NS" "$@"; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
cpu_ns() { cat "$1/cpuacct.usage"; }
kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
median() { tr ' ' '\n' | grep -E '^[0-9.]+$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
mta_port() { if [[ $1 == mc ]]; then echo $MC_PORT; else echo $PF_PORT; fi; }
mta_cg() { if [[ $1 == mc ]]; then echo "$CG_MC"; else echo "$CG_PF"; fi; }

if [[ -n "${MCCOLD_BIN:-}" ]]; then
  MC_BIN="$MCCOLD_BIN"
else
  log "publishing MailCluster (deploy/publish.sh)"
  "$ROOT/deploy/publish.sh" "$T/mc-bin" >"$T/publish.log" 2>&1 || { tail -20 "$T/publish.log" >&2; die "publish failed"; }
  MC_BIN="$T/mc-bin"
fi
[[ -f "$MC_BIN/MailCluster.Host.dll" ]] || die "no MailCluster.Host.dll in $MC_BIN"

ip netns add "$NS"
nsx ip link set lo up
mkdir -p "/etc/netns/$NS"
echo "nameserver 127.0.0.1" >"/etc/netns/$NS/resolv.conf"
mkdir "$CG_MC" "$CG_PF"
nsx dnsmasq --keep-in-foreground --port=53 --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
  --user=root --pid-file= --local=/test/ --local=/in-addr.arpa/ --local-ttl=300 \
  --mx-host=defer.test,mx.defer.test,10 --host-record=mx.defer.test,127.0.0.3 \
  --host-record=localhost,127.0.0.1 >"$T/dnsmasq.log" 2>&1 &
BG_PIDS+=($!)

# Waits for the first 220 on port $1 and prints the seconds since $2 (the epoch second the process was launched).
ready_after() { nsx python3 "$ROOT/bench/cold-ready.py" "$1" "$2" "${MCCOLD_READY_TIMEOUT:-180}"; }

# ------------------------------------------------------------------------------------------------ Postfix
# shellcheck source=bench/lib/postfix.sh
source "$ROOT/bench/lib/postfix.sh"
pf_configure
# pf_start: empty queue, then `postfix start` inside the cgroup; READY_S = seconds from launch to the first 220.
pf_start() {
  nsx postfix -c "$PF_DIR/etc" stop >/dev/null 2>&1 || true
  rm -rf "$PF_DIR/queue" "$PF_DIR/data"/*
  mkdir -p "$PF_DIR/queue"
  chown postfix "$PF_DIR/data"
  nsx postfix -c "$PF_DIR/etc" post-install create-missing >>"$T/postfix-setup.log" 2>&1
  local t0; t0=$(now); LAUNCHED=$t0
  /bin/sh -c 'echo $$ > "$0/cgroup.procs" && ns=$1 && shift && exec ip netns exec "$ns" "$@"' "$CG_PF" "$NS" \
    postfix -c "$PF_DIR/etc" start >>"$T/postfix-setup.log" 2>&1 &
  local launcher=$!
  READY_S=$(ready_after "$PF_PORT" "$t0") || die "Postfix does not greet on $PF_PORT"
  wait "$launcher" || die "postfix start failed (see $T/postfix-setup.log)"
}
pf_stop() {
  nsx postfix -c "$PF_DIR/etc" stop >>"$T/postfix-setup.log" 2>&1 || true
  for _ in $(seq 50); do [[ -z "$(cat "$CG_PF/cgroup.procs")" ]] && return; sleep 0.2; done
  for p in $(cat "$CG_PF/cgroup.procs"); do kill -9 "$p" 2>/dev/null || true; done
}

# ------------------------------------------------------------------------------------------------ MailCluster
MC_RUN=0
# mc_start: a fresh data directory, the node launched inside the cgroup; READY_S = seconds from launch to the first 220.
mc_start() {
  MC_RUN=$((MC_RUN + 1))
  local t0
  t0=$(now); LAUNCHED=$t0
  ( exec /bin/sh -c 'echo $$ > "$0/cgroup.procs" && ns=$1 && shift && exec ip netns exec "$ns" "$@"' "$CG_MC" "$NS" env \
    MailCluster__DataDir="$T/mc-data-$MC_RUN" \
    MailCluster__Hostname=mc.bench.test \
    MailCluster__Smtp__BindAddress=127.0.0.1 \
    MailCluster__Smtp__MxPort=$MC_PORT MailCluster__Smtp__SubmissionPort=2587 MailCluster__Smtp__SubmissionsPort=2465 \
    MailCluster__Smtp__MaxConnectionsPerClient=20000 MailCluster__Smtp__MaxConnections=20000 \
    MailCluster__Domains__Relay__0=defer.test \
    MailCluster__Dns__Servers__0=127.0.0.1:53 \
    MailCluster__Outbound__Port=2600 MailCluster__Outbound__AllowPrivateDestinations=true \
    MailCluster__Ops__BindAddress=127.0.0.1 MailCluster__Ops__Port=8080 \
    $([[ ${MCCOLD_JITMAP:-0} == 1 ]] && echo DOTNET_PerfMapEnabled=3 DOTNET_PerfMapShowOptimizationTiers=1) ${MCCOLD_NODE_ENV:-} \
    dotnet "$MC_BIN/MailCluster.Host.dll" ) >"$T/mc-$MC_RUN.log" 2>&1 &
  MC_PID=$!
  READY_S=$(ready_after "$MC_PORT" "$t0") || { tail -30 "$T/mc-$MC_RUN.log" >&2; die "MailCluster does not greet on $MC_PORT"; }
  # The node greets before its cluster is Up and its queue shards can take mail (/healthz/ready): note when that is,
  # in the background, while the load runs (mc_cluster_ready reads it).
  ( for _ in $(seq 3000); do
      nsx curl -fsS -o /dev/null http://127.0.0.1:8080/healthz/ready 2>/dev/null && { calc "$(now) - $t0" 3 >"$T/mc-ready-$MC_RUN"; exit; }
      sleep 0.05
    done ) &
  BG_PIDS+=($!)
}
mc_cluster_ready() { cat "$T/mc-ready-$MC_RUN" 2>/dev/null || echo "-"; }
mc_stop() {
  kill -TERM "$MC_PID" 2>/dev/null || true
  for _ in $(seq 75); do kill -0 "$MC_PID" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$MC_PID" 2>/dev/null || true
  wait "$MC_PID" 2>/dev/null || true
  for p in $(cat "$CG_MC/cgroup.procs"); do kill -9 "$p" 2>/dev/null || true; done
  MC_PID=""
}
mta_start() { if [[ $1 == mc ]]; then mc_start; else pf_start; fi; }
mta_stop() { if [[ $1 == mc ]]; then mc_stop; else pf_stop; fi; }
