#!/usr/bin/env bash
# bench/bodyfile.sh: what a spool body file costs the kernel, buffered (as before session s30) or with O_DIRECT (as
# Storage/Spool/DirectBodyIo writes and reads them): ROUNDS alternating rounds of N files of SIZE bytes, all kept until
# read back (bodies wait for delivery), in a directory on the filesystem of DIR (default: /var/tmp, not a tmpfs).
#   bench/bodyfile.sh [ROUNDS] [N] [SIZE] [DIR]        # defaults: 2 rounds, 1,000 files of 1 MiB
set -euo pipefail
ROUNDS=${1:-2} N=${2:-1000} SIZE=${3:-1048576} BASE=${4:-/var/tmp}
command -v gcc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev >/dev/null; }
WORK="$(mktemp -d "$BASE/mcbodyfile.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
gcc -O2 -Wall -o "$WORK/bodyfile" "$(dirname "$0")/bodyfile/bodyfile.c"
mkdir "$WORK/files"
for _ in $(seq "$ROUNDS"); do
  for mode in "0 0" "1 0" "1 1"; do
    # shellcheck disable=SC2086
    "$WORK/bodyfile" $mode "$N" "$SIZE" "$WORK/files"
  done
done
