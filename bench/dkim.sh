#!/usr/bin/env bash
# bench/dkim.sh: acceptance of authenticated submissions with DKIM signing next to unsigned ones, in the same run
# against the same node (issue 16). One node, one submission user; the only difference between the modes is the From
# domain: plain.test has no key (unsigned), rsa.test an RSA 2048 key (rsa-sha256), ed.test an Ed25519 key
# (ed25519-sha256). Rounds alternate the modes (unsigned rsa ed25519, ROUNDS times), each N messages of SIZE bytes over
# C concurrent implicit-TLS connections with AUTH PLAIN (bench/dkim_load.py). Prints msg/s per mode and round, and the
# node's DKIM counters as a check that each mode signed what it should.
#
#   dotnet build MailCluster.sln -c Release && bench/dkim.sh            # defaults: N=2000 C=8 SIZE=4096 ROUNDS=2
#   N=50 C=2 ROUNDS=1 bench/dkim.sh                                    # smoke run
# Mail is addressed to defer.test, which resolves nowhere (the node's DNS server is a closed port), so every message is
# deferred once and then waits an hour: the figure is acceptance (TLS, AUTH, DATA, signing, durable commit) only.
# Measure on a quiet machine: the number is CPU-bound and means nothing while other builds run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-2000}
C=${C:-8}
SIZE=${SIZE:-4096}
ROUNDS=${ROUNDS:-2}
HOST_DLL=${HOST_DLL:-$ROOT/src/MailCluster.Host/bin/Release/net10.0/MailCluster.Host.dll}
[[ -f $HOST_DLL ]] || { echo "build first: $HOST_DLL is missing" >&2; exit 2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
WORK=$(mktemp -d /tmp/mc-dkim-bench.XXXXXX)
NODE=""
cleanup() {
  [[ -n $NODE ]] && kill "$NODE" 2>/dev/null && wait "$NODE" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dotnet "$HOST_DLL" dkim keygen --domain rsa.test --selector b1 --algorithm rsa-sha256 --out "$WORK/rsa.pem" >/dev/null
dotnet "$HOST_DLL" dkim keygen --domain ed.test --selector b2 --algorithm ed25519-sha256 --out "$WORK/ed.pem" >/dev/null
PASSWORD="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
HASH=$(printf '%s\n' "$PASSWORD" | dotnet "$HOST_DLL" hash-password --iterations 1000)
SMTPS=$(free_port); OPS=$(free_port); MX=$(free_port); SUB=$(free_port); CLUSTER=$(free_port); DNS=$(free_port)

env MailCluster__DataDir="$WORK/data" MailCluster__Hostname=mc.bench.test \
  MailCluster__Smtp__BindAddress=127.0.0.1 MailCluster__Smtp__MxPort="$MX" MailCluster__Smtp__SubmissionPort="$SUB" \
  MailCluster__Smtp__SubmissionsPort="$SMTPS" MailCluster__Ops__BindAddress=127.0.0.1 MailCluster__Ops__Port="$OPS" \
  MailCluster__Cluster__Host=127.0.0.1 MailCluster__Cluster__Port="$CLUSTER" \
  MailCluster__Dns__Servers__0="127.0.0.1:$DNS" MailCluster__Retry__InitialSeconds=3600 MailCluster__Retry__MaxSeconds=7200 \
  MailCluster__Smtp__MaxConnectionsPerClient=1000 MailCluster__Smtp__MaxMessagesPerConnection=100000 \
  MailCluster__Smtp__Users__0__Name=bench MailCluster__Smtp__Users__0__PasswordHash="$HASH" \
  MailCluster__Smtp__Users__0__AllowedSenders__0=plain.test MailCluster__Smtp__Users__0__AllowedSenders__1=rsa.test \
  MailCluster__Smtp__Users__0__AllowedSenders__2=ed.test \
  MailCluster__Dkim__Domains__0__Domain=rsa.test MailCluster__Dkim__Domains__0__Selector=b1 \
  MailCluster__Dkim__Domains__0__KeyPath="$WORK/rsa.pem" MailCluster__Dkim__Domains__0__Algorithm=rsa-sha256 \
  MailCluster__Dkim__Domains__1__Domain=ed.test MailCluster__Dkim__Domains__1__Selector=b2 \
  MailCluster__Dkim__Domains__1__KeyPath="$WORK/ed.pem" MailCluster__Dkim__Domains__1__Algorithm=ed25519-sha256 \
  Logging__LogLevel__Default=Warning \
  dotnet "$HOST_DLL" >"$WORK/node.log" 2>&1 &
NODE=$!
for _ in $(seq 120); do
  curl -sf "http://127.0.0.1:$OPS/healthz/ready" >/dev/null && break
  kill -0 "$NODE" 2>/dev/null || { cat "$WORK/node.log" >&2; exit 1; }
  sleep 0.5
done
curl -sf "http://127.0.0.1:$OPS/healthz/ready" >/dev/null || { echo "node not ready" >&2; tail -20 "$WORK/node.log" >&2; exit 1; }

# Warm-up (TLS, JIT, the journal), not counted.
python3 "$ROOT/bench/dkim_load.py" --port "$SMTPS" --user bench --password "$PASSWORD" --from "warm@rsa.test" \
  --count $((N / 4 + 1)) --concurrency "$C" --size "$SIZE" >/dev/null

printf '%-8s %-6s %8s %10s\n' mode round msgs msg_per_s
for round in $(seq "$ROUNDS"); do
  for mode in unsigned rsa ed25519; do
    case $mode in unsigned) from=bench@plain.test ;; rsa) from=bench@rsa.test ;; ed25519) from=bench@ed.test ;; esac
    line=$(python3 "$ROOT/bench/dkim_load.py" --port "$SMTPS" --user bench --password "$PASSWORD" --from "$from" \
      --count "$N" --concurrency "$C" --size "$SIZE")
    rate=$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' <<<"$line")
    printf '%-8s %-6s %8s %10s\n' "$mode" "$round" "$N" "$rate"
  done
done

echo "# node counters (signatures must match rounds x N (+ warm-up for rsa.test), failures 0):"
curl -s "http://127.0.0.1:$OPS/metrics" | grep -E '^mailcluster_dkim_(signatures|signing_failures)_total' || echo "(no DKIM series)"
