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
# Needs pitr-catalog.sh in the same folder.
#
# Result: ${BACKUP_DIR}/${BACKUP_NAME_PREFIX}-DD_MM_YYYY_HH_MM_SS (UTC start time) holding exactly
# base.tar.gz, pg_wal.tar.gz, backup_manifest and pitr_backup_info (key=value lines: name,
# start_time, start_epoch, end_time, end_epoch (rounded up), start_lsn, end_lsn, timeline, start_wal).
# The backup is written to ${BACKUP_DIR}/.incomplete-<name>, verified, then renamed; a trap
# removes it on failure, TERM or INT, and stale .incomplete-/.deleting- folders of this prefix
# from a killed run are removed at the start of the next one.
# Retention: complete backups of this prefix (folder name matches and pitr_backup_info exists)
# whose end_epoch is older than now - BACKUP_RETENTION_SECONDS are deleted, never the newest one;
# then pg_archivecleanup removes WAL older than the oldest retained backup's start_wal.
# Exit codes: 0 success; 1 any failure (nothing that looks like a backup is left behind).
set -eu

me='base-backup.sh'
BACKUP_DIR="${BACKUP_DIR:-/var/lib/backup}"
BACKUP_NAME_PREFIX="${BACKUP_NAME_PREFIX:-postgres-base-backup}"
BACKUP_RETENTION_SECONDS="${BACKUP_RETENTION_SECONDS:-432000}"
BACKUP_CHECKPOINT="${BACKUP_CHECKPOINT:-fast}"
WAL_ARCHIVE_DIR="${WAL_ARCHIVE_DIR:-/var/lib/postgresql/wal-archive}"
WAL_ARCHIVE_CLEANUP="${WAL_ARCHIVE_CLEANUP:-true}"
export PGPORT="${PGPORT:-5432}"
export BACKUP_DIR BACKUP_NAME_PREFIX WAL_ARCHIVE_DIR
script_dir=$(dirname "$0")

log() { printf '%s: %s\n' "$me" "$*"; }
warn() { printf '%s: WARNING: %s\n' "$me" "$*" >&2; }
fail() { printf '%s: ERROR: %s\n' "$me" "$*" >&2; exit 1; }

# Flush a file or folder to disk (busybox sync before 1.24 takes no operand).
flush() { sync -- "$1" 2>/dev/null || sync "$1" 2>/dev/null || sync; }

is_uint() { case "$1" in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }
is_wal_name() {
  case "$1" in
    [0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F]) return 0 ;;
    *) return 1 ;;
  esac
}
# Is $1 "<prefix><DD_MM_YYYY_HH_MM_SS>"? ($2 is the literal part before the time stamp.)
has_stamp() {
  case "$1" in
    "$2"[0-9][0-9]_[0-9][0-9]_[0-9][0-9][0-9][0-9]_[0-9][0-9]_[0-9][0-9]_[0-9][0-9]) return 0 ;;
    *) return 1 ;;
  esac
}

# --- settings -----------------------------------------------------------------------------------
case "$BACKUP_NAME_PREFIX" in
  '' | .* | */* | *[!A-Za-z0-9._-]*) fail "BACKUP_NAME_PREFIX must be letters, digits, '.', '_' or '-' and not start with '.', got '$BACKUP_NAME_PREFIX'" ;;
esac
is_uint "$BACKUP_RETENTION_SECONDS" || fail "BACKUP_RETENTION_SECONDS must be a whole number of seconds, got '$BACKUP_RETENTION_SECONDS'"
case "$BACKUP_CHECKPOINT" in fast | spread) ;; *) fail "BACKUP_CHECKPOINT must be fast or spread, got '$BACKUP_CHECKPOINT'" ;; esac
case "$WAL_ARCHIVE_CLEANUP" in true | false) ;; *) fail "WAL_ARCHIVE_CLEANUP must be true or false, got '$WAL_ARCHIVE_CLEANUP'" ;; esac
[ -d "$BACKUP_DIR" ] || fail "backup folder '$BACKUP_DIR' does not exist"
[ -f "$script_dir/pitr-catalog.sh" ] || fail "helper '$script_dir/pitr-catalog.sh' not found (it ships beside this script)"
[ -w "$BACKUP_DIR" ] || fail "backup folder '$BACKUP_DIR' is not writable"
command -v pg_basebackup >/dev/null 2>&1 || fail "pg_basebackup not found on PATH"

# --- cleanup of a killed earlier run ------------------------------------------------------------
for d in "$BACKUP_DIR"/.incomplete-"$BACKUP_NAME_PREFIX"-* "$BACKUP_DIR"/.deleting-"$BACKUP_NAME_PREFIX"-*; do
  [ -d "$d" ] || continue
  base=${d##*/}
  if has_stamp "$base" ".incomplete-$BACKUP_NAME_PREFIX-" || has_stamp "$base" ".deleting-$BACKUP_NAME_PREFIX-"; then
    log "removing leftover folder of an interrupted run: $d"
    rm -rf -- "$d" || fail "could not remove '$d'"
  fi
done

