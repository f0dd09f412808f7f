#!/usr/bin/env bash
# bench/mtasts.sh (as root): the end-to-end relay figure with an MTA-STS policy in mode enforce, next to the same
# relay without a policy, in the same run and against the same node (issue 17). One node (a published build), one
# STARTTLS sink (bench/mtasts/tls_sink.py) with a certificate from a CA generated here, an HTTPS policy host
# (bench/mtasts/policy_server.py), dnsmasq; all inside a private network namespace. Two recipient domains share the
# sink: plain.test publishes no policy (opportunistic TLS, any certificate), sts.test publishes an enforce policy
# (certificate verified for the MX name). Rounds alternate plain / sts; prints msg/s per round.
#
#   deploy/publish.sh /tmp/mc; bench/mtasts.sh /tmp/mc            # N=5000 ROUNDS=2
#   N=200 ROUNDS=1 bench/mtasts.sh /tmp/mc                         # smoke run
set -euo pipefail
[[ $(id -u) -eq 0 ]] || { echo "run as root (network namespace)" >&2; exit 1; }
[[ $# -ge 1 ]] || { echo "usage: $0 PUBLISHED_DIR" >&2; exit 2; }
PUB=$(cd "$1" && pwd)
N=${N:-5000}
ROUNDS=${ROUNDS:-2}
HERE="$(cd "$(dirname "$0")" && pwd)"
NS=mcsts$$
DATA=$(mktemp -d /tmp/mcsts.XXXXXX)
cleanup() {
  local p; for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  [[ -n ${MCSTS_KEEP:-} ]] || rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A CA and two server certificates (the MX and the policy host).
cd "$DATA"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=MailCluster bench CA" 2>/dev/null
for name in mx.sts.test mta-sts.sts.test; do
  openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$name" 2>/dev/null
  printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$name" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile "$name.ext" -out "$name.pem" 2>/dev/null
done
printf 'version: STSv1\r\nmode: enforce\r\nmx: mx.sts.test\r\nmax_age: 86400\r\n' > policy.txt
printf 'txt-record=_mta-sts.sts.test,"v=STSv1; id=1;"\n' > txt.conf

ip netns add "$NS"; ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" dnsmasq --keep-in-foreground --port=53 --listen-address=127.0.0.1 --bind-interfaces --no-resolv \
  --no-hosts --user=root --pid-file= --local=/test/ --local-ttl=300 --conf-file="$DATA/txt.conf" \
  --mx-host=sts.test,mx.sts.test,10 --mx-host=plain.test,mx.sts.test,10 --host-record=mx.sts.test,127.0.0.2 \
  --host-record=mta-sts.sts.test,127.0.0.4 --mx-host=client.test,mx.sts.test,10 >dnsmasq.log 2>&1 & disown
ip netns exec "$NS" python3 "$HERE/mtasts/tls_sink.py" 127.0.0.2 2600 mx.sts.test.pem mx.sts.test.key "$DATA/sunk" >sink.log 2>&1 & disown
ip netns exec "$NS" python3 "$HERE/mtasts/policy_server.py" 127.0.0.4 443 mta-sts.sts.test.pem mta-sts.sts.test.key policy.txt >policy.log 2>&1 & disown
ip netns exec "$NS" env MailCluster__DataDir="$DATA/data" MailCluster__Hostname=mc.bench.test MailCluster__Smtp__BindAddress=127.0.0.1 \
  MailCluster__Smtp__MxPort=2525 MailCluster__Smtp__SubmissionPort=2587 MailCluster__Smtp__SubmissionsPort=2465 \
  MailCluster__Domains__Relay__0=plain.test MailCluster__Domains__Relay__1=sts.test MailCluster__Dns__Servers__0=127.0.0.1:53 \
  MailCluster__Outbound__Port=2600 MailCluster__Outbound__AllowPrivateDestinations=true \
  MailCluster__Outbound__CaCertificatesPath="$DATA/ca.pem" \
  MailCluster__Ops__BindAddress=127.0.0.1 MailCluster__Ops__Port=8080 \
  MailCluster__Smtp__MaxConnectionsPerClient=20000 MailCluster__Smtp__MaxConnections=20000 \
  ${NODE_ENV:-} dotnet "$PUB/MailCluster.Host.dll" >node.log 2>&1 &
for _ in $(seq 150); do ip netns exec "$NS" curl -fsS -o /dev/null http://127.0.0.1:8080/healthz/ready 2>/dev/null && break; sleep 0.2; done

sunk() { cat "$DATA/sunk" 2>/dev/null || echo 0; }
e2e() { # N DOMAIN: send with reused connections, return the seconds until the sink has all N (or 300 s)
  local base t0 end; base=$(sunk); t0=$(date +%s.%N); end=$((SECONDS + 300))
  ip netns exec "$NS" smtp-source -s 20 -l 1024 -m "$1" -d -M client.test -f a@client.test -t "b@$2" 127.0.0.1:2525
  while (( $(sunk) - base < $1 && SECONDS < end )); do sleep 0.05; done
  awk -v t0="$t0" -v t1="$(date +%s.%N)" -v n="$1" -v got=$(( $(sunk) - base )) \
    'BEGIN { if (got < n) printf "incomplete (%d of %d)", got, n; else printf "%6.0f msg/s", n / (t1 - t0) }'
}

e2e 200 plain.test >/dev/null; e2e 200 sts.test >/dev/null   # warm-up (and the policy fetch)
grep -q "MTA-STS policy of sts.test fetched" node.log || { echo "the node did not fetch the policy:" >&2; tail -20 node.log >&2; exit 1; }
for r in $(seq "$ROUNDS"); do
  echo "round $r: N=$N | MTA-STS off (plain.test) $(e2e "$N" plain.test) | MTA-STS enforce (sts.test) $(e2e "$N" sts.test)"
done
grep -c "status=sent" node.log | xargs echo "delivered (node log):"
