#!/bin/sh
# restore-drill.sh: the scheduled restore drill. Restores the newest complete base backup plus the
# WAL archive, replayed to the end (latest), into a scratch folder with restore-data.sh, starts a
# server of its own there, waits for it to promote, checks it, and prints ONE JSON line on stdout
# (every other message goes to stderr). It runs while the database runs and never changes the
# archive or the backups: the server has archive_mode = off, its own port and socket, no TCP.
#
# Environment (defaults are the in-cluster values):
#   BACKUP_DIR                            /var/lib/backup (read only)
#   WAL_ARCHIVE_DIR                       /var/lib/postgresql/wal-archive (read only)
#   BACKUP_NAME_PREFIX                    postgres-base-backup (the library sets {name}-postgres-base-backup)
#   RESTORE_DRILL_DIR                     /var/lib/postgresql/restore-drill: the scratch volume; the drill
#                                         works in its sub-folder pitr-restore-drill, removed at the end
#   RESTORE_DRILL_SCRATCH_LIMIT_MB        (empty) the scratch volume's size limit in MiB (an emptyDir's
#                                         sizeLimit, which df does not show); empty = what df reports
#   RESTORE_DRILL_PORT                    5433: the drill server's port (on its socket only)
#   RESTORE_DRILL_TIMEOUT_SECONDS         3600: longest wait for recovery to end and the server to promote
#   RESTORE_DRILL_AMCHECK                 true: bt_index_check on every btree index of every database
#   RESTORE_DRILL_CHECK_TIMEOUT_SECONDS   600: statement_timeout of each amcheck and user check
#   RESTORE_DRILL_CHECKS                  (empty) a file of user checks, one a line, tab-separated:
#                                         <name> <database> <sql> <expected> (see restore-drill-checks.sh)
#   RESTORE_DRILL_KEEP                    false: true keeps the scratch data for inspection
#   PGUSER                                postgres: a role of the restored database the checks connect as
#                                         (a superuser for amcheck; the drill server trusts its own socket)
#
# Result: {"ok": ..., "backup": ..., "recovered_to": ..., "seconds_to_restore": ...,
# "replay_bytes_per_second": ..., "checks": [{"name": ..., "ok": ...}, ...], "error": ...}; see the README.
# Exit codes: 0 the drill passed; 1 any failure (the JSON line says which step and why).
# Needs pitr-lib.sh, pitr-store.sh, restore-drill-checks.sh, restore-wal.sh and restore-data.sh
# (with its helpers) beside it, and postgres and psql on PATH.
set -eu

me='restore-drill.sh'
log_stream=stderr
BACKUP_DIR="${BACKUP_DIR:-/var/lib/backup}"
WAL_ARCHIVE_DIR="${WAL_ARCHIVE_DIR:-/var/lib/postgresql/wal-archive}"
BACKUP_NAME_PREFIX="${BACKUP_NAME_PREFIX:-postgres-base-backup}"
RESTORE_DRILL_DIR="${RESTORE_DRILL_DIR:-/var/lib/postgresql/restore-drill}"
RESTORE_DRILL_SCRATCH_LIMIT_MB="${RESTORE_DRILL_SCRATCH_LIMIT_MB:-}"
RESTORE_DRILL_PORT="${RESTORE_DRILL_PORT:-5433}"
RESTORE_DRILL_TIMEOUT_SECONDS="${RESTORE_DRILL_TIMEOUT_SECONDS:-3600}"
RESTORE_DRILL_AMCHECK="${RESTORE_DRILL_AMCHECK:-true}"
RESTORE_DRILL_CHECK_TIMEOUT_SECONDS="${RESTORE_DRILL_CHECK_TIMEOUT_SECONDS:-600}"
RESTORE_DRILL_CHECKS="${RESTORE_DRILL_CHECKS:-}"
RESTORE_DRILL_KEEP="${RESTORE_DRILL_KEEP:-false}"
PGUSER="${PGUSER:-postgres}"
export BACKUP_DIR WAL_ARCHIVE_DIR BACKUP_NAME_PREFIX PGUSER
script_dir=$(dirname "$0")
[ -f "$script_dir/pitr-lib.sh" ] || { printf '%s: ERROR: %s not found\n' "$me" "$script_dir/pitr-lib.sh" >&2; exit 1; }
# shellcheck source=pitr-lib.sh
. "$script_dir/pitr-lib.sh"
need_helper pitr-store.sh
# shellcheck source=pitr-store.sh
. "$script_dir/pitr-store.sh"
need_helper restore-drill-checks.sh
# shellcheck source=restore-drill-checks.sh
. "$script_dir/restore-drill-checks.sh"

