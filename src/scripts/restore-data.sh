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
#   RECOVERY_TARGET_TYPE             latest (time | xid | lsn | name | immediate | latest)
#   RECOVERY_TARGET_EPOCH            time targets: the target as Unix seconds
#   RECOVERY_TARGET_LSN              lsn targets: the target LSN, X/X hex
#   RESTORE_DELETE_OLD_DATA          false (true deletes the old data directory at the end)
#   RESTORE_ALLOW_TRUNCATED_HISTORY  false (true restores "latest" despite a gap in the archive)
#   RESTORE_TIMESTAMP                UTC YYYYMMDDTHHMMSSZ used in the aside name (default: now)
#
# Steps: choose the backup (RESTORE_BACKUP; time: newest complete backup with end_epoch <=
# target; lsn: newest with end_lsn <= target; otherwise the newest); check that the archived WAL
# from the backup's start_wal onward has no gap (a gap fails "latest" unless allowed, and is a
# warning for other targets); extract base.tar.gz and pg_wal.tar.gz into a staging folder next to
# PGDATA; remove signal files, strip restore_command and recovery_target* lines from its
# postgresql.auto.conf, append RECOVERY_SETTINGS_FILE, create RECOVERY_SIGNAL_FILE; move PGDATA
# aside to <PGDATA>.before-restore-<timestamp>; rename the staging folder to PGDATA.
# Exit codes: 0 restored; 1 any failure (staging removed, the old PGDATA left in place).
# Needs pitr-lib.sh, pitr-store.sh, restore-data-stage.sh and pitr-catalog.sh in the same folder.
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
RESTORE_DELETE_OLD_DATA="${RESTORE_DELETE_OLD_DATA:-false}"
RESTORE_ALLOW_TRUNCATED_HISTORY="${RESTORE_ALLOW_TRUNCATED_HISTORY:-false}"
RESTORE_TIMESTAMP="${RESTORE_TIMESTAMP:-}"
export BACKUP_DIR BACKUP_NAME_PREFIX WAL_ARCHIVE_DIR
script_dir=$(dirname "$0")
[ -f "$script_dir/pitr-lib.sh" ] || { printf '%s: ERROR: %s not found\n' "$me" "$script_dir/pitr-lib.sh" >&2; exit 1; }
# shellcheck source=pitr-lib.sh
. "$script_dir/pitr-lib.sh"
need_helper pitr-store.sh
# shellcheck source=pitr-store.sh
. "$script_dir/pitr-store.sh"
need_helper restore-data-stage.sh
# shellcheck source=restore-data-stage.sh
. "$script_dir/restore-data-stage.sh"

