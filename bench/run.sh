#!/usr/bin/env bash
# MailCluster side by side with Postfix, same machine, same run (issue 6). See docs/BENCHMARKS.md.
#
#   bench/run.sh [--quick] [--out FILE] [--only mc|pf]
#   MCBENCH_PROFILE=1 bench/run.sh --quick --only mc   # also perf/strace the node in scenario 1 (bench/profile/)
#   MCBENCH_NODE_ENV="DOTNET_gcServer=0" ...           # extra environment for the node (experiments)
#   MCBENCH_KEEP=1 ...                                  # keep the temp dir (logs, maillog, node logs)
#   MCBENCH_STORAGE=postgresql ...                      # the node on a private PostgreSQL (fsync=on, synchronous_commit=on)
#                                                       # in the namespace; its CPU counts as MailCluster's (and is
#                                                       # also reported on its own); with MCBENCH_PROFILE, statements
#                                                       # and transactions per message (pg_stat_statements) as well
#   MCBENCH_BIN=DIR ...                                 # the node from DIR (published by deploy/publish.sh DIR) instead of
#                                                       # publishing the work tree (DIR/BUILD-NOTE, if present, names it)
#   MCBENCH_ACCEPT="new" ...                            # scenario 1's modes (default "reuse new": 1a and 1b)
#   MCBENCH_START_TIMEOUT=180 ...                       # seconds a node may take to greet (default 60; a loaded machine)
#   MCBENCH_WARM=10000 ...                              # warm-up messages of scenarios 1 and 2 (default 2,000; 500 with
#                                                       # --quick): a node on PostgreSQL is still tiering up its JIT after
#                                                       # 2,000 (docs/BENCHMARKS.md, session s28)
#   MCBENCH_WARM_SECONDS=0 ...                          # scenarios 1 and 2 repeat their warm-up until this many seconds
#                                                       # have passed (default 20, 0 with --quick): a fresh node's tier-1
#                                                       # JIT backlog lasts 10-15 s under load (docs/BENCHMARKS.md, s31)
#   MCBENCH_WARM_LARGE=100 ...                          # MB of warm-up per size before each large phase (default 1,000,
#                                                       # 10 with --quick): a fresh node's tier-1 JIT backlog (~8,000
#                                                       # methods) takes 10-15 s of one core (docs/BENCHMARKS.md, s30)
#
# Sets up everything itself inside a private network namespace: dnsmasq (MX records for the test
# domains) on 127.0.0.1:53, smtp-sink on 127.0.0.2:2600 (final destination), a private Postfix instance
# (own config/queue/data directories under a temp dir, smtpd on 127.0.0.1:10025, chroot = n) and a
# MailCluster node (published by deploy/publish.sh: Release, ReadyToRun; SMTP on 127.0.0.1:2525). Postfix resolves MX through /etc/resolv.conf,
# which `ip netns exec` bind-mounts from /etc/netns/<ns>/resolv.conf (nameserver 127.0.0.1); MailCluster
# is told MailCluster__Dns__Servers__0=127.0.0.1:53. Nothing touches /etc/postfix or port 25 of the host.
# Each MTA runs in its own cpuacct cgroup, so CPU seconds include every process it forks (Postfix's
# smtpd/cleanup/qmgr/smtp ...), including those that exit. Every scenario starts each MTA afresh (empty
# queue) and runs MailCluster and Postfix one after the other.
set -euo pipefail

QUICK=0
OUT=""
ONLY=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --out) OUT="$2"; shift ;;
    --only) ONLY="$2"; shift ;;
    *) echo "usage: $0 [--quick] [--out FILE] [--only mc|pf]" >&2; exit 2 ;;
  esac
  shift
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUN_START=$(date +%s)

if [[ $QUICK -eq 1 ]]; then
  N_ACCEPT=2000; N_E2E=2000; LAT_SECONDS=8; N_LARGE=40; N_IDLE=2000; N_WARM=500; N_WARM_LARGE=10
else
  N_ACCEPT=10000; N_E2E=10000; LAT_SECONDS=30; N_LARGE=1000; N_IDLE=10000; N_WARM=2000; N_WARM_LARGE=1000
fi
N_WARM=${MCBENCH_WARM:-$N_WARM}
N_WARM_LARGE=${MCBENCH_WARM_LARGE:-$N_WARM_LARGE}
WARM_SECONDS=${MCBENCH_WARM_SECONDS:-$([[ $QUICK -eq 1 ]] && echo 0 || echo 20)}
SESSIONS=20

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------- setup
[[ $(id -u) -eq 0 ]] || die "run as root (network namespace, cgroups, Postfix)"

install_packages() {
  local missing=()
  command -v smtp-source >/dev/null && command -v smtp-sink >/dev/null && [[ -x /usr/lib/postfix/sbin/master ]] || missing+=(postfix)
  command -v dnsmasq >/dev/null || missing+=(dnsmasq-base)
  command -v ip >/dev/null || missing+=(iproute2)
  if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    # policy-rc.d usually stops the package from starting the system Postfix; stop it if it did anyway.
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
    postfix status >/dev/null 2>&1 && postfix stop >/dev/null 2>&1 || true
  fi
}
install_packages

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
T="$(mktemp -d /tmp/mcbench.XXXXXX)"
chmod 755 "$T"   # the postfix user must reach its queue directory below it
# MailCluster runs as an operator would run it: published by deploy/publish.sh (Release, ReadyToRun) into the temp
# dir, so a concurrent build in the work tree cannot change the binaries mid-run.
MC_BIN="$T/mc-bin"
if [[ -n ${MCBENCH_BIN:-} ]]; then
  # A build published earlier (deploy/publish.sh DIR): to measure two builds, or one build several times, without
  # publishing again on a loaded machine.
  [[ -f "$MCBENCH_BIN/MailCluster.Host.dll" ]] || die "MCBENCH_BIN: no MailCluster.Host.dll in $MCBENCH_BIN"
  MC_BIN="$(cd "$MCBENCH_BIN" && pwd)"
  log "MailCluster from $MC_BIN (MCBENCH_BIN); building MailCluster.Bench"
else
  log "publishing MailCluster (deploy/publish.sh), building MailCluster.Bench"
  if ! "$ROOT/deploy/publish.sh" "$T/mc-bin" >/tmp/mcbench-build.log 2>&1; then
    grep -m5 ' error ' /tmp/mcbench-build.log >&2 || tail -10 /tmp/mcbench-build.log >&2
    die "publish failed (see /tmp/mcbench-build.log)"
  fi
