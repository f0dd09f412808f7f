#!/usr/bin/env bash
# Scale-out under per-node CPU quotas (issue 19 target 2, docs/BENCHMARKS.md "## Cluster").
#
#   sudo bench/scaleout.sh [NODE_COUNTS]          # default "1 2 3 4"
#   SCALE_QUOTA=0.3        CPU per node (cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us, or cgroup v2 cpu.max)
#   SCALE_PER_NODE=1500    timed messages per node (the total grows with the node count, so each run lasts as long)
#   SCALE_WARM=6000        untimed warm-up messages per node (through the whole path, to the sink). At 0.3 CPU a node
#                          is still tier-1 compiling after 150-1,500 messages (the JIT's thread took 0.9-2.8 CPU-ms per
#                          timed message, more at N=3, whose nodes run more code); after 6,000 its idle CPU is back to 3 %
#   SCALE_DOMAINS=12       recipient domains; one smtp-source instance per domain, instance i sends to node i mod N
#                          (12: every N of 1, 2, 3, 4 and 6 gets the same number of instances; with 16, node 0 of 3
#                          got 6 of 16 and was the bottleneck while the other two idled below their quota)
#   SCALE_SESSIONS=5       parallel sessions per smtp-source instance (60 in all by default, whatever N)
#   SCALE_REUSE=0          1: smtp-source -d (one connection per session); 0: a new connection per message
#   SCALE_MAILLOG=1        mail log on (needed for the cross-node share; it costs some CPU, the same at every N)
#   SCALE_BIN=DIR          a deploy/publish.sh output to use instead of publishing the work tree
#   SCALE_NODE_ENV="K=V .." extra environment for every node (experiments, e.g. MailCluster__Events__Enabled=false)
#   SCALE_SHARES=10240     cpu.shares of every group the script makes (v2: cpu.weight = shares / 10); see below
#   SCALE_IDLE_SECONDS=5   the settling pause after the run, and the window after it, in which each node's idle CPU is measured
#   SCALE_KEEP=1           keep the temp dir (node logs, PostgreSQL log)
#   SCALE_PROFILE=1        perf-sample node 0 during each timed run (with DOTNET_PerfMapEnabled): CPU-ms per message it
#                          accepted, by subsystem, in bench/profile/scale-n<N>-node0-by-subsystem.txt (costs CPU itself)
#
# Everything runs inside a network namespace the script creates (lo only; removed on exit): PostgreSQL (initdb in the
# temp dir, fsync=on, synchronous_commit=on) in a cgroup of its own WITHOUT a quota, dnsmasq (MX of d0.test..dN.test
# -> 127.0.0.2), smtp-sink on 127.0.0.2:2600 and N MailCluster nodes (published with deploy/publish.sh), each node
# process in its own cgroup with the same CPU quota. For each N: a fresh database, N nodes seeding each other, a
# warm-up, then the timed load: SCALE_DOMAINS smtp-source instances at once, spread round-robin over the nodes'
# SMTP listeners. Reports per N: accepted msg/s (start until every smtp-source exited: all 250), end-to-end msg/s
# (until the sink counted every message), efficiency per node (rate / N / rate at N=1), CPU-ms per message of the
# nodes and of PostgreSQL (cpuacct), the part of the nodes' CPU that their idle rate (measured after the run) explains,
# how often the quota throttled the nodes, and the share of messages whose domain
# queue ran on another node than the one that accepted them (edge "accepted" and queue "status=sent" mail-log lines
# joined by queue id).
# A quota is a ceiling, not a floor: on a machine busy with other work (here: other engineers' builds) a group with the
# default weight (1024, the same as ONE ordinary task) gets far less than its quota. Every group the script makes
# (nodes, PostgreSQL, the load: smtp-source, smtp-sink, dnsmasq) therefore gets SCALE_SHARES, so that each node
# actually runs at its quota; the load and PostgreSQL have no quota (PostgreSQL must not be the bottleneck).
set -euo pipefail

COUNTS="${1:-1 2 3 4}"
QUOTA="${SCALE_QUOTA:-0.3}"
PER_NODE="${SCALE_PER_NODE:-1500}"
WARM="${SCALE_WARM:-6000}"
DOMAINS="${SCALE_DOMAINS:-12}"
SESSIONS="${SCALE_SESSIONS:-5}"
REUSE="${SCALE_REUSE:-0}"
MAILLOG="${SCALE_MAILLOG:-1}"
SHARES="${SCALE_SHARES:-10240}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
now() { date +%s.%N; }

