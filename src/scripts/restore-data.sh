#!/bin/sh
# restore-data.sh: automatic data-directory restore for Point-in-Time Recovery. Runs in the
# restore helper pod while the database is stopped. The server then replays the archived WAL up
# to the target when it starts.
#
# Environment (defaults are the in-cluster values):
#   PGDATA                           /var/lib/postgresql/data/pgdata
#   BACKUP_DIR                       /var/lib/backup
#   WAL_ARCHIVE_DIR                  /var/lib/postgresql/wal-archive
#   BACKUP_NAME_PREFIX               postgres-base-backup (the library sets {name}-postgres-base-backup)
#   RESTORE_BACKUP                   backup folder name to restore; empty = chosen for the target
#   RECOVERY_SETTINGS_FILE           /etc/pitr/recovery/recovery.conf (settings appended to
#                                    postgresql.auto.conf: restore_command, the target, ...)
#   RECOVERY_SIGNAL_FILE             recovery.signal (or standby.signal, only to build a standby)
#   RECOVERY_TARGET_TYPE             latest (time | xid | lsn | name | immediate | latest |
#                                    runtime: read from RESTORE_TARGET_DIR, restore-data-target.sh)
#   RECOVERY_TARGET_EPOCH            time targets: the target as Unix seconds
#   RECOVERY_TARGET_LSN              lsn targets: the target LSN, X/X hex
#   RECOVERY_TARGET_TIMELINE         latest (latest | current | a timeline id), as in the settings
#   RESTORE_TARGET_DIR               /etc/pitr/target (runtime: the mounted target ConfigMap)
#   RESTORE_TARGET_CONFIGMAP         postgres-restore-target (its name, for messages)
#   RESTORE_OLD_DATA                 keep (keep | delete, once restored | delete-first, before extracting)
#   RESTORE_ALLOW_TRUNCATED_HISTORY  false (true restores "latest" despite a gap in the archive)
#   RESTORE_TIMESTAMP                UTC YYYYMMDDTHHMMSSZ used in the aside name (default: now)
#   PRIMARY_HOST, PRIMARY_PORT       (empty), 5432: the primary Service (a server answering stops it)
#
# Steps, nothing changed before step 7: 1 read the target (runtime: the ConfigMap, checked like
# synth time); 2 refuse while a server runs; 3 list the old pg_wal's WAL the archive lacks; 4 choose
# the backup on the target timeline's history (and check its identity); 5 check the archive for
# gaps and a time target against the window;
# 6 check the free space; 7 copy the old WAL tail aside, delete the old data first if asked,
# extract the backup into a staging folder, add the tail to its pg_wal, write the recovery
# settings and the signal file; 8 move PGDATA aside to <PGDATA>.before-restore-<timestamp> and
# rename the staging folder to PGDATA.
# Exit codes: 0 restored; 1 any failure (staging removed, the old PGDATA left in place).
# Needs pitr-lib.sh, pitr-store.sh, pitr-identity.sh, pitr-catalog.sh and restore-data-*.sh beside it.
set -eu