fi
MC_DLL="$MC_BIN/MailCluster.Host.dll"
BUILD_NOTE="deploy/publish.sh (Release, ReadyToRun) of the work tree at $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src || echo ' with uncommitted changes in src/')"
[[ -n ${MCBENCH_BIN:-} ]] && BUILD_NOTE="$MC_BIN (MCBENCH_BIN, published by deploy/publish.sh; $(cat "$MC_BIN/BUILD-NOTE" 2>/dev/null || echo 'origin not recorded'))"
dotnet build -c Release "$ROOT/bench/MailCluster.Bench/MailCluster.Bench.csproj" -v q -nologo >>/tmp/mcbench-build.log 2>&1 \
  || { tail -30 /tmp/mcbench-build.log; die "bench tool build failed"; }
TOOL_DLL="$ROOT/bench/MailCluster.Bench/bin/Release/net10.0/MailCluster.Bench.dll"

NS="mcbench$$"
CG_MC="/sys/fs/cgroup/cpuacct/mcbench$$-mc"
CG_PF="/sys/fs/cgroup/cpuacct/mcbench$$-pf"
CG_PG=""
STORAGE="${MCBENCH_STORAGE:-sqlite}"
[[ $STORAGE == sqlite || $STORAGE == postgresql ]] || die "MCBENCH_STORAGE: sqlite or postgresql, not '$STORAGE'"
MC_PID=""
PF_DIR="$T/pf"
BG_PIDS=()

cleanup() {
  set +e
  [[ -n "$MC_PID" ]] && stop_mc
  [[ -f "$PF_DIR/etc/main.cf" ]] && ip netns exec "$NS" postfix -c "$PF_DIR/etc" stop >/dev/null 2>&1
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 0.5
  # Anything still in our namespace is ours (we created it); end it by pid.
  for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  ip netns del "$NS" 2>/dev/null
  rm -rf "/etc/netns/$NS"
  for cg in "$CG_MC" "$CG_PF" $CG_PG; do
    [[ -d "$cg" ]] && { for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done; sleep 0.2; rmdir "$cg"; }
  done
  if [[ "${MCBENCH_KEEP:-0}" == 1 ]]; then log "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nsx() { ip netns exec "$NS" "$@"; }
# Runs a command inside the namespace and inside cgroup $1 (the command replaces the shell: same pid).
# (The cgroup is joined before entering the namespace: `ip netns exec` remounts /sys, hiding /sys/fs/cgroup.)
in_cgroup() { local cg="$1"; shift; /bin/sh -c 'echo $$ > "$0/cgroup.procs" && ns=$1 && shift && exec ip netns exec "$ns" "$@"' "$cg" "$NS" "$@"; }
# MailCluster's CPU includes its PostgreSQL's (MCBENCH_STORAGE=postgresql), as Postfix's includes its cleanup's fsyncs.
cpu_ns() { if [[ $1 == pg ]]; then if [[ -n $CG_PG ]]; then cat "$CG_PG/cpuacct.usage"; else echo 0; fi
  elif [[ $1 == "$CG_MC" && -n $CG_PG ]]; then echo $(( $(cat "$1/cpuacct.usage") + $(cat "$CG_PG/cpuacct.usage") )); else cat "$1/cpuacct.usage"; fi; }
now() { date +%s.%N; }
# The load tool enters only the network namespace (nsenter keeps /sys, so it can read the MTAs' cgroups).
tool() { nsenter --net="/run/netns/$NS" dotnet "$TOOL_DLL" "$@"; }
kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }   # value of key $1 in a key=value line
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }

ip netns add "$NS"
nsx ip link set lo up
mkdir -p "/etc/netns/$NS"
echo "nameserver 127.0.0.1" >"/etc/netns/$NS/resolv.conf"
mkdir "$CG_MC" "$CG_PF"

# dnsmasq: relay.test -> mx.relay.test (127.0.0.2, where smtp-sink listens); defer.test -> mx.defer.test
# (127.0.0.3, where nothing listens: connection refused, i.e. delivery deferred for both MTAs); wide.test (large
# messages end to end) -> two MX of equal preference, the sink on 127.0.0.2 and a second on 127.0.0.4: one smtp-sink
# process takes a whole core at ~245 MB/s (4 CPU-s per 1,000 MB, session s30) and capped both MTAs' large relay.
nsx dnsmasq --keep-in-foreground --port=53 --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
  --user=root --pid-file= --local=/test/ --local=/in-addr.arpa/ --local-ttl=300 \
  --mx-host=relay.test,mx.relay.test,10 --host-record=mx.relay.test,127.0.0.2 \
  --mx-host=wide.test,mx1.wide.test,10 --mx-host=wide.test,mx2.wide.test,10 \
  --host-record=mx1.wide.test,127.0.0.2 --host-record=mx2.wide.test,127.0.0.4 \
  --mx-host=defer.test,mx.defer.test,10 --host-record=mx.defer.test,127.0.0.3 \
  --host-record=localhost,127.0.0.1 >"$T/dnsmasq.log" 2>&1 &
BG_PIDS+=($!)

# smtp-sink: the final destination of both MTAs. -c prints running counters on stdout.
nsx smtp-sink -c -u nobody -m 2000 127.0.0.2:2600 1024 >"$T/sink.out" 2>"$T/sink.err" &
BG_PIDS+=($!)
nsx smtp-sink -c -u nobody -m 2000 127.0.0.4:2600 1024 >"$T/sink2.out" 2>"$T/sink2.err" &
BG_PIDS+=($!)
sink_counter() { # sess|mesg: the sum of one of both sinks' running counters
  # smtp-sink -c rewrites "sess=N quit=N mesg=N<CR>" on each event; take the last complete one (the number ends there).
  local n total=0 out
  for out in "$T/sink.out" "$T/sink2.out"; do
    n=$(tail -c 300 "$out" | grep -ao "$1=[0-9]*"$'[ \r]' | tail -1 | tr -dc '0-9')
    total=$(( total + ${n:-0} ))
  done
  echo "$total"
}
sink_count() { sink_counter mesg; }    # messages both sinks received
sink_sessions() { sink_counter sess; } # SMTP sessions they saw (a new connection costs the sender a connect, EHLO and QUIT)