[[ $(id -u) -eq 0 ]] || die "run as root (network namespace, cgroups, PostgreSQL as the postgres user)"
for tool in smtp-source smtp-sink dnsmasq initdb postgres psql runuser ip curl; do
  command -v "$tool" >/dev/null || die "$tool missing (Debian: postfix, dnsmasq-base, postgresql, iproute2, curl)"
done
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# ------------------------------------------------------------------------------------------------ cgroups
# v1 (these machines): the cpu controller enforces the quota, cpuacct counts CPU time; both hold the process.
# v2: one directory per group, cpu.max for the quota and cpu.stat usage_usec for the time.
if [[ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]]; then CGV=1; elif grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then CGV=2; else die "no cgroup cpu controller"; fi
PERIOD=100000
QUOTA_US=$(awk "BEGIN { printf \"%d\", $QUOTA * $PERIOD }")
CGROUPS=()
cg_make() { # name quota_us|-1
  if [[ $CGV == 1 ]]; then
    mkdir -p "/sys/fs/cgroup/cpu/$1" "/sys/fs/cgroup/cpuacct/$1"
    echo "$PERIOD" >"/sys/fs/cgroup/cpu/$1/cpu.cfs_period_us"
    echo "$2" >"/sys/fs/cgroup/cpu/$1/cpu.cfs_quota_us"
    echo "$SHARES" >"/sys/fs/cgroup/cpu/$1/cpu.shares"
  else
    echo +cpu >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
    mkdir -p "/sys/fs/cgroup/$1"
    if [[ $2 == -1 ]]; then echo "max $PERIOD" >"/sys/fs/cgroup/$1/cpu.max"; else echo "$2 $PERIOD" >"/sys/fs/cgroup/$1/cpu.max"; fi
    echo $(( SHARES / 10 > 10000 ? 10000 : SHARES / 10 )) >"/sys/fs/cgroup/$1/cpu.weight"
  fi
  CGROUPS+=("$1")
}
cg_procs_files() { if [[ $CGV == 1 ]]; then echo "/sys/fs/cgroup/cpu/$1/cgroup.procs /sys/fs/cgroup/cpuacct/$1/cgroup.procs"; else echo "/sys/fs/cgroup/$1/cgroup.procs"; fi; }
cg_cpu_ns() { if [[ $CGV == 1 ]]; then cat "/sys/fs/cgroup/cpuacct/$1/cpuacct.usage"; else echo $(( $(awk '/^usage_usec/ { print $2 }' "/sys/fs/cgroup/$1/cpu.stat") * 1000 )); fi; }
cg_throttled() { if [[ $CGV == 1 ]]; then awk '/^nr_throttled/ { print $2 }' "/sys/fs/cgroup/cpu/$1/cpu.stat"; else awk '/^nr_throttled/ { print $2 }' "/sys/fs/cgroup/$1/cpu.stat"; fi; }
cg_kill_all() { for f in $(cg_procs_files "$1"); do for p in $(cat "$f" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done; done; }
cg_remove() {
  cg_kill_all "$1"; sleep 0.2
  if [[ $CGV == 1 ]]; then rmdir "/sys/fs/cgroup/cpu/$1" "/sys/fs/cgroup/cpuacct/$1" 2>/dev/null || true; else rmdir "/sys/fs/cgroup/$1" 2>/dev/null || true; fi
}

# ------------------------------------------------------------------------------------------------ namespace, cleanup
T="$(mktemp -d /tmp/mcscale.XXXXXX)"
chmod 755 "$T"
NS="mcscale$$"
BG_PIDS=()
cleanup() {
  set +e
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for cg in "${CGROUPS[@]}"; do cg_remove "$cg"; done
  for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  ip netns del "$NS" 2>/dev/null
  rm -rf "/etc/netns/$NS"
  if [[ "${SCALE_KEEP:-0}" == 1 ]]; then log "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
nsx() { ip netns exec "$NS" "$@"; }
# Replaces the (sub)shell with a command inside cgroup $1 and the namespace (same pid, so $! is the command's); the
# cgroup is joined first (`ip netns exec` remounts /sys). Call it in a subshell: ( in_cgroup CG cmd ... ) &
in_cgroup() { local cg="$1"; shift; exec /bin/sh -c 'for f in $0; do echo $$ > "$f"; done && ns=$1 && shift && exec ip netns exec "$ns" "$@"' "$(cg_procs_files "$cg")" "$NS" "$@"; }

ip netns add "$NS"
nsx ip link set lo up

# ------------------------------------------------------------------------------------------------ binaries
if [[ -n "${SCALE_BIN:-}" ]]; then
  MC_DLL="$SCALE_BIN/MailCluster.Host.dll"
else
  log "publishing MailCluster (deploy/publish.sh)"
  "$ROOT/deploy/publish.sh" "$T/mc-bin" >"$T/publish.log" 2>&1 || { tail -20 "$T/publish.log" >&2; die "publish failed"; }
  MC_DLL="$T/mc-bin/MailCluster.Host.dll"
fi
[[ -f "$MC_DLL" ]] || die "$MC_DLL missing"

# ------------------------------------------------------------------------------------------------ PostgreSQL, DNS, sink
PG="$T/pg"
mkdir -p "$PG/socket"
chown -R postgres:postgres "$PG"
runuser -u postgres -- initdb -D "$PG/data" -U postgres -A trust -E UTF8 --locale=C --no-instructions >"$T/initdb.log" 2>&1 || { cat "$T/initdb.log" >&2; die "initdb failed"; }
cat >>"$PG/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = 5432
unix_socket_directories = '$PG/socket'
fsync = on
synchronous_commit = on
max_connections = 400
shared_buffers = 256MB
EOF
cg_make "mcscale$$-pg" -1
( in_cgroup "mcscale$$-pg" runuser -u postgres -- postgres -D "$PG/data" ) >"$T/postgres.log" 2>&1 &
BG_PIDS+=($!)
for _ in $(seq 100); do nsx runuser -u postgres -- psql -h 127.0.0.1 -U postgres -Atc 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
nsx runuser -u postgres -- psql -h 127.0.0.1 -U postgres -Atc 'SELECT 1' >/dev/null || { tail -20 "$T/postgres.log" >&2; die "PostgreSQL did not start"; }
psql_admin() { nsx runuser -u postgres -- psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -Atc "$1"; }

cg_make "mcscale$$-load" -1
lx() { ( in_cgroup "mcscale$$-load" "$@" ); }   # the load side (DNS, sink, smtp-source), in its own weighted group

dns_args=()
for d in $(seq 0 $((DOMAINS - 1))); do dns_args+=("--mx-host=d$d.test,mx.sink.test,10"); done
lx dnsmasq --keep-in-foreground --port=53 --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
  --user=root --pid-file= --local=/test/ --local=/in-addr.arpa/ --local-ttl=300 \
  --host-record=mx.sink.test,127.0.0.2 "${dns_args[@]}" >"$T/dnsmasq.log" 2>&1 &
BG_PIDS+=($!)
lx smtp-sink -c -u nobody -m 2000 127.0.0.2:2600 1024 >"$T/sink.out" 2>"$T/sink.err" &
BG_PIDS+=($!)
sink_count() { # smtp-sink -c rewrites "sess=N quit=N mesg=N<CR>"; the last complete one
  local n; n=$(tail -c 300 "$T/sink.out" | grep -ao $'mesg=[0-9]*\r' | tail -1 | tr -dc '0-9'); echo "${n:-0}"
}
wait_sink() { # target deadline_seconds
  local deadline=$(( $(date +%s) + $2 ))
  while [[ $(sink_count) -lt $1 ]]; do [[ $(date +%s) -lt $deadline ]] || return 1; sleep 0.05; done
}

# ------------------------------------------------------------------------------------------------ nodes
NODE_PIDS=()
nodes_start() { # count run
  local n=$1 run=$2 seeds=() i
  for i in $(seq 0 $((n - 1))); do seeds+=("MailCluster__Cluster__Seeds__$i=127.0.0.1:$((4000 + i))"); done
  for i in $(seq 0 $((n - 1))); do
    cg_make "mcscale$$-r$run-n$i" "$QUOTA_US"
    local maillog=()
    [[ $MAILLOG == 1 ]] && maillog=(Logging__LogLevel__MailCluster.MailLog=Information Logging__LogLevel__MailCluster.DeliveryLog=Information)
    ( in_cgroup "mcscale$$-r$run-n$i" env \
      MailCluster__DataDir="$T/data-r$run-n$i" MailCluster__Hostname=scale.test \
      MailCluster__Smtp__BindAddress=127.0.0.1 MailCluster__Smtp__MxPort=$((2500 + i)) \
      MailCluster__Smtp__SubmissionPort=$((2600 + 10 + i)) MailCluster__Smtp__SubmissionsPort=$((2700 + i)) \
      MailCluster__Smtp__TrustedNetworks__0=127.0.0.0/8 \
      MailCluster__Smtp__MaxConnectionsPerClient=20000 MailCluster__Smtp__MaxConnections=20000 \
      MailCluster__Ops__BindAddress=127.0.0.1 MailCluster__Ops__Port=$((8080 + i)) \
      MailCluster__Dns__Servers__0=127.0.0.1:53 \
      MailCluster__Outbound__Port=2600 MailCluster__Outbound__AllowPrivateDestinations=true \
      MailCluster__Storage__Provider=PostgreSql \
      "MailCluster__Storage__ConnectionString=Host=127.0.0.1;Port=5432;Username=postgres;Database=scale$run" \
      MailCluster__Cluster__Port=$((4000 + i)) "${seeds[@]}" \
      Logging__LogLevel__Default=Warning Logging__LogLevel__Akka=Warning "${maillog[@]}" \
      $([[ ${SCALE_PROFILE:-0} == 1 ]] && echo DOTNET_PerfMapEnabled=1) ${SCALE_NODE_ENV:-} dotnet "$MC_DLL" ) >"$T/node-r$run-n$i.log" 2>&1 &
    NODE_PIDS+=($!)
  done
  local deadline=$(( $(date +%s) + 180 ))
  for i in $(seq 0 $((n - 1))); do
    until nsx curl -fsS -o /dev/null "http://127.0.0.1:$((8080 + i))/healthz/ready" 2>/dev/null; do
      [[ $(date +%s) -lt $deadline ]] || { tail -30 "$T/node-r$run-n$i.log" >&2; die "node $i of $n not ready within 180 s"; }
      sleep 0.5
    done
  done
}
nodes_stop() { # count run
  local pid i
  for pid in "${NODE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${NODE_PIDS[@]}"; do
    for _ in $(seq 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  done
  NODE_PIDS=()
  for i in $(seq 0 $(($1 - 1))); do cg_remove "mcscale$$-r$2-n$i"; done
}

# One smtp-source instance per domain, instance d to node d mod N; all at once; fails if any got a non-2xx answer.
load() { # nodes messages_per_instance prefix
  local n=$1 m=$2 pids=() d rc=0 reuse=()
  [[ $REUSE == 1 ]] && reuse=(-d)
  for d in $(seq 0 $((DOMAINS - 1))); do
    lx smtp-source -s "$SESSIONS" -l 1024 -m "$m" -M client.test -f "bench@client.test" -t "$3@d$d.test" "${reuse[@]}" \
      "127.0.0.1:$((2500 + d % n))" >"$T/source-$3-$d.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return $rc
}

# Share of messages whose domain queue ran on another node than the edge that accepted them (mail-log join).
cross_share() { # count run
  local files=() i
  for i in $(seq 0 $(($1 - 1))); do files+=("$T/node-r$2-n$i.log"); done
  awk '
    FNR == 1 { node++ }
    / accepted from=</ { for (f = 1; f <= NF; f++) if ($f ~ /:$/ && $(f + 1) == "accepted") { edge[substr($f, 1, length($f) - 1)] = node; break } }
    /status=sent/ { for (f = 1; f <= NF; f++) if ($f ~ /:$/ && $(f + 1) ~ /^to=</) { queue[substr($f, 1, length($f) - 1)] = node; break } }
    END { for (id in edge) if (id in queue) { both++; if (edge[id] != queue[id]) cross++ }
          if (both) printf "%.0f%% of %d", 100 * cross / both, both; else printf "n/a" }' "${files[@]}"
}

echo "| Nodes (${QUOTA} CPU each) | Accepted msg/s | End-to-end msg/s | Efficiency per node (accept / e2e) | Node CPU-ms/msg | of which the idle CPU | PostgreSQL CPU-ms/msg | Idle CPU per node | Quota throttles | Cross-node enqueues |"
echo "|---|---|---|---|---|---|---|---|---|---|"
BASE_ACC=""; BASE_E2E=""; RUN=0
for n in $COUNTS; do
  RUN=$((RUN + 1))
  psql_admin "CREATE DATABASE scale$RUN" >/dev/null
  log "N=$n: starting $n node(s) at $QUOTA CPU each"
  nodes_start "$n" "$RUN"
  warm_per_instance=$(( (WARM * n + DOMAINS - 1) / DOMAINS ))
  base=$(sink_count)
  load "$n" "$warm_per_instance" "warm" || log "N=$n: warm-up saw a non-2xx answer"
  wait_sink $((base + warm_per_instance * DOMAINS)) 300 || log "N=$n: warm-up mail not all delivered"
  per_instance=$(( (PER_NODE * n + DOMAINS - 1) / DOMAINS )); total=$((per_instance * DOMAINS))
  base=$(sink_count); pg0=$(cg_cpu_ns "mcscale$$-pg"); cpu0=0; thr0=0
  node0=()
  for i in $(seq 0 $((n - 1))); do node0[i]=$(cg_cpu_ns "mcscale$$-r$RUN-n$i"); cpu0=$((cpu0 + node0[i])); thr0=$((thr0 + $(cg_throttled "mcscale$$-r$RUN-n$i"))); done
  PERF=""
  if [[ ${SCALE_PROFILE:-0} == 1 ]]; then
    perf record -F 499 -g -o "$T/perf-n$n.data" -p "${NODE_PIDS[0]}" >"$T/perf-n$n.log" 2>&1 & PERF=$!
    sleep 1
  fi
  t0=$(now)
  ok=yes; load "$n" "$per_instance" "run" || ok="no (a non-2xx answer: see source logs)"
  t_acc=$(now)
  wait_sink $((base + total)) 600 || log "N=$n: only $(( $(sink_count) - base )) of $total reached the sink"
  t_e2e=$(now)
  if [[ -n $PERF ]]; then
    kill -INT "$PERF"; wait "$PERF" 2>/dev/null || true
    mkdir -p "$ROOT/bench/profile"
    perf script -i "$T/perf-n$n.data" 2>/dev/null | python3 "$ROOT/bench/perf-by-subsystem.py" $((total / n)) 499 \
      >"$ROOT/bench/profile/scale-n$n-node0-by-subsystem.txt" || true
  fi
  pg1=$(cg_cpu_ns "mcscale$$-pg"); cpu1=0; thr1=0
  per_node=""
  for i in $(seq 0 $((n - 1))); do
    c=$(cg_cpu_ns "mcscale$$-r$RUN-n$i"); cpu1=$((cpu1 + c)); thr1=$((thr1 + $(cg_throttled "mcscale$$-r$RUN-n$i")))
    per_node+=" $(calc "($c - ${node0[i]}) / 1e9 / ($t_e2e - $t0)" 2)"
  done
  acc=$(calc "$total / ($t_acc - $t0)" 0); e2e=$(calc "$(( $(sink_count) - base )) / ($t_e2e - $t0)" 0)
  # The nodes' CPU while idle (heartbeats, gossip, timers: a cost per node and second, not per message), measured after
  # the run and a settling pause (right after a load the JIT is still compiling its hot code in the background).
  sleep "${SCALE_IDLE_SECONDS:-5}"
  idle0=0; for i in $(seq 0 $((n - 1))); do idle0=$((idle0 + $(cg_cpu_ns "mcscale$$-r$RUN-n$i"))); done; ti0=$(now)
  sleep "${SCALE_IDLE_SECONDS:-5}"
  idle1=0; for i in $(seq 0 $((n - 1))); do idle1=$((idle1 + $(cg_cpu_ns "mcscale$$-r$RUN-n$i"))); done
  idle_per_node=$(calc "($idle1 - $idle0) / 1e9 / ($(now) - $ti0) / $n" 4)   # CPU-seconds per second per node
  [[ -z "$BASE_ACC" ]] && { BASE_ACC=$(calc "$acc / $n" 3); BASE_E2E=$(calc "$e2e / $n" 3); }
  nodes_stop "$n" "$RUN"
  share=$([[ $MAILLOG == 1 ]] && cross_share "$n" "$RUN" || echo "mail log off")
  echo "| $n | $acc | $e2e | $(calc "100 * $acc / $n / $BASE_ACC" 0)% / $(calc "100 * $e2e / $n / $BASE_E2E" 0)% | $(calc "($cpu1 - $cpu0) / 1000000 / $total" 2) | $(calc "$idle_per_node * $n * ($t_e2e - $t0) * 1000 / $total" 2) | $(calc "($pg1 - $pg0) / 1000000 / $total" 2) | $(calc "100 * $idle_per_node" 1)% | $((thr1 - thr0)) | $share |"
  log "N=$n: $total messages, all answered 250: $ok; accepted in $(calc "$t_acc - $t0") s, delivered in $(calc "$t_e2e - $t0") s; CPU per node (CPU-s per s):$per_node"
done
echo
echo "Command: bench/scaleout.sh \"$COUNTS\" with SCALE_QUOTA=$QUOTA SCALE_PER_NODE=$PER_NODE SCALE_WARM=$WARM SCALE_DOMAINS=$DOMAINS SCALE_SESSIONS=$SESSIONS SCALE_REUSE=$REUSE SCALE_MAILLOG=$MAILLOG;" \
  "cgroup v$CGV; PostgreSQL fsync=on synchronous_commit=on, no quota; build $(git -C "$ROOT" rev-parse --short HEAD); $(date -u +%FT%TZ)"
