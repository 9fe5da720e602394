#!/bin/sh
# base-backup.sh: the base backup CronJob. Takes a verified pg_basebackup, applies retention and
# removes archived WAL that no retained backup needs.
#
# Environment (defaults are the in-cluster values):
#   PGHOST, PGPORT (5432), PGUSER       server to back up (libpq variables); the user needs the
#                                       REPLICATION attribute
#   PGPASSWORD                          from a Secret (secretKeyRef); read by libpq, never printed
#   BACKUP_DIR                          /var/lib/backup
#   BACKUP_NAME_PREFIX                  postgres-base-backup (the library sets {name}-postgres-base-backup)
#   BACKUP_RETENTION_SECONDS            432000 (5 days)
#   BACKUP_CHECKPOINT                   fast (fast | spread)
#   WAL_ARCHIVE_DIR                     /var/lib/postgresql/wal-archive
#   WAL_ARCHIVE_CLEANUP                 true (true | false)
#   BACKUP_COMPRESSION                  zstd (zstd | gzip | lz4 | none), client side: this job's CPU
#   BACKUP_COMPRESSION_LEVEL            empty: zstd 1, gzip 6, lz4's default
#   BACKUP_COMPRESSION_WORKERS          0 (zstd only: compression threads; 0 = one thread)
# Needs pitr-lib.sh, pitr-store*.sh, pitr-identity.sh, pitr-catalog.sh and base-backup-*.sh beside it.
#
# Result: ${BACKUP_DIR}/${BACKUP_NAME_PREFIX}-DD_MM_YYYY_HH_MM_SS (UTC start time) holding exactly
# base.tar.EXT, pg_wal.tar.EXT (EXT: zst, gz, lz4, or plain .tar), backup_manifest, pitr_identity and
# pitr_backup_info (key=value lines: name, start_time, start_epoch, end_time, end_epoch (rounded up),
# start_lsn, end_lsn, timeline, start_wal, compression; then archive_check* from the continuity check).
# Written to ${BACKUP_DIR}/.incomplete-<name>, verified, renamed; a trap removes it on failure, TERM
# or INT; stale .incomplete-/.deleting- folders of this prefix from a killed run go at the next start.
# Retention: complete backups of this prefix (with pitr_backup_info) that ended before now -
# BACKUP_RETENTION_SECONDS are deleted, never the newest; then the WAL before the oldest one's start_wal.
# Exit codes: 0 success; 1 any failure (nothing that looks like a backup is left behind).
set -eu

me='base-backup.sh'
log_stream=stdout
BACKUP_DIR="${BACKUP_DIR:-/var/lib/backup}"
BACKUP_NAME_PREFIX="${BACKUP_NAME_PREFIX:-postgres-base-backup}"
BACKUP_RETENTION_SECONDS="${BACKUP_RETENTION_SECONDS:-432000}"
BACKUP_CHECKPOINT="${BACKUP_CHECKPOINT:-fast}"
WAL_ARCHIVE_DIR="${WAL_ARCHIVE_DIR:-/var/lib/postgresql/wal-archive}"
WAL_ARCHIVE_CLEANUP="${WAL_ARCHIVE_CLEANUP:-true}"
export PGPORT="${PGPORT:-5432}"
export BACKUP_DIR BACKUP_NAME_PREFIX WAL_ARCHIVE_DIR
script_dir=$(dirname "$0")
[ -f "$script_dir/pitr-lib.sh" ] || { printf '%s: ERROR: %s not found\n' "$me" "$script_dir/pitr-lib.sh" >&2; exit 1; }
# shellcheck source=pitr-lib.sh
. "$script_dir/pitr-lib.sh"
for helper in pitr-store.sh pitr-identity.sh base-backup-verify.sh base-backup-continuity.sh; do need_helper "$helper"; done
# shellcheck source=pitr-store.sh
. "$script_dir/pitr-store.sh"
# shellcheck source=pitr-identity.sh
. "$script_dir/pitr-identity.sh"
# shellcheck source=base-backup-verify.sh
. "$script_dir/base-backup-verify.sh"
# shellcheck source=base-backup-continuity.sh
. "$script_dir/base-backup-continuity.sh"

