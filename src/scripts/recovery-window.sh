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
# start_wal onward (the backup's own pg_wal counts as present).
# Exit codes: 0 report printed (gaps are reported, not failures); 1 bad settings or unreadable
# folders. Needs pitr-lib.sh, pitr-store.sh and pitr-catalog.sh in the same folder.
set -eu

me='recovery-window.sh'
log_stream=stdout
BACKUP_DIR="${BACKUP_DIR:-/var/lib/backup}"
WAL_ARCHIVE_DIR="${WAL_ARCHIVE_DIR:-/var/lib/postgresql/wal-archive}"
BACKUP_NAME_PREFIX="${BACKUP_NAME_PREFIX:-postgres-base-backup}"
REPORT_FORMAT="${REPORT_FORMAT:-both}"
export BACKUP_DIR BACKUP_NAME_PREFIX WAL_ARCHIVE_DIR
script_dir=$(dirname "$0")
[ -f "$script_dir/pitr-lib.sh" ] || { printf '%s: ERROR: %s not found\n' "$me" "$script_dir/pitr-lib.sh" >&2; exit 1; }
# shellcheck source=pitr-lib.sh
. "$script_dir/pitr-lib.sh"
need_helper pitr-store.sh
# shellcheck source=pitr-store.sh
. "$script_dir/pitr-store.sh"

# check_settings: fails on a bad REPORT_FORMAT, a missing helper or archive folder.
check_settings() {
  case "$REPORT_FORMAT" in text | json | both) ;; *) fail "REPORT_FORMAT must be text, json or both, got '$REPORT_FORMAT'" ;; esac
  need_helper pitr-catalog.sh
  [ -d "$WAL_ARCHIVE_DIR" ] || fail "WAL archive folder '$WAL_ARCHIVE_DIR' does not exist"
}

# find_latest: sets newest (the newest archived segment, empty if none), latest (the latest
# recoverable time, empty if unknown), latest_source (how it was found) and approximate.
find_latest() {
  # Archived segment names, oldest first (sort key: segment number part, then timeline).
  segments=$(archive_names |
    awk 'length($0) == 24 && $0 !~ /[^0-9A-F]/ { print substr($0, 9) substr($0, 1, 8), $0 }' | sort | cut -d ' ' -f 2)
  newest=$(printf '%s\n' "$segments" | tail -n 1)
  latest=''
  latest_source=''
  approximate=true
  [ -n "$newest" ] || return 0
  if command -v pg_waldump >/dev/null 2>&1; then
    # The newest segment may hold no commit (e.g. only a segment switch): look back a little.
    for seg in $(printf '%s\n' "$segments" | tail -n 4 | sed -n '1!G;h;$p'); do
      e=$(last_commit_epoch "$seg")
      [ -n "$e" ] || continue
      latest=$(iso "$e")
      latest_source="last commit record in $seg (pg_waldump)"
      approximate=false
      return 0
    done
  fi
  latest=$(iso "$(archived_mtime "$newest")")
  latest_source="modification time of $newest (approximate)"
}

# find_gaps: from the oldest backup on (when there is one), sets oldest (its name), earliest (its
# end time, the earliest recoverable time), oldest_wal (its start_wal) and the wal_* variables
# of check_wal; all empty without a backup.
find_gaps() {
  oldest=''
  earliest=''
  oldest_wal=''
  wal_count=''
  wal_last=''
  wal_gap_lines=''
  [ -n "$backups" ] || return 0
  parse_backup "$(printf '%s\n' "$backups" | head -n 1)"
  oldest=$b_name
  earliest=$b_end_time
  oldest_wal=$b_start_wal
  segsize=16777216
  if [ -n "$newest" ]; then segsize=$(archived_size "$newest"); fi
  check_wal "$oldest_wal" "$segsize" "$(backup_wal_list "$BACKUP_DIR/$oldest" 2>/dev/null | cut -d ' ' -f 2 || true)"
}

# find_timelines: sets timelines ("<timeline> <parent> <switch_lsn>" a line, from the history files)
# and tl_max (the highest timeline).
find_timelines() {
  tl_out=$(catalog timelines) || fail "could not read the timeline history files in $WAL_ARCHIVE_DIR"
  timelines=$(printf '%s\n' "$tl_out" | awk '$1 == "anc" { p[$2] = $3 " " $4 } END { for (t in p) print t, p[t] }' | sort -n)
  tl_max=$(printf '%s\n' "$tl_out" | sed -n 's/^max //p')
}

