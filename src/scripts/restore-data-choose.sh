#!/bin/sh
# restore-data-choose.sh: which base backup a restore starts from, and whether the target lies in
# the recoverable window. Sourced by restore-data.sh after pitr-lib.sh and pitr-store.sh, never
# run; it only defines functions. Reads PGDATA, RESTORE_BACKUP, RECOVERY_TARGET_TYPE, _EPOCH, _LSN
# and _TIMELINE (see restore-data.sh).
#
# A backup is a candidate only when the timeline recovery follows (recovery_target_timeline:
# latest = the highest timeline of the archive and of the old pg_wal) is the backup's timeline,
# or descends from it at a point at or after the backup's end LSN (the history files say where
# each timeline left its parent). A backup taken on timeline 1 after a restore branched timeline 2
# off it is not one: timeline 2 does not contain it, and recovery would fail with "could not
# locate required checkpoint record".
# shellcheck disable=SC2154 # b_* and pitr_awk_lsn come from pitr-lib.sh, the rest from restore-data.sh

# find_timelines: sets tl_lines (the "anc" lines of pitr-catalog.sh timelines) and tl_target (the
# timeline recovery follows; empty for "current", which stays on each backup's own timeline).
find_timelines() {
  tl_out=$(WAL_EXTRA_DIR="$PGDATA/pg_wal" catalog timelines) || fail "could not read the timeline history files in $WAL_ARCHIVE_DIR"
  tl_lines=$(printf '%s\n' "$tl_out" | grep '^anc ' || true)
  case "$RECOVERY_TARGET_TIMELINE" in
    latest) tl_target=$(printf '%s\n' "$tl_out" | sed -n 's/^max //p') ;;
    current) tl_target='' ;;
    *)
      tl_target=$RECOVERY_TARGET_TIMELINE
      if [ "$tl_target" != 1 ] && ! printf '%s\n' "$tl_lines" | grep -q "^anc $tl_target "; then
        fail "recovery_target_timeline $tl_target has no history file ($(printf '%08X' "$tl_target").history) in $WAL_ARCHIVE_DIR: PostgreSQL would refuse it. Use latest, or a timeline the archive has."
      fi
      ;;
  esac
  [ -n "$tl_target" ] || { log "target timeline: each backup's own (current)"; return 0; }
  path=$(printf '%s\n' "$tl_lines" | awk -v t="$tl_target" '$2 == t { printf "timeline %s until %s, ", $3, $4 }')
  log "target timeline: $tl_target ($RECOVERY_TARGET_TIMELINE)${path:+: ${path}then timeline $tl_target}"
}

# on_history: marks each "pitr-catalog.sh backups" line of stdin "ok LINE" when tl_target
# descends from it, "x LINE" when not.
on_history() {
  awk -v t="$tl_target" -v anc="$tl_lines" "$pitr_awk_lsn"'
    BEGIN { n = split(anc, l, "\n"); for (i = 1; i <= n; i++) { split(l[i], f, " "); if (f[2] == t) sw[f[3]] = f[4] } }
    NF == 0 { next }
    t == "" || $8 == t || (($8 in sw) && lsn_cmp($7, sw[$8]) <= 0) { print "ok", $0; next }
    { print "x", $0 }'
}

# window_text: "from <earliest> (end of backup <name>) to <latest> (<source>)" for messages;
# call latest_commit first.
window_text() {
  printf 'from %s (end of backup %s) to %s' "$(printf '%s\n' "$backups" | head -n 1 | cut -d ' ' -f 5)" \
    "$(printf '%s\n' "$backups" | head -n 1 | cut -d ' ' -f 2)" "${lc_time:-an unknown time} (${lc_source:-no commit found})"
}

# choose_backup: picks the backup (RESTORE_BACKUP, or the newest candidate that ends before a time
# or LSN target, or the newest candidate) and sets the b_* variables (parse_backup) and bdir.
choose_backup() {
  all=$(catalog backups) || fail "could not list the backups in $BACKUP_DIR"
  [ -n "$all" ] || fail "no complete backup named $BACKUP_NAME_PREFIX-* in $BACKUP_DIR"
  marked=$(printf '%s\n' "$all" | on_history)
  backups=$(printf '%s\n' "$marked" | sed -n 's/^ok //p')
  printf '%s\n' "$marked" | sed -n 's/^x //p' | while IFS= read -r line; do
    parse_backup "$line"
    log "not a candidate: $b_name (timeline $b_timeline, ends at LSN $b_end_lsn): timeline $tl_target left timeline $b_timeline before that point"
  done
  [ -n "$backups" ] || fail "no backup lies on the history of timeline $tl_target (backups: $(printf '%s\n' "$all" | cut -d ' ' -f 2 | tr '\n' ' ')). Take a base backup, or restore with timeline current."
  if [ -n "$RESTORE_BACKUP" ]; then
    line=$(printf '%s\n' "$all" | awk -v n="$RESTORE_BACKUP" '$2 == n')
    [ -n "$line" ] || fail "RESTORE_BACKUP '$RESTORE_BACKUP' is not a complete backup in $BACKUP_DIR (complete backups: $(printf '%s\n' "$all" | cut -d ' ' -f 2 | tr '\n' ' '))"
    printf '%s\n' "$backups" | grep -qxF "$line" || fail "backup $RESTORE_BACKUP is not on the history of timeline $tl_target (see the lines above). Choose one of: $(printf '%s\n' "$backups" | cut -d ' ' -f 2 | tr '\n' ' ')"
    why="requested with RESTORE_BACKUP"
  elif [ "$RECOVERY_TARGET_TYPE" = time ]; then
    line=$(printf '%s\n' "$backups" | awk -v t="$RECOVERY_TARGET_EPOCH" '$1 <= t + 0' | tail -n 1)
    [ -n "$line" ] || latest_commit
    [ -n "$line" ] || fail "the target time $(iso "$RECOVERY_TARGET_EPOCH") is before the earliest recoverable time: the recoverable window is $(window_text); no backup ends before the target, and PostgreSQL would silently promote the state at the end of a later backup. Nothing was changed."
    why="newest candidate that ended at or before the target time $(iso "$RECOVERY_TARGET_EPOCH")"
  elif [ "$RECOVERY_TARGET_TYPE" = lsn ]; then
    line=$(printf '%s\n' "$backups" | awk -v t="$RECOVERY_TARGET_LSN" "$pitr_awk_lsn"'lsn_cmp($7, t) <= 0' | tail -n 1)
    [ -n "$line" ] || fail "the target LSN $RECOVERY_TARGET_LSN is before the recoverable window: the earliest backup ends at LSN $(printf '%s\n' "$backups" | head -n 1 | cut -d ' ' -f 7). Nothing was changed."
    why="newest candidate whose end LSN is at or before the target LSN $RECOVERY_TARGET_LSN"
  else
    line=$(printf '%s\n' "$backups" | tail -n 1)
    why="newest candidate (target: $RECOVERY_TARGET_TYPE)"
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
  check_backup_identity "$bdir"
  log "backup: $b_name ($why); started $b_start_time, ended $b_end_time, LSN $b_start_lsn - $b_end_lsn, timeline $b_timeline, start WAL $b_start_wal"
}

