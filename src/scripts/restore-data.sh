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
# Needs pitr-catalog.sh in the same folder.
set -eu

me='restore-data.sh'
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

log() { printf '%s: %s\n' "$me" "$*"; }
warn() { printf '%s: WARNING: %s\n' "$me" "$*" >&2; }
fail() { printf '%s: ERROR: %s\n' "$me" "$*" >&2; exit 1; }
is_uint() { case "$1" in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# --- settings ---------------------------------------------------------------------------------------
while [ "${PGDATA%/}" != "$PGDATA" ]; do PGDATA=${PGDATA%/}; done
[ -n "$PGDATA" ] || fail "PGDATA must not be /"
parent=$(dirname "$PGDATA")
base=$(basename "$PGDATA")
[ -d "$parent" ] || fail "the parent folder of PGDATA, '$parent', does not exist"
[ -w "$parent" ] || fail "the parent folder of PGDATA, '$parent', is not writable"
[ -f "$script_dir/pitr-catalog.sh" ] || fail "helper '$script_dir/pitr-catalog.sh' not found (it ships beside this script)"

case "$RECOVERY_TARGET_TYPE" in
  time)
    is_uint "$RECOVERY_TARGET_EPOCH" || fail "RECOVERY_TARGET_EPOCH must be Unix seconds for a time target, got '$RECOVERY_TARGET_EPOCH'"
    target_key=recovery_target_time
    ;;
  lsn)
    case "$RECOVERY_TARGET_LSN" in
      */*/* | /* | */) fail "RECOVERY_TARGET_LSN must look like 0/3000060, got '$RECOVERY_TARGET_LSN'" ;;
      *[!0-9A-Fa-f/]* | '') fail "RECOVERY_TARGET_LSN must look like 0/3000060, got '$RECOVERY_TARGET_LSN'" ;;
      */*) ;;
      *) fail "RECOVERY_TARGET_LSN must look like 0/3000060, got '$RECOVERY_TARGET_LSN'" ;;
    esac
    target_key=recovery_target_lsn
    ;;
  xid) target_key=recovery_target_xid ;;
  name) target_key=recovery_target_name ;;
  immediate) target_key=recovery_target ;;
  latest) target_key='' ;;
  *) fail "RECOVERY_TARGET_TYPE must be one of time, xid, lsn, name, immediate, latest; got '$RECOVERY_TARGET_TYPE'" ;;
esac
case "$RECOVERY_SIGNAL_FILE" in
  recovery.signal) ;;
  standby.signal) warn "standby.signal: the server starts as a standby; without a target it never ends recovery, and it pauses at a target by default. Use recovery.signal for point-in-time recovery." ;;
  *) fail "RECOVERY_SIGNAL_FILE must be recovery.signal or standby.signal, got '$RECOVERY_SIGNAL_FILE'" ;;
esac
case "$RESTORE_DELETE_OLD_DATA" in true | false) ;; *) fail "RESTORE_DELETE_OLD_DATA must be true or false, got '$RESTORE_DELETE_OLD_DATA'" ;; esac
case "$RESTORE_ALLOW_TRUNCATED_HISTORY" in true | false) ;; *) fail "RESTORE_ALLOW_TRUNCATED_HISTORY must be true or false, got '$RESTORE_ALLOW_TRUNCATED_HISTORY'" ;; esac
if [ -n "$RESTORE_TIMESTAMP" ]; then
  case "$RESTORE_TIMESTAMP" in
    [0-9][0-9][0-9][0-9][0-1][0-9][0-3][0-9]T[0-2][0-9][0-5][0-9][0-5][0-9]Z) ;;
    *) fail "RESTORE_TIMESTAMP must be UTC YYYYMMDDTHHMMSSZ, got '$RESTORE_TIMESTAMP'" ;;
  esac
  stamp=$RESTORE_TIMESTAMP
else
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
fi
case "$RESTORE_BACKUP" in */* | .*) fail "RESTORE_BACKUP must be a folder name in $BACKUP_DIR, got '$RESTORE_BACKUP'" ;; esac

