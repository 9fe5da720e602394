#!/bin/sh
# recovery-window.sh: reports the complete base backups, the recovery window and any gap in the
# WAL archive. Changes nothing.
#
# Environment:
#   BACKUP_DIR          /var/lib/backup
#   WAL_ARCHIVE_DIR     /var/lib/postgresql/wal-archive
#   BACKUP_NAME_PREFIX  postgres-base-backup (the library sets {name}-postgres-base-backup)
#   REPORT_FORMAT       both (text | json | both; with both, the text comes first, then one JSON
#                       document starting at a line that is exactly "{")
#
# Earliest recoverable time: the end of the oldest complete backup. Latest recoverable time: the
# last commit record of the newest archived segment when pg_waldump is on PATH, otherwise the
# newest segment's modification time (approximate). Gaps are listed from the oldest backup's
# start_wal onward (the backup's own pg_wal.tar.gz counts as present).
# Exit codes: 0 report printed (gaps are reported, not failures); 1 bad settings or unreadable
# folders. Needs pitr-catalog.sh in the same folder.
set -eu

me='recovery-window.sh'
BACKUP_DIR="${BACKUP_DIR:-/var/lib/backup}"
WAL_ARCHIVE_DIR="${WAL_ARCHIVE_DIR:-/var/lib/postgresql/wal-archive}"
BACKUP_NAME_PREFIX="${BACKUP_NAME_PREFIX:-postgres-base-backup}"
REPORT_FORMAT="${REPORT_FORMAT:-both}"
export BACKUP_DIR BACKUP_NAME_PREFIX WAL_ARCHIVE_DIR
script_dir=$(dirname "$0")

fail() { printf '%s: ERROR: %s\n' "$me" "$*" >&2; exit 1; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
# JSON string (or null when empty).
js() {
  if [ -z "$1" ]; then printf 'null'; return; fi
  printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

case "$REPORT_FORMAT" in text | json | both) ;; *) fail "REPORT_FORMAT must be text, json or both, got '$REPORT_FORMAT'" ;; esac
[ -f "$script_dir/pitr-catalog.sh" ] || fail "helper '$script_dir/pitr-catalog.sh' not found (it ships beside this script)"
[ -d "$WAL_ARCHIVE_DIR" ] || fail "WAL archive folder '$WAL_ARCHIVE_DIR' does not exist"

backups=$(sh "$script_dir/pitr-catalog.sh" backups) || fail "could not list the backups in $BACKUP_DIR"

# --- newest archived segment and the latest recoverable time ---------------------------------------
# Archived segment names, oldest first (sort key: segment number part, then timeline).
segments=$(find "$WAL_ARCHIVE_DIR" -maxdepth 1 -type f | sed 's|^.*/||' |
  awk 'length($0) == 24 && $0 !~ /[^0-9A-F]/ { print substr($0, 9) substr($0, 1, 8), $0 }' | sort | cut -d ' ' -f 2)
newest=$(printf '%s\n' "$segments" | tail -n 1)
latest=''
latest_source=''
approximate=true
if [ -n "$newest" ]; then
  if command -v pg_waldump >/dev/null 2>&1; then
    # The newest segment may hold no commit (e.g. only a segment switch): look back a little.
    candidates=$(printf '%s\n' "$segments" | tail -n 4 | sed -n '1!G;h;$p')
    for seg in $candidates; do
      c=$(TZ=UTC pg_waldump "$WAL_ARCHIVE_DIR/$seg" 2>/dev/null |
        sed -n 's/^.*desc: COMMIT \([0-9-]* [0-9:]*\).*$/\1/p' | tail -n 1 || true)
      if [ -n "$c" ]; then
        e=$(date -u -d "$c" +%s 2>/dev/null || true)
        if [ -n "$e" ]; then
          latest=$(iso "$e")
          latest_source="last commit record in $seg (pg_waldump)"
          approximate=false
          break
        fi
      fi
    done
  fi
  if [ -z "$latest" ]; then
    latest=$(iso "$(stat -c %Y "$WAL_ARCHIVE_DIR/$newest")")
    latest_source="modification time of $newest (approximate)"
  fi
fi

# --- gaps from the oldest backup on ---------------------------------------------------------------
earliest=''
oldest=''
gap_lines=''
count=''
last=''
if [ -n "$backups" ]; then
  oldest_line=$(printf '%s\n' "$backups" | head -n 1)
  read -r _ oldest _ _ earliest _ _ _ oldest_wal <<EOF
