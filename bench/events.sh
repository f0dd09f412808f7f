#!/usr/bin/env bash
# bench/events.sh (as root): the cost of delivery events and one webhook on end-to-end relay (issue 16). One build of
# the node, measured in alternating pairs: "off" (MailCluster__Events__Enabled=false: no projection, no webhook) and "on"
# (events projected, one webhook POSTing every event, batch size BATCH, to a small receiver that answers 200). Each run:
# a fresh node and data directory in a private network namespace with dnsmasq and smtp-sink (as bench/ab.sh's e2e mode),
# warm-up of WARMUP messages, then N messages with reused connections (smtp-source, 20 sessions, 1 KB) to relay.test,
# timed until the sink has all N. Prints msg/s, the node's CPU ms per message, and for "on" the seconds after the last
# message was sunk until the receiver had both events (Reception, Delivery) of every message: the webhook's lag.
#
#   bench/events.sh [NODE_DIR] [PAIRS]   # NODE_DIR: a published node or src/MailCluster.Host/bin/Release/net10.0
#   N=10000 WARMUP=3000 BATCH=100 bench/events.sh /tmp/published 3
set -euo pipefail
[[ $(id -u) -eq 0 ]] || { echo "run as root (network namespace, cgroups)" >&2; exit 1; }
cd "$(dirname "$0")/.."
NODE_DIR=${1:-src/MailCluster.Host/bin/Release/net10.0}
PAIRS=${2:-2}
N=${N:-10000}
WARMUP=${WARMUP:-3000}
BATCH=${BATCH:-100}
[[ -f $NODE_DIR/MailCluster.Host.dll ]] || { echo "no MailCluster.Host.dll in $NODE_DIR (dotnet build -c Release, or deploy/publish.sh)" >&2; exit 2; }
NODE_DIR=$(realpath "$NODE_DIR")
command -v smtp-source >/dev/null && command -v dnsmasq >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix dnsmasq-base >/dev/null; }

NS=mcev$$
CG=/sys/fs/cgroup/cpuacct/mcev$$
DATA=""
cleanup() {
  if [[ -d $CG ]]; then
    for p in $(cat "$CG/cgroup.procs"); do kill -9 "$p" 2>/dev/null || true; done
    for _ in $(seq 20); do [[ -z $(cat "$CG/cgroup.procs") ]] && break; sleep 0.1; done
    rmdir "$CG" 2>/dev/null || true
  fi
  local p; for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done # dnsmasq, smtp-sink, receiver
  ip netns del "$NS" 2>/dev/null || true
  [[ -n $DATA ]] && rm -rf "$DATA"
  DATA=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The webhook receiver: counts the events of every POST (a JSON object or an array) and answers 200; GET returns the count.
RECEIVER='
import http.server, json, sys
count = 0
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers["Content-Length"]))
        doc = json.loads(body)
        count += len(doc) if isinstance(doc, list) else 1
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def do_GET(self):
        b = str(count).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.4", 8090), H).serve_forever()
'

measure() { # off|on
  local mode=$1 ns=$NS cg=$CG pid
  DATA=$(mktemp -d /tmp/mcev.XXXXXX)
  local data=$DATA
  ip netns add "$ns"; ip netns exec "$ns" ip link set lo up; mkdir "$cg"
  ip netns exec "$ns" dnsmasq --keep-in-foreground --port=53 --listen-address=127.0.0.1 --bind-interfaces --no-resolv \
    --no-hosts --user=root --pid-file= --local=/test/ --local-ttl=300 \
    --mx-host=relay.test,mx.relay.test,10 --host-record=mx.relay.test,127.0.0.2 >"$data/dnsmasq.log" 2>&1 & disown
  ip netns exec "$ns" smtp-sink -c -u nobody -m 2000 127.0.0.2:2600 1024 >"$data/sink.out" 2>/dev/null & disown
  local events=(MailCluster__Events__Enabled=false)
  if [[ $mode == on ]]; then
    ip netns exec "$ns" python3 -c "$RECEIVER" >"$data/receiver.log" 2>&1 & disown
    events=(MailCluster__Webhooks__0__Url=http://127.0.0.4:8090/hook MailCluster__Webhooks__0__Secret=bench-secret-0123456789
      MailCluster__Webhooks__0__BatchSize="$BATCH")
  fi
  ( exec /bin/bash -c 'echo $$ > "$0/cgroup.procs" && exec ip netns exec "$1" env "${@:2}"' "$cg" "$ns" \
    MailCluster__DataDir="$data/data" MailCluster__Hostname=mc.bench.test MailCluster__Smtp__BindAddress=127.0.0.1 \
    MailCluster__Smtp__MxPort=2525 MailCluster__Smtp__SubmissionPort=2587 MailCluster__Smtp__SubmissionsPort=2465 \
    MailCluster__Domains__Relay__0=relay.test MailCluster__Dns__Servers__0=127.0.0.1:53 \
    MailCluster__Outbound__Port=2600 MailCluster__Outbound__AllowPrivateDestinations=true \
    MailCluster__Ops__BindAddress=127.0.0.1 MailCluster__Ops__Port=8080 \
    MailCluster__Smtp__MaxConnectionsPerClient=20000 MailCluster__Smtp__MaxConnections=20000 \
    "${events[@]}" dotnet "$NODE_DIR/MailCluster.Host.dll" ) >"$data/node.log" 2>&1 &
  pid=$!
  for _ in $(seq 150); do ip netns exec "$ns" curl -fsS -o /dev/null http://127.0.0.1:8080/healthz/ready 2>/dev/null && break; sleep 0.2; done
  sunk() { local n; n=$(tail -c 300 "$data/sink.out" | grep -ao $'mesg=[0-9]*\r' | tail -1 | tr -dc '0-9'); echo "${n:-0}"; }
  hooked() { ip netns exec "$ns" curl -fsS http://127.0.0.4:8090/ 2>/dev/null || echo 0; }
  e2e() { # N: send with reused connections, return once the sink has them all (or after 180 s)
    local base; base=$(sunk)
    ip netns exec "$ns" smtp-source -s 20 -l 1024 -m "$1" -M client.test -f a@client.test -t b@relay.test -d 127.0.0.1:2525
    local end=$((SECONDS + 180))
    while (( $(sunk) - base < $1 && SECONDS < end )); do sleep 0.05; done; }
  e2e "$WARMUP"
  local h0 c0 t0 t1 c1 lag="-"
  h0=$(hooked); c0=$(cat "$cg/cpuacct.usage"); t0=$(date +%s.%N)
  e2e "$N"
  t1=$(date +%s.%N); c1=$(cat "$cg/cpuacct.usage")
  if [[ $mode == on ]]; then
    # The warm-up's events count too: wait for 2 events per message of both runs.
    local want=$(( 2 * (WARMUP + N) )) end=$((SECONDS + 300))
    while (( $(hooked) < want && SECONDS < end )); do sleep 0.1; done
    lag=$(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }')
    (( $(hooked) >= want )) || lag="incomplete ($(hooked)/$want events)"
  fi
  awk -v m="$mode" -v n="$N" -v t0="$t0" -v t1="$t1" -v c=$((c1 - c0)) -v lag="$lag" \
    'BEGIN { printf "%-3s %6.0f msg/s  %.3f CPU-ms/msg  webhook lag after the last message: %s\n", m, n / (t1 - t0), c / 1e6 / n, lag }'
  for p in $(cat "$cg/cgroup.procs"); do kill -9 "$p" 2>/dev/null || true; done
  { wait "$pid" || true; } 2>/dev/null
  cleanup
}

for _ in $(seq "$PAIRS"); do
  measure off
  measure on
done
