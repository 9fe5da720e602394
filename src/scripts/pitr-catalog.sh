#!/bin/sh
# pitr-catalog.sh: helper shared by base-backup.sh, restore-data.sh and recovery-window.sh. Lists
# the complete base backups, the gaps and the timelines of the WAL archive. Prints machine-readable lines on
# stdout; changes nothing.
#
# Usage:
#   pitr-catalog.sh backups
#       One line per complete backup, oldest end first:
#       <end_epoch> <name> <start_epoch> <start_time> <end_time> <start_lsn> <end_lsn> <timeline> <start_wal>
#       A complete backup is a folder ${BACKUP_DIR}/${BACKUP_NAME_PREFIX}-DD_MM_YYYY_HH_MM_SS with a
#       pitr_backup_info file; anything else (temporary folders, other prefixes) is ignored.
#   pitr-catalog.sh gaps <start_wal> [<extra names file, or - for stdin>]
#       Checks that the WAL segment numbers present (any timeline) from <start_wal> onward are
#       contiguous. Segments are the 24-hex names in WAL_ARCHIVE_DIR plus the names listed in the
#       optional file (e.g. the WAL files of a backup's own pg_wal). Prints:
#         count <number of segments from start_wal on>
#         first <name>            (lowest segment present from start_wal on; absent if none)
#         last <name>             (highest segment present)
#         gap <first missing> <last missing> <number missing>   (zero or more lines)
#   pitr-catalog.sh timelines
#       The timelines of the archive (and of WAL_EXTRA_DIR when set), from their history files:
#         anc <timeline> <ancestor> <switch_lsn>   one line per line of <timeline>'s history file:
#                                                  <ancestor> was left at <switch_lsn> on the way
#                                                  to <timeline> (the last one is its parent)
#         max <timeline>                           the highest timeline of any history file or
#                                                  segment name (1 when there is none)
#
# Environment:
#   BACKUP_DIR          /var/lib/backup
#   BACKUP_NAME_PREFIX  postgres-base-backup
#   WAL_ARCHIVE_DIR     /var/lib/postgresql/wal-archive
#   WAL_SEGMENT_SIZE    16777216 (bytes; sets how many segments one "xlogid" holds)
#   WAL_EXTRA_DIR       (empty) a folder of WAL files that also count for "timelines", such as
#                       the pg_wal of the data directory a restore replaces
# Exit codes: 0 success (gaps are reported, not failures); 1 bad usage or unreadable folder.
# Needs pitr-lib.sh and pitr-store.sh in the same folder.
set -eu

me='pitr-catalog.sh'
log_stream=stdout
BACKUP_DIR="${BACKUP_DIR:-/var/lib/backup}"
BACKUP_NAME_PREFIX="${BACKUP_NAME_PREFIX:-postgres-base-backup}"
WAL_ARCHIVE_DIR="${WAL_ARCHIVE_DIR:-/var/lib/postgresql/wal-archive}"
WAL_SEGMENT_SIZE="${WAL_SEGMENT_SIZE:-16777216}"
script_dir=$(dirname "$0")
[ -f "$script_dir/pitr-lib.sh" ] || { printf '%s: ERROR: %s not found\n' "$me" "$script_dir/pitr-lib.sh" >&2; exit 1; }
# shellcheck source=pitr-lib.sh
. "$script_dir/pitr-lib.sh"
need_helper pitr-store.sh
# shellcheck source=pitr-store.sh
. "$script_dir/pitr-store.sh"

# backup_line FOLDER: the catalog line of one backup folder from its pitr_backup_info; fails (1,
# printing nothing) when a field is missing or holds a blank.
backup_line() {
  awk -F '=' -v n="${1##*/}" '
    { k = $1; sub(/^[^=]*=/, ""); v[k] = $0 }
    END {
      split("end_epoch start_epoch start_time end_time start_lsn end_lsn timeline start_wal", keys, " ")
      out = v["end_epoch"] " " n
      for (i = 2; i <= 8; i++) {
        if (v[keys[i]] == "" || v[keys[i]] ~ /[ \t]/) exit 1
        out = out " " v[keys[i]]
      }
      print out
    }' "$1/pitr_backup_info"
}

