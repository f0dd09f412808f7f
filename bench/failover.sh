#!/usr/bin/env bash
# Failover benchmark (issue 19 target 3, docs/BENCHMARKS.md "## Cluster"): RUNS (5) times, a fresh 3-node cluster on a
# private PostgreSQL under load (8 SMTP clients), kill -9 of the node hosting the most shards, then a probe to each of
# 20 domains every second through the survivors; a run's figure is the seconds until every domain delivered a probe
# submitted after the kill. Prints each run (with the failure detector's slow-heartbeat warnings seen under load
# before the kill), then the median and the worst. The cluster settings are the shipped defaults.
#   bench/failover.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
exec bench/cluster.sh failover "${1:-5}"
