#!/bin/sh
# pitr-lib.sh: the functions the PITR scripts share. It is sourced, never run:
#
#   me='<script>.sh'          message prefix
#   log_stream=stdout         where log writes: stdout or stderr
#   script_dir=$(dirname "$0")
#   # shellcheck source=pitr-lib.sh
#   . "$script_dir/pitr-lib.sh"
#
# Sourcing it defines functions and the variable pitr_awk_lsn, nothing else: it runs no command
# and changes no shell option. The functions read the script's me, log_stream and script_dir,
# set the variables their comments name, and keep their scratch values in pitr_* variables.
# POSIX sh (dash, busybox ash) and POSIX awk (mawk, gawk, busybox awk).

# --- messages ------------------------------------------------------------------------------------
# log MESSAGE...: "<me>: MESSAGE" on stdout, or on stderr when log_stream=stderr.
log() { if [ "${log_stream:-stdout}" = stderr ]; then log_stderr "$@"; else printf '%s: %s\n' "${me:-pitr-lib.sh}" "$*"; fi; }
# log_stderr MESSAGE...: "<me>: MESSAGE" on stderr, whatever log_stream says.
log_stderr() { printf '%s: %s\n' "${me:-pitr-lib.sh}" "$*" >&2; }
# log_lines PREFIX: logs every line of stdin, after PREFIX.
log_lines() {
  while IFS= read -r pitr_line || [ -n "$pitr_line" ]; do log "$1$pitr_line"; done
}
# warn MESSAGE...: "<me>: WARNING: MESSAGE" on stderr.
warn() { printf '%s: WARNING: %s\n' "${me:-pitr-lib.sh}" "$*" >&2; }
# fail MESSAGE...: "<me>: ERROR: MESSAGE" on stderr, then exit 1; an EXIT trap finds MESSAGE in pitr_failure.
# shellcheck disable=SC2034 # pitr_failure is for the caller's EXIT trap
fail() { pitr_failure="$*"; printf '%s: ERROR: %s\n' "${me:-pitr-lib.sh}" "$*" >&2; exit 1; }