# list_backups: the "backups" command.
list_backups() {
  [ -d "$BACKUP_DIR" ] || fail "backup folder '$BACKUP_DIR' does not exist"
  for d in "$BACKUP_DIR/$BACKUP_NAME_PREFIX"-*; do
    [ -f "$d/pitr_backup_info" ] || continue
    has_stamp "${d##*/}" "$BACKUP_NAME_PREFIX-" || continue
    line=$(backup_line "$d") || { warn "ignoring ${d##*/}: incomplete pitr_backup_info"; continue; }
    is_uint "${line%% *}" || { warn "ignoring ${d##*/}: bad end_epoch"; continue; }
    printf '%s\n' "$line"
  done | sort -n -k 1,1 -k 2,2
}

# wal_gaps START_WAL [EXTRA]: the "gaps" command.
wal_gaps() {
  start=$1
  extra=${2:-}
  is_wal_name "$start" || fail "'$start' is not a WAL segment name"
  is_uint "$WAL_SEGMENT_SIZE" || fail "WAL_SEGMENT_SIZE must be a number of bytes"
  [ -d "$WAL_ARCHIVE_DIR" ] || fail "WAL archive folder '$WAL_ARCHIVE_DIR' does not exist"
  [ -z "$extra" ] || [ "$extra" = - ] || [ -r "$extra" ] || fail "cannot read '$extra'"
  # archive_names lists names only, one a line; awk parses hex itself (pitr_awk_lsn).
  {
    archive_names
    if [ -n "$extra" ]; then sed 's|^.*/||' "$extra"; fi
  } | awk -v start="$start" -v segsize="$WAL_SEGMENT_SIZE" "$pitr_awk_lsn"'
    function segno(n) { return hex(substr(n, 9, 8)) * per + hex(substr(n, 17, 8)) }
    function name(tli, s) { return sprintf("%08X%08X%08X", tli, int(s / per), s % per) }
    BEGIN { per = 4294967296 / segsize; first = segno(start); max = -1 }
    length($0) == 24 && $0 !~ /[^0-9A-F]/ {
      s = segno($0); if (s < first) next
      t = hex(substr($0, 1, 8))
      if (!(s in tli) || t > tli[s]) tli[s] = t
      if (s > max) max = s
    }
    END {
      if (max < 0) { print "count 0"; exit }
      n = 0; lo = -1; ingap = 0; prev_tli = hex(substr(start, 1, 8)); gaps = ""
      for (s = first; s <= max; s++) {
        if (s in tli) {
          n++
          if (lo < 0) lo = s
          if (ingap) {
            gaps = gaps "gap " name(prev_tli, gap_from) " " name(prev_tli, s - 1) " " (s - gap_from) "\n"
            ingap = 0
          }
          prev_tli = tli[s]
        } else if (!ingap) { ingap = 1; gap_from = s }
      }
      print "count " n
      print "first " name(tli[lo], lo)
      print "last " name(tli[max], max)
      printf "%s", gaps
    }'
}

# list_timelines: the "timelines" command.
list_timelines() {
  [ -d "$WAL_ARCHIVE_DIR" ] || fail "WAL archive folder '$WAL_ARCHIVE_DIR' does not exist"
  extra=${WAL_EXTRA_DIR:-}
  [ -z "$extra" ] || [ -d "$extra" ] || extra=''
  names=$({ archive_names; if [ -n "$extra" ]; then ls -A -- "$extra"; fi; } | sort -u)
  for n in $(printf '%s\n' "$names" | grep -E '^[0-9A-F]{8}\.history$' || true); do
    { archived_cat "$n" 2>/dev/null || cat -- "$extra/$n"; } | awk -v t="${n%.history}" "$pitr_awk_lsn"'
      /^[ \t]*(#|$)/ { next }
      $1 ~ /^[0-9]+$/ && $2 ~ /^[0-9A-Fa-f]+\/[0-9A-Fa-f]+$/ { print "anc", hex(t), $1, toupper($2) }'
  done
  printf '%s\n' "$names" | awk "$pitr_awk_lsn"'
    BEGIN { max = 1 }
    (length($0) == 16 && substr($0, 9) == ".history") || length($0) == 24 {
      if (substr($0, 1, length($0) == 24 ? 24 : 8) ~ /[^0-9A-F]/) next
      t = hex(substr($0, 1, 8)); if (t > max) max = t
    }
    END { print "max", max }'
}

main() {
  [ "$#" -ge 1 ] || fail "usage: $me backups | gaps <start_wal> [<extra names file>] | timelines"
  case "$1" in
    backups) list_backups ;;
    gaps)
      [ "$#" -ge 2 ] || fail "usage: $me gaps <start_wal> [<extra names file>]"
      wal_gaps "$2" "${3:-}"
      ;;
    timelines) list_timelines ;;
    *) fail "unknown command '$1'" ;;
  esac
}

main "$@"
