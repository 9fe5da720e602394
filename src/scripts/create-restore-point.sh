#!/bin/sh
# create-restore-point.sh: creates a named restore point (a target for recovery_target_name) and
# switches to a new WAL segment so that the point reaches the archive.
#
# Environment:
#   PGHOST, PGPORT (5432), PGUSER, PGDATABASE   server to connect to (libpq variables); the user
#                                               must be superuser or have EXECUTE on
#                                               pg_create_restore_point and pg_switch_wal
#   PGPASSWORD                                  read by libpq, never printed
#   RESTORE_POINT_NAME                          the name (required, at most 63 bytes)
#   RESTORE_POINT_ARCHIVE_WAIT_SECONDS          60: wait this long for pg_stat_archiver to show the
#                                               segment holding the point as archived (0: no wait)
#
# The name is passed as a psql variable and quoted by psql (:'name'), so it cannot inject SQL.
# Exit codes: 0 created (and archived, unless the wait is 0); 1 any failure, including a point
# that was created but not archived within the wait.
set -eu

me='create-restore-point.sh'
export PGPORT="${PGPORT:-5432}"
RESTORE_POINT_NAME="${RESTORE_POINT_NAME:-}"
RESTORE_POINT_ARCHIVE_WAIT_SECONDS="${RESTORE_POINT_ARCHIVE_WAIT_SECONDS:-60}"

log() { printf '%s: %s\n' "$me" "$*"; }
fail() { printf '%s: ERROR: %s\n' "$me" "$*" >&2; exit 1; }

[ -n "$RESTORE_POINT_NAME" ] || fail "RESTORE_POINT_NAME is empty"
case "$RESTORE_POINT_ARCHIVE_WAIT_SECONDS" in
  '' | *[!0-9]*) fail "RESTORE_POINT_ARCHIVE_WAIT_SECONDS must be a whole number, got '$RESTORE_POINT_ARCHIVE_WAIT_SECONDS'" ;;
esac
command -v psql >/dev/null 2>&1 || fail "psql not found on PATH"

# psql -c does not interpolate variables: the statements go through stdin.
out=$(psql -X -q -At -v ON_ERROR_STOP=1 -v name="$RESTORE_POINT_NAME" <<'SQL'
SELECT pg_create_restore_point(:'name') AS lsn \gset
SELECT :'lsn', pg_walfile_name(:'lsn'::pg_lsn - 1), pg_switch_wal();
SQL
) || fail "creating the restore point failed"
lsn=$(printf '%s\n' "$out" | tail -n 1 | cut -d '|' -f 1)
walfile=$(printf '%s\n' "$out" | tail -n 1 | cut -d '|' -f 2)
switch_lsn=$(printf '%s\n' "$out" | tail -n 1 | cut -d '|' -f 3)
case "$lsn/$walfile" in /* | */) fail "unexpected psql output: $out" ;; esac
log "restore point '$RESTORE_POINT_NAME' created at LSN $lsn (WAL file $walfile); switched WAL at $switch_lsn"

[ "$RESTORE_POINT_ARCHIVE_WAIT_SECONDS" -gt 0 ] || { log "not waiting for the archive"; exit 0; }
waited=0
while :; do
  archived=$(psql -X -q -At -v ON_ERROR_STOP=1 -v f="$walfile" <<'SQL'
SELECT coalesce(length(last_archived_wal) = 24 AND substr(last_archived_wal, 9) >= substr(:'f', 9), false)
  FROM pg_stat_archiver;
SQL
  ) || fail "reading pg_stat_archiver failed"
  if [ "$archived" = t ]; then
    log "WAL file $walfile archived; the restore point can be used as a recovery target"
    exit 0
  fi
  [ "$waited" -lt "$RESTORE_POINT_ARCHIVE_WAIT_SECONDS" ] || break
  sleep 1
  waited=$((waited + 1))
done
fail "restore point created at $lsn, but $walfile was not archived within ${RESTORE_POINT_ARCHIVE_WAIT_SECONDS} s (check archive_command and pg_stat_archiver.last_failed_wal)"
