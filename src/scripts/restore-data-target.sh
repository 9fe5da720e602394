#!/bin/sh
# restore-data-target.sh: the recovery target given at restore time. Sourced by restore-data.sh
# after pitr-lib.sh, never run; it only defines functions. With RECOVERY_TARGET_TYPE=runtime the
# target comes from the ConfigMap RESTORE_TARGET_CONFIGMAP, mounted at RESTORE_TARGET_DIR (one
# file per key), made by the operator with plain kubectl, e.g.
#   kubectl create configmap tsb-postgres-restore-target --from-literal=time='2024-12-04 14:35:00+00'
# Keys: exactly one target, time | xid | lsn | name | immediate | latest (immediate and latest
# take an empty value or true); optional inclusive (true | false), timeline (latest | current |
# a timeline id), action (promote | pause | shutdown), backup (a backup folder name), old-data
# (keep | delete | delete-first) and allow-truncated-history (true | false). Each value is checked
# with the rules and messages the library applies at synth time, before any data is touched.
# shellcheck disable=SC2034 # the variables set here are read by restore-data.sh

# runtime_fail KEY VALUE RULE FIX: fails in the library's message shape: 'KEY' RULE, got "VALUE". FIX
runtime_fail() {
  fail "restore target ConfigMap $RESTORE_TARGET_CONFIGMAP: '$1' $3, got $(json_string "$2"). $4"
}

# parse_time VALUE: prints "ok <epoch> <normalised>", or "err regex|zone|calendar".
parse_time() {
  printf '%s\n' "$1" | LC_ALL=C awk '
    function civil(y, m, d,   era, yoe, doy) {
      y -= (m <= 2); era = int(y / 400); yoe = y - era * 400
      doy = int((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
      return era * 146097 + yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy - 719468
    }
    function p2(n) { return sprintf("%02d", n) }
    {
      s = toupper($0); sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s)
      re = "^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][T ][0-9][0-9]:[0-9][0-9](:[0-9][0-9](\\.[0-9][0-9]?[0-9]?[0-9]?[0-9]?[0-9]?)?)?[ \t]*(Z|UTC|GMT|[+-][0-9][0-9](:?[0-9][0-9])?)$"
      if (s !~ re) { print "err regex"; exit }
      y = substr(s, 1, 4) + 0; mo = substr(s, 6, 2) + 0; d = substr(s, 9, 2) + 0
      h = substr(s, 12, 2) + 0; mi = substr(s, 15, 2) + 0; sec = 0; frac = ""; rest = substr(s, 17)
      if (substr(rest, 1, 1) == ":") { sec = substr(rest, 2, 2) + 0; rest = substr(rest, 4) }
      if (substr(rest, 1, 1) == ".") { match(rest, /^\.[0-9]+/); frac = substr(rest, 1, RLENGTH); rest = substr(rest, RLENGTH + 1) }
      sub(/^[ \t]+/, "", rest); off = 0
      if (rest != "Z" && rest != "UTC" && rest != "GMT") {
        digits = substr(rest, 2); sub(/:/, "", digits)
        oh = substr(digits, 1, 2) + 0; om = (length(digits) > 2 ? substr(digits, 3, 2) : 0) + 0
        if (oh > 15 || om > 59) { print "err zone"; exit }
        off = (substr(rest, 1, 1) == "-" ? -1 : 1) * (oh * 60 + om)
      }
      split("31 28 31 30 31 30 31 31 30 31 30 31", dim, " ")
      if (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) dim[2] = 29
      if (mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59 || y < 1970 || d < 1 || d > dim[mo]) { print "err calendar"; exit }
      e = civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off * 60
      z = int(e / 86400); r = e - z * 86400; z += 719468; era = int(z / 146097); doe = z - era * 146097
      yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
      doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100)); mp = int((5 * doy + 2) / 153)
      dd = doy - int((153 * mp + 2) / 5) + 1; mm = mp + (mp < 10 ? 3 : -9); yy = yoe + era * 400 + (mm <= 2)
      printf "ok %d %04d-%s-%s %s:%s:%s%s+00\n", e, yy, p2(mm), p2(dd), p2(int(r / 3600)), p2(int(r % 3600 / 60)), p2(r % 60), frac
    }'
}

