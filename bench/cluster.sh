#!/usr/bin/env bash
# Cluster benchmarks (docs/BENCHMARKS.md "## Cluster"): real node processes on one machine, a private PostgreSQL,
# dnsmasq and a scripted SMTP sink, all on 127.0.0.1.
#   bench/cluster.sh [throughput [MESSAGES] | failover [RUNS] | recovery [RECIPIENTS] | stability [MINUTES [WORKERS]] | all]
# throughput: MESSAGES (3000) one-recipient messages over 20 domains by 16 clients, 1 node then 3 nodes.
# failover:   3 nodes; kill -9 the node with most shards; seconds until every domain delivers again.
# stability:  3 nodes at full load (WORKERS 16 clients) for MINUTES (10), no kill: slow heartbeats, unreachable
#             markings and downing decisions (must be none), the failure detector's margin under load.
# recovery:   1 node; RECIPIENTS (100000) pending deliveries in one domain queue; kill -9; restart; seconds to recover.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build MailCluster.sln -c Release >/dev/null
dotnet build bench/cluster/MailCluster.ClusterBench.csproj -c Release >/dev/null
exec dotnet bench/cluster/bin/Release/net10.0/MailCluster.ClusterBench.dll "${@:-all}"
