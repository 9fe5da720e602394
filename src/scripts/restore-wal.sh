#!/bin/sh
# restore-wal.sh: PostgreSQL restore_command. Copies one archived WAL file back for recovery.
#
# Usage (recovery settings; the working directory is the data directory):
#   restore_command = '/bin/sh /opt/pitr/scripts/restore-wal.sh "%f" "%p"'
#
# Environment:
#   WAL_ARCHIVE_DIR  archive folder (default /var/lib/postgresql/wal-archive)
#
# Behaviour: writes the content of the archived %f (stored plain or compressed, see
# pitr-store.sh) to a temporary name next to %p, then renames it to %p, so %p never holds a
# partial file.
# Exit codes: 0 restored; 1 the file is not in the archive (normal: PostgreSQL asks for files
# that do not exist, e.g. the next timeline's history file) or the copy failed. Never above 125,
# which would abort the server's startup.
# Needs pitr-lib.sh and pitr-store.sh in the same folder. Messages go to stderr (the server log).
set -eu

me='restore-wal.sh'
log_stream=stderr
WAL_ARCHIVE_DIR="${WAL_ARCHIVE_DIR:-/var/lib/postgresql/wal-archive}"
script_dir=$(dirname "$0")
[ -f "$script_dir/pitr-lib.sh" ] || { printf '%s: ERROR: %s not found\n' "$me" "$script_dir/pitr-lib.sh" >&2; exit 1; }
# shellcheck source=pitr-lib.sh
. "$script_dir/pitr-lib.sh"
need_helper pitr-store.sh
# shellcheck source=pitr-store.sh
. "$script_dir/pitr-store.sh"

# restore NAME DEST: writes the archived NAME to a temporary name beside DEST, then renames it
# to DEST. A NAME not in the archive exits 1 with one quiet line: PostgreSQL probes for files
# that may not exist, so that is not an error.
restore() {
  name=$1
  dest=$2
  check_wal_file_name "$name"
  [ -n "$dest" ] || fail "empty destination path"
  if ! archived_path "$name" >/dev/null; then
    log "$name not in archive"
    exit 1
  fi
  case "$dest" in
    */*) dest_dir=${dest%/*} ;;
    *) dest_dir=. ;;
  esac
  tmp="$dest_dir/.restore-wal.$name.$$.tmp"
  archived_to_file "$name" "$tmp" || fail "reading the archived $name into '$tmp' failed"
  mv -f -- "$tmp" "$dest" || fail "rename of '$tmp' to '$dest' failed"
  tmp=''
  log "restored $name"
}

main() {
  remove_tmp_on_exit
  [ "$#" -eq 2 ] || fail "usage: $me <file name (%f)> <destination path (%p)>"
  restore "$1" "$2"
}

main "$@"