# check_settings: fails on a bad setting, a missing folder, helper or pg_basebackup.
check_settings() {
  case "$BACKUP_NAME_PREFIX" in
    '' | .* | */* | *[!A-Za-z0-9._-]*) fail "BACKUP_NAME_PREFIX must be letters, digits, '.', '_' or '-' and not start with '.', got '$BACKUP_NAME_PREFIX'" ;;
  esac
  is_uint "$BACKUP_RETENTION_SECONDS" || fail "BACKUP_RETENTION_SECONDS must be a whole number of seconds, got '$BACKUP_RETENTION_SECONDS'"
  case "$BACKUP_CHECKPOINT" in fast | spread) ;; *) fail "BACKUP_CHECKPOINT must be fast or spread, got '$BACKUP_CHECKPOINT'" ;; esac
  check_bool WAL_ARCHIVE_CLEANUP "$WAL_ARCHIVE_CLEANUP"
  [ -d "$BACKUP_DIR" ] || fail "backup folder '$BACKUP_DIR' does not exist"
  need_helper pitr-catalog.sh
  [ -w "$BACKUP_DIR" ] || fail "backup folder '$BACKUP_DIR' is not writable"
  need_command pg_basebackup
  compress_arg=$(backup_compress_arg) || exit 1
}

# remove_leftovers: removes the .incomplete-/.deleting- folders of this prefix of a killed run.
remove_leftovers() {
  for d in "$BACKUP_DIR"/.incomplete-"$BACKUP_NAME_PREFIX"-* "$BACKUP_DIR"/.deleting-"$BACKUP_NAME_PREFIX"-*; do
    [ -d "$d" ] || continue
    if has_stamp "${d##*/}" ".incomplete-$BACKUP_NAME_PREFIX-" || has_stamp "${d##*/}" ".deleting-$BACKUP_NAME_PREFIX-"; then
      log "removing leftover folder of an interrupted run: $d"
      rm -rf -- "$d" || fail "could not remove '$d'"
    fi
  done
}

# children_of PID: process ids of the children of PID (Linux /proc; field 4 of stat is the parent).
children_of() {
  for s in /proc/[0-9]*/stat; do
    awk -v p="$1" '{ sub(/^.*\) /, ""); if ($2 == p) print FILENAME }' "$s" 2>/dev/null || true
  done | sed 's|^/proc/\([0-9]*\)/stat$|\1|'
}

# cleanup: the EXIT trap. Stops a running pg_basebackup (and the WAL receiver it forks, which
# survives a killed parent) and removes the unfinished backup folder.
cleanup() {
  if [ -n "$child" ]; then
    kids=$(children_of "$child")
    # shellcheck disable=SC2086 # kids is a list of numeric process ids
    kill "$child" $kids 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  if [ "$done_ok" != true ] && [ -e "$work" ]; then
    log_stderr "removing incomplete backup $work"
    rm -rf -- "$work" || true
  fi
}

# take_backup: runs pg_basebackup into $work; sets end_epoch and end_time. It runs in the
# background so that TERM/INT are handled at once (a shell runs traps only after a foreground
# command ends).
take_backup() {
  mkdir -m 0700 -- "$work" || fail "could not create '$work'"
  log "starting backup $name of ${PGHOST:-local socket}:$PGPORT as ${PGUSER:-default user} into $work"
  pg_basebackup -D "$work" -Ft --compress="$compress_arg" -X stream --checkpoint="$BACKUP_CHECKPOINT" \
    --manifest-checksums=CRC32C -w -l "$name" &
  child=$!
  rc=0
  wait "$child" || rc=$?
  child=''
  [ "$rc" -eq 0 ] || fail "pg_basebackup failed with exit code $rc"
  # Rounded up to the next whole second: the backup has surely ended by end_epoch, so a backup
  # with end_epoch <= a recovery target time really ends before that target.
  end_epoch=$(($(date -u +%s) + 1))
  end_time=$(iso "$end_epoch")
  backup_pack_wal "$work"
  log "pg_basebackup ($compress_arg) finished in $((end_epoch - start_epoch)) s; verifying"
}