$oldest_line
EOF
  segsize=16777216
  if [ -n "$newest" ]; then segsize=$(stat -c %s "$WAL_ARCHIVE_DIR/$newest"); fi
  report=$({ tar tzf "$BACKUP_DIR/$oldest/pg_wal.tar.gz" 2>/dev/null || true; } |
    WAL_SEGMENT_SIZE=$segsize sh "$script_dir/pitr-catalog.sh" gaps "$oldest_wal" -) || fail "could not check the WAL archive"
  count=$(printf '%s\n' "$report" | sed -n 's/^count //p')
  last=$(printf '%s\n' "$report" | sed -n 's/^last //p')
  gap_lines=$(printf '%s\n' "$report" | sed -n 's/^gap //p')
fi

# --- text ----------------------------------------------------------------------------------------
if [ "$REPORT_FORMAT" != json ]; then
  n=$(printf '%s' "$backups" | grep -c . || true)
  printf '%s: %s complete backup(s) named %s-* in %s\n' "$me" "$n" "$BACKUP_NAME_PREFIX" "$BACKUP_DIR"
  if [ -n "$backups" ]; then
    printf '%s\n' "$backups" | while read -r _ name _ st et sl el tl sw; do
      printf '%s:   %s  start %s  end %s  LSN %s - %s  timeline %s  start WAL %s\n' "$me" "$name" "$st" "$et" "$sl" "$el" "$tl" "$sw"
    done
    printf '%s: earliest recoverable time: %s (end of the oldest backup %s)\n' "$me" "$earliest" "$oldest"
  else
    printf '%s: earliest recoverable time: none (no complete backup)\n' "$me"
  fi
  if [ -n "$latest" ]; then
    printf '%s: latest recoverable time: %s (%s)\n' "$me" "$latest" "$latest_source"
  else
    printf '%s: latest recoverable time: unknown (no archived WAL segment)\n' "$me"
  fi
  if [ -n "$backups" ]; then
    printf '%s: WAL from %s: %s segment(s), newest %s\n' "$me" "$oldest_wal" "${count:-0}" "${last:-none}"
    if [ -n "$gap_lines" ]; then
      printf '%s\n' "$gap_lines" | while read -r a b k; do
        printf '%s: GAP: missing %s - %s (%s segment(s)); recovery cannot pass it\n' "$me" "$a" "$b" "$k"
      done
      printf '%s: recovery from the oldest backup ends at the first gap, before %s; the latest time above needs a backup taken after the last gap\n' \
        "$me" "$(printf '%s\n' "$gap_lines" | head -n 1 | cut -d ' ' -f 1)"
    else
      printf '%s: no gap in the WAL archive\n' "$me"
    fi
  fi
fi

# --- JSON ----------------------------------------------------------------------------------------
if [ "$REPORT_FORMAT" != text ]; then
  printf '{\n  "backup_dir": %s,\n  "wal_archive_dir": %s,\n  "backup_name_prefix": %s,\n  "backups": [' \
    "$(js "$BACKUP_DIR")" "$(js "$WAL_ARCHIVE_DIR")" "$(js "$BACKUP_NAME_PREFIX")"
  sep=''
  if [ -n "$backups" ]; then
    printf '%s\n' "$backups" | while read -r ee name se st et sl el tl sw; do
      printf '%s\n    {"name": %s, "start_time": %s, "start_epoch": %s, "end_time": %s, "end_epoch": %s, "start_lsn": %s, "end_lsn": %s, "timeline": %s, "start_wal": %s}' \
        "$sep" "$(js "$name")" "$(js "$st")" "$se" "$(js "$et")" "$ee" "$(js "$sl")" "$(js "$el")" "$tl" "$(js "$sw")"
      sep=','
    done
    printf '\n  '
  fi
  printf '],\n  "earliest_recoverable_time": %s,\n  "latest_recoverable_time": %s,\n' "$(js "$earliest")" "$(js "$latest")"
  printf '  "latest_recoverable_time_source": %s,\n  "latest_recoverable_time_approximate": %s,\n' "$(js "$latest_source")" "$approximate"
  printf '  "wal_gap_blocks_oldest_backup": %s,\n' "$([ -n "$gap_lines" ] && echo true || echo false)"
  printf '  "newest_segment": %s,\n  "wal_checked_from": %s,\n  "wal_segments_checked": %s,\n  "wal_gaps": [' \
    "$(js "$newest")" "$(js "${oldest_wal:-}")" "${count:-0}"
  if [ -n "$gap_lines" ]; then
    printf '%s\n' "$gap_lines" | awk '{ printf "%s\n    {\"from\": \"%s\", \"to\": \"%s\", \"count\": %d}", sep, $1, $2, $3; sep = "," } END { printf "\n  " }'
  fi
  printf ']\n}\n'
fi