# The recovery settings: at most one target, the one RECOVERY_TARGET_TYPE names, and a
# restore_command (recovery.signal without one is FATAL).
[ -f "$RECOVERY_SETTINGS_FILE" ] || fail "recovery settings file '$RECOVERY_SETTINGS_FILE' not found"
[ -r "$RECOVERY_SETTINGS_FILE" ] || fail "recovery settings file '$RECOVERY_SETTINGS_FILE' is not readable"
keys=$(awk '
  /^[ \t]*(#|$)/ { next }
  { k = tolower($0); sub(/^[ \t]*/, "", k); sub(/[ \t]*=.*$/, "", k); sub(/[ \t].*$/, "", k); print k }
' "$RECOVERY_SETTINGS_FILE")
targets=$(printf '%s\n' "$keys" | grep -E '^recovery_target(_time|_xid|_lsn|_name)?$' || true)
if [ "$(printf '%s\n' "$targets" | grep -c .)" -gt 1 ]; then
  fail "$RECOVERY_SETTINGS_FILE sets more than one recovery target ($(printf '%s' "$targets" | tr '\n' ' ')); PostgreSQL refuses to start with 'multiple recovery targets specified'"
fi
if [ "$targets" != "$target_key" ]; then
  fail "RECOVERY_TARGET_TYPE=$RECOVERY_TARGET_TYPE expects ${target_key:-no recovery target} in $RECOVERY_SETTINGS_FILE, found ${targets:-none}"
fi
if [ "$RECOVERY_SIGNAL_FILE" = recovery.signal ] && ! printf '%s\n' "$keys" | grep -qx restore_command; then
  fail "$RECOVERY_SETTINGS_FILE has no restore_command; recovery.signal needs one"
fi

if [ -f "$PGDATA/postmaster.pid" ]; then
  warn "$PGDATA/postmaster.pid exists: make sure the database is stopped (a crashed server leaves this file behind)"
fi

# --- choose the backup ---------------------------------------------------------------------------------
backups=$(sh "$script_dir/pitr-catalog.sh" backups) || fail "could not list the backups in $BACKUP_DIR"
[ -n "$backups" ] || fail "no complete backup named $BACKUP_NAME_PREFIX-* in $BACKUP_DIR"
first_end=$(printf '%s\n' "$backups" | head -n 1 | cut -d ' ' -f 5)

# LSN "X/Y" as a number that awk can compare exactly (hex digits parsed by hand).
lsn_awk='function hex(s, i, v) { v = 0; s = toupper(s); for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1; return v }
function lsn(x, p) { split(x, p, "/"); return hex(p[1]) * 4294967296 + hex(p[2]) }'

if [ -n "$RESTORE_BACKUP" ]; then
  line=$(printf '%s\n' "$backups" | awk -v n="$RESTORE_BACKUP" '$2 == n')
  [ -n "$line" ] || fail "RESTORE_BACKUP '$RESTORE_BACKUP' is not a complete backup in $BACKUP_DIR (complete backups: $(printf '%s\n' "$backups" | cut -d ' ' -f 2 | tr '\n' ' '))"
  why="requested with RESTORE_BACKUP"
else
  case "$RECOVERY_TARGET_TYPE" in
    time)
      line=$(printf '%s\n' "$backups" | awk -v t="$RECOVERY_TARGET_EPOCH" '$1 <= t + 0' | tail -n 1)
      [ -n "$line" ] || fail "no backup ends before the target time $(iso "$RECOVERY_TARGET_EPOCH"); the earliest backup ends at $first_end. PostgreSQL would silently promote the state at the end of a later backup, so nothing was changed."
      why="newest complete backup that ended at or before the target time $(iso "$RECOVERY_TARGET_EPOCH")"
      ;;
    lsn)
      line=$(printf '%s\n' "$backups" | awk -v t="$RECOVERY_TARGET_LSN" "$lsn_awk"'
        lsn($7) <= lsn(t)' | tail -n 1)
      [ -n "$line" ] || fail "no backup ends before the target LSN $RECOVERY_TARGET_LSN; the earliest backup ends at LSN $(printf '%s\n' "$backups" | head -n 1 | cut -d ' ' -f 7). Nothing was changed."
      why="newest complete backup whose end LSN is at or before the target LSN $RECOVERY_TARGET_LSN"
      ;;
    *)
      line=$(printf '%s\n' "$backups" | tail -n 1)
      why="newest complete backup (target: $RECOVERY_TARGET_TYPE)"
      ;;
  esac