# identify_system: sets sysid and major (IDENTIFY_SYSTEM); fails when the archive is another system's.
identify_system() {
  id=$(psql -XAtq -d "replication=true" -c IDENTIFY_SYSTEM) || fail "IDENTIFY_SYSTEM on the server failed"
  sysid=${id%%|*}
  num=$(psql -XAtq -d "replication=true" -c "SHOW server_version_num") || fail "SHOW server_version_num failed"
  major=$((num / 10000))
  a=$(identity_value "$WAL_ARCHIVE_DIR/pitr_identity" system_identifier)
  [ -z "$a" ] || [ "$a" = "$sysid" ] || fail "the server is database system $sysid, and the WAL archive belongs to system $a (its pitr_identity): a backup of it could not use this archive. Nothing was backed up."
}

# publish: writes pitr_backup_info and pitr_identity, flushes the backup and renames it.
publish() {
  write_identity "$work/pitr_identity" "$sysid" "$major" "$timeline" || fail "could not write $work/pitr_identity"
  printf 'name=%s\nstart_time=%s\nstart_epoch=%s\nend_time=%s\nend_epoch=%s\nstart_lsn=%s\nend_lsn=%s\ntimeline=%s\nstart_wal=%s\ncompression=%s\n' \
    "$name" "$start_time" "$start_epoch" "$end_time" "$end_epoch" "$start_lsn" "$end_lsn" "$timeline" "$start_wal" "$compress_arg" \
    >"$work/pitr_backup_info" || fail "could not write $work/pitr_backup_info"
  for f in "$work"/*; do flush "$f"; done
  flush "$work"
  mv -- "$work" "$final" || fail "could not rename '$work' to '$final'"
  done_ok=true
  flush "$BACKUP_DIR"
  log "backup complete: $final (start_wal $start_wal, LSN $start_lsn - $end_lsn, timeline $timeline)"
}

# apply_retention: deletes the complete backups of this prefix that ended before now -
# BACKUP_RETENTION_SECONDS, never the newest one.
apply_retention() {
  cutoff=$(($(date -u +%s) - BACKUP_RETENTION_SECONDS))
  backups=$(catalog backups) || fail "could not list the backups"
  newest=$(printf '%s\n' "$backups" | tail -n 1 | cut -d ' ' -f 2)
  log "retention: keeping backups that ended at or after $(iso "$cutoff") (${BACKUP_RETENTION_SECONDS} s) and always the newest ($newest)"
  printf '%s\n' "$backups" | while read -r e b _; do
    if [ -z "$b" ] || [ "$b" = "$newest" ] || [ "$e" -ge "$cutoff" ]; then continue; fi
    log "deleting expired backup $b (ended $(iso "$e"))"
    # Rename first so that a half-deleted folder never looks like a backup.
    mv -- "$BACKUP_DIR/$b" "$BACKUP_DIR/.deleting-$b" || fail "could not rename '$BACKUP_DIR/$b'"
    rm -rf -- "$BACKUP_DIR/.deleting-$b" || fail "could not delete '$BACKUP_DIR/.deleting-$b'"
  done
}

# clean_wal_archive: removes archived WAL older than the oldest retained backup's start_wal.
clean_wal_archive() {
  oldest_line=$(catalog backups | head -n 1) || fail "could not list the backups"
  parse_backup "$oldest_line"
  is_wal_name "$b_start_wal" || fail "oldest retained backup $b_name has no valid start_wal"
  removed=$(archive_remove_before "$b_start_wal") || exit 1
  log "WAL cleanup: removed $removed archived files older than $b_start_wal (start of the oldest retained backup $b_name)"
}

main() {
  check_settings
  remove_leftovers
  start_epoch=$(date -u +%s)
  name="$BACKUP_NAME_PREFIX-$(date -u -d "@$start_epoch" +%d_%m_%Y_%H_%M_%S)"
  start_time=$(iso "$start_epoch")
  final="$BACKUP_DIR/$name"
  work="$BACKUP_DIR/.incomplete-$name"
  [ ! -e "$final" ] || fail "'$final' already exists (two backups in the same second?)"
  child=''
  done_ok=false
  trap cleanup EXIT
  trap 'log_stderr interrupted; cleanup; child=""; exit 1' HUP INT TERM
  identify_system
  take_backup
  verify_backup "$work"
  publish
  apply_retention
  if [ "$WAL_ARCHIVE_CLEANUP" = true ]; then
    clean_wal_archive
  else
    log "WAL cleanup disabled (WAL_ARCHIVE_CLEANUP=false)"
  fi
  verify_continuity "$final/pitr_backup_info"
  log "done"
}

main "$@"
