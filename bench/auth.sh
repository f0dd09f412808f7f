#!/usr/bin/env bash
# SMTP acceptance with AUTH next to acceptance without it, same node, same run (issue 20). A new connection per
# message in every arm, so each connection's setup is in the figure:
#   plain     MX port, no TLS, no AUTH
#   tls       submissions port (implicit TLS), EHLO and QUIT: the TLS handshake alone
#   auth-user submissions port, AUTH PLAIN as a runtime user (PBKDF2 600,000 iterations; the verified-credential
#             cache answers every login after the first)
#   auth-key  submissions port, AUTH PLAIN with an API key (SHA-256 of the secret)
#
#   bench/auth.sh [--count N] [--concurrency C]        (defaults 2000 and 8; a smoke run: --count 20)
#
# Starts one node from the Release build (dotnet build MailCluster.sln -c Release) on free loopback ports with its own
# data directory; mail for relay.test is accepted and queued (its MX does not resolve: DNS points at a closed port),
# so only acceptance is measured. Needs no root. The lead measures on a quiet machine; see docs/BENCHMARKS.md.
set -euo pipefail

COUNT=2000
CONCURRENCY=8
while [[ $# -gt 0 ]]; do
  case "$1" in
    --count) COUNT="$2"; shift ;;
    --concurrency) CONCURRENCY="$2"; shift ;;
    *) echo "usage: $0 [--count N] [--concurrency C]" >&2; exit 2 ;;
  esac
  shift
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HOST_DLL="$ROOT/src/MailCluster.Host/bin/Release/net10.0/MailCluster.Host.dll"
BENCH_DLL="$ROOT/bench/MailCluster.Bench/bin/Release/net10.0/MailCluster.Bench.dll"
[[ -f "$HOST_DLL" && -f "$BENCH_DLL" ]] || { echo "build first: dotnet build MailCluster.sln -c Release" >&2; exit 1; }

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

WORK="$(mktemp -d /tmp/mc-bench-auth.XXXXXX)"
NODE_PID=""
cleanup() {
  [[ -n "$NODE_PID" ]] && kill "$NODE_PID" 2>/dev/null && wait "$NODE_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

MX=$(free_port); SUB=$(free_port); SUBS=$(free_port); OPS=$(free_port); CLUSTER=$(free_port); DEAD=$(free_port)
TOKEN="mct_bench_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$TOKEN" > "$WORK/admin.token"
chmod 600 "$WORK/admin.token"

log "starting the node (MX $MX, submissions $SUBS, ops $OPS)"
env MailCluster__DataDir="$WORK/data" MailCluster__Hostname=bench.test \
    MailCluster__Smtp__MxPort="$MX" MailCluster__Smtp__SubmissionPort="$SUB" MailCluster__Smtp__SubmissionsPort="$SUBS" \
    MailCluster__Ops__Port="$OPS" MailCluster__Ops__AdminTokenFile="$WORK/admin.token" \
    MailCluster__Domains__Relay__0=relay.test MailCluster__Dns__Servers__0="127.0.0.1:$DEAD" \
    MailCluster__Cluster__Host=127.0.0.1 MailCluster__Cluster__Port="$CLUSTER" \
    MailCluster__Smtp__MaxConnectionsPerClient=1000 Logging__LogLevel__Default=Warning \
    dotnet "$HOST_DLL" > "$WORK/node.log" 2>&1 &
NODE_PID=$!
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$OPS/healthz/ready" >/dev/null && break
  sleep 0.5
done
curl -sf "http://127.0.0.1:$OPS/healthz/ready" >/dev/null || { tail -50 "$WORK/node.log" >&2; echo "node not ready" >&2; exit 1; }

api() { curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
api -X POST "http://127.0.0.1:$OPS/api/v1/users" -d '{"name":"bench","password":"bench password","allowed_senders":["senders.test"]}' >/dev/null
KEY_JSON=$(api -X POST "http://127.0.0.1:$OPS/api/v1/keys" -d '{"name":"bench","senders":["senders.test"],"scopes":["smtp"]}')
KEY_ID=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<< "$KEY_JSON")
KEY_SECRET=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])' <<< "$KEY_JSON")

run() { dotnet "$BENCH_DLL" auth --count "$COUNT" --concurrency "$CONCURRENCY" "$@"; }
log "warm-up"
run --port "$MX" --mode plain --count 50 >/dev/null
echo "# SMTP acceptance, new connection per message: count=$COUNT concurrency=$CONCURRENCY cores=$(nproc)"
echo "plain     $(run --port "$MX" --mode plain)"
echo "tls       $(run --port "$SUBS" --mode tls)"
echo "auth-user $(run --port "$SUBS" --mode auth --user bench --password 'bench password')"
echo "auth-key  $(run --port "$SUBS" --mode auth --user "$KEY_ID" --password "$KEY_SECRET")"