fi
read -r end_epoch name _ start_time end_time start_lsn end_lsn timeline start_wal <<EOF
$line
EOF
# A requested backup must still end before a time or LSN target (PostgreSQL would not fail).
if [ "$RECOVERY_TARGET_TYPE" = time ] && [ "$end_epoch" -gt "$RECOVERY_TARGET_EPOCH" ]; then
  fail "backup $name ends at $end_time, after the target time $(iso "$RECOVERY_TARGET_EPOCH"); PostgreSQL would promote the backup-end state instead. Choose an earlier backup."
fi
if [ "$RECOVERY_TARGET_TYPE" = lsn ] && ! awk -v a="$end_lsn" -v b="$RECOVERY_TARGET_LSN" "$lsn_awk"'
    BEGIN { exit !(lsn(a) <= lsn(b)) }'; then
  fail "backup $name ends at LSN $end_lsn, after the target LSN $RECOVERY_TARGET_LSN. Choose an earlier backup."
fi
bdir="$BACKUP_DIR/$name"
for f in base.tar.gz pg_wal.tar.gz; do
  [ -s "$bdir/$f" ] || fail "$bdir/$f is missing or empty"
done
log "backup: $name ($why); started $start_time, ended $end_time, LSN $start_lsn - $end_lsn, timeline $timeline, start WAL $start_wal"

# --- check the WAL archive --------------------------------------------------------------------------------
walv=$(tar tzvf "$bdir/pg_wal.tar.gz") || fail "cannot list $bdir/pg_wal.tar.gz"
segsize=$(printf '%s\n' "$walv" | awk -v n="$start_wal" '$NF == n { print $3; exit }')
is_uint "$segsize" || segsize=16777216
report=$(printf '%s\n' "$walv" | awk '{ print $NF }' |
  WAL_SEGMENT_SIZE=$segsize sh "$script_dir/pitr-catalog.sh" gaps "$start_wal" -) || fail "could not check the WAL archive $WAL_ARCHIVE_DIR"
last=$(printf '%s\n' "$report" | sed -n 's/^last //p')
gaps=$(printf '%s\n' "$report" | sed -n 's/^gap //p')
log "WAL from $start_wal: $(printf '%s\n' "$report" | sed -n 's/^count //p') segments up to ${last:-none} (archive plus the backup's pg_wal)"
if [ -n "$gaps" ]; then
  list=$(printf '%s\n' "$gaps" | awk '{ printf "%s%s", sep, ($3 == 1 ? $1 : $1 "-" $2 " (" $3 " segments)"); sep = ", " }')
  if [ "$RECOVERY_TARGET_TYPE" = latest ]; then
    if [ "$RESTORE_ALLOW_TRUNCATED_HISTORY" != true ]; then
      fail "the WAL archive has gaps after $start_wal: missing $list. Recovery to 'latest' would stop silently at the first gap and promote a shortened history. Nothing was changed. Set RESTORE_ALLOW_TRUNCATED_HISTORY=true to accept that."
    fi
    warn "the WAL archive has gaps after $start_wal: missing $list; recovery will end at the first gap (RESTORE_ALLOW_TRUNCATED_HISTORY=true)"
  else
    warn "the WAL archive has gaps after $start_wal: missing $list. If the target lies beyond the first gap PostgreSQL will fail with 'recovery ended before configured recovery target was reached'."
  fi
fi

