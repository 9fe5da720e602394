#!/bin/sh
# base-backup-continuity.sh: after a backup is kept, checks that the WAL archive can replay from
# the oldest retained backup to the newest segment: no missing segment, and a history file for
# every timeline the segments are on, each branching from an older timeline. Sourced by
# base-backup.sh after pitr-lib.sh and pitr-store.sh, never run; it only defines functions.
# shellcheck disable=SC2154 # b_* come from pitr-lib.sh (parse_backup)

# verify_continuity INFO_FILE: checks the archive, logs the result as one JSON line
# ({"archive_continuity": ...}), appends archive_check* lines to INFO_FILE (the new backup's
# pitr_backup_info) and fails, naming the segments, when the archive cannot replay.
verify_continuity() {
  parse_backup "$(catalog backups | head -n 1)"
  segsize=16777216
  check_wal "$b_start_wal" "$segsize" "$(backup_wal_list "$BACKUP_DIR/$b_name" | cut -d ' ' -f 2)"
  tl=$(catalog timelines) || fail "could not read the timeline history files in $WAL_ARCHIVE_DIR"
  # Timelines the archived segments are on, from the oldest backup's segment on; each but 1 needs
  # its history file, and a history file must name only older timelines.
  on=$(archive_names | awk -v s="$(printf '%s' "$b_start_wal" | cut -c 9-)" "$pitr_awk_lsn"'
    length($0) == 24 && $0 !~ /[^0-9A-F]/ && (substr($0, 9) "") >= (s "") { print hex(substr($0, 1, 8)) }' | sort -un)
  missing=''
  for t in $on; do
    [ "$t" -eq 1 ] && continue
    printf '%s\n' "$tl" | grep -q "^anc $t " || missing="$missing $(printf '%08X' "$t").history"
  done
  bad=$(printf '%s\n' "$tl" | awk '$1 == "anc" && $3 + 0 >= $2 + 0 { printf " %08X.history", $2 }')
  gaps_json=$(wal_gaps_json | json_array '')
  names_json() { for n in $1; do json_string "$n"; printf '\n'; done | json_array ''; }
  ok=true
  if [ -n "$wal_gap_lines$missing$bad" ]; then ok=false; fi
  json=$(json_object ok "$(json_bool "$ok")" from "$(json_string "$b_start_wal")" to "$(json_string_or_null "$wal_last")" \
    oldest_backup "$(json_string "$b_name")" segments "$(json_uint "${wal_count:-0}")" gaps "$gaps_json" \
    missing_history "$(names_json "$missing")" inconsistent_history "$(names_json "$bad")")
  printf '%s\n' "$(json_object archive_continuity "$json")" | tr -d '\n'
  printf '\n'
  {
    printf 'archive_check=%s\narchive_checked_from=%s\narchive_checked_to=%s\n' \
      "$([ "$ok" = true ] && echo ok || echo failed)" "$b_start_wal" "${wal_last:-none}"
  } >>"$1" || fail "could not record the archive check in $1"
  flush "$1"
  [ "$ok" = true ] || fail "the WAL archive cannot replay from the oldest retained backup $b_name ($b_start_wal) to ${wal_last:-its end}:$(
    printf '%s\n' "$wal_gap_lines" | awk 'NF { printf " missing %s-%s (%s segments);", $1, $2, $3 }')${missing:+ no history file for}${missing}${bad:+; history files naming a newer parent:}${bad}. The backup itself is kept; a restore past the gap is not possible."
  log "archive continuity: ${wal_count:-0} segments from $b_start_wal to ${wal_last:-none}, no gap, history files consistent"
}