# positive NAME VALUE: fails unless VALUE (the setting NAME) is a whole number above 0.
positive() { if ! is_uint "$2" || [ "$2" -eq 0 ]; then fail "$1 must be a whole number above 0, got '$2'"; fi; }

# check_settings: checks the environment and the tools; sets work, pgdata and sock.
check_settings() {
  step=settings
  positive RESTORE_DRILL_PORT "$RESTORE_DRILL_PORT"
  positive RESTORE_DRILL_TIMEOUT_SECONDS "$RESTORE_DRILL_TIMEOUT_SECONDS"
  positive RESTORE_DRILL_CHECK_TIMEOUT_SECONDS "$RESTORE_DRILL_CHECK_TIMEOUT_SECONDS"
  [ "$RESTORE_DRILL_PORT" -le 65535 ] || fail "RESTORE_DRILL_PORT must be a port number, got '$RESTORE_DRILL_PORT'"
  [ -z "$RESTORE_DRILL_SCRATCH_LIMIT_MB" ] || is_uint "$RESTORE_DRILL_SCRATCH_LIMIT_MB" ||
    fail "RESTORE_DRILL_SCRATCH_LIMIT_MB must be MiB (a whole number) or empty, got '$RESTORE_DRILL_SCRATCH_LIMIT_MB'"
  check_bool RESTORE_DRILL_AMCHECK "$RESTORE_DRILL_AMCHECK"
  check_bool RESTORE_DRILL_KEEP "$RESTORE_DRILL_KEEP"
  # These paths go into restore_command and the server's options: only inert characters
  # (the server runs restore_command in PGDATA: absolute paths only).
  abs=$(cd -- "$script_dir" && pwd -P) || fail "cannot resolve the scripts folder $script_dir"
  for p in "$RESTORE_DRILL_DIR" "$WAL_ARCHIVE_DIR" "$abs"; do
    case "$p" in /*[!A-Za-z0-9._/-]* | [!/]* | '') fail "the path '$p' must be absolute and hold only letters, digits and . _ / -" ;; esac
  done
  [ -d "$RESTORE_DRILL_DIR" ] || fail "the scratch folder RESTORE_DRILL_DIR '$RESTORE_DRILL_DIR' does not exist"
  [ -w "$RESTORE_DRILL_DIR" ] || fail "the scratch folder RESTORE_DRILL_DIR '$RESTORE_DRILL_DIR' is not writable"
  [ -d "$WAL_ARCHIVE_DIR" ] || fail "the WAL archive '$WAL_ARCHIVE_DIR' is not a folder"
  for c in postgres psql; do need_command "$c"; done
  for h in restore-data.sh restore-wal.sh; do need_helper "$h"; done
  read_checks
  work="$RESTORE_DRILL_DIR/pitr-restore-drill"
  pgdata="$work/pgdata"
  sock="$work/socket"
}

# restore: restore-data.sh into the scratch (latest, promote, the archive read by restore-wal.sh;
# no primary to check: the database runs on). Sets backup and the b_* variables of the backup used.
restore() {
  step=restore
  rm -rf -- "$work" || fail "could not remove the scratch folder $work of an earlier drill"
  mkdir -m 0700 -- "$work" "$sock" || fail "could not create the scratch folder $work"
  printf '%s\n' "restore_command = 'WAL_ARCHIVE_DIR=$WAL_ARCHIVE_DIR /bin/sh $abs/restore-wal.sh \"%f\" \"%p\"'" \
    "recovery_target_timeline = 'latest'" "recovery_target_action = 'promote'" >"$work/recovery.conf"
  rc=0
  PGDATA=$pgdata RECOVERY_SETTINGS_FILE=$work/recovery.conf RECOVERY_SIGNAL_FILE=recovery.signal RECOVERY_TARGET_TYPE=latest \
    RECOVERY_TARGET_TIMELINE=latest RESTORE_BACKUP='' RESTORE_OLD_DATA=delete RESTORE_ALLOW_TRUNCATED_HISTORY=false \
    RESTORE_TARGET_DIR=/nonexistent PRIMARY_HOST='' sh "$script_dir/restore-data.sh" >"$work/restore.log" 2>&1 || rc=$?
  log_lines '| ' <"$work/restore.log"
  backup=$(sed -n 's/^restore-data\.sh: backup: \([^ ]*\) (.*$/\1/p' "$work/restore.log" | tail -n 1)
  [ "$rc" -eq 0 ] || fail "restore-data.sh failed (exit $rc): $(sed -n 's/^restore-data\.sh: ERROR: //p' "$work/restore.log" | tail -n 1)"
  line=$(sh "$script_dir/pitr-catalog.sh" backups | awk -v n="$backup" '$2 == n')
  [ -n "$line" ] || fail "restore-data.sh did not name a complete backup it restored (got '$backup')"
  parse_backup "$line"
  is_lsn "$b_start_lsn" || fail "backup $backup has no valid start LSN ('$b_start_lsn')"
}

# start_server: starts postgres on the restored data: archive_mode off, no TCP, the socket in the
# scratch, a pg_hba.conf that trusts that socket only, no hot standby (nothing connects before
# promotion, and the primary's max_connections and the like need not match). Sets pid.
start_server() {
  step=recovery
  printf 'local all all trust\n' >"$work/pg_hba.conf"
  postgres -D "$pgdata" -c archive_mode=off -c listen_addresses= -c port="$RESTORE_DRILL_PORT" \
    -c unix_socket_directories="$sock" -c unix_socket_permissions=0700 -c hba_file="$work/pg_hba.conf" -c ssl=off \
    -c hot_standby=off -c max_wal_size=256MB -c logging_collector=off -c log_destination=stderr \
    -c shared_preload_libraries= >"$work/server.log" 2>&1 &
  pid=$!
  log "server started (pid $pid, port $RESTORE_DRILL_PORT, socket $sock), replaying WAL up to the end of the archive"
}

# wait_promoted: polls until the server answers with pg_is_in_recovery() = f; fails when it exits
# or after RESTORE_DRILL_TIMEOUT_SECONDS.
wait_promoted() {
  until_epoch=$(($(date +%s) + RESTORE_DRILL_TIMEOUT_SECONDS))
  while :; do
    if r=$(echo 'SELECT pg_is_in_recovery()' | sql postgres 2>"$work/poll.err") && [ "$r" = f ]; then return 0; fi
    # Once the server accepts connections, a missing role or database never goes away: fail now, not at the timeout.
    if grep -q 'does not exist' "$work/poll.err"; then fail "the drill server is up but: $(psql_error "$work/poll.err") (PGUSER=$PGUSER)"; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      pid=''
      fail "the drill server stopped during recovery: $(grep -E 'FATAL|PANIC' "$work/server.log" | tail -n 3 | tr '\n' ' ')"
    fi
    [ "$(date +%s)" -lt "$until_epoch" ] || fail "recovery did not end within RESTORE_DRILL_TIMEOUT_SECONDS=$RESTORE_DRILL_TIMEOUT_SECONDS s"
    sleep 2
  done
}

# stop_server: fast shutdown, immediate after 60 s.
stop_server() {
  [ -n "${pid:-}" ] || return 0
  kill -INT "$pid" 2>/dev/null || return 0
  n=0
  while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 60 ]; do sleep 1; n=$((n + 1)); done
  if kill -QUIT "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null || true; fi
  log "drill server stopped"
}

# finish: the EXIT trap: stops the server, removes the scratch (unless kept), prints the result.
finish() {
  rc=$?
  trap - EXIT
  set +e
  stop_server
  if [ -n "${work:-}" ] && [ -d "$work" ]; then
    [ ! -f "$work/server.log" ] || tail -n 100 "$work/server.log" | log_lines 'server| ' # the last 100 lines
    if [ "$RESTORE_DRILL_KEEP" = true ]; then log "kept the scratch data in $work"; else rm -rf -- "$work"; fi
  fi
  [ "$rc" -ne 0 ] || [ -z "$failed" ] || { rc=1; error="checks failed:$failed${error:+: $error}"; }
  [ -n "$error" ] || error=${pitr_failure:-}
  result "$rc" >&3
  exit "$rc"
}

main() {
  exec 3>&1 1>&2
  step=start error='' failed='' checks='' backup='' pid='' work=''
  trap finish EXIT
  trap 'fail "interrupted"' HUP INT TERM
  started=$(date +%s)
  check_settings
  archive_end
  check_space
  restore
  extracted=$(date +%s)
  start_server
  wait_promoted
  promoted=$(date +%s)
  step=checks
  run_checks
}

main "$@"