# --- checks --------------------------------------------------------------------------------------
# is_uint VALUE: whether VALUE is digits only (and not empty).
is_uint() { case "$1" in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }
# is_wal_name VALUE: whether VALUE is a WAL segment name: 24 upper-case hex digits.
is_wal_name() {
  case "$1" in
    [0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F]) return 0 ;;
    *) return 1 ;;
  esac
}
# is_lsn VALUE: whether VALUE is an LSN: hex digits, one '/', hex digits (e.g. 0/3000060).
# check_wal_file_name NAME: fails unless NAME is a plain file name (%f): not empty, no '/', no leading '.'.
check_wal_file_name() { case "$1" in '' | */* | .*) fail "invalid WAL file name '$1'" ;; esac; }
is_lsn() {
  case "$1" in
    */*/* | /* | */ | *[!0-9A-Fa-f/]*) return 1 ;;
    */*) return 0 ;;
    *) return 1 ;;
  esac
}
# has_stamp NAME PREFIX: whether NAME is PREFIX followed by a DD_MM_YYYY_HH_MM_SS time stamp
# (PREFIX is literal text, not a pattern).
has_stamp() {
  case "$1" in
    "$2"[0-9][0-9]_[0-9][0-9]_[0-9][0-9][0-9][0-9]_[0-9][0-9]_[0-9][0-9]_[0-9][0-9]) return 0 ;;
    *) return 1 ;;
  esac
}
# check_bool NAME VALUE: fails unless VALUE (the setting NAME) is true or false.
check_bool() { case "$2" in true | false) ;; *) fail "$1 must be true or false, got '$2'" ;; esac; }
# need_command NAME: fails unless the command NAME is on PATH.
need_command() { command -v "$1" >/dev/null 2>&1 || fail "$1 not found on PATH"; }

# --- files and time ------------------------------------------------------------------------------
# flush PATH: flushes a file or folder to disk. busybox sync before 1.24 takes no operand: it
# falls back to a full sync then.
flush() { sync -- "$1" 2>/dev/null || sync "$1" 2>/dev/null || sync; }
# iso EPOCH: Unix seconds as UTC YYYY-MM-DDTHH:MM:SSZ.
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
# remove_tmp_on_exit: removes the file named by $tmp (set it once it may exist) at exit; HUP, INT and TERM exit 1.
remove_tmp_on_exit() {
  tmp=''
  trap remove_tmp EXIT
  trap 'remove_tmp; exit 1' HUP INT TERM
}
# remove_tmp: removes the file named by $tmp, if any (the trap of remove_tmp_on_exit).
remove_tmp() { if [ -n "${tmp:-}" ]; then rm -f -- "$tmp" 2>/dev/null || true; fi; }

# --- pitr-catalog.sh -----------------------------------------------------------------------------
# need_helper FILE: fails unless FILE (pitr-catalog.sh, ...) is beside the script.
need_helper() {
  [ -f "${script_dir:-.}/$1" ] || fail "helper '${script_dir:-.}/$1' not found (it ships beside this script)"
}
# catalog ARGS...: runs pitr-catalog.sh ARGS (see there: "backups", "gaps ...").
catalog() { sh "${script_dir:-.}/pitr-catalog.sh" "$@"; }
# parse_backup LINE: splits a "pitr-catalog.sh backups" line into b_end_epoch, b_name,
# b_start_epoch, b_start_time, b_end_time, b_start_lsn, b_end_lsn, b_timeline and b_start_wal.
# shellcheck disable=SC2034 # the b_* variables are for the caller
parse_backup() {
  read -r b_end_epoch b_name b_start_epoch b_start_time b_end_time b_start_lsn b_end_lsn b_timeline b_start_wal <<EOF
$1
EOF
}
# check_wal START_WAL SEGMENT_SIZE NAMES: runs "pitr-catalog.sh gaps START_WAL" over the archive
# plus NAMES (segment names, one a line) and sets wal_count, wal_last (empty when none) and
# wal_gap_lines ("<first missing> <last missing> <number missing>" lines, empty when no gap).
# shellcheck disable=SC2034 # the wal_* variables are for the caller
check_wal() {
  pitr_report=$(printf '%s\n' "$3" | WAL_SEGMENT_SIZE=$2 sh "${script_dir:-.}/pitr-catalog.sh" gaps "$1" -) ||
    fail "could not check the WAL archive ${WAL_ARCHIVE_DIR:-}"
  wal_count=$(printf '%s\n' "$pitr_report" | sed -n 's/^count //p')
  wal_last=$(printf '%s\n' "$pitr_report" | sed -n 's/^last //p')
  wal_gap_lines=$(printf '%s\n' "$pitr_report" | sed -n 's/^gap //p')
}

# wal_gaps_json: the wal_gap_lines of check_wal as JSON objects {"from", "to", "count"}, one a line.
wal_gaps_json() {
  printf '%s\n' "${wal_gap_lines:-}" | while read -r pitr_a pitr_b pitr_k; do
    [ -n "$pitr_a" ] || continue
    json_object from "$(json_string "$pitr_a")" to "$(json_string "$pitr_b")" count "$(json_uint "$pitr_k")" && printf '\n'
  done
}

# --- hex numbers and LSNs in awk (POSIX awk has no strtonum) --------------------------------------
# Prepend to an awk program: "$pitr_awk_lsn"'<program>'. Defines
#   hex(s)         the value of the hex digits s, any case (exact up to 13 digits)
#   lsn_cmp(a, b)  -1, 0 or 1 as LSN a ("X/Y") is below, equal to or above LSN b; the two halves
#                  are compared apart, so it stays exact up to FFFFFFFF/FFFFFFFF
pitr_awk_lsn='
function hex(s,   i, v) {
  v = 0; s = toupper(s)
  for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1
  return v
}
function lsn_cmp(a, b,   x, y) {
  split(a, x, "/"); split(b, y, "/")
  if (hex(x[1]) != hex(y[1])) return hex(x[1]) < hex(y[1]) ? -1 : 1
  if (hex(x[2]) != hex(y[2])) return hex(x[2]) < hex(y[2]) ? -1 : 1
  return 0
}
'
# lsn_le A B: whether LSN A is at or before LSN B.
lsn_le() { awk -v a="$1" -v b="$2" "$pitr_awk_lsn"'BEGIN { exit !(lsn_cmp(a, b) <= 0) }'; }

# --- JSON ----------------------------------------------------------------------------------------
# json_string STRING: STRING as a quoted JSON string: backslash, double quote and control
# characters escaped (\n, \t, \r, the others \u00XX); every other byte (UTF-8 too) as it is.
json_string() {
  case "$1" in
    *[\\\"]* | *[[:cntrl:]]*) ;;
    *) printf '"%s"' "$1" && return 0 ;;
  esac
  # The string goes through the environment: awk -v would interpret its backslashes.
  pitr_json_in=$1 LC_ALL=C awk 'BEGIN {
    for (i = 1; i < 32; i++) esc[sprintf("%c", i)] = sprintf("\\u%04x", i)
    esc["\n"] = "\\n"; esc["\t"] = "\\t"; esc["\r"] = "\\r"; esc["\\"] = "\\\\"; esc["\""] = "\\\""
    s = ENVIRON["pitr_json_in"]; out = ""
    for (i = 1; i <= length(s); i++) { c = substr(s, i, 1); out = out ((c in esc) ? esc[c] : c) }
    printf "\"%s\"", out
  }'
}
# json_string_or_null STRING: null when STRING is empty, otherwise json_string STRING.
json_string_or_null() { if [ -z "$1" ]; then printf 'null'; else json_string "$1"; fi; }
# json_uint VALUE: VALUE as a JSON number when it is a whole number (no leading zero), else null.
json_uint() {
  case "$1" in
    0 | [1-9] | [1-9]*[0-9]) if is_uint "$1"; then printf '%s' "$1" && return 0; fi ;;
  esac
  printf 'null'
}
# json_bool VALUE: true when VALUE is "true", else false.
json_bool() { if [ "$1" = true ]; then printf 'true'; else printf 'false'; fi; }
# json_object [KEY VALUE]...: a one-line object {"KEY": VALUE, ...}. Each VALUE is JSON already
# (from json_string, json_uint, ...); keys are escaped.
json_object() { pitr_json_members '{' ', ' '}' "$@"; }
# json_object_pretty [KEY VALUE]...: the same object, one member a line, indented by two spaces:
# its first line is exactly "{".
json_object_pretty() {
  pitr_json_members '{
  ' ',
  ' '
}' "$@"
}
# pitr_json_members OPEN SEPARATOR CLOSE [KEY VALUE]...: the members between OPEN and CLOSE.
pitr_json_members() {
  printf '%s' "$1"
  pitr_sep=''
  pitr_between=$2
  pitr_close=$3
  shift 3
  [ $(($# % 2)) -eq 0 ] || fail "internal error: a JSON object needs KEY VALUE pairs"
  while [ "$#" -gt 0 ]; do
    printf '%s%s: %s' "$pitr_sep" "$(json_string "$1")" "$2"
    pitr_sep=$pitr_between
    shift 2
  done
  printf '%s' "$pitr_close"
}
# json_array INDENT: the JSON values on stdin (one a line, empty lines skipped) as an array, one
# value a line indented by INDENT plus two spaces, "]" indented by INDENT; [] when none.
json_array() {
  pitr_sep=''
  printf '['
  while IFS= read -r pitr_item || [ -n "$pitr_item" ]; do
    [ -n "$pitr_item" ] || continue
    printf '%s\n%s  %s' "$pitr_sep" "$1" "$pitr_item"
    pitr_sep=','
  done
  if [ -n "$pitr_sep" ]; then printf '\n%s' "$1"; fi
  printf ']'
}
