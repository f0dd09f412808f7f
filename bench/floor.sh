#!/usr/bin/env bash
# bench/floor.sh (as root): floor of the per-connection cost: smtp-sink (Postfix's event-loop test server, no queue, no fsync) as the "MTA"
# in scenario 1b and 1a, CPU seconds from its own cpuacct cgroup.
set -euo pipefail
NS=mcfloor$$; CG=/sys/fs/cgroup/cpuacct/mcfloor$$
ip netns add $NS; ip netns exec $NS ip link set lo up; mkdir $CG
trap 'kill $(cat $CG/cgroup.procs) 2>/dev/null; sleep 0.3; rmdir $CG; ip netns del $NS' EXIT
/bin/sh -c 'echo $$ > "$0/cgroup.procs" && exec ip netns exec "$1" smtp-sink -u nobody 127.0.0.1:2525 1024' $CG $NS &
sleep 1
for mode in new reuse; do
  flags=(); [[ $mode == reuse ]] && flags=(-d)
  ip netns exec $NS smtp-source -s 20 -l 1024 -m 2000 -M client.test -f a@client.test -t b@defer.test "${flags[@]}" 127.0.0.1:2525
  c0=$(cat $CG/cpuacct.usage); t0=$(date +%s.%N)
  ip netns exec $NS smtp-source -s 20 -l 1024 -m 10000 -M client.test -f a@client.test -t b@defer.test "${flags[@]}" 127.0.0.1:2525
  t1=$(date +%s.%N); c1=$(cat $CG/cpuacct.usage)
  awk -v m=$mode -v c="$((c1-c0))" -v t0=$t0 -v t1=$t1 'BEGIN { printf "smtp-sink %s: %.0f msg/s, %.3f CPU s/1000\n", m, 10000/(t1-t0), c/1e9/10 }'
done