# check_settings: checks the environment; sets parent and base (PGDATA's folder and name),
# target_key (the recovery_target* setting the target type needs; empty for latest) and stamp.
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
    latest) target_key='' ;;
    *) fail "RECOVERY_TARGET_TYPE must be one of time, xid, lsn, name, immediate, latest; got '$RECOVERY_TARGET_TYPE'" ;;
  esac
  case "$RECOVERY_SIGNAL_FILE" in
    recovery.signal) ;;
    standby.signal) warn "standby.signal: the server starts as a standby; without a target it never ends recovery, and it pauses at a target by default. Use recovery.signal for point-in-time recovery." ;;
    *) fail "RECOVERY_SIGNAL_FILE must be recovery.signal or standby.signal, got '$RECOVERY_SIGNAL_FILE'" ;;
  esac
  check_bool RESTORE_DELETE_OLD_DATA "$RESTORE_DELETE_OLD_DATA"
  check_bool RESTORE_ALLOW_TRUNCATED_HISTORY "$RESTORE_ALLOW_TRUNCATED_HISTORY"
  stamp=${RESTORE_TIMESTAMP:-$(date -u +%Y%m%dT%H%M%SZ)}
  case "$stamp" in
    [0-9][0-9][0-9][0-9][0-1][0-9][0-3][0-9]T[0-2][0-9][0-5][0-9][0-5][0-9]Z) ;;
    *) fail "RESTORE_TIMESTAMP must be UTC YYYYMMDDTHHMMSSZ, got '$RESTORE_TIMESTAMP'" ;;
  esac
  case "$RESTORE_BACKUP" in */* | .*) fail "RESTORE_BACKUP must be a folder name in $BACKUP_DIR, got '$RESTORE_BACKUP'" ;; esac
}

# choose_backup: picks the backup (RESTORE_BACKUP, or the newest one that ends before a time or
# LSN target, or the newest one) and sets the b_* variables (parse_backup) and bdir.
choose_backup() {
  backups=$(catalog backups) || fail "could not list the backups in $BACKUP_DIR"
  [ -n "$backups" ] || fail "no complete backup named $BACKUP_NAME_PREFIX-* in $BACKUP_DIR"
  if [ -n "$RESTORE_BACKUP" ]; then
    line=$(printf '%s\n' "$backups" | awk -v n="$RESTORE_BACKUP" '$2 == n')
    [ -n "$line" ] || fail "RESTORE_BACKUP '$RESTORE_BACKUP' is not a complete backup in $BACKUP_DIR (complete backups: $(printf '%s\n' "$backups" | cut -d ' ' -f 2 | tr '\n' ' '))"
    why="requested with RESTORE_BACKUP"
  elif [ "$RECOVERY_TARGET_TYPE" = time ]; then
    line=$(printf '%s\n' "$backups" | awk -v t="$RECOVERY_TARGET_EPOCH" '$1 <= t + 0' | tail -n 1)
    [ -n "$line" ] || fail "no backup ends before the target time $(iso "$RECOVERY_TARGET_EPOCH"); the earliest backup ends at $(printf '%s\n' "$backups" | head -n 1 | cut -d ' ' -f 5). PostgreSQL would silently promote the state at the end of a later backup, so nothing was changed."
    why="newest complete backup that ended at or before the target time $(iso "$RECOVERY_TARGET_EPOCH")"
  elif [ "$RECOVERY_TARGET_TYPE" = lsn ]; then
    line=$(printf '%s\n' "$backups" | awk -v t="$RECOVERY_TARGET_LSN" "$pitr_awk_lsn"'lsn_cmp($7, t) <= 0' | tail -n 1)
    [ -n "$line" ] || fail "no backup ends before the target LSN $RECOVERY_TARGET_LSN; the earliest backup ends at LSN $(printf '%s\n' "$backups" | head -n 1 | cut -d ' ' -f 7). Nothing was changed."
    why="newest complete backup whose end LSN is at or before the target LSN $RECOVERY_TARGET_LSN"
  else
    line=$(printf '%s\n' "$backups" | tail -n 1)
    why="newest complete backup (target: $RECOVERY_TARGET_TYPE)"
  fi
  parse_backup "$line"
  # A requested backup must still end before a time or LSN target (PostgreSQL would not fail).
  if [ "$RECOVERY_TARGET_TYPE" = time ] && [ "$b_end_epoch" -gt "$RECOVERY_TARGET_EPOCH" ]; then
    fail "backup $b_name ends at $b_end_time, after the target time $(iso "$RECOVERY_TARGET_EPOCH"); PostgreSQL would promote the backup-end state instead. Choose an earlier backup."
  fi
  if [ "$RECOVERY_TARGET_TYPE" = lsn ] && ! lsn_le "$b_end_lsn" "$RECOVERY_TARGET_LSN"; then
    fail "backup $b_name ends at LSN $b_end_lsn, after the target LSN $RECOVERY_TARGET_LSN. Choose an earlier backup."
  fi
  bdir="$BACKUP_DIR/$b_name"
  backup_check_files "$bdir"
  log "backup: $b_name ($why); started $b_start_time, ended $b_end_time, LSN $b_start_lsn - $b_end_lsn, timeline $b_timeline, start WAL $b_start_wal"
}

# check_archive: the WAL from the backup's start_wal on (archive plus the backup's pg_wal) must
# have no gap: a gap fails "latest" unless RESTORE_ALLOW_TRUNCATED_HISTORY=true, and is a
# warning for the other targets.
check_archive() {
  walv=$(backup_wal_list "$bdir") || fail "cannot list the WAL files of backup $bdir"
  segsize=$(printf '%s\n' "$walv" | awk -v n="$b_start_wal" '$2 == n { print $1; exit }')
  is_uint "$segsize" || segsize=16777216
  check_wal "$b_start_wal" "$segsize" "$(printf '%s\n' "$walv" | cut -d ' ' -f 2)"
  log "WAL from $b_start_wal: $wal_count segments up to ${wal_last:-none} (archive plus the backup's pg_wal)"
  [ -n "$wal_gap_lines" ] || return 0
  list=$(printf '%s\n' "$wal_gap_lines" | awk '{ printf "%s%s", sep, ($3 == 1 ? $1 : $1 "-" $2 " (" $3 " segments)"); sep = ", " }')
  if [ "$RECOVERY_TARGET_TYPE" != latest ]; then
    warn "the WAL archive has gaps after $b_start_wal: missing $list. If the target lies beyond the first gap PostgreSQL will fail with 'recovery ended before configured recovery target was reached'."
  elif [ "$RESTORE_ALLOW_TRUNCATED_HISTORY" != true ]; then
    fail "the WAL archive has gaps after $b_start_wal: missing $list. Recovery to 'latest' would stop silently at the first gap and promote a shortened history. Nothing was changed. Set RESTORE_ALLOW_TRUNCATED_HISTORY=true to accept that."
  else
    warn "the WAL archive has gaps after $b_start_wal: missing $list; recovery will end at the first gap (RESTORE_ALLOW_TRUNCATED_HISTORY=true)"
  fi
}

# cleanup: the EXIT trap. Before the switch, puts a moved PGDATA back and removes the staging folder.
cleanup() {
  [ "$switched" != true ] || return 0
  if [ "$moved" = true ] && [ ! -e "$PGDATA" ]; then
    mv -- "$aside" "$PGDATA" && log_stderr "put the old data directory back at $PGDATA"
  fi
  if [ -e "$staging" ]; then
    log_stderr "removing staging folder $staging"
    rm -rf -- "$staging" || true
  fi
}

# switch: moves PGDATA aside and renames the staging folder to PGDATA.
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
  if [ "$moved" = true ] && [ "$RESTORE_DELETE_OLD_DATA" = true ]; then
    rm -rf -- "$aside" || fail "the restore is in place, but deleting the old data '$aside' failed"
    log "deleted the old data directory $aside (RESTORE_DELETE_OLD_DATA=true)"
  fi
}

main() {
  check_settings
  check_recovery_settings "$target_key"
  if [ -f "$PGDATA/postmaster.pid" ]; then
    warn "$PGDATA/postmaster.pid exists: make sure the database is stopped (a crashed server leaves this file behind)"
  fi
  choose_backup
  check_archive
  staging="$parent/$base.restore-staging"
  aside="$parent/$base.before-restore-$stamp"
  [ ! -e "$aside" ] || fail "'$aside' already exists"
  moved=false
  switched=false
  trap cleanup EXIT
  trap 'log_stderr interrupted; exit 1' HUP INT TERM
  stage "$staging" "$bdir"
  configure "$staging" "Added by $me at $stamp: recovery from backup $b_name (target: $RECOVERY_TARGET_TYPE)"
  switch
  log "done: start the server; it replays WAL from the archive and ends recovery as configured"
}

main "$@"
