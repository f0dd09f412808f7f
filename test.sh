#!/usr/bin/env bash
# Runs every MailCluster test on a fresh machine (the README's one command; CI runs it as root on a clean
# clone with only the .NET SDK). Steps: install missing Debian packages the tests start for real
# (PostgreSQL, dnsmasq, Postfix, promtool, Chromium, yamllint, iproute2), the manifest tools (kubectl, Node.js, npm ci
# in tools/k8s-validate), build the solution in Release (warnings are errors),
# run every test project with TRX results, then print failing tests and, as the very last line, "N passed, N failed".
# Exit status is non-zero when the build failed or any test failed, timed out, aborted or never reported.
#
# Environment: TEST_RESULTS_DIR (default TestResults/test-sh), TEST_HANG_TIMEOUT (default 10m, per test),
# TEST_RUN_TIMEOUT_MINUTES (default 80, whole run; CI allows 90), TEST_SLOWEST (default 15: how many of the slowest
# tests to list at the end, with the run's wall time). Sets MAILCLUSTER_REQUIRED_TOOLS (below).
set -uo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Debian packages whose programs the tests start (keep in step with tests/MailCluster.Testing). prometheus brings
# promtool, which checks ops/prometheus/alerts.yml and the /metrics output (about 20 MB; installs in ~5 s here).
# chromium renders the ops dashboard in T48 (headless, as root with --no-sandbox, a throw-away profile under /tmp):
# with the 24 libraries a bare image lacks, about 124 MB to download, 405 MB installed, ~7 s to install here.
# yamllint, iproute2 (ip netns: T55 runs nodes in a network namespace with a pod's resolv.conf) and curl (T55 reads
# the nodes' ops ports inside that namespace) serve the Kubernetes checks (tests/MailCluster.Deploy.Tests, T55).
# sslscan lists the suites and protocol versions the SMTP listeners offer (T60, the inbound TLS profile of #17).
# python3-dkim (dkimpy) verifies DKIM signatures in T75-T77 independently of MimeKit; it reads the keys from dnsmasq
# through python3-dnspython, and Ed25519 needs python3-nacl (its dependencies; named because the tests use them).
# nsd, unbound and ldnsutils serve DANE's DNSSEC (tests/MailCluster.Testing/DnssecServers.cs: a zone signed with
# ldns-signzone, served by nsd, behind a validating unbound).
REQUIRED_PACKAGES=(postgresql dnsmasq-base postfix prometheus chromium yamllint iproute2 curl sslscan python3-dkim python3-dnspython python3-nacl nsd unbound ldnsutils)

# Checks that run a program only when it is installed fail instead of skipping when it is named here
# (tests/MailCluster.Testing/TestTools.cs): CI must not pass a check that never ran.
export MAILCLUSTER_REQUIRED_TOOLS="chromium promtool sslscan"
RESULTS_DIR=${TEST_RESULTS_DIR:-$PWD/TestResults/test-sh}
HANG_TIMEOUT=${TEST_HANG_TIMEOUT:-10m}
RUN_TIMEOUT_MINUTES=${TEST_RUN_TIMEOUT_MINUTES:-80}

summary() { # passed failed
  echo "$1 passed, $2 failed"
}

install_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "test.sh: not a Debian system; make sure these are installed: ${REQUIRED_PACKAGES[*]}" >&2
    return 0
  fi
  local missing=() p
  for p in "${REQUIRED_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "== installing ${missing[*]}"
  "${sudo[@]}" apt-get update &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" || return 1
  # Debian's postinst may start the system Postfix (and PostgreSQL, Prometheus); tests run private instances of their own.
  "${sudo[@]}" postfix stop >/dev/null 2>&1 || true
  "${sudo[@]}" invoke-rc.d prometheus stop >/dev/null 2>&1 || true
}

if ! install_packages; then
  echo "test.sh: installing ${REQUIRED_PACKAGES[*]} failed" >&2
  summary 0 1
  exit 1
fi

# The manifest checks run kubectl (kustomize) and Node.js: both ship with the machine image; Debian's packages are the
# fallback (Debian's kubectl is 1.20, whose kustomize is too old for k8s/: the checks would then fail, not skip).
# tools/k8s-validate holds the pinned schemas (npm ci: package-lock.json, about 10 s).
install_manifest_tools() {
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm || return 1
  fi
  if ! command -v kubectl >/dev/null 2>&1; then
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends kubernetes-client || return 1
  fi
  echo "== npm ci (tools/k8s-validate)"
  npm ci --prefix tools/k8s-validate --no-audit --no-fund --loglevel=error
}

if ! install_manifest_tools; then
  echo "test.sh: installing the manifest tools (kubectl, node, npm ci in tools/k8s-validate) failed" >&2
  summary 0 1
  exit 1
fi

echo "== dotnet build MailCluster.sln -c Release"
if ! dotnet build MailCluster.sln -c Release; then
  echo "BUILD FAILED"
  summary 0 1
  exit 1
fi