# --- backup ---------------------------------------------------------------------------------------
start_epoch=$(date -u +%s)
name="$BACKUP_NAME_PREFIX-$(date -u -d "@$start_epoch" +%d_%m_%Y_%H_%M_%S)"
start_time=$(date -u -d "@$start_epoch" +%Y-%m-%dT%H:%M:%SZ)
final="$BACKUP_DIR/$name"
work="$BACKUP_DIR/.incomplete-$name"
[ ! -e "$final" ] || fail "'$final' already exists (two backups in the same second?)"

# Process ids of the children of process $1 (Linux /proc; field 4 of stat is the parent id).
children_of() {
  for s in /proc/[0-9]*/stat; do
    awk -v p="$1" '{ sub(/^.*\) /, ""); if ($2 == p) print FILENAME }' "$s" 2>/dev/null || true
  done | sed 's|^/proc/\([0-9]*\)/stat$|\1|'
}

child=''
done_ok=false
cleanup() {
  if [ -n "$child" ]; then
    # pg_basebackup -X stream forks a WAL receiver that survives a killed parent: stop both.
    kids=$(children_of "$child")
    # shellcheck disable=SC2086 # kids is a list of numeric process ids
    kill "$child" $kids 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  if [ "$done_ok" != true ] && [ -e "$work" ]; then
    printf '%s: removing incomplete backup %s\n' "$me" "$work" >&2
    rm -rf -- "$work" || true
  fi
}
trap cleanup EXIT
trap 'printf "%s: interrupted\n" "$me" >&2; cleanup; child=""; exit 1' HUP INT TERM

mkdir -m 0700 -- "$work" || fail "could not create '$work'"
log "starting backup $name of ${PGHOST:-local socket}:$PGPORT as ${PGUSER:-default user} into $work"
# pg_basebackup runs in the background so that TERM/INT are handled at once (a shell runs traps
# only after a foreground command ends).
pg_basebackup -D "$work" -Ft -z -X stream --checkpoint="$BACKUP_CHECKPOINT" \
  --manifest-checksums=CRC32C -w -l "$name" &
child=$!
rc=0
wait "$child" || rc=$?
child=''
[ "$rc" -eq 0 ] || fail "pg_basebackup failed with exit code $rc"
# Rounded up to the next whole second: the backup has surely ended by end_epoch, so a backup
# with end_epoch <= a recovery target time really ends before that target.
end_epoch=$(($(date -u +%s) + 1))
end_time=$(date -u -d "@$end_epoch" +%Y-%m-%dT%H:%M:%SZ)
log "pg_basebackup finished in $((end_epoch - start_epoch)) s; verifying"

# --- verification (pg_verifybackup cannot check tar backups before PostgreSQL 18) -----------------
for f in "$work"/* "$work"/.[!.]*; do
  [ -e "$f" ] || continue
  case "${f##*/}" in
    base.tar.gz | pg_wal.tar.gz | backup_manifest) ;;
    *) fail "unexpected file '${f##*/}' in the backup (tablespaces are not supported)" ;;
  esac
done
for f in base.tar.gz pg_wal.tar.gz backup_manifest; do
  [ -s "$work/$f" ] || fail "$f is missing or empty"
done
gzip -t "$work/base.tar.gz" || fail "base.tar.gz fails gzip -t"
gzip -t "$work/pg_wal.tar.gz" || fail "pg_wal.tar.gz fails gzip -t"

manifest="$work/backup_manifest"
sum=$(sed -n 's/^"Manifest-Checksum": "\([0-9a-f]*\)"}$/\1/p' "$manifest")
[ -n "$sum" ] || fail "backup_manifest has no Manifest-Checksum line"
if command -v sha256sum >/dev/null 2>&1; then
  # The checksum covers every byte before the last line.
  actual=$(sed '$d' "$manifest" | sha256sum | cut -d ' ' -f 1)
  [ "$actual" = "$sum" ] || fail "backup_manifest checksum mismatch (expected $sum, got $actual)"
fi