# print_text: the report for people.
print_text() {
  log "$(printf '%s' "$backups" | grep -c . || true) complete backup(s) named $BACKUP_NAME_PREFIX-* in $BACKUP_DIR"
  if [ -n "$backups" ]; then
    printf '%s\n' "$backups" | while IFS= read -r line; do
      parse_backup "$line"
      log "  $b_name  start $b_start_time  end $b_end_time  LSN $b_start_lsn - $b_end_lsn  timeline $b_timeline  start WAL $b_start_wal"
    done
    log "earliest recoverable time: $earliest (end of the oldest backup $oldest)"
  else
    log "earliest recoverable time: none (no complete backup)"
  fi
  if [ -n "$latest" ]; then
    log "latest recoverable time: $latest ($latest_source)"
  else
    log "latest recoverable time: unknown (no archived WAL segment)"
  fi
  log "newest timeline: $tl_max"
  if [ -n "$timelines" ]; then
    printf '%s\n' "$timelines" | while read -r t p l; do
      log "  timeline $t branched from timeline $p at LSN $l; a restore to timeline $t can start only from backups on its history"
    done
  fi
  [ -n "$backups" ] || return 0
  log "WAL from $oldest_wal: ${wal_count:-0} segment(s), newest ${wal_last:-none}"
  if [ -z "$wal_gap_lines" ]; then
    log "no gap in the WAL archive"
    return 0
  fi
  printf '%s\n' "$wal_gap_lines" | while read -r a b k; do
    log "GAP: missing $a - $b ($k segment(s)); recovery cannot pass it"
  done
  log "recovery from the oldest backup ends at the first gap, before $(printf '%s\n' "$wal_gap_lines" | head -n 1 | cut -d ' ' -f 1); the latest time above needs a backup taken after the last gap"
}

# backups_json: one JSON object a line per backup.
backups_json() {
  printf '%s\n' "$backups" | while IFS= read -r line; do
    [ -n "$line" ] || continue
    parse_backup "$line"
    json_object name "$(json_string_or_null "$b_name")" start_time "$(json_string_or_null "$b_start_time")" \
      start_epoch "$(json_uint "$b_start_epoch")" end_time "$(json_string_or_null "$b_end_time")" \
      end_epoch "$(json_uint "$b_end_epoch")" start_lsn "$(json_string_or_null "$b_start_lsn")" \
      end_lsn "$(json_string_or_null "$b_end_lsn")" timeline "$(json_uint "$b_timeline")" \
      start_wal "$(json_string_or_null "$b_start_wal")"
    printf '\n'
  done
}

# timelines_json: one JSON object {"timeline", "parent", "switch_lsn"} a line per branched timeline.
timelines_json() {
  printf '%s\n' "$timelines" | while read -r t p l; do
    [ -n "$t" ] || continue
    json_object timeline "$(json_uint "$t")" parent "$(json_uint "$p")" switch_lsn "$(json_string "$l")"
    printf '\n'
  done
}

# print_json: the report as one pretty-printed JSON object; its first line is exactly "{".
print_json() {
  json_object_pretty \
    backup_dir "$(json_string_or_null "$BACKUP_DIR")" \
    wal_archive_dir "$(json_string_or_null "$WAL_ARCHIVE_DIR")" \
    backup_name_prefix "$(json_string_or_null "$BACKUP_NAME_PREFIX")" \
    backups "$(backups_json | json_array '  ')" \
    earliest_recoverable_time "$(json_string_or_null "$earliest")" \
    latest_recoverable_time "$(json_string_or_null "$latest")" \
    latest_recoverable_time_source "$(json_string_or_null "$latest_source")" \
    latest_recoverable_time_approximate "$(json_bool "$approximate")" \
    wal_gap_blocks_oldest_backup "$(if [ -n "$wal_gap_lines" ]; then json_bool true; else json_bool false; fi)" \
    newest_segment "$(json_string_or_null "$newest")" \
    wal_checked_from "$(json_string_or_null "$oldest_wal")" \
    wal_segments_checked "$(json_uint "${wal_count:-0}")" \
    wal_gaps "$(wal_gaps_json | json_array '  ')" \
    newest_timeline "$(json_uint "$tl_max")" \
    timelines "$(timelines_json | json_array '  ')"
  printf '\n'
}

main() {
  check_settings
  backups=$(catalog backups) || fail "could not list the backups in $BACKUP_DIR"
  find_latest
  find_gaps
  find_timelines
  if [ "$REPORT_FORMAT" != json ]; then print_text; fi
  if [ "$REPORT_FORMAT" != text ]; then print_json; fi
}

main "$@"