# check_archive: the WAL from the backup's start_wal on (archive plus the backup's pg_wal) must
# have no gap: a gap fails "latest" unless RESTORE_ALLOW_TRUNCATED_HISTORY=true, and is a
# warning for the other targets.
check_archive() {
  walv=$(backup_wal_list "$bdir") || fail "cannot list the WAL files of backup $bdir"
  segsize=$(printf '%s\n' "$walv" | awk -v n="$b_start_wal" '$2 == n { print $1; exit }')
  is_uint "$segsize" || segsize=16777216
  check_wal "$b_start_wal" "$segsize" "$(printf '%s\n' "$walv" | cut -d ' ' -f 2; printf '%s\n' "$tail_names" | tr ' ' '\n')"
  log "WAL from $b_start_wal: $wal_count segments up to ${wal_last:-none} (archive, the backup's pg_wal and the old pg_wal)"
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

# latest_commit: sets lc_epoch, lc_time and lc_source from the last COMMIT record of the newest
# segments (up to 8) on the target's history, in the archive or carried over from the old pg_wal
# (pg_waldump); all empty when none is found.
latest_commit() {
  lc_epoch=''
  lc_time=''
  lc_source=''
  command -v pg_waldump >/dev/null 2>&1 || { warn "pg_waldump is not on PATH: the latest recoverable time is unknown"; return 0; }
  # Segments on the target's history: its own, and each ancestor's up to the segment it was left in.
  newest=$({ archive_names; printf '%s\n' "$tail_names" | tr ' ' '\n'; } | awk -v t="$tl_target" -v anc="$tl_lines" \
    -v segsize="${segsize:-16777216}" "$pitr_awk_lsn"'
    BEGIN {
      per = 4294967296 / segsize; n = split(anc, l, "\n")
      for (i = 1; i <= n; i++) { split(l[i], f, " "); if (f[2] == t) { split(f[4], x, "/"); sw[f[3]] = int((hex(x[1]) * 4294967296 + hex(x[2])) / segsize) } }
    }
    length($0) == 24 && $0 !~ /[^0-9A-F]/ {
      tli = hex(substr($0, 1, 8)); s = hex(substr($0, 9, 8)) * per + hex(substr($0, 17, 8))
      if (t == "" || tli == t || ((tli in sw) && s <= sw[tli])) print substr($0, 9) substr($0, 1, 8), $0
    }' |
    sort -u | tail -n 8 | cut -d ' ' -f 2 | sed -n '1!G;h;$p')
  for seg in $newest; do
    # A segment carried over from the old pg_wal is read there; an archived one from the archive.
    f=''
    if [ -f "$PGDATA/pg_wal/$seg" ]; then f="$PGDATA/pg_wal/$seg"; fi
    lc_epoch=$(last_commit_epoch "$seg" "$f")
    [ -n "$lc_epoch" ] || continue
    lc_time=$(iso "$lc_epoch")
    lc_source="last commit, in $seg"
    break
  done
}

# check_window: refuses a time target after the last commit on the target's history (recovery
# would end before reaching it: "recovery ended before configured recovery target was reached").
check_window() {
  [ "$RECOVERY_TARGET_TYPE" = time ] || return 0
  latest_commit
  text=$(window_text)
  if [ -z "$lc_epoch" ]; then
    warn "no commit record found on the target's history: the upper end of the window is unknown"
  elif [ "$RECOVERY_TARGET_EPOCH" -gt "$lc_epoch" ]; then
    fail "the target time $(iso "$RECOVERY_TARGET_EPOCH") is after the latest recoverable time: the recoverable window is $text; no commit after it is archived or in the old pg_wal, so recovery would end before the target. Nothing was changed. Use an earlier time, or latest."
  fi
  log "target time $(iso "$RECOVERY_TARGET_EPOCH") lies in the recoverable window, $text"
}
