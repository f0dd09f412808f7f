#!/usr/bin/env bash
# bench/floor.sh (as root): what one SMTP connection costs below MailCluster's own code. The same smtp-source load as
# scenario 1 of bench/run.sh (20 sessions, 1 KB, 10,000 messages after 2,000 of warm-up), with a new connection per
# message and with connections reused, against two servers that queue nothing:
#   smtp-sink      Postfix's C event-loop test server: the kernel's share (TCP on loopback) plus a minimal loop;
#   kestrel-floor  bench/floor/ (Kestrel ConnectionHandler answering 220/250/354/221, ReadyToRun like the node):
#                  what Kestrel's per-connection machinery adds;
#   socket-floor   the same answers from a plain Socket accept loop in the same program (--sockets): .NET's sockets
#                  without Kestrel.
# Prints msg/s and CPU seconds per 1,000 messages from each server's own cpuacct cgroup. Loopback in a private netns.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
[[ $(id -u) -eq 0 ]] || { echo "run as root (network namespace, cgroups)" >&2; exit 1; }
command -v smtp-source >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix >/dev/null; }
OUT="$(mktemp -d /tmp/mcfloor.XXXXXX)"
dotnet publish "$ROOT/bench/floor/MailCluster.KestrelFloor.csproj" -c Release -r linux-x64 --self-contained false \
  -p:PublishReadyToRun=true -o "$OUT/kestrel" -nologo -v q >/dev/null
NS=mcfloor$$; CG=/sys/fs/cgroup/cpuacct/mcfloor$$
ip netns add "$NS"; ip netns exec "$NS" ip link set lo up; mkdir "$CG"
cleanup() { for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill "$p" 2>/dev/null; done; sleep 0.5; rmdir "$CG"; ip netns del "$NS"; rm -rf "$OUT"; }
trap cleanup EXIT

measure() { # name server-command...
  local name=$1; shift
  /bin/sh -c 'echo $$ > "$0/cgroup.procs" && ns=$1 && shift && exec ip netns exec "$ns" "$@"' "$CG" "$NS" "$@" >/dev/null 2>&1 &
  sleep 4
  for mode in new reuse; do
    local flags=() c0 c1 t0 t1; [[ $mode == reuse ]] && flags=(-d)
    ip netns exec "$NS" smtp-source -s 20 -l 1024 -m 2000 -M client.test -f a@client.test -t b@defer.test "${flags[@]}" 127.0.0.1:2525
    c0=$(cat "$CG/cpuacct.usage"); t0=$(date +%s.%N)
    ip netns exec "$NS" smtp-source -s 20 -l 1024 -m 10000 -M client.test -f a@client.test -t b@defer.test "${flags[@]}" 127.0.0.1:2525
    t1=$(date +%s.%N); c1=$(cat "$CG/cpuacct.usage")
    awk -v n="$name" -v m="$mode" -v c="$((c1 - c0))" -v t0="$t0" -v t1="$t1" \
      'BEGIN { printf "%-14s %-5s %6.0f msg/s  %.3f CPU s/1000\n", n, m, 10000 / (t1 - t0), c / 1e9 / 10 }'
  done
  for p in $(cat "$CG/cgroup.procs"); do kill "$p" 2>/dev/null; done
  sleep 1
}
measure smtp-sink smtp-sink -u nobody 127.0.0.1:2525 1024
measure kestrel-floor dotnet "$OUT/kestrel/MailCluster.KestrelFloor.dll"
[[ -n ${FLOOR_VARIANTS:-} ]] && {
  measure kestrel-ioq0 env FLOOR_IOQUEUES=0 dotnet "$OUT/kestrel/MailCluster.KestrelFloor.dll"
  measure kestrel-inline env FLOOR_INLINE=1 DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 dotnet "$OUT/kestrel/MailCluster.KestrelFloor.dll"
}
measure socket-floor dotnet "$OUT/kestrel/MailCluster.KestrelFloor.dll" --sockets