# --- build the new data directory in a staging folder ---------------------------------------------------
staging="$parent/$base.restore-staging"
aside="$parent/$base.before-restore-$stamp"
[ ! -e "$aside" ] || fail "'$aside' already exists"
moved=false
switched=false
cleanup() {
  if [ "$switched" != true ]; then
    if [ "$moved" = true ] && [ ! -e "$PGDATA" ]; then
      mv -- "$aside" "$PGDATA" && printf '%s: put the old data directory back at %s\n' "$me" "$PGDATA" >&2
    fi
    if [ -e "$staging" ]; then
      printf '%s: removing staging folder %s\n' "$me" "$staging" >&2
      rm -rf -- "$staging" || true
    fi
  fi
}
trap cleanup EXIT
trap 'printf "%s: interrupted\n" "$me" >&2; exit 1' HUP INT TERM

if [ -e "$staging" ]; then
  log "removing the staging folder of an earlier, interrupted run: $staging"
  rm -rf -- "$staging" || fail "could not remove '$staging'"
fi
mkdir -m 0700 -- "$staging" || fail "could not create '$staging'"
log "extracting $bdir/base.tar.gz into $staging"
tar xzf "$bdir/base.tar.gz" -C "$staging" || fail "extracting base.tar.gz failed"
mkdir -p -- "$staging/pg_wal" || fail "could not create $staging/pg_wal"
tar xzf "$bdir/pg_wal.tar.gz" -C "$staging/pg_wal" || fail "extracting pg_wal.tar.gz failed"
chmod 0700 "$staging" || fail "chmod of '$staging' failed"
for f in PG_VERSION backup_label; do
  [ -f "$staging/$f" ] || fail "the extracted backup has no $f"
done

for f in recovery.signal standby.signal; do
  if [ -e "$staging/$f" ]; then
    log "removing $f carried by the backup"
    rm -f -- "$staging/$f" || fail "could not remove $staging/$f"
  fi
done

auto="$staging/postgresql.auto.conf"
# recovery_lines keep|drop FILE: print the restore_command / recovery_target* lines, or the others.
recovery_lines() {
  awk -v mode="$1" '
    { k = tolower($0); sub(/^[ \t]*/, "", k) }
    { hit = (k ~ /^restore_command([ \t=]|$)/ || k ~ /^recovery_target[a-z_]*([ \t=]|$)/) }
    (mode == "keep") == hit' "$2"
}
if [ -f "$auto" ]; then
  stripped=$(recovery_lines keep "$auto")
  if [ -n "$stripped" ]; then
    printf '%s\n' "$stripped" | sed "s/^/$me: removed from postgresql.auto.conf: /"
    recovery_lines drop "$auto" >"$auto.new" || fail "could not rewrite $auto"
    mv -f -- "$auto.new" "$auto" || fail "could not rewrite $auto"
  fi
fi
if [ -f "$staging/postgresql.conf" ] && [ -n "$(recovery_lines keep "$staging/postgresql.conf")" ]; then
  warn "the backup's postgresql.conf sets restore_command or recovery_target* itself; if the server reads it, remove those lines (two targets are FATAL)"
fi
{
  printf '\n# Added by %s at %s: recovery from backup %s (target: %s)\n' "$me" "$stamp" "$name" "$RECOVERY_TARGET_TYPE"
  cat -- "$RECOVERY_SETTINGS_FILE"
  printf '\n'
} >>"$auto" || fail "could not append the recovery settings to $auto"
chmod 0600 "$auto" || fail "chmod of $auto failed"
: >"$staging/$RECOVERY_SIGNAL_FILE" || fail "could not create $RECOVERY_SIGNAL_FILE"
log "recovery settings written to postgresql.auto.conf:"
sed "/^[[:space:]]*#/d; /^[[:space:]]*$/d; s/^/$me:   /" "$RECOVERY_SETTINGS_FILE"
log "created $RECOVERY_SIGNAL_FILE"
sync

# --- switch --------------------------------------------------------------------------------------------
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
log "restored $name into $PGDATA"
if [ "$moved" = true ] && [ "$RESTORE_DELETE_OLD_DATA" = true ]; then
  rm -rf -- "$aside" || fail "the restore is in place, but deleting the old data '$aside' failed"
  log "deleted the old data directory $aside (RESTORE_DELETE_OLD_DATA=true)"
fi
log "done: start the server; it replays WAL from the archive and ends recovery as configured"
