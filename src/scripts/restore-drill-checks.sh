#!/bin/sh
# restore-drill-checks.sh: the checks of restore-drill.sh (the scratch space before the restore,
# then its promoted server) and its JSON result. Sourced by restore-drill.sh after pitr-lib.sh and pitr-store.sh, never run; it only
# defines functions. Reads the settings and the state of restore-drill.sh.
#
# Checks, each an entry of "checks" in the result: "query" (the server answers a query);
# "replayed_to_end_of_archive" (replay reached the end of the archive as it was when the drill
# started, see archive_end: a damaged segment ends recovery early, silently); with
# RESTORE_DRILL_AMCHECK=true, "amcheck:<database>" (CREATE EXTENSION amcheck, then
# bt_index_check on every valid btree index); and one per line of the RESTORE_DRILL_CHECKS file.
#
# RESTORE_DRILL_CHECKS file: UTF-8, one check a line, four fields separated by one tab each:
#   <name> <database> <sql> <expected>
# name: 1-63 of A-Z a-z 0-9 _ . - (unique); database: a database name (given to psql as
# PGDATABASE, never parsed as a connection string); sql: sent to psql on stdin, never on a command
# line and never evaluated by a shell, with no backslash (psql would run \ meta-commands such as
# \!); expected: the output of psql -XAt: fields separated by |, rows joined by a comma (empty
# for no row). Empty lines and lines starting with # are skipped; any other malformed line fails
# the drill before it restores anything.
# shellcheck disable=SC2154 # the settings and state variables come from restore-drill.sh

tab=$(printf '\t')

# sql DATABASE: runs the SQL on stdin on the drill server as PGUSER, psql -XAt, each statement
# bounded by RESTORE_DRILL_CHECK_TIMEOUT_SECONDS.
sql() {
  PGDATABASE=$1 PGOPTIONS="-c statement_timeout=${RESTORE_DRILL_CHECK_TIMEOUT_SECONDS}s" \
    psql -X -A -t -q -v ON_ERROR_STOP=1 -h "$sock" -p "$RESTORE_DRILL_PORT" -f -
}

# each_check FUNCTION: calls FUNCTION NAME DATABASE SQL EXPECTED for each check line of
# RESTORE_DRILL_CHECKS (none when it is empty); fails on the first malformed line.
each_check() {
  [ -n "$RESTORE_DRILL_CHECKS" ] || return 0
  if [ ! -f "$RESTORE_DRILL_CHECKS" ] || [ ! -r "$RESTORE_DRILL_CHECKS" ]; then fail "RESTORE_DRILL_CHECKS '$RESTORE_DRILL_CHECKS' is not a readable file"; fi
  n=0 seen=' '
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    case "$line" in '' | '#'*) continue ;; esac
    at="RESTORE_DRILL_CHECKS line $n"
    [ "$(printf '%s' "$line" | tr -cd '\t' | wc -c)" -eq 3 ] || fail "$at: expected 4 fields separated by tabs: <name> <database> <sql> <expected>"
    case "$line" in *"$(printf '\r')"*) fail "$at: holds a carriage return: save the file with Unix line ends" ;; esac
    name=${line%%"$tab"*} rest=${line#*"$tab"}
    db=${rest%%"$tab"*} rest=${rest#*"$tab"}
    query=${rest%%"$tab"*} expected=${rest#*"$tab"}
    case "$name" in '' | *[!A-Za-z0-9_.-]*) fail "$at: the name '$name' may hold only A-Z a-z 0-9 _ . - and must not be empty" ;; esac
    [ "${#name}" -le 63 ] || fail "$at: the name '$name' is longer than 63 characters"
    case "$seen" in *" $name "*) fail "$at: the name '$name' is used twice" ;; esac
    seen="$seen$name "
    case "$db" in '' | *[[:cntrl:]]*) fail "$at: the database name is empty or holds control characters" ;; esac
    case "$query" in '' | *[[:cntrl:]]*) fail "$at: the SQL is empty or holds control characters" ;; esac
    case "$query" in *\\*) fail "$at: the SQL holds a backslash, which psql would read as a meta-command; write it without one" ;; esac
    case "$expected" in *[[:cntrl:]]*) fail "$at: the expected result holds control characters" ;; esac
    "$1" "$name" "$db" "$query" "$expected"
  done <"$RESTORE_DRILL_CHECKS"
}

