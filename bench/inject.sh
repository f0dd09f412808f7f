#!/usr/bin/env bash
# bench/inject.sh (as root): HTTP injection throughput on one node next to SMTP acceptance in the same run (issue 20,
# docs/BENCHMARKS.md). In a private network namespace (loopback only) with dnsmasq: the node (a published build, or
# the Release build of src/MailCluster.Host) with the injection listener on 127.0.0.1:8025; an API key (scope http,
# sender domain client.test) made through the ops API; then, each timed on its own:
#   bulk    1 request with N_BULK templated recipients (one message each)
#   single  N_SINGLE requests of 1 templated recipient over 20 keep-alive connections (bench/inject.py)
#   smtp    N_SMTP messages of 1 KB by smtp-source over 20 sessions, a new connection per message, then reused
# All mail goes to defer.test, whose MX (127.0.0.3) does not answer: delivery is deferred, so what is measured is
# acceptance (durable, group-committed), as in bench/run.sh scenario 1. Prints messages per second per mode.
#
#   bench/inject.sh [BUILD_DIR]                      # defaults: N_BULK=1000 N_SINGLE=1000 N_SMTP=1000
#   N_BULK=50 N_SINGLE=50 N_SMTP=50 bench/inject.sh  # smoke run
set -euo pipefail
[[ $(id -u) -eq 0 ]] || { echo "run as root (network namespace)" >&2; exit 1; }
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD=${1:-$ROOT/src/MailCluster.Host/bin/Release/net10.0}
[[ -f $BUILD/MailCluster.Host.dll ]] || { echo "no MailCluster.Host.dll in $BUILD (dotnet build -c Release, or deploy/publish.sh DIR)" >&2; exit 2; }
command -v smtp-source >/dev/null && command -v dnsmasq >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix dnsmasq-base >/dev/null; }
N_BULK=${N_BULK:-1000}
N_SINGLE=${N_SINGLE:-1000}
N_SMTP=${N_SMTP:-1000}

NS=mcinj$$
DATA=$(mktemp -d /tmp/mcinj.XXXXXX)
cleanup() {
  local p; for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done # node, dnsmasq
  ip netns del "$NS" 2>/dev/null || true
  [[ -n ${MCBENCH_KEEP:-} ]] || rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS"; ip netns exec "$NS" ip link set lo up
in_ns() { ip netns exec "$NS" "$@"; }
in_ns dnsmasq --keep-in-foreground --port=53 --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts --user=root \
  --pid-file= --local=/test/ --local-ttl=300 --mx-host=defer.test,mx.defer.test,10 --host-record=mx.defer.test,127.0.0.3 \
  --mx-host=client.test,mx.defer.test,10 >"$DATA/dnsmasq.log" 2>&1 &
in_ns env MailCluster__DataDir="$DATA/data" MailCluster__Hostname=mc.bench.test MailCluster__Smtp__BindAddress=127.0.0.1 \
  MailCluster__Smtp__MxPort=2525 MailCluster__Smtp__SubmissionPort=2587 MailCluster__Smtp__SubmissionsPort=2465 \
  MailCluster__Domains__Relay__0=defer.test MailCluster__Dns__Servers__0=127.0.0.1:53 MailCluster__Outbound__Port=2600 \
  MailCluster__Outbound__AllowPrivateDestinations=true MailCluster__Ops__BindAddress=127.0.0.1 MailCluster__Ops__Port=8080 \
  MailCluster__Smtp__MaxConnectionsPerClient=20000 MailCluster__Smtp__MaxConnections=20000 \
  MailCluster__Api__Enabled=true MailCluster__Api__BindAddress=127.0.0.1 MailCluster__Api__Port=8025 \
  MailCluster__Api__MaxRecipients=$((N_BULK > 10000 ? N_BULK : 10000)) \
  dotnet "$BUILD/MailCluster.Host.dll" >"$DATA/node.log" 2>&1 &
for _ in $(seq 150); do in_ns curl -fsS -o /dev/null http://127.0.0.1:8080/healthz/ready 2>/dev/null && break; sleep 0.2; done
in_ns curl -fsS -o /dev/null http://127.0.0.1:8080/healthz/ready || { tail -30 "$DATA/node.log"; exit 1; }
TOKEN=$(cat "$DATA/data/admin.token")
SECRET=$(in_ns curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"name":"bench","senders":["client.test"],"scopes":["http"]}' http://127.0.0.1:8080/api/v1/keys \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
for _ in $(seq 50); do # the key is in force once this node's credential set has it (at once after the POST)
  [[ $(in_ns curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SECRET" -d '{}' http://127.0.0.1:8025/api/inject/v1) != 401 ]] && break; sleep 0.1
done

smtp() { in_ns smtp-source -s 20 -l 1024 -m "$1" -M client.test -f a@client.test -t b@defer.test "${@:2}" 127.0.0.1:2525; }
rate() { # label n command...: "label n seconds msg/s"
  local label=$1 n=$2 t0 t1; shift 2; t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N)
  awk -v l="$label" -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%s %d %.2f %.0f\n", l, n, b - a, n / (b - a) }'; }

# Warm-up (JIT, pools, the first group commits), not reported.
in_ns python3 "$ROOT/bench/inject.py" http://127.0.0.1:8025 "$SECRET" single 100 20 >/dev/null
smtp 100 >/dev/null
printf '%-14s %8s %8s %8s\n' mode messages seconds msg/s
in_ns python3 "$ROOT/bench/inject.py" http://127.0.0.1:8025 "$SECRET" bulk "$N_BULK" | awk '{ printf "%-14s %8s %8s %8s\n", "http-bulk", $2, $3, $4 }'
in_ns python3 "$ROOT/bench/inject.py" http://127.0.0.1:8025 "$SECRET" single "$N_SINGLE" 20 | awk '{ printf "%-14s %8s %8s %8s\n", "http-single", $2, $3, $4 }'
rate smtp-new "$N_SMTP" smtp "$N_SMTP" | awk '{ printf "%-14s %8s %8s %8s\n", $1, $2, $3, $4 }'
rate smtp-reuse "$N_SMTP" smtp "$N_SMTP" -d | awk '{ printf "%-14s %8s %8s %8s\n", $1, $2, $3, $4 }'