# check_target_value KEY VALUE: checks a target and sets target_value (the canonical setting value).
check_target_value() {
  case "$1" in
    time)
      t=$(parse_time "$2")
      fix="Write it with its zone, like '2024-12-04T14:35:00Z' or '2024-12-04 14:35:00+00'"
      case "$t" in
        'err regex') runtime_fail time "$2" "must be a date and time with an explicit zone (Z, UTC, +hh, +hh:mm or +hhmm); zone abbreviations such as PDT are rejected by PostgreSQL and a time without a zone is read in the server's zone" "$fix" ;;
        'err zone') runtime_fail time "$2" 'has a zone offset out of range (at most ±15:59)' "$fix" ;;
        'err calendar' | '') runtime_fail time "$2" 'is not a valid calendar date and time (from 1970 on)' "$fix" ;;
      esac
      RECOVERY_TARGET_EPOCH=$(printf '%s' "$t" | cut -d ' ' -f 2)
      target_value=$(printf '%s' "$t" | cut -d ' ' -f 3-)
      ;;
    xid)
      v=$(printf '%s' "$2" | sed 's/^0*//')
      ok=true
      case "$2" in '' | *[!0-9]*) ok=false ;; esac
      [ "${#2}" -le 20 ] || ok=false
      case "$v" in '' | 1 | 2) ok=false ;; esac
      if [ "${#v}" -eq 20 ] && [ "$(printf '%s\n%s\n' "$v" 18446744073709551615 | LC_ALL=C sort | tail -n 1)" != 18446744073709551615 ]; then ok=false; fi
      if [ "$ok" != true ]; then
        runtime_fail xid "$2" 'must be an unsigned decimal transaction id of at least 3 (the first normal xid)' "Use the number SELECT txid_current() printed, such as '12345'"
      fi
      target_value=$v
      ;;
    lsn)
      if ! printf '%s' "$2" | grep -Eqx '[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}' || [ "$(printf '%s' "$2" | wc -l)" -gt 0 ]; then
        runtime_fail lsn "$2" "must be a WAL location of two hex numbers separated by '/'" "Use the value of SELECT pg_current_wal_lsn(), such as '0/3000060'"
      fi
      target_value=$(printf '%s' "$2" | tr 'a-f' 'A-F' | sed 's|^0*\([0-9A-F]\)|\1|; s|/0*\([0-9A-F]\)|/\1|')
      RECOVERY_TARGET_LSN=$target_value
      ;;
    name)
      n=$(printf '%s' "$2" | wc -c)
      case "$2" in *[[:cntrl:]]*) n=0 ;; esac
      if [ "$n" -lt 1 ] || [ "$n" -gt 63 ]; then
        runtime_fail name "$2" 'must be a restore point name of 1 to 63 bytes (UTF-8) without control characters' "Use the name given to pg_create_restore_point(), such as 'before_critical_operation'"
      fi
      target_value=$2
      ;;
    immediate | latest)
      case "$2" in '' | true) ;; *) runtime_fail "$1" "$2" 'takes no value' "Use --from-literal=$1=true" ;; esac
      target_value=''
      ;;
  esac
}