# read_checks: validates the RESTORE_DRILL_CHECKS file; sets check_count.
read_checks() {
  check_count=0
  each_check count_check
  [ -z "$RESTORE_DRILL_CHECKS" ] || log "user checks: $check_count in $RESTORE_DRILL_CHECKS"
}
count_check() { check_count=$((check_count + 1)); }

# archive_end: sets expected_end: where replay to latest must get to, with the archive as it is
# now: the newest segment of the newest timeline that has segments. (A newer timeline with only
# its history file, just after a restore promoted, is not waited for: recovery goes on reading
# the older timeline's segments then, as a real restore at that moment would.)
archive_end() {
  step=archive
  expected_end=$(archive_names | awk 'length($0) == 24 && $0 !~ /[^0-9A-F]/ {
      t = substr($0, 1, 8); if (t > mt) { mt = t; best = "" }
      if (t == mt && substr($0, 9) > substr(best, 9)) best = $0
    } END { print best }')
  [ -n "$expected_end" ] || fail "the WAL archive $WAL_ARCHIVE_DIR holds no WAL segment"
  log "replay must reach segment $expected_end (the archive at the start)"
}

# check_space: the scratch volume must hold the newest backup extracted (backup_size_bytes) and
# 512 MiB of replayed WAL; sets newest (that backup's name).
check_space() {
  step=space
  newest=$(sh "$script_dir/pitr-catalog.sh" backups | tail -n 1 | cut -d ' ' -f 2) || fail "could not list the backups in $BACKUP_DIR"
  [ -n "$newest" ] || fail "no complete backup named $BACKUP_NAME_PREFIX-* in $BACKUP_DIR: there is nothing to restore"
  need=$(backup_size_bytes "$BACKUP_DIR/$newest")
  is_uint "$need" || { warn "backup $newest has no backup_manifest: the space it needs is unknown, not checked"; return 0; }
  need=$((need / 1048576 + 512))
  free=$(df -Pk -- "$RESTORE_DRILL_DIR" | awk 'NR == 2 { printf "%d", $4 / 1024 }')
  is_uint "$free" || fail "cannot read the free space of $RESTORE_DRILL_DIR (df)"
  if [ -n "$RESTORE_DRILL_SCRATCH_LIMIT_MB" ]; then
    used=$(du -sk -- "$RESTORE_DRILL_DIR" | awk '{ printf "%d", $1 / 1024 }')
    [ $((RESTORE_DRILL_SCRATCH_LIMIT_MB - used)) -ge "$free" ] || free=$((RESTORE_DRILL_SCRATCH_LIMIT_MB - used))
  fi
  [ "$need" -le "$free" ] || fail "not enough scratch space: backup $newest needs about $need MiB (extracted, plus 512 MiB of replayed WAL) and $RESTORE_DRILL_DIR has $free MiB free${RESTORE_DRILL_SCRATCH_LIMIT_MB:+ of its $RESTORE_DRILL_SCRATCH_LIMIT_MB MiB limit}. Give the drill more scratch space (scratchSize or scratchClaim)."
  log "space: the drill needs about $need MiB, $RESTORE_DRILL_DIR has $free MiB"
}

# add_check NAME OK [KEY JSON_VALUE]...: appends one entry to checks; a failed one to failed.
add_check() {
  c_name=$1 c_ok=$2
  shift 2
  entry=$(json_object name "$(json_string "$c_name")" ok "$(json_bool "$c_ok")" "$@")
  checks="${checks:+$checks, }$entry"
  [ "$c_ok" = true ] || failed="$failed $c_name"
  log "check: $entry"
}

# psql_error FILE: the first error line psql wrote to FILE, without psql's own prefix.
psql_error() { grep -E 'ERROR|FATAL|error' "$1" | head -n 1 | sed 's/^psql:[^ ]*: //'; }

# user_check NAME DATABASE SQL EXPECTED: runs one user check.
user_check() {
  if got=$(printf '%s\n' "$3" | sql "$2" 2>"$work/check.err"); then
    got=$(printf '%s' "$got" | tr '\n' ',')
    ok=false
    [ "$got" != "$4" ] || ok=true
    add_check "$1" "$ok" database "$(json_string "$2")" expected "$(json_string "$4")" got "$(json_string "$got")"
  else
    add_check "$1" false database "$(json_string "$2")" expected "$(json_string "$4")" error "$(json_string "$(psql_error "$work/check.err")")"
  fi
}