me='restore-data.sh'
log_stream=stdout
PGDATA="${PGDATA:-/var/lib/postgresql/data/pgdata}"
BACKUP_DIR="${BACKUP_DIR:-/var/lib/backup}"
WAL_ARCHIVE_DIR="${WAL_ARCHIVE_DIR:-/var/lib/postgresql/wal-archive}"
BACKUP_NAME_PREFIX="${BACKUP_NAME_PREFIX:-postgres-base-backup}"
RESTORE_BACKUP="${RESTORE_BACKUP:-}"
RECOVERY_SETTINGS_FILE="${RECOVERY_SETTINGS_FILE:-/etc/pitr/recovery/recovery.conf}"
RECOVERY_SIGNAL_FILE="${RECOVERY_SIGNAL_FILE:-recovery.signal}"
RECOVERY_TARGET_TYPE="${RECOVERY_TARGET_TYPE:-latest}"
RECOVERY_TARGET_EPOCH="${RECOVERY_TARGET_EPOCH:-}"
RECOVERY_TARGET_LSN="${RECOVERY_TARGET_LSN:-}"
RECOVERY_TARGET_TIMELINE="${RECOVERY_TARGET_TIMELINE:-latest}"
RESTORE_TARGET_DIR="${RESTORE_TARGET_DIR:-/etc/pitr/target}"
RESTORE_TARGET_CONFIGMAP="${RESTORE_TARGET_CONFIGMAP:-postgres-restore-target}"
RESTORE_OLD_DATA="${RESTORE_OLD_DATA:-keep}"
RESTORE_ALLOW_TRUNCATED_HISTORY="${RESTORE_ALLOW_TRUNCATED_HISTORY:-false}"
RESTORE_TIMESTAMP="${RESTORE_TIMESTAMP:-}"
PRIMARY_HOST="${PRIMARY_HOST:-}"
PRIMARY_PORT="${PRIMARY_PORT:-5432}"
export BACKUP_DIR BACKUP_NAME_PREFIX WAL_ARCHIVE_DIR
script_dir=$(dirname "$0")
[ -f "$script_dir/pitr-lib.sh" ] || { printf '%s: ERROR: %s not found\n' "$me" "$script_dir/pitr-lib.sh" >&2; exit 1; }
# shellcheck source=pitr-lib.sh
. "$script_dir/pitr-lib.sh"
need_helper pitr-store.sh
# shellcheck source=pitr-store.sh
. "$script_dir/pitr-store.sh"
for helper in pitr-identity.sh restore-data-stage.sh restore-data-target.sh restore-data-choose.sh restore-data-safety.sh; do need_helper "$helper"; done
# shellcheck source=pitr-identity.sh
. "$script_dir/pitr-identity.sh"
# shellcheck source=restore-data-stage.sh
. "$script_dir/restore-data-stage.sh"
# shellcheck source=restore-data-target.sh
. "$script_dir/restore-data-target.sh"
# shellcheck source=restore-data-choose.sh
. "$script_dir/restore-data-choose.sh"
# shellcheck source=restore-data-safety.sh
. "$script_dir/restore-data-safety.sh"

