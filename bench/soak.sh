#!/usr/bin/env bash
# bench/soak.sh (as root): one node relaying for a long time (issue 18 target 6). In a private network namespace
# (loopback only) with dnsmasq: relay.test's MX is smtp-sink (127.0.0.2:2600); grey.test's MX is a greylisting sink
# (bench/soak/greylist_sink.py on 127.0.0.3:2600) that answers 451 to the first attempt of every recipient and 250 to
# the next, so a tenth of the recipients (every 10th message) is deferred once and retried (Retry:InitialSeconds=RETRY).
#   1. calibration: CAL messages by smtp-source, a new connection per message, to relay.test, timed until the sink has
#      them all: the node's sustained end-to-end rate (skipped when RATE is given);
#   2. the soak: an open-loop load (MailCluster.Bench soak) at RATE = half that rate for DURATION seconds, a new connection per
#      message, 1 KB, unique recipients; every minute the node's RSS, managed heap, open files, data directory size,
#      queued messages and CPU are sampled.
# Prints one row per minute (latency of the transactions due that minute; samples at its end) and a summary: growth
# over the last 20 minutes (or the last two thirds of a shorter run) of RSS, heap, files and data size, mail
# accepted = delivered (smtp-sink + greylist sink), and any error line in the node's log. Writes the rows as
# soak.tsv and a plot soak.svg into OUT (default ./soak-out).
#
#   deploy/publish.sh /tmp/mc; bench/soak.sh /tmp/mc                 # DURATION=1800 RETRY=60, RATE from calibration
#   DURATION=120 CAL=3000 RETRY=20 bench/soak.sh /tmp/mc              # a smoke run
# EVENTS_MINUTES (default 5) is the node's MailCluster:Events:RetentionMinutes: the delivery-events store fills its
# window within the run and is then held at it by pruning, so the data directory's growth measures what the node keeps
# beyond its configured windows (with the default 7 days the store grows for a week; EVENTS_MINUTES=0 keeps that).
set -euo pipefail
[[ $(id -u) -eq 0 ]] || { echo "run as root (network namespace, cgroups)" >&2; exit 1; }
[[ $# -ge 1 ]] || { echo "usage: $0 PUBLISHED_NODE_DIR" >&2; exit 2; }
command -v smtp-source >/dev/null && command -v dnsmasq >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix dnsmasq-base >/dev/null; }
PUB=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
DURATION=${DURATION:-1800}
RETRY=${RETRY:-60}
EVENTS_MINUTES=${EVENTS_MINUTES:-5}
CAL=${CAL:-20000}
OUT=$(realpath -m "${OUT:-soak-out}")
NS=mcsoak$$
CG=/sys/fs/cgroup/cpuacct/mcsoak$$
DATA=$(mktemp -d /tmp/mcsoak.XXXXXX)
mkdir -p "$OUT"
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
cleanup() {
  if [[ -d $CG ]]; then
    for p in $(cat "$CG/cgroup.procs"); do kill -9 "$p" 2>/dev/null || true; done
    for _ in $(seq 20); do [[ -z $(cat "$CG/cgroup.procs") ]] && break; sleep 0.1; done
    rmdir "$CG" 2>/dev/null || true
  fi
  local p; for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  [[ -n ${KEEP:-} ]] && { log "kept $DATA"; return; }
  rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dotnet build "$HERE/MailCluster.Bench" -c Release -o "$DATA/bench" >/dev/null
ip netns add "$NS"; ip netns exec "$NS" ip link set lo up; mkdir "$CG"
ip netns exec "$NS" dnsmasq --keep-in-foreground --port=53 --listen-address=127.0.0.1 --bind-interfaces --no-resolv \
  --no-hosts --user=root --pid-file= --local=/test/ --local-ttl=300 \
  --mx-host=relay.test,mx.relay.test,10 --host-record=mx.relay.test,127.0.0.2 \
  --mx-host=grey.test,mx.grey.test,10 --host-record=mx.grey.test,127.0.0.3 >"$DATA/dnsmasq.log" 2>&1 & disown
ip netns exec "$NS" smtp-sink -c -u nobody -m 2000 127.0.0.2:2600 1024 >"$DATA/sink.out" 2>/dev/null & disown
ip netns exec "$NS" python3 "$HERE/soak/greylist_sink.py" 127.0.0.3 2600 "$DATA/grey.count" 2>"$DATA/grey.err" & disown
( exec /bin/bash -c 'echo $$ > "$0/cgroup.procs" && exec ip netns exec "$1" env "${@:2}"' "$CG" "$NS" \
  MailCluster__DataDir="$DATA/data" MailCluster__Hostname=mc.soak.test MailCluster__Smtp__BindAddress=127.0.0.1 \
  MailCluster__Smtp__MxPort=2525 MailCluster__Smtp__SubmissionPort=2587 MailCluster__Smtp__SubmissionsPort=2465 \
  MailCluster__Domains__Relay__0=relay.test MailCluster__Domains__Relay__1=grey.test MailCluster__Dns__Servers__0=127.0.0.1:53 \
  MailCluster__Outbound__Port=2600 MailCluster__Outbound__AllowPrivateDestinations=true \
  MailCluster__Retry__InitialSeconds="$RETRY" \
  $( ((EVENTS_MINUTES > 0)) && echo "MailCluster__Events__RetentionMinutes=$EVENTS_MINUTES" ) \
  MailCluster__Ops__BindAddress=127.0.0.1 MailCluster__Ops__Port=8080 \
  MailCluster__Smtp__MaxConnectionsPerClient=20000 MailCluster__Smtp__MaxConnections=20000 \
  ${NODE_ENV:-} dotnet "$PUB/MailCluster.Host.dll" ) >"$DATA/node.log" 2>&1 &
PID=$!
for _ in $(seq 100); do ip netns exec "$NS" curl -fsS -o /dev/null http://127.0.0.1:8080/healthz/ready 2>/dev/null && break; sleep 0.2; done

sunk() { local n; n=$(tail -c 300 "$DATA/sink.out" | grep -ao $'mesg=[0-9]*\r' | tail -1 | tr -dc '0-9'); echo "${n:-0}"; }
grey() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" "$DATA/grey.count" 2>/dev/null || echo 0; }
metric() { ip netns exec "$NS" curl -fsS http://127.0.0.1:8080/metrics 2>/dev/null | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { printf "%.0f", s }'; }
accepted() { metric mailcluster_smtp_messages_accepted_total; }

if [[ -z ${RATE:-} ]]; then
  log "calibration: $CAL messages, a new connection each, to relay.test"
  t0=$(date +%s.%N)
  ip netns exec "$NS" smtp-source -s 20 -l 1024 -m "$CAL" -M client.test -f a@client.test -t b@relay.test 127.0.0.1:2525
  end=$((SECONDS + 300)); while (( $(sunk) < CAL && SECONDS < end )); do sleep 0.05; done
  t1=$(date +%s.%N)
  RATE=$(awk -v n="$CAL" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) / 2 }')
  log "sustained end to end $(awk -v r="$RATE" 'BEGIN { print 2 * r }') msg/s; soak at $RATE msg/s for $DURATION s"
fi
base_sunk=$(sunk); base_accepted=$(accepted)

ip netns exec "$NS" "$DATA/bench/MailCluster.Bench" soak --port 2525 --rate "$RATE" --seconds "$DURATION" --window 60 \
  --defer-every 10 --domain relay.test --defer-domain grey.test >"$DATA/load.out" 2>"$DATA/load.err" &
LOAD=$!
printf 'minute\trss_mb\theap_mb\tfiles\tdata_mb\tqueue_mb\tevents_mb\tqueued\tcpu_s\n' >"$OUT/samples.tsv"
start=$SECONDS
for m in $(seq 1 $(( (DURATION + 59) / 60 ))); do
  while (( SECONDS - start < m * 60 )); do sleep 1; done
  rss=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' /proc/"$PID"/status 2>/dev/null || echo nan)
  heap=$(awk -v b="$(metric dotnet_total_memory_bytes)" 'BEGIN { printf "%.1f", b / 1048576 }')
  files=$(ls /proc/"$PID"/fd 2>/dev/null | wc -l)
  data=$(du -sb "$DATA/data" | awk '{ printf "%.1f", $1 / 1048576 }')
  # The queue's own storage (journal, spool, body files) apart from the delivery-events store, kept for
  # MailCluster:Events:RetentionMinutes (EVENTS_MINUTES) and so growing until that window is full.
  events=$(cat "$DATA"/data/events.db* 2>/dev/null | wc -c | awk '{ printf "%.1f", $1 / 1048576 }')
  queue=$(awk -v d="$data" -v e="$events" 'BEGIN { printf "%.1f", d - e }')
  queued=$(metric mailcluster_queue_messages)
  cpu=$(awk '{ printf "%.1f", $1 / 1e9 }' "$CG/cpuacct.usage")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$rss" "$heap" "$files" "$data" "$queue" "$events" "$queued" "$cpu" | tee -a "$OUT/samples.tsv" >&2
done
wait "$LOAD" || true
log "load finished; waiting for the queue to drain (greylisted mail retries after ${RETRY} s)"
end=$((SECONDS + RETRY * 3 + 120))
while (( SECONDS < end )); do
  delivered=$(( $(sunk) - base_sunk + $(grey accepted) ))
  (( delivered >= $(accepted) - base_accepted )) && break
  sleep 2
done

grep '^window=' "$DATA/load.out" >"$OUT/windows.txt" || true
python3 "$HERE/soak/report.py" "$OUT" "$(grep -v '^window=' "$DATA/load.out" | tail -1)" \
  "$(( $(accepted) - base_accepted ))" "$(( $(sunk) - base_sunk ))" "$(grey accepted)" "$(grey deferred)" "$RATE"
grep -E '^(fail|crit)|^\s*(System\.|Unhandled)' "$DATA/node.log" | head -20 >"$OUT/node-errors.txt" || true
log "node errors (fail/crit/unhandled lines): $(wc -l <"$OUT/node-errors.txt"); see $OUT"
