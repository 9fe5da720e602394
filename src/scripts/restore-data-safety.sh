#!/bin/sh
# restore-data-safety.sh: what restore-data.sh checks and keeps before it changes anything: the
# database must be stopped, the WAL only the old data directory holds is carried over, and the
# volume must have room. Sourced after pitr-lib.sh and pitr-store.sh, never run; it only defines
# functions. Reads PGDATA, PRIMARY_HOST, PRIMARY_PORT and RESTORE_OLD_DATA (see restore-data.sh).
# shellcheck disable=SC2154,SC2153 # parent, PRIMARY_* and tail_* are set by restore-data.sh

# check_stopped: refuses to go on while a server runs: a postmaster.pid whose process is a live
# postgres (visible when it runs in this pod or on this machine), or a server answering at
# PRIMARY_HOST:PRIMARY_PORT (the primary Service).
check_stopped() {
  if [ -f "$PGDATA/postmaster.pid" ]; then
    pid=$(head -n 1 -- "$PGDATA/postmaster.pid" 2>/dev/null || true)
    if is_uint "$pid" && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q postgres; then
      fail "the database is running: $PGDATA/postmaster.pid names process $pid, a live postgres. Stop it first (runbook step 4). Nothing was changed."
    fi
    warn "$PGDATA/postmaster.pid exists but names no live postgres here: a crashed server leaves it behind (a server in another pod is checked through $PRIMARY_HOST below)"
  fi
  [ -n "$PRIMARY_HOST" ] || return 0
  if ! command -v pg_isready >/dev/null 2>&1; then
    warn "pg_isready is not on PATH: cannot check that no server answers at $PRIMARY_HOST:$PRIMARY_PORT"
    return 0
  fi
  rc=0
  pg_isready -q -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -t 5 || rc=$?
  case "$rc" in
    0 | 1) fail "the database is running: a server answers at $PRIMARY_HOST:$PRIMARY_PORT (pg_isready exit $rc). Stop it first (runbook step 4). Nothing was changed." ;;
    *) log "no server answers at $PRIMARY_HOST:$PRIMARY_PORT" ;;
  esac
}

# scan_tail: lists in tail_names the WAL files of the old data directory's pg_wal that the archive
# lacks (segments, the one in progress at a crash included, and history files; not the recycled
# or preallocated segments ahead of the end of WAL, which pg_waldump cannot read). A file the
# archive holds with other content is an error; older than the old server's last checkpoint, the
# archive's copy is what recovery reads, and the old one is ignored without comparing.
scan_tail() {
  tail_names=''
  tail_bytes=0
  old="$PGDATA/pg_wal"
  [ -d "$old" ] || return 0
  redo=$(pg_controldata -D "$PGDATA" 2>/dev/null | sed -n "s/^Latest checkpoint's REDO WAL file: *//p" || true)
  ended=''
  skipped=0
  for f in "$old"/*; do
    [ -f "$f" ] || continue
    n=${f##*/}
    case "$n" in
      *.history) [ "${#n}" -eq 16 ] || continue; case "${n%.history}" in *[!0-9A-F]*) continue ;; esac ;;
      *) is_wal_name "$n" || continue ;;
    esac
    # Older than the old server's last checkpoint: the archive's copy is what recovery reads; not compared.
    older=false
    if is_wal_name "$n" && is_wal_name "$redo" && awk -v a="$n" -v b="$redo" 'BEGIN { exit !((substr(a, 9) "") < (substr(b, 9) "")) }'; then
      older=true
    fi
    if archived_path "$n" >/dev/null; then
      [ "$older" = true ] && continue
      archived_cat "$n" | cmp -s - "$f" && continue
      fail "$n is in the archive and in the old $old with different content: the two histories disagree, so the restore stops instead of choosing. Nothing was changed. Compare them, and remove the wrong copy."
    fi
    # Past the end of WAL of its timeline (a recycled or preallocated segment): so is every later one (names sort).
    t=$(printf '%s' "$n" | cut -c 1-8)
    case " $ended " in *" $t "*) skipped=$((skipped + 1)); continue ;; esac
    if is_wal_name "$n" && command -v pg_waldump >/dev/null 2>&1 && ! pg_waldump -n 1 "$f" >/dev/null 2>&1; then
      ended="$ended $t"
      skipped=$((skipped + 1))
      continue
    fi
    tail_names="$tail_names $n"
    tail_bytes=$((tail_bytes + $(wc -c <"$f")))
  done
  if [ "$skipped" -gt 0 ]; then
    log "not carried over: $skipped segment(s) past the end of WAL (recycled or preallocated: no valid WAL)"
  fi
  if [ -n "$tail_names" ]; then
    log "the old data directory holds WAL the archive lacks; it is carried over:$tail_names"
  fi
}

# copy_tail DEST: copies the files of scan_tail into DEST (created) and flushes them.
copy_tail() {
  mkdir -p -- "$1" || fail "could not create '$1'"
  for n in $tail_names; do
    cp -- "$PGDATA/pg_wal/$n" "$1/$n" || fail "could not copy $n from the old pg_wal to $1"
    flush "$1/$n"
  done
  flush "$1"
}

# check_space BDIR: fails early, with both numbers, unless the data volume has room for the
# extracted backup and the carried WAL (counting the old data directory when it is deleted first).
check_space() {
  need=$(backup_size_bytes "$1")
  if ! is_uint "$need"; then
    warn "backup $1 has no backup_manifest: the space it needs is unknown, not checked"
    return 0
  fi
  need=$(((need + tail_bytes) / 1048576 + 16))
  free=$(df -Pk -- "$parent" | awk 'NR == 2 { printf "%d", $4 / 1024 }')
  is_uint "$free" || fail "cannot read the free space of $parent (df)"
  old=0
  if [ "$RESTORE_OLD_DATA" = delete-first ] && [ -d "$PGDATA" ]; then
    old=$(du -sk -- "$PGDATA" | awk '{ printf "%d", $1 / 1024 }')
  fi
  if [ "$need" -gt $((free + old)) ]; then
    fail "not enough space: the restore needs about $need MiB on the data volume and $parent has $free MiB free$([ "$old" -eq 0 ] || printf ' (plus %s MiB of the old data directory, deleted first)' "$old"). Nothing was changed. Grow the volume, or delete the old data directory first: old-data=delete-first in the target ConfigMap (deleteOldDataFirst), which loses the state before the restore if the restore fails."
  fi
  log "space: the restore needs about $need MiB, $parent has $free MiB free"
}