# ---------------------------------------------------------------------------------------------- PostgreSQL (optional)
# MCBENCH_STORAGE=postgresql: one private PostgreSQL for the whole run on 127.0.0.1:5432 in the namespace, fsync=on and
# synchronous_commit=on (the durability of Postfix's fsync before 250), in a cpuacct cgroup of its own; every node start
# gets a fresh database.
MC_STORAGE_ENV=()
if [[ $STORAGE == postgresql ]]; then
  command -v initdb >/dev/null && command -v postgres >/dev/null || die "MCBENCH_STORAGE=postgresql needs PostgreSQL (Debian: postgresql)"
  CG_PG="/sys/fs/cgroup/cpuacct/mcbench$$-pg"; mkdir "$CG_PG"
  mkdir -p "$T/pg/socket"; chown -R postgres:postgres "$T/pg"
  runuser -u postgres -- initdb -D "$T/pg/data" -U postgres -A trust -E UTF8 --locale=C --no-instructions >"$T/initdb.log" 2>&1 || { cat "$T/initdb.log" >&2; die "initdb failed"; }
  printf "%s\n" "listen_addresses = '127.0.0.1'" "port = 5432" "unix_socket_directories = '$T/pg/socket'" \
    "fsync = on" "synchronous_commit = on" "max_connections = 300" >>"$T/pg/data/postgresql.conf"
  # Profiling runs count statements and transactions per message (prof_start/prof_stop); the module costs a little.
  [[ ${MCBENCH_PROFILE:-0} != 0 ]] && printf "%s\n" "shared_preload_libraries = 'pg_stat_statements'" \
    "pg_stat_statements.track = top" "pg_stat_statements.track_utility = on" >>"$T/pg/data/postgresql.conf"
  in_cgroup "$CG_PG" runuser -u postgres -- postgres -D "$T/pg/data" >"$T/postgres.log" 2>&1 &
  BG_PIDS+=($!)
  for _ in $(seq 100); do nsx runuser -u postgres -- psql -h 127.0.0.1 -U postgres -Atc 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
  nsx runuser -u postgres -- psql -h 127.0.0.1 -U postgres -Atc 'SELECT 1' >/dev/null || { tail -20 "$T/postgres.log" >&2; die "PostgreSQL did not start"; }
fi