# amcheck DATABASE: bt_index_check on every valid btree index of DATABASE.
amcheck() {
  if got=$(sql "$1" 2>"$work/check.err" <<'EOF'
CREATE EXTENSION IF NOT EXISTS amcheck;
SELECT count(bt_index_check(c.oid)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
  WHERE a.amname = 'btree' AND c.relpersistence <> 't' AND i.indisvalid AND i.indisready;
EOF
  ); then
    add_check "amcheck:$1" true indexes "$(json_uint "$got")"
  else
    add_check "amcheck:$1" false error "$(json_string "$(psql_error "$work/check.err")")"
  fi
}

# run_checks: the checks above, in order; sets the recovered_* and replay values of the result.
run_checks() {
  facts=$(sql postgres 2>"$work/check.err" <<EOF
SELECT pg_is_in_recovery(), coalesce(to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), ''),
  pg_last_wal_replay_lsn(), pg_walfile_name(pg_last_wal_replay_lsn()), pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '$b_start_lsn')::bigint;
EOF
  ) || { add_check query false error "$(json_string "$(psql_error "$work/check.err")")"; return 0; }
  IFS='|' read -r in_recovery recovered_to recovered_lsn replay_wal replayed_bytes <<EOF
$facts
EOF
  add_check query "$([ "$in_recovery" = f ] && echo true || echo false)" in_recovery "$(json_string "$in_recovery")"
  recovered_source='last commit replayed'
  [ -n "$recovered_to" ] || { recovered_to=$b_end_time recovered_source="end of backup $backup (no commit replayed after it)"; }
  # Segment numbers (the 16 hex digits after the timeline) compare as text; the archive's newest must not lie beyond.
  ok=false
  [ "$(printf '%s\n' "${replay_wal#????????}" "${expected_end#????????}" | LC_ALL=C sort | head -n 1)" != "${expected_end#????????}" ] || ok=true
  add_check replayed_to_end_of_archive "$ok" replayed_to_lsn "$(json_string "$recovered_lsn")" \
    expected_end_segment "$(json_string "$expected_end")"
  [ "$ok" = true ] || error="recovery ended at LSN $recovered_lsn, before segment $expected_end, the end of the archive at the start: a segment on the way is damaged or missing, and a restore to latest would silently lose the WAL after it"
  if [ "$RESTORE_DRILL_AMCHECK" = true ]; then
    dbs=$(echo 'SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1' | sql postgres 2>"$work/check.err") ||
      { add_check amcheck false error "$(json_string "$(psql_error "$work/check.err")")"; dbs=''; }
    while IFS= read -r d; do [ -z "$d" ] || amcheck "$d"; done <<EOF
$dbs
EOF
  fi
  each_check user_check
}

# result RC: the one JSON line of the drill.
result() {
  replay_seconds=$(( ${promoted:-0} - ${extracted:-0} ))
  rate=''
  if is_uint "${replayed_bytes:-}" && [ "${promoted:-0}" -gt 0 ]; then rate=$((replayed_bytes / (replay_seconds > 0 ? replay_seconds : 1))); fi
  json_object ok "$(json_bool "$([ "$1" -eq 0 ] && echo true)")" \
    backup "$(json_string_or_null "$backup")" backup_end_time "$(json_string_or_null "${b_end_time:-}")" \
    recovered_to "$(json_string_or_null "${recovered_to:-}")" recovered_to_source "$(json_string_or_null "${recovered_source:-}")" \
    seconds_to_restore "$(json_uint "$([ "${promoted:-0}" -gt 0 ] && echo $((promoted - started)))")" \
    extract_seconds "$(json_uint "$([ "${extracted:-0}" -gt 0 ] && echo $((extracted - started)))")" \
    replay_seconds "$(json_uint "$([ "${promoted:-0}" -gt 0 ] && echo "$replay_seconds")")" \
    replayed_wal_bytes "$(json_uint "${replayed_bytes:-}")" replay_bytes_per_second "$(json_uint "$rate")" \
    failed_step "$(if [ "$1" -eq 0 ]; then echo null; else json_string "$step"; fi)" error "$(json_string_or_null "$error")" \
    checks "[$checks]"
  echo
}