# Every file of the manifest must be in base.tar.gz with the listed size.
check=$(tar tzvf "$work/base.tar.gz" | awk '
  function problem(msg) { if (++bad <= 10) print msg }
  FNR == NR {
    if (substr($1, 1, 1) != "-") next
    n = $6; for (i = 7; i <= NF; i++) n = n " " $i
    size[n] = $3; next
  }
  /^\{ "Encoded-Path": / { encoded++; next }
  /^\{ "Path": "/ {
    line = $0
    sub(/^\{ "Path": "/, "", line)
    p = line; sub(/", "Size": .*$/, "", p)
    gsub(/\\"/, "\"", p); gsub(/\\\\/, "\\", p)
    s = line; sub(/^.*", "Size": /, "", s); sub(/,.*$/, "", s)
    files++
    if (!(p in size)) problem("missing from base.tar.gz: " p)
    else if (size[p] != s) problem("size of " p " is " size[p] " in base.tar.gz, " s " in the manifest")
  }
  END {
    if (files == 0) { problem("no Path entries in backup_manifest") }
    if (encoded > 0) print "warning: " encoded " encoded paths not checked"
    if (bad > 10) print "... and " (bad - 10) " more problems"
    if (bad > 0) exit 1
    print "ok " files
  }' - "$manifest") || fail "base.tar.gz does not match backup_manifest: $check"
log "manifest check: $check files of backup_manifest present in base.tar.gz with their sizes"

# WAL range and start segment.
ranges=$(sed -n 's/^{ "Timeline": \([0-9]*\), "Start-LSN": "\([0-9A-F]*\/[0-9A-F]*\)", "End-LSN": "\([0-9A-F]*\/[0-9A-F]*\)" },\{0,1\}$/\1 \2 \3/p' "$manifest")
[ -n "$ranges" ] || fail "backup_manifest has no WAL-Ranges entry"
start_lsn=$(printf '%s\n' "$ranges" | head -n 1 | cut -d ' ' -f 2)
end_lsn=$(printf '%s\n' "$ranges" | tail -n 1 | cut -d ' ' -f 3)
timeline=$(printf '%s\n' "$ranges" | tail -n 1 | cut -d ' ' -f 1)
label=$(tar xzf "$work/base.tar.gz" -O backup_label) || fail "could not read backup_label from base.tar.gz"
start_wal=$(printf '%s\n' "$label" | sed -n 's/^START WAL LOCATION: .* (file \([0-9A-F]*\))$/\1/p')
is_wal_name "$start_wal" || fail "no START WAL LOCATION file name in backup_label"
wal_list=$(tar tzf "$work/pg_wal.tar.gz") || fail "could not list pg_wal.tar.gz"
case "
$wal_list
" in
  *"
$start_wal
"*) ;;
  *) fail "pg_wal.tar.gz does not hold the start segment $start_wal" ;;
esac

info="$work/pitr_backup_info"
{
  printf 'name=%s\n' "$name"
  printf 'start_time=%s\n' "$start_time"
  printf 'start_epoch=%s\n' "$start_epoch"
  printf 'end_time=%s\n' "$end_time"
  printf 'end_epoch=%s\n' "$end_epoch"
  printf 'start_lsn=%s\n' "$start_lsn"
  printf 'end_lsn=%s\n' "$end_lsn"
  printf 'timeline=%s\n' "$timeline"
  printf 'start_wal=%s\n' "$start_wal"
} >"$info" || fail "could not write $info"
for f in "$work"/*; do flush "$f"; done
flush "$work"
mv -- "$work" "$final" || fail "could not rename '$work' to '$final'"
done_ok=true
flush "$BACKUP_DIR"
log "backup complete: $final (start_wal $start_wal, LSN $start_lsn - $end_lsn, timeline $timeline)"

# --- retention ------------------------------------------------------------------------------------
# Complete backups of this prefix, oldest end first: "end_epoch name ..." (see pitr-catalog.sh).
list_complete() { sh "$script_dir/pitr-catalog.sh" backups; }

now=$(date -u +%s)
cutoff=$((now - BACKUP_RETENTION_SECONDS))
backups=$(list_complete) || fail "could not list the backups"
newest=$(printf '%s\n' "$backups" | tail -n 1 | cut -d ' ' -f 2)
log "retention: keeping backups that ended at or after $(date -u -d "@$cutoff" +%Y-%m-%dT%H:%M:%SZ) (${BACKUP_RETENTION_SECONDS} s) and always the newest ($newest)"
printf '%s\n' "$backups" | while read -r e b _; do
  [ -n "$b" ] || continue
  [ "$b" != "$newest" ] || continue
  if [ "$e" -lt "$cutoff" ]; then
    log "deleting expired backup $b (ended $(date -u -d "@$e" +%Y-%m-%dT%H:%M:%SZ))"
    # Rename first so that a half-deleted folder never looks like a backup.
    mv -- "$BACKUP_DIR/$b" "$BACKUP_DIR/.deleting-$b" || fail "could not rename '$BACKUP_DIR/$b'"
    rm -rf -- "$BACKUP_DIR/.deleting-$b" || fail "could not delete '$BACKUP_DIR/.deleting-$b'"
  fi
done

# --- WAL archive cleanup --------------------------------------------------------------------------
if [ "$WAL_ARCHIVE_CLEANUP" = true ]; then
  oldest_line=$(list_complete | head -n 1) || fail "could not list the backups"
  oldest=$(printf '%s\n' "$oldest_line" | cut -d ' ' -f 2)
  oldest_wal=${oldest_line##* }
  is_wal_name "$oldest_wal" || fail "oldest retained backup $oldest has no valid start_wal"
  [ -d "$WAL_ARCHIVE_DIR" ] || fail "WAL archive folder '$WAL_ARCHIVE_DIR' does not exist"
  before=$(find "$WAL_ARCHIVE_DIR" -type f | wc -l)
  pg_archivecleanup "$WAL_ARCHIVE_DIR" "$oldest_wal" || fail "pg_archivecleanup failed"
  after=$(find "$WAL_ARCHIVE_DIR" -type f | wc -l)
  log "WAL cleanup: removed $((before - after)) archived files older than $oldest_wal (start of the oldest retained backup $oldest)"
else
  log "WAL cleanup disabled (WAL_ARCHIVE_CLEANUP=false)"
fi
log "done"