rm -rf "$RESULTS_DIR"
mkdir -p "$RESULTS_DIR"
echo "== dotnet test (results in $RESULTS_DIR)"
# Each project into its own results folder (TRX file names are only unique to the second). The unit-test projects are
# independent of each other and start nothing shared, so they run TEST_UNIT_JOBS at a time (default 2, the cores), each
# one's console output printed in one piece when it ends. MailCluster.IntegrationTests runs after them, alone: its
# scenarios start real processes and schedule their own parallelism (tests/MailCluster.IntegrationTests/AssemblyInfo.cs).
UNIT_JOBS=${TEST_UNIT_JOBS:-2}
test_status=0
deadline=$((SECONDS + RUN_TIMEOUT_MINUTES * 60))

run_project() { # project: runs its tests, returns dotnet test's status (124/137 when the run timeout hit)
  local project=$1 name remaining
  name=$(basename "$project" .csproj)
  remaining=$((deadline - SECONDS))
  if [ "$remaining" -le 0 ]; then
    echo "test.sh: run timeout reached before $name" >&2
    return 1
  fi
  timeout --kill-after=60s "$remaining" dotnet test "$project" -c Release --no-build \
    --logger trx --results-directory "$RESULTS_DIR/$name" \
    --blame-hang-timeout "$HANG_TIMEOUT" --blame-hang-dump-type none
}

mapfile -t test_projects < <(dotnet sln MailCluster.sln list | grep -E 'Tests\.csproj$')
unit_projects=() integration_projects=()
for project in "${test_projects[@]}"; do
  case "$project" in
    *IntegrationTests.csproj) integration_projects+=("$project") ;;
    *) unit_projects+=("$project") ;;
  esac
done

declare -A job_project=()
finish_one() { # waits for any one unit job, prints its output, records its status
  local pid status=0
  wait -n -p pid "${!job_project[@]}" || status=$?
  local name
  name=$(basename "${job_project[$pid]}" .csproj)
  echo "== $name"
  cat "$RESULTS_DIR/$name.log"
  [ "$status" -eq 0 ] || test_status=$status
  unset "job_project[$pid]"
}
for project in "${unit_projects[@]}"; do
  ((${#job_project[@]} < UNIT_JOBS)) || finish_one
  mkdir -p "$RESULTS_DIR/$(basename "$project" .csproj)"
  run_project "$project" >"$RESULTS_DIR/$(basename "$project" .csproj).log" 2>&1 &
  job_project[$!]=$project
done
while ((${#job_project[@]})); do finish_one; done

for project in "${integration_projects[@]}"; do
  echo "== $(basename "$project" .csproj)"
  run_project "$project" || test_status=$?
done

passed=0 failed=0
shopt -s nullglob
trx_files=("$RESULTS_DIR"/*.trx "$RESULTS_DIR"/*/*.trx)

# Counters: passed; failed = failed + error + timeout + aborted.
for trx in "${trx_files[@]}"; do
  read -r p f < <(grep -o '<Counters [^>]*>' "$trx" | head -n 1 | awk '{
      p = 0; f = 0
      for (i = 1; i <= NF; i++) {
        split($i, kv, "="); gsub(/[^0-9]/, "", kv[2])
        if (kv[1] == "passed") p += kv[2]
        if (kv[1] == "failed" || kv[1] == "error" || kv[1] == "timeout" || kv[1] == "aborted") f += kv[2]
      }
      print p, f }')
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done

problems=()
for trx in "${trx_files[@]}"; do
  while IFS= read -r name; do
    problems+=("FAILED $name")
  done < <(grep -o '<UnitTestResult [^>]*>' "$trx" | grep -E 'outcome="(Failed|Error|Timeout|Aborted)"' |
    sed -n 's/.*testName="\([^"]*\)".*/\1/p')
done

# A test project without results (crashed, hung and killed, or never started) counts as one failure.
while IFS= read -r project; do
  assembly=$(basename "$project" .csproj).dll
  if [ ${#trx_files[@]} -eq 0 ] || ! grep -qiF "/$assembly\"" "${trx_files[@]}"; then
    problems+=("NO RESULTS from $project (crashed, hung or did not run)")
    failed=$((failed + 1))
  fi
done < <(dotnet sln MailCluster.sln list | grep -E 'Tests\.csproj$')

if [ "$test_status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  problems+=("dotnet test exited with $test_status although every reported test passed")
  failed=1
fi

# The slowest tests of the run (the TRX files' durations), the first place to look when the run gets long.
echo "== slowest tests (seconds); whole run $((SECONDS / 60)) min $((SECONDS % 60)) s"
for trx in "${trx_files[@]}"; do
  grep -o '<UnitTestResult [^>]*>' "$trx" | sed -n 's/.*testName="\([^"]*\)".*duration="\([0-9]*\):\([0-9]*\):\([0-9.]*\)".*/\2 \3 \4 \1/p'
done | awk '{ t = $1 * 3600 + $2 * 60 + $3; $1 = $2 = $3 = ""; sub(/^ +/, ""); printf "%7.1f %s\n", t, $0 }' | sort -rn | head -n "${TEST_SLOWEST:-15}"

if ((${#problems[@]})); then
  if ((${#trx_files[@]})) && command -v python3 >/dev/null; then
    echo "== why (first lines of each failure's message and stack, from the TRX files)"
    python3 .ci/trx-failures.py "${trx_files[@]}"
  fi
  echo "== failures"
  printf '%s\n' "${problems[@]}"
fi
summary "$passed" "$failed"
[ "$failed" -eq 0 ]