# ---------------------------------------------------------------------------------------------- Postfix
PF_PORT=10025
# shellcheck source=bench/lib/postfix.sh
source "$ROOT/bench/lib/postfix.sh"
pf_start() {
  ip netns exec "$NS" postfix -c "$PF_DIR/etc" stop >/dev/null 2>&1 || true
  rm -rf "$PF_DIR/queue" "$PF_DIR/data"/*
  mkdir -p "$PF_DIR/queue"
  chown postfix "$PF_DIR/data"
  nsx postfix -c "$PF_DIR/etc" post-install create-missing >>"$T/postfix-setup.log" 2>&1
  # postfix start forks master (which detaches); it and all its children stay in the cgroup.
  in_cgroup "$CG_PF" postfix -c "$PF_DIR/etc" start >>"$T/postfix-setup.log" 2>&1 || { cat "$T/postfix-setup.log" >&2; die "postfix start failed"; }
  tool wait --port "$PF_PORT" --timeout 30 >/dev/null || die "Postfix does not greet on $PF_PORT"
}
pf_stop() {
  nsx postfix -c "$PF_DIR/etc" stop >>"$T/postfix-setup.log" 2>&1 || true
  for _ in $(seq 50); do [[ -z "$(cat "$CG_PF/cgroup.procs")" ]] && return; sleep 0.2; done
  for p in $(cat "$CG_PF/cgroup.procs"); do kill -9 "$p" 2>/dev/null || true; done
}

# ---------------------------------------------------------------------------------------------- MailCluster
MC_PORT=2525
MC_RUN=0
# perf needs the JIT's symbol map (and W^X off so the map stays valid); strace needs neither.
PERFMAP=$([[ ${MCBENCH_PROFILE:-0} != 0 && ${MCBENCH_PROFILE:-0} != strace ]] && echo 1 || echo 0)
mc_start() {
  MC_RUN=$((MC_RUN + 1))
  local data="$T/mc-data-$MC_RUN"
  local extra=()
  if [[ $STORAGE == postgresql ]]; then
    nsx runuser -u postgres -- psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qc "CREATE DATABASE mc$MC_RUN" || die "CREATE DATABASE failed"
    extra+=(MailCluster__Storage__Provider=PostgreSql "MailCluster__Storage__ConnectionString=Host=127.0.0.1;Port=5432;Username=postgres;Database=mc$MC_RUN")
  fi
  # A colleague's switch: deliver to loopback MX addresses. Set only if this build knows the key
  # (unknown keys stop the node with exit code 2).
  grep -qs "AllowPrivateDestinations" "$MC_BIN/MailCluster.Outbound.dll" && extra+=(MailCluster__Outbound__AllowPrivateDestinations=true)
  # All load comes from 127.0.0.1; Postfix exempts $mynetworks from its per-client limits, so lift
  # MailCluster's (default 50 per client, 10,000 in all) above the idle-connection count as well.
  grep -qs "MaxConnectionsPerClient" "$MC_BIN/MailCluster.Edge.dll" \
    && extra+=(MailCluster__Smtp__MaxConnectionsPerClient=20000 MailCluster__Smtp__MaxConnections=20000)
  # exec: the background subshell becomes the node itself, so $! is the node's pid.
  ( exec /bin/sh -c 'echo $$ > "$0/cgroup.procs" && ns=$1 && shift && exec ip netns exec "$ns" "$@"' "$CG_MC" "$NS" env \
    MailCluster__DataDir="$data" \
    MailCluster__Hostname=mc.bench.test \
    MailCluster__Smtp__BindAddress=127.0.0.1 \
    MailCluster__Smtp__MxPort=$MC_PORT MailCluster__Smtp__SubmissionPort=2587 MailCluster__Smtp__SubmissionsPort=2465 \
    MailCluster__Domains__Relay__0=relay.test MailCluster__Domains__Relay__1=defer.test MailCluster__Domains__Relay__2=wide.test \
    MailCluster__Dns__Servers__0=127.0.0.1:53 \
    MailCluster__Outbound__Port=2600 \
    MailCluster__Ops__BindAddress=127.0.0.1 MailCluster__Ops__Port=8080 \
    "${extra[@]}" ${MCBENCH_NODE_ENV:-} \
    DOTNET_PerfMapEnabled="$PERFMAP" DOTNET_EnableWriteXorExecute="$(( 1 - PERFMAP ))" \
    dotnet "$MC_DLL" ) >"$T/mc-$MC_RUN.log" 2>&1 &
  MC_PID=$!
  tool wait --port "$MC_PORT" --timeout "${MCBENCH_START_TIMEOUT:-60}" >/dev/null || { tail -30 "$T/mc-$MC_RUN.log" >&2; die "MailCluster does not greet on $MC_PORT"; }
  # The greeting comes before the cluster is Up and the shard region is ready: wait for /healthz/ready.
  for _ in $(seq 100); do
    nsx curl -fsS -o /dev/null http://127.0.0.1:8080/healthz/ready 2>/dev/null && return
    sleep 0.2
  done
  log "MailCluster not ready after 20 s (continuing)"
}
stop_mc() {
  kill -TERM "$MC_PID" 2>/dev/null || true
  for _ in $(seq 75); do kill -0 "$MC_PID" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$MC_PID" 2>/dev/null && log "MailCluster did not stop within 15 s of SIGTERM; killing it"
  kill -9 "$MC_PID" 2>/dev/null || true
  wait "$MC_PID" 2>/dev/null || true
  # Whatever is left in the node's cgroup is ours (it only ever holds the node).
  for p in $(cat "$CG_MC/cgroup.procs"); do kill -9 "$p" 2>/dev/null || true; done
  MC_PID=""
}
mc_stop() { stop_mc; }

mta_start() { if [[ $1 == mc ]]; then mc_start; else pf_start; fi; }
mta_stop() { if [[ $1 == mc ]]; then mc_stop; else pf_stop; fi; }
mta_port() { if [[ $1 == mc ]]; then echo $MC_PORT; else echo $PF_PORT; fi; }
mta_cg() { if [[ $1 == mc ]]; then echo "$CG_MC"; else echo "$CG_PF"; fi; }
MTAS=(mc pf)
[[ -n "$ONLY" ]] && MTAS=("$ONLY")

pf_configure
log "namespace $NS, temp dir $T; scenarios: accept $N_ACCEPT msgs, e2e $N_E2E, latency ${LAT_SECONDS}s, large $N_LARGE x 1 MB, idle $N_IDLE"

declare -A R   # results: R[metric.mta]
declare -A RS  # every round's value of a repeated figure: RS[metric.mta]="v1 v2 v3 "
median() { tr ' ' '\n' | grep -E '^[0-9.]+$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# smtp-source exits non-zero on any reply it did not expect (451, 421, ...), so a completed run means
# every message was answered 250.
source_run() { # mta count size extra-args...
  local mta=$1 count=$2 size=$3; shift 3
  nsx smtp-source -s $SESSIONS -l "$size" -m "$count" -M client.test -f bench@client.test "$@" "127.0.0.1:$(mta_port "$mta")"
}

# ---------------------------------------------------------------------------------------------- profiling
# MCBENCH_PROFILE=1 (or perf): perf samples the node during scenarios 1 and 4 (JIT frames resolve through
# DOTNET_PerfMapEnabled's /tmp/perf-PID.map); MCBENCH_PROFILE=strace counts the node's syscalls instead. Only in
# profiling runs: both cost. Reports go to bench/profile/.
PROF=""
psql_mc() { nsx runuser -u postgres -- psql -h 127.0.0.1 -U postgres -d "mc$MC_RUN" -v ON_ERROR_STOP=1 -Atc "$1"; }
pg_commits() { psql_mc "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"; }
PG_COMMITS0=0
prof_start() { # mta key
  PROF=""
  [[ ${MCBENCH_PROFILE:-0} != 0 && $1 == mc ]] || return 0
  if [[ $STORAGE == postgresql ]]; then
    psql_mc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
    psql_mc "SELECT pg_stat_statements_reset()" >/dev/null
    PG_COMMITS0=$(pg_commits)
  fi
  if [[ ${MCBENCH_PROFILE} == strace ]]; then
    strace -f -c -o "$T/strace-$2.txt" -p "$MC_PID" >/dev/null 2>&1 & PROF=$!
  else
    perf record -F 999 -g -o "$T/perf-$2.data" -p "$MC_PID" >"$T/perf-record.log" 2>&1 & PROF=$!
  fi
  sleep 1
}
prof_stop() { # key [messages]
  [[ -n "$PROF" ]] || return 0
  kill -INT "$PROF"; wait "$PROF" 2>/dev/null || true
  mkdir -p "$ROOT/bench/profile"
  local name=${1//_/-}
  [[ $STORAGE == postgresql ]] && name="pg-$name"   # beside, not over, the SQLite node's profiles
  # Per message: the node's transactions (xact_commit of its database) and each statement's calls and rows. A statement
  # in an NpgsqlBatch shares its round trip with the batch's others; one outside a batch is a round trip of its own.
  if [[ $STORAGE == postgresql && -n ${2:-} ]]; then
    { echo "transactions committed per message: $(calc "($(pg_commits) - $PG_COMMITS0) / $2" 2)"
      echo "calls/msg rows/msg exec-ms/msg  statement"
      psql_mc "SELECT round(calls::numeric / $2, 3), round(rows::numeric / $2, 3), round((total_exec_time / $2)::numeric, 4),
                      left(regexp_replace(query, '\s+', ' ', 'g'), 160)
               FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
               ORDER BY calls DESC LIMIT 40" | tr '|' ' '
    } >"$ROOT/bench/profile/${name/#pg-/pg-statements-}.txt" 2>&1 || true
  fi
  if [[ ${MCBENCH_PROFILE} == strace ]]; then
    cp "$T/strace-$1.txt" "$ROOT/bench/profile/strace-$name.txt"
  else
    perf report -i "$T/perf-$1.data" -g none --no-children --sort dso,sym --percent-limit 0.3 --stdio 2>/dev/null \
      | grep -v '^$' | head -150 >"$ROOT/bench/profile/perf-$name.txt" || true
    perf report -i "$T/perf-$1.data" -g none --no-children --sort dso --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' \
      | head -25 >"$ROOT/bench/profile/perf-$name-by-dso.txt" || true  # head closes the pipe early (SIGPIPE)
    # CPU-ms per message by subsystem, from the call stacks (python3 where installed).
    if [[ -n ${2:-} ]] && command -v python3 >/dev/null; then
      perf script -i "$T/perf-$1.data" 2>/dev/null | python3 "$ROOT/bench/perf-by-subsystem.py" "$2" 999 \
        >"$ROOT/bench/profile/perf-$name-by-subsystem.txt" || true
    fi
  fi
  PROF=""
}

# Warm-up: scenarios 1, 2 and 4 measure each MTA in steady state, as it runs for weeks in production. Each is first
# sent the same untimed load (N_WARM messages, the same smtp-source command) right after it started: for MailCluster
# this is where the JIT tiers up hot code and the first shard and queue start; for Postfix, where master spawns its
# smtpd and cleanup processes. The warm-up's own rate is reported as the "cold" figure of scenario 1.
warm_up() { # mta key sessions count size smtp-source-args...   (sets WARM_SENT: messages sent in all)
  local mta=$1 key=$2 sessions=$3 count=$4 size=$5 t0 chunk=0; shift 5
  t0=$(now); WARM_SENT=0
  # The first chunk of COUNT messages is the "cold" figure; more chunks of the same command follow until WARM_SECONDS
  # have passed since the start (a fresh node's tier-1 JIT backlog lasts 10-15 s under load: docs/BENCHMARKS.md, s31).
  while :; do
    if nsx smtp-source -s "$sessions" -l "$size" -m "$count" -M client.test -f bench@client.test "$@" \
         "127.0.0.1:$(mta_port "$mta")" >"$T/warm-$key-$mta.log" 2>&1; then
      [[ $chunk == 0 ]] && RS[${key}_cold.$mta]+="$(calc "$count / ($(now) - $t0)" 0) "
    else
      log "$mta $key warm-up: smtp-source failed: $(tail -2 "$T/warm-$key-$mta.log" | tr '\n' ' ')"
      [[ $chunk == 0 ]] && RS[${key}_cold.$mta]+="fail "
      return
    fi
    WARM_SENT=$(( WARM_SENT + count )); chunk=$(( chunk + 1 ))
    [[ $(calc "($(now) - $t0 >= ${WARM_FOR:-$WARM_SECONDS})" 0) == 1 ]] && break
  done
  [[ $chunk -gt 1 ]] && log "$mta $key warm-up: $WARM_SENT msgs in $(calc "$(now) - $t0" 1) s" || true
}

# ---------------------------------------------------------------------------------------------- 1. acceptance
scenario_accept() { # mta reuse(0|1)
  local mta=$1 reuse=$2 flags=() key
  key=$([[ $reuse == 1 ]] && echo accept_reuse || echo accept_new)
  [[ $reuse == 1 ]] && flags+=(-d)
  mta_start "$mta"
  local c0 t0 t1 c1 p0 p1
  warm_up "$mta" "$key" "$SESSIONS" "$N_WARM" 1024 "${flags[@]}" -t user@defer.test
  prof_start "$mta" "$key"
  c0=$(cpu_ns "$(mta_cg "$mta")"); p0=$(cpu_ns pg); t0=$(now)
  source_run "$mta" "$N_ACCEPT" 1024 "${flags[@]}" -t user@defer.test >"$T/src-$key-$mta.log" 2>&1 \
    || { log "$mta $key: smtp-source failed: $(tail -2 "$T/src-$key-$mta.log" | tr '\n' ' ')"; R[$key.$mta]="fail"; RS[$key.$mta]+="fail "; prof_stop "$key"; mta_stop "$mta"; return; }
  t1=$(now); c1=$(cpu_ns "$(mta_cg "$mta")"); p1=$(cpu_ns pg)
  R[$key.$mta]=$(calc "$N_ACCEPT / ($t1 - $t0)" 0)
  R[${key}_cpu.$mta]=$(calc "($c1 - $c0) / 1e9 / $N_ACCEPT * 1000" 2)
  log "$mta $key: ${R[$key.$mta]} msg/s, ${R[${key}_cpu.$mta]} CPU s/1000$( [[ $mta == mc && -n $CG_PG ]] && echo " (PostgreSQL: $(calc "($p1 - $p0) / 1e9 / $N_ACCEPT * 1000" 2))")"
  RS[$key.$mta]+="${R[$key.$mta]} "; RS[${key}_cpu.$mta]+="${R[${key}_cpu.$mta]} "
  if [[ $mta == mc && -n $CG_PG ]]; then RS[${key}_pgcpu.$mta]+="$(calc "($p1 - $p0) / 1e9 / $N_ACCEPT * 1000" 2) "; fi
  prof_stop "$key" "$N_ACCEPT"
  mta_stop "$mta"
}

# ---------------------------------------------------------------------------------------------- 2. end to end
scenario_e2e() { # mta [reuse(1|0) [key]]: key "e2e" (connections reused) or "relay_new" (issue 18 target 5)
  local mta=$1 reuse=${2:-1} key=${3:-e2e} reuse_arg=()
  [[ $reuse == 1 ]] && reuse_arg=(-d)
  mta_start "$mta"
  local base c0 t0 t1 c1 p0 p1 n deadline
  # Warm up through the whole path (to the sink), and start timing once the warm-up mail has all arrived.
  base=$(sink_count)
  warm_up "$mta" e2e "$SESSIONS" "$N_WARM" 1024 -d -t user@relay.test
  deadline=$(( $(date +%s) + 60 ))
  while [[ $(( $(sink_count) - base )) -lt $WARM_SENT && $(date +%s) -lt $deadline ]]; do sleep 0.05; done
  prof_start "$mta" "$key"
  base=$(sink_count); local sess0; sess0=$(sink_sessions); c0=$(cpu_ns "$(mta_cg "$mta")"); p0=$(cpu_ns pg); t0=$(now)
  local ok=1
  source_run "$mta" "$N_E2E" 1024 "${reuse_arg[@]}" -t user@relay.test >"$T/src-$key-$mta.log" 2>&1 \
    || { ok=0; log "$mta $key: smtp-source failed: $(tail -2 "$T/src-$key-$mta.log" | tr '\n' ' ')"; }
  local accepted; accepted=$(now)
  deadline=$(( $(date +%s) + (QUICK == 1 ? 60 : 180) ))
  while :; do
    n=$(( $(sink_count) - base ))
    [[ $n -ge $N_E2E ]] && break
    [[ $(date +%s) -ge $deadline ]] && { log "$mta $key: only $n of $N_E2E reached the sink before the deadline"; break; }
    sleep 0.05
  done
  t1=$(now); c1=$(cpu_ns "$(mta_cg "$mta")"); p1=$(cpu_ns pg)
  prof_stop "$key" "$n"
  # Each figure is also kept per run (RS) for the alternating rounds of relay_new; e2e runs once.
  R[$key.$mta]=$(calc "$n / ($t1 - $t0)" 0); RS[$key.$mta]+="$( [[ $ok == 1 ]] && echo "${R[$key.$mta]}" || echo fail) "
  R[${key}_n.$mta]=$n
  R[${key}_accept_s.$mta]=$(calc "$accepted - $t0" 1)
  R[${key}_accept.$mta]=$(calc "$N_E2E / ($accepted - $t0)" 0); RS[${key}_accept.$mta]+="$( [[ $ok == 1 ]] && echo "${R[${key}_accept.$mta]}" || echo fail) "
  R[${key}_cpu.$mta]=$(calc "($c1 - $c0) / 1e9 / ($n > 0 ? $n : 1) * 1000" 2); RS[${key}_cpu.$mta]+="${R[${key}_cpu.$mta]} "
  if [[ $mta == mc && -n $CG_PG ]]; then R[${key}_pgcpu.$mta]=$(calc "($p1 - $p0) / 1e9 / ($n > 0 ? $n : 1) * 1000" 2); fi
  log "$mta $key: $n delivered, ${R[$key.$mta]} msg/s (accepted in ${R[${key}_accept_s.$mta]} s: ${R[${key}_accept.$mta]} msg/s), ${R[${key}_cpu.$mta]} CPU s/1000$( [[ $mta == mc && -n $CG_PG ]] && echo " (PostgreSQL: ${R[${key}_pgcpu.$mta]})"), $(( $(sink_sessions) - sess0 )) sink sessions"
  mta_stop "$mta"
}

# ---------------------------------------------------------------------------------------------- 3. latency
scenario_latency() { # mta rate
  local mta=$1 rate=$2 out c0 c1
  mta_start "$mta"
  c0=$(cpu_ns "$(mta_cg "$mta")")
  out=$(tool latency --port "$(mta_port "$mta")" --rate "$rate" --seconds "$LAT_SECONDS" --size 1024 --to user@defer.test)
  c1=$(cpu_ns "$(mta_cg "$mta")")
  R[lat_p50.$mta]=$(kv p50_ms "$out"); R[lat_p99.$mta]=$(kv p99_ms "$out"); R[lat_failed.$mta]=$(kv failed "$out")
  R[lat_p99_late.$mta]=$(kv p99_late_ms "$out")
  R[lat_cpu.$mta]=$(calc "($c1 - $c0) / 1e9 / $(kv sent "$out") * 1000" 2)
  log "$mta latency @ $rate/s: $out"
  mta_stop "$mta"
}

# ---------------------------------------------------------------------------------------------- 4b. large messages (bench/large.sh)
# MCBENCH_LARGE_MB="1 10": per size, accepted MB/s (deferred, as in 4) and end-to-end MB/s (relayed to smtp-sink, timed
# until the sink counted every message), the same bytes per size (N_LARGE MB in all, at least 10 messages).
scenario_large_sized() { # mta mb
  local mta=$1 mb=$2 n c0 t0 t1 c1 base deadline got
  n=$(( N_LARGE / mb )); (( n < 10 )) && n=10
  mta_start "$mta"
  WARM_FOR=0 warm_up "$mta" "large$mb" 10 "$(( N_WARM_LARGE / mb < 5 ? 5 : N_WARM_LARGE / mb ))" $(( mb * 1048576 )) -d -t user@defer.test
  c0=$(cpu_ns "$(mta_cg "$mta")"); t0=$(now)
  if nsx smtp-source -s 10 -d -l $(( mb * 1048576 )) -m "$n" -M client.test -f bench@client.test -t user@defer.test \
       "127.0.0.1:$(mta_port "$mta")" >"$T/src-large$mb-$mta.log" 2>&1; then
    t1=$(now); c1=$(cpu_ns "$(mta_cg "$mta")")
    RS[large${mb}.$mta]+="$(calc "$n * $mb / ($t1 - $t0)" 1) "
    RS[large${mb}_cpu.$mta]+="$(calc "($c1 - $c0) / 1e6 / $n" 1) "
  else
    log "$mta large $mb MB: smtp-source failed: $(tail -2 "$T/src-large$mb-$mta.log" | tr '\n' ' ')"; RS[large${mb}.$mta]+="fail "
  fi
  # As scenario 2: the end-to-end phase is timed after a warm-up through the whole path (to the sink) of the same size,
  # repeated until WARM_SECONDS have passed (since session s33: with only N_WARM_LARGE MB a fresh node's tier-1 JIT was
  # still compiling through the timed phase, 10 of 46 CPU-ms per 10 MB message, docs/BENCHMARKS.md). Relayed mail
  # leaves the spool, so unlike the accepted phase's warm-up (deferred mail stays on disk) this one can run for long.
  base=$(sink_count); got=$(( N_WARM_LARGE / mb < 5 ? 5 : N_WARM_LARGE / mb ))
  warm_up "$mta" "large${mb}e2e" 10 "$got" $(( mb * 1048576 )) -d -t user@wide.test
  deadline=$(( $(date +%s) + 120 ))
  while [[ $(( $(sink_count) - base )) -lt $WARM_SENT && $(date +%s) -lt $deadline ]]; do sleep 0.05; done
  prof_start "$mta" "large${mb}_e2e"
  base=$(sink_count); c0=$(cpu_ns "$(mta_cg "$mta")"); t0=$(now)
  nsx smtp-source -s 10 -d -l $(( mb * 1048576 )) -m "$n" -M client.test -f bench@client.test -t user@wide.test \
    "127.0.0.1:$(mta_port "$mta")" >"$T/src-large${mb}e2e-$mta.log" 2>&1 \
    || log "$mta large $mb MB e2e: smtp-source failed: $(tail -2 "$T/src-large${mb}e2e-$mta.log" | tr '\n' ' ')"
  deadline=$(( $(date +%s) + 300 ))
  while got=$(( $(sink_count) - base )); [[ $got -lt $n && $(date +%s) -lt $deadline ]]; do sleep 0.05; done
  t1=$(now); c1=$(cpu_ns "$(mta_cg "$mta")")
  prof_stop "large${mb}_e2e" "$n"   # MCBENCH_PROFILE=1: the end-to-end phase only (accepted and relayed)
  if [[ $got -ge $n ]]; then RS[large${mb}_e2e.$mta]+="$(calc "$n * $mb / ($t1 - $t0)" 1) "
    RS[large${mb}_e2ecpu.$mta]+="$(calc "($c1 - $c0) / 1e6 / $n" 1) "
  else log "$mta large $mb MB e2e: only $got of $n reached the sink"; RS[large${mb}_e2e.$mta]+="fail "; fi
  log "$mta large $mb MB: accepted ${RS[large${mb}.$mta]:-} e2e ${RS[large${mb}_e2e.$mta]:-} MB/s (rounds so far)"
  mta_stop "$mta"
}

# ---------------------------------------------------------------------------------------------- 4. 1 MB messages
scenario_large() {
  local mta=$1 c0 t0 t1 c1
  mta_start "$mta"
  WARM_FOR=0 warm_up "$mta" large 10 "$N_WARM_LARGE" 1048576 -d -t user@defer.test
  prof_start "$mta" large
  c0=$(cpu_ns "$(mta_cg "$mta")"); t0=$(now)
  if nsx smtp-source -s 10 -d -l 1048576 -m "$N_LARGE" -M client.test -f bench@client.test -t user@defer.test \
       "127.0.0.1:$(mta_port "$mta")" >"$T/src-large-$mta.log" 2>&1; then
    t1=$(now); c1=$(cpu_ns "$(mta_cg "$mta")")
    R[large.$mta]=$(calc "$N_LARGE / ($t1 - $t0)" 1)
    R[large_cpu.$mta]=$(calc "($c1 - $c0) / 1e9 / $N_LARGE * 1000" 1)
  else
    log "$mta large: smtp-source failed: $(tail -2 "$T/src-large-$mta.log" | tr '\n' ' ')"; R[large.$mta]=fail
  fi
  log "$mta large: ${R[large.$mta]} MB/s"
  prof_stop large "$N_LARGE"
  mta_stop "$mta"
}

# ---------------------------------------------------------------------------------------------- 5. idle connections
scenario_idle() {
  local mta=$1 out
  mta_start "$mta"
  out=$(tool idle --port "$(mta_port "$mta")" --count "$N_IDLE" --concurrency 200 --greeting-timeout 5 --max-failures 300 \
    --hold 5 --cgroup "$(mta_cg "$mta")")
  R[idle_greeted.$mta]=$(kv greeted "$out"); R[idle_bytes.$mta]=$(kv bytes_per_conn "$out")
  R[idle_p50.$mta]=$(kv greet_p50_ms "$out"); R[idle_p99.$mta]=$(kv greet_p99_ms "$out")
  R[idle_failed.$mta]=$(kv not_greeted "$out")
  log "$mta idle: $out"
  mta_stop "$mta"
}

# MCBENCH_SCENARIOS="accept e2e relay_new latency large idle" (default: all) runs a subset, e.g. to re-measure one
# change; large_sized (bench/large.sh) only when named.
want() { [[ " ${MCBENCH_SCENARIOS:-accept e2e relay_new latency large idle} " == *" $1 "* ]]; }
# Acceptance is the headline figure and the machine is shared and noisy: the full run repeats it in $ROUNDS rounds,
# alternating which MTA goes first, and reports each MTA's median (every round's figures are printed as well).
ROUNDS=$([[ $QUICK == 1 ]] && echo 1 || echo 3)
if want accept; then
  for round in $(seq "$ROUNDS"); do
    order=("${MTAS[@]}"); (( round % 2 == 0 )) && order=($(printf '%s\n' "${MTAS[@]}" | tac))
    [[ " ${MCBENCH_ACCEPT:-reuse new} " == *" reuse "* ]] && for mta in "${order[@]}"; do scenario_accept "$mta" 1; done
    [[ " ${MCBENCH_ACCEPT:-reuse new} " == *" new "* ]] && for mta in $(printf '%s\n' "${order[@]}" | tac); do scenario_accept "$mta" 0; done
  done
  for key in accept_reuse accept_new accept_reuse_cpu accept_new_cpu accept_reuse_pgcpu accept_new_pgcpu accept_reuse_cold accept_new_cold; do
    for mta in "${MTAS[@]}"; do
      # A round in which smtp-source got anything but 250 makes the figure "fail", not a median of the others.
      if [[ "${RS[$key.$mta]:-}" == *fail* ]]; then R[$key.$mta]=fail
      elif [[ -n "${RS[$key.$mta]:-}" ]]; then R[$key.$mta]=$(median <<<"${RS[$key.$mta]}"); fi
    done
  done
fi
want e2e && for mta in "${MTAS[@]}"; do scenario_e2e "$mta"; done
# Issue 18 target 5: a new connection per message while the MTA relays what it accepts to smtp-sink (delivery running
# during acceptance), $ROUNDS alternating rounds, medians; accepted msg/s (until smtp-source's last 250) and end to end.
if want relay_new; then
  for round in $(seq "$ROUNDS"); do
    order=("${MTAS[@]}"); (( round % 2 == 0 )) && order=($(printf '%s\n' "${MTAS[@]}" | tac))
    for mta in "${order[@]}"; do scenario_e2e "$mta" 0 relay_new; done
  done
  for key in relay_new relay_new_accept relay_new_cpu; do for mta in "${MTAS[@]}"; do
    if [[ "${RS[$key.$mta]:-}" == *fail* ]]; then R[$key.$mta]=fail
    elif [[ -n "${RS[$key.$mta]:-}" ]]; then R[$key.$mta]=$(median <<<"${RS[$key.$mta]}"); fi
  done; done
fi
# Half of Postfix's maximum: its new-connection acceptance rate (the latency client opens one session per message).
base_rate=${R[accept_new.pf]:-${R[accept_new.mc]:-100}}
[[ "$base_rate" == fail ]] && base_rate=100
LAT_RATE=${MCBENCH_LAT_RATE:-$(calc "$base_rate / 2" 0)}  # override only to compare builds at one rate
want latency && for mta in $(printf '%s\n' "${MTAS[@]}" | tac); do scenario_latency "$mta" "$LAT_RATE"; done
want large && for mta in "${MTAS[@]}"; do scenario_large "$mta"; done
want idle && for mta in "${MTAS[@]}"; do scenario_idle "$mta"; done
if want large_sized; then
  for round in $(seq "$ROUNDS"); do
    order=("${MTAS[@]}"); (( round % 2 == 0 )) && order=($(printf '%s\n' "${MTAS[@]}" | tac))
    for mb in ${MCBENCH_LARGE_MB:-1 10}; do for mta in "${order[@]}"; do scenario_large_sized "$mta" "$mb"; done; done
  done
  for mb in ${MCBENCH_LARGE_MB:-1 10}; do for key in large$mb large${mb}_e2e large${mb}_cpu large${mb}_e2ecpu; do for mta in "${MTAS[@]}"; do
    if [[ "${RS[$key.$mta]:-}" == *fail* ]]; then R[$key.$mta]=fail
    elif [[ -n "${RS[$key.$mta]:-}" ]]; then R[$key.$mta]=$(median <<<"${RS[$key.$mta]}"); fi
  done; done; done
fi

# ---------------------------------------------------------------------------------------------- report
ratio() { local a=${R[$1.mc]:-} b=${R[$1.pf]:-}; [[ $a =~ ^[0-9.]+$ && $b =~ ^[0-9.]+$ ]] && awk "BEGIN { if ($b > 0) printf \"%.2f\", $a / $b; else print \"-\" }" || echo "-"; }
row() { printf '| %s | %s | %s | %s | %s |\n' "$1" "${R[$2.mc]:--}" "${R[$2.pf]:--}" "$(ratio "$2")" "$3"; }
report() {
  echo "## MailCluster vs Postfix ($( [[ $QUICK == 1 ]] && echo quick || echo full ) run, $(date -u +%FT%TZ))"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB memory, $(uname -r); Postfix $(postconf -d -h mail_version 2>/dev/null); .NET $(dotnet --version)."
  echo "Durability: both MTAs make the message durable before 250 - Postfix fsyncs the queue file (cleanup), MailCluster"
  if [[ $STORAGE == postgresql ]]; then
    echo "commits spool and journal (PostgreSQL on the same machine, fsync=on, synchronous_commit=on; its CPU counted as MailCluster's) before 250."
  else
    echo "commits spool and journal (SQLite WAL, synchronous=FULL: fsync) before 250."
  fi
  echo "MailCluster binaries: $BUILD_NOTE."
  echo "Load: smtp-source, $SESSIONS sessions, 1 KB payload; deferred delivery = MX host with a closed port (connection refused)."
  echo "Steady state: scenarios 1, 2 and 4 time each MTA after the same untimed warm-up (1, 2: chunks of $N_WARM msgs for at least $WARM_SECONDS s; 4: $N_WARM_LARGE MB, and before the end-to-end phase of 4b as much for at least $WARM_SECONDS s) sent to it right after start."
  echo
  echo "| Figure | MailCluster | Postfix | MC/Postfix | Target |"
  echo "|---|---|---|---|---|"
  row "1a. Acceptance, connection reused (msg/s)" accept_reuse "≥ 3×"
  row "1b. Acceptance, new connection per msg (msg/s)" accept_new "≥ 3×"
  row "1a. cold: the first $N_WARM msgs after start (msg/s, diagnostic)" accept_reuse_cold ""
  row "1b. cold: the first $N_WARM msgs after start (msg/s, diagnostic)" accept_new_cold ""
  row "2. End-to-end relay via MX to smtp-sink (msg/s)" e2e "≥ 2×"
  if want relay_new; then
    row "2b. While relaying, new connection per msg: accepted (msg/s, median of $ROUNDS)" relay_new_accept "≥ 3×"
    row "2b. While relaying, new connection per msg: end to end (msg/s, median of $ROUNDS)" relay_new "≥ 3×"
    row "2b. CPU s / 1000 msgs relayed, new connection per msg" relay_new_cpu "lower"
  fi
  row "3. Latency at ${LAT_RATE} msg/s, p50 (ms)" lat_p50 ""
  row "3. Latency at ${LAT_RATE} msg/s, p99 (ms)" lat_p99 "≤ 1×"
  row "3. Latency at ${LAT_RATE} msg/s, p99 after the first quarter (ms, diagnostic)" lat_p99_late ""
  row "3. Latency: failed transactions" lat_failed "0"
  row "4. 1 MB messages accepted (MB/s)" large ""
  for mb in ${MCBENCH_LARGE_MB:-}; do
    row "4b. $mb MB messages accepted (MB/s, median of $ROUNDS)" large$mb "≥ 1.5×"
    row "4b. $mb MB messages end to end (MB/s, median of $ROUNDS)" large${mb}_e2e "≥ 1.5×"
    row "4b. CPU ms per $mb MB message accepted" large${mb}_cpu "lower"
    row "4b. CPU ms per $mb MB message end to end (accepted and relayed)" large${mb}_e2ecpu "lower"
  done
  row "5. Idle connections greeted (of $N_IDLE)" idle_greeted ""
  row "5. Memory per idle connection (bytes, PSS)" idle_bytes "< 20480"
  row "5. Greeting latency p50 (ms)" idle_p50 ""
  row "5. Greeting latency p99 (ms)" idle_p99 ""
  row "CPU s / 1000 msgs, 1a (reused)" accept_reuse_cpu "lower"
  row "CPU s / 1000 msgs, 1b (new conn)" accept_new_cpu "lower"
  row "CPU s / 1000 msgs, 2 (end-to-end)" e2e_cpu "lower"
  if [[ $STORAGE == postgresql ]]; then
    row "of which PostgreSQL, 1a (reused)" accept_reuse_pgcpu ""
    row "of which PostgreSQL, 1b (new conn)" accept_new_pgcpu ""
    row "of which PostgreSQL, 2 (end-to-end)" e2e_pgcpu ""
  fi
  row "CPU s / 1000 msgs, 3 (latency load)" lat_cpu "lower"
  row "CPU s / 1000 msgs, 4 (1 MB msgs)" large_cpu "lower"
  echo
  echo "Acceptance (1a, 1b, and their CPU rows): median of $ROUNDS round(s); every round, MC / Postfix msg/s:"
  echo "1a ${RS[accept_reuse.mc]:--}/ ${RS[accept_reuse.pf]:--}; 1b ${RS[accept_new.mc]:--}/ ${RS[accept_new.pf]:--}."
  echo "End-to-end: ${R[e2e_n.mc]:--} / ${R[e2e_n.pf]:--} messages reached the sink (MC / Postfix); all were accepted after ${R[e2e_accept_s.mc]:--} s / ${R[e2e_accept_s.pf]:--} s."
  [[ -n ${MCBENCH_LARGE_MB:-} ]] && echo "Large (4b), every round, MC / Postfix: $(for k in "${!RS[@]}"; do [[ $k == large[0-9]* ]] && printf '%s=%s; ' "$k" "${RS[$k]}"; done)"
  echo "Wall time: $(( $(date +%s) - RUN_START )) s. Command: $( [[ $STORAGE == postgresql ]] && echo "MCBENCH_STORAGE=postgresql " )bench/run.sh $( [[ $QUICK == 1 ]] && echo --quick )"
}
report | tee ${OUT:+"$OUT"}
