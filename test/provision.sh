#!/bin/sh
# Provisions the system tools the tests need, before every test run (the projen test task runs it first, so
# `npm install-test`, `npm test`, `npx projen test` and `npx projen build` all do).
#
#   PostgreSQL 15 server and client   the drill (test/drill/) runs real servers: postgresql-15, postgresql-client-15
#   ShellCheck                        the scripts are checked as POSIX sh
#   busybox                           the scripts run under busybox sh, as in the Alpine image
#   zstd, lz4                         compressed base backups
#   promtool, the postgres exporter   the monitoring rules and metrics: prometheus, prometheus-postgres-exporter
#
# What is missing is installed with apt-get when running as root on a machine with apt (Debian/Ubuntu), and the script
# says what it installs. Otherwise it fails with the exact command to run: the tests never skip a missing tool.
#
# Environment: PG_BIN (PostgreSQL's bin folder, default /usr/lib/postgresql/15/bin, as the drill reads it).
set -eu

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# Each line: the Debian package, then the programs it provides (a path, or a name looked up on PATH).
REQUIREMENTS="postgresql-15 $PG_BIN/postgres $PG_BIN/initdb $PG_BIN/pg_ctl $PG_BIN/pg_basebackup $PG_BIN/pg_waldump $PG_BIN/pg_archivecleanup
postgresql-client-15 $PG_BIN/psql
shellcheck shellcheck
busybox busybox
zstd zstd
lz4 lz4
prometheus promtool
prometheus-postgres-exporter prometheus-postgres-exporter"

has() {
  case $1 in
    /*) [ -x "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

# The packages with at least one program missing, space-separated.
missing_packages() {
  echo "$REQUIREMENTS" | while read -r package programs; do
    for program in $programs; do
      if ! has "$program"; then
        printf '%s ' "$package"
        break
      fi
    done
  done
}

missing=$(missing_packages)
if [ -z "$missing" ]; then
  echo "provision: the test tools are installed (PostgreSQL 15 in $PG_BIN, shellcheck, busybox, zstd, lz4, promtool, prometheus-postgres-exporter)"
  exit 0
fi
missing=${missing% }
command="apt-get update && apt-get install -y --no-install-recommends $missing"

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "provision: FAILED: the tests need $missing, which is not installed, and this is not root with apt-get." >&2
  echo "provision: install it with: sudo sh -c '$command'" >&2
  echo "provision: (on another system, install the same tools; set PG_BIN to PostgreSQL 15's bin folder)" >&2
  exit 1
fi

echo "provision: installing $missing with apt-get (missing for the tests)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $missing
still=$(missing_packages)
still=${still% }
if [ -n "$still" ]; then
  echo "provision: FAILED: still missing after apt-get install: $still" >&2
  exit 1
fi
echo "provision: installed $missing"
