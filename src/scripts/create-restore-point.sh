#!/bin/sh
# create-restore-point.sh: creates a named restore point (a target for recovery_target_name) and
# switches to a new WAL segment so that the point reaches the archive.
#
# Environment:
#   PGHOST, PGPORT (5432), PGUSER, PGDATABASE   server to connect to (libpq variables); the user
#                                               must be superuser or have EXECUTE on
#                                               pg_create_restore_point and pg_switch_wal
#   PGPASSWORD                                  read by libpq, never printed
#   RESTORE_POINT_NAME                          the name (required, at most 63 bytes; the library
#                                               passes the name of the Job the run belongs to)
#   RESTORE_POINT_ARCHIVE_WAIT_SECONDS          60: wait this long for pg_stat_archiver to show the
#                                               segment holding the point as archived (0: no wait)
#
# The name is passed as a psql variable and quoted by psql (:'name'), so it cannot inject SQL.
# Exit codes: 0 created (and archived, unless the wait is 0); 1 any failure, including a point
# that was created but not archived within the wait.
# Needs pitr-lib.sh in the same folder.
set -eu

me='create-restore-point.sh'
log_stream=stdout
export PGPORT="${PGPORT:-5432}"
RESTORE_POINT_NAME="${RESTORE_POINT_NAME:-}"
RESTORE_POINT_ARCHIVE_WAIT_SECONDS="${RESTORE_POINT_ARCHIVE_WAIT_SECONDS:-60}"
script_dir=$(dirname "$0")
[ -f "$script_dir/pitr-lib.sh" ] || { printf '%s: ERROR: %s not found\n' "$me" "$script_dir/pitr-lib.sh" >&2; exit 1; }
# shellcheck source=pitr-lib.sh
. "$script_dir/pitr-lib.sh"

# check_settings: fails on an empty name, a bad wait or a missing psql.
check_settings() {
  [ -n "$RESTORE_POINT_NAME" ] || fail "RESTORE_POINT_NAME is empty"
  is_uint "$RESTORE_POINT_ARCHIVE_WAIT_SECONDS" ||
    fail "RESTORE_POINT_ARCHIVE_WAIT_SECONDS must be a whole number, got '$RESTORE_POINT_ARCHIVE_WAIT_SECONDS'"
  need_command psql
}

# create_point: creates the restore point and switches WAL; sets lsn (the point), walfile (the
# segment that holds it) and switch_lsn.
create_point() {
  # psql -c does not interpolate variables: the statements go through stdin.
  out=$(psql -X -q -At -v ON_ERROR_STOP=1 -v name="$RESTORE_POINT_NAME" <<'SQL'
SELECT pg_create_restore_point(:'name') AS lsn \gset
SELECT :'lsn', pg_walfile_name(:'lsn'::pg_lsn - 1), pg_switch_wal();
SQL
  ) || fail "creating the restore point failed"
  last_line=$(printf '%s\n' "$out" | tail -n 1)
  lsn=$(printf '%s\n' "$last_line" | cut -d '|' -f 1)
  walfile=$(printf '%s\n' "$last_line" | cut -d '|' -f 2)
  switch_lsn=$(printf '%s\n' "$last_line" | cut -d '|' -f 3)
  case "$lsn/$walfile" in /* | */) fail "unexpected psql output: $out" ;; esac
  log "restore point '$RESTORE_POINT_NAME' created at LSN $lsn (WAL file $walfile); switched WAL at $switch_lsn"
}

# is_archived: whether pg_stat_archiver shows $walfile (or a later segment) as archived.
is_archived() {
  archived=$(psql -X -q -At -v ON_ERROR_STOP=1 -v f="$walfile" <<'SQL'
SELECT coalesce(length(last_archived_wal) = 24 AND substr(last_archived_wal, 9) >= substr(:'f', 9), false)
  FROM pg_stat_archiver;
SQL
  ) || fail "reading pg_stat_archiver failed"
  [ "$archived" = t ]
}

# wait_archived: polls once a second, for at most RESTORE_POINT_ARCHIVE_WAIT_SECONDS, until
# $walfile is archived; fails if it is not.
wait_archived() {
  waited=0
  while :; do
    if is_archived; then
      log "WAL file $walfile archived; the restore point can be used as a recovery target: name=$RESTORE_POINT_NAME in the restore target ConfigMap"
      return 0
    fi
    [ "$waited" -lt "$RESTORE_POINT_ARCHIVE_WAIT_SECONDS" ] || break
    sleep 1
    waited=$((waited + 1))
  done
  fail "restore point created at $lsn, but $walfile was not archived within ${RESTORE_POINT_ARCHIVE_WAIT_SECONDS} s (check archive_command and pg_stat_archiver.last_failed_wal)"
}

main() {
  check_settings
  create_point
  if [ "$RESTORE_POINT_ARCHIVE_WAIT_SECONDS" -eq 0 ]; then
    log "not waiting for the archive"
    return 0
  fi
  wait_archived
}

main "$@"