# check_settings: checks the environment; sets parent and base (PGDATA's folder and name),
# target_key (the recovery_target* setting the settings file must hold; empty for latest and
# runtime) and stamp.
check_settings() {
  while [ "${PGDATA%/}" != "$PGDATA" ]; do PGDATA=${PGDATA%/}; done
  [ -n "$PGDATA" ] || fail "PGDATA must not be /"
  parent=$(dirname "$PGDATA")
  base=$(basename "$PGDATA")
  [ -d "$parent" ] || fail "the parent folder of PGDATA, '$parent', does not exist"
  [ -w "$parent" ] || fail "the parent folder of PGDATA, '$parent', is not writable"
  need_helper pitr-catalog.sh
  target_key=recovery_target_$RECOVERY_TARGET_TYPE
  case "$RECOVERY_TARGET_TYPE" in
    time) is_uint "$RECOVERY_TARGET_EPOCH" || fail "RECOVERY_TARGET_EPOCH must be Unix seconds for a time target, got '$RECOVERY_TARGET_EPOCH'" ;;
    lsn) is_lsn "$RECOVERY_TARGET_LSN" || fail "RECOVERY_TARGET_LSN must look like 0/3000060, got '$RECOVERY_TARGET_LSN'" ;;
    xid | name) ;;
    immediate) target_key=recovery_target ;;
    latest | runtime) target_key='' ;;
    *) fail "RECOVERY_TARGET_TYPE must be one of time, xid, lsn, name, immediate, latest, runtime; got '$RECOVERY_TARGET_TYPE'" ;;
  esac
  case "$RECOVERY_SIGNAL_FILE" in
    recovery.signal) ;;
    standby.signal) warn "standby.signal: the server starts as a standby; without a target it never ends recovery, and it pauses at a target by default. Use recovery.signal for point-in-time recovery." ;;
    *) fail "RECOVERY_SIGNAL_FILE must be recovery.signal or standby.signal, got '$RECOVERY_SIGNAL_FILE'" ;;
  esac
  case "$RESTORE_OLD_DATA" in keep | delete | delete-first) ;; *) fail "RESTORE_OLD_DATA must be keep, delete or delete-first, got '$RESTORE_OLD_DATA'" ;; esac
  case "$RECOVERY_TARGET_TIMELINE" in latest | current) ;; *) is_uint "$RECOVERY_TARGET_TIMELINE" || fail "RECOVERY_TARGET_TIMELINE must be latest, current or a timeline id, got '$RECOVERY_TARGET_TIMELINE'" ;; esac
  is_uint "$PRIMARY_PORT" || fail "PRIMARY_PORT must be a port number, got '$PRIMARY_PORT'"
  check_bool RESTORE_ALLOW_TRUNCATED_HISTORY "$RESTORE_ALLOW_TRUNCATED_HISTORY"
  stamp=${RESTORE_TIMESTAMP:-$(date -u +%Y%m%dT%H%M%SZ)}
  case "$stamp" in
    [0-9][0-9][0-9][0-9][0-1][0-9][0-3][0-9]T[0-2][0-9][0-5][0-9][0-5][0-9]Z) ;;
    *) fail "RESTORE_TIMESTAMP must be UTC YYYYMMDDTHHMMSSZ, got '$RESTORE_TIMESTAMP'" ;;
  esac
  case "$RESTORE_BACKUP" in */* | .*) fail "RESTORE_BACKUP must be a folder name in $BACKUP_DIR, got '$RESTORE_BACKUP'" ;; esac
}

# cleanup: the EXIT trap. Before the switch: puts a moved PGDATA back, removes the staging folder
# and the old WAL tail's copy (kept when the old data directory was deleted first).
cleanup() {
  [ "$switched" != true ] || return 0
  if [ "$moved" = true ] && [ ! -e "$PGDATA" ]; then
    mv -- "$aside" "$PGDATA" && log_stderr "put the old data directory back at $PGDATA"
  fi
  if [ -e "$staging" ]; then
    log_stderr "removing staging folder $staging"
    rm -rf -- "$staging" || true
  fi
  if [ "$deleted" = true ] && [ -d "$tailkeep" ]; then
    log_stderr "the old data directory was deleted first: its unarchived WAL stays in $tailkeep; run the restore again"
  elif [ -e "$tailkeep" ]; then
    rm -rf -- "$tailkeep" || true
  fi
}

# switch: moves PGDATA aside, renames the staging folder to PGDATA.
switch() {
  if [ -e "$PGDATA" ] || [ -L "$PGDATA" ]; then
    mv -- "$PGDATA" "$aside" || fail "could not move '$PGDATA' aside to '$aside'"
    moved=true
    log "old data directory moved to $aside"
  else
    log "no data directory at $PGDATA before the restore"
  fi
  mv -- "$staging" "$PGDATA" || fail "could not rename '$staging' to '$PGDATA'"
  switched=true
  sync
  log "restored $b_name into $PGDATA"
  if [ "$moved" = true ] && [ "$RESTORE_OLD_DATA" = delete ]; then
    rm -rf -- "$aside" || fail "the restore is in place, but deleting the old data '$aside' failed"
    log "deleted the old data directory $aside (RESTORE_OLD_DATA=delete)"
  fi
}

# build: writes the new data directory into the staging folder: the old WAL tail copied aside,
# the old data deleted when asked (delete-first), the backup extracted, the tail added to its
# pg_wal, the recovery settings and the signal file written.
build() {
  if [ -n "$tail_names" ] || [ -d "$tailkeep" ]; then copy_tail "$tailkeep"; fi
  if [ "$RESTORE_OLD_DATA" = delete-first ] && [ -e "$PGDATA" ]; then
    deleted=true
    rm -rf -- "$PGDATA" || fail "deleting the old data directory $PGDATA failed"
    log "deleted the old data directory $PGDATA before extracting (RESTORE_OLD_DATA=delete-first)"
  fi
  stage "$staging" "$bdir"
  if [ -d "$tailkeep" ]; then
    for f in "$tailkeep"/*; do
      [ -f "$f" ] || continue
      mv -f -- "$f" "$staging/pg_wal/" || fail "could not move $f into $staging/pg_wal"
      log "carried over from the old pg_wal: ${f##*/}"
    done
    rmdir -- "$tailkeep" || true
  fi
  configure "$staging" "Added by $me at $stamp: recovery from backup $b_name (target: $RECOVERY_TARGET_TYPE)"
}

main() {
  check_settings
  read_runtime_target
  check_recovery_settings "$target_key"
  check_stopped
  scan_tail
  find_timelines
  choose_backup
  check_archive
  check_window
  check_space "$bdir"
  staging="$parent/$base.restore-staging"
  aside="$parent/$base.before-restore-$stamp"
  tailkeep="$parent/$base.restore-wal-tail"
  [ ! -e "$aside" ] || fail "'$aside' already exists"
  moved=false
  switched=false
  deleted=false
  trap cleanup EXIT
  trap 'log_stderr interrupted; exit 1' HUP INT TERM
  build
  switch
  log "done: start the server; it replays WAL from the archive and ends recovery as configured"
}

main "$@"
