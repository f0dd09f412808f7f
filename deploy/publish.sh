#!/usr/bin/env bash
# Publishes a MailCluster node the way it should run in production: Release, ReadyToRun (methods are compiled
# ahead of time, so a fresh node does not spend its first seconds in the JIT), framework-dependent on the
# .NET 10 runtime of the machine or image.
#
#   deploy/publish.sh [OUTDIR]        # default: artifacts/mailcluster
#   dotnet OUTDIR/MailCluster.Host.dll
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/artifacts/mailcluster}"
case "$(uname -m)" in
  x86_64) RID=linux-x64 ;;
  aarch64 | arm64) RID=linux-arm64 ;;
  *) echo "publish.sh: no ReadyToRun target for $(uname -m); use dotnet publish -c Release" >&2; exit 2 ;;
esac
dotnet publish "$ROOT/src/MailCluster.Host/MailCluster.Host.csproj" -c Release -r "$RID" --self-contained false \
  -p:PublishReadyToRun=true -o "$OUT" -nologo -v q
echo "published to $OUT (ReadyToRun, $RID): dotnet $OUT/MailCluster.Host.dll"