# read_runtime_target: with RECOVERY_TARGET_TYPE=runtime, reads and checks the ConfigMap; sets
# RECOVERY_TARGET_TYPE (and _EPOCH, _LSN, _TIMELINE), RESTORE_BACKUP, RESTORE_OLD_DATA,
# RESTORE_ALLOW_TRUNCATED_HISTORY, and runtime_lines (the settings to append). Without it,
# runtime_lines is empty.
read_runtime_target() {
  runtime_lines=''
  [ "$RECOVERY_TARGET_TYPE" = runtime ] || return 0
  d=$RESTORE_TARGET_DIR
  how="kubectl create configmap $RESTORE_TARGET_CONFIGMAP --from-literal=time='2024-12-04 14:35:00+00' (or xid=, lsn=, name=, latest=true)"
  [ -d "$d" ] || fail "no restore target: the ConfigMap $RESTORE_TARGET_CONFIGMAP is not mounted at $d. Create it: $how"
  known='time xid lsn name immediate latest inclusive timeline action backup old-data allow-truncated-history'
  target=''
  inclusive=''
  for f in "$d"/*; do
    [ -f "$f" ] || continue
    k=${f##*/}
    case " $known " in *" $k "*) ;; *) fail "restore target ConfigMap $RESTORE_TARGET_CONFIGMAP: unknown key '$k'; the keys are: $known" ;; esac
    v=$(cat -- "$f") || fail "cannot read $f"
    case "$k" in
      time | xid | lsn | name | immediate | latest)
        [ -z "$target" ] || fail "restore target ConfigMap $RESTORE_TARGET_CONFIGMAP sets two targets, '$target' and '$k': keep one (PostgreSQL refuses 'multiple recovery targets specified')"
        target=$k
        check_target_value "$k" "$v"
        ;;
      inclusive) check_bool inclusive "$v"; inclusive=$v ;;
      timeline)
        case "$v" in
          latest | current) ;;
          *) { is_uint "$v" && [ "$v" -ge 1 ] && [ "$v" -le 4294967295 ]; } ||
            runtime_fail timeline "$v" "must be 'latest', 'current' or a positive integer timeline id" 'Use latest, current or the id SELECT timeline_id FROM pg_control_checkpoint() printed' ;;
        esac
        RECOVERY_TARGET_TIMELINE=$v
        runtime_lines="${runtime_lines}recovery_target_timeline = '$v'
"
        ;;
      action)
        case "$v" in promote | pause | shutdown) ;; *) runtime_fail action "$v" 'must be promote, pause or shutdown' 'Use promote to end with a writable server' ;; esac
        runtime_lines="${runtime_lines}recovery_target_action = '$v'
"
        ;;
      backup) RESTORE_BACKUP=$v ;;
      old-data)
        case "$v" in keep | delete | delete-first) ;; *) runtime_fail old-data "$v" 'must be keep, delete or delete-first' 'Use delete-first only when the volume cannot hold the old and the new data directory' ;; esac
        RESTORE_OLD_DATA=$v
        ;;
      allow-truncated-history) check_bool allow-truncated-history "$v"; RESTORE_ALLOW_TRUNCATED_HISTORY=$v ;;
    esac
  done
  [ -n "$target" ] || fail "restore target ConfigMap $RESTORE_TARGET_CONFIGMAP sets no target. Create it with one: $how"
  if [ -n "$inclusive" ]; then
    case "$target" in
      time | xid | lsn) runtime_lines="${runtime_lines}recovery_target_inclusive = '$([ "$inclusive" = true ] && echo on || echo off)'
" ;;
      *) runtime_fail inclusive "$inclusive" "applies only to time, xid and LSN targets, and the target is $target" "Remove 'inclusive' for this target" ;;
    esac
  fi
  RECOVERY_TARGET_TYPE=$target
  case "$target" in
    latest) ;;
    immediate) runtime_lines="recovery_target = 'immediate'
$runtime_lines" ;;
    *) runtime_lines="recovery_target_$target = '$(printf '%s' "$target_value" | sed "s/\\\\/\\\\\\\\/g; s/'/''/g")'
$runtime_lines" ;;
  esac
  log "restore target from ConfigMap $RESTORE_TARGET_CONFIGMAP: $target${target_value:+ $target_value}"
}
