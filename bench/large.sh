#!/usr/bin/env bash
# Large messages (issue 18, target 2): 1 MB and 10 MB messages, MailCluster and Postfix alternating in the same run,
# MB/s accepted (delivery deferred) and end to end (relayed to smtp-sink), medians of 3 rounds (1 with --quick).
# Everything else (namespace, dnsmasq, smtp-sink, private Postfix, published node, cgroups) is bench/run.sh's.
#
#   bench/large.sh [--quick] [--out FILE] [--only mc|pf]
#   MCBENCH_LARGE_MB="1" bench/large.sh --quick     # one size
#   MCBENCH_NODE_ENV="MailCluster__Storage__SpoolFileThresholdBytes=0" bench/large.sh   # bodies in SQLite, as before
set -euo pipefail
export MCBENCH_SCENARIOS="large_sized"
export MCBENCH_LARGE_MB="${MCBENCH_LARGE_MB:-1 10}"
exec "$(dirname "$0")/run.sh" "$@"
