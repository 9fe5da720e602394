#!/bin/sh
# archive-wal.sh: PostgreSQL archive_command. Stores one WAL file in the WAL archive.
#
# Usage (postgresql.conf; the working directory is the data directory):
#   archive_command = '/bin/sh /opt/pitr/scripts/archive-wal.sh "%p" "%f"'
#
# Environment:
#   WAL_ARCHIVE_DIR          archive folder (default /var/lib/postgresql/wal-archive)
#   WAL_ARCHIVE_COMPRESSION  zstd (default: segments and .partial files stored as %f.zst; needs
#                            the zstd command) | none (stored as %f)
#
# Behaviour:
#   - writes %p in its stored form (pitr-store.sh archive_store) to a hidden temporary name
#     inside WAL_ARCHIVE_DIR, checks it against %p, flushes it to disk (file, then folder), then
#     links it to its final name without ever overwriting;
#   - %f already archived (plain or compressed) with identical content: success (a re-archive
#     after a crash); with different content: failure, the archived file is kept;
#   - accepts segment, .partial, .history and .backup names.
# Exit codes: 0 archived (or identical copy already there); 1 any failure (PostgreSQL keeps the
# file and retries later). Temporary files are removed on failure.
# Needs pitr-lib.sh and pitr-store.sh in the same folder. Messages go to stderr (the server log).
set -eu

me='archive-wal.sh'
log_stream=stderr
WAL_ARCHIVE_DIR="${WAL_ARCHIVE_DIR:-/var/lib/postgresql/wal-archive}"
script_dir=$(dirname "$0")
[ -f "$script_dir/pitr-lib.sh" ] || { printf '%s: ERROR: %s not found\n' "$me" "$script_dir/pitr-lib.sh" >&2; exit 1; }
# shellcheck source=pitr-lib.sh
. "$script_dir/pitr-lib.sh"
need_helper pitr-store.sh
# shellcheck source=pitr-store.sh
. "$script_dir/pitr-store.sh"
need_helper pitr-identity.sh
# shellcheck source=pitr-identity.sh
. "$script_dir/pitr-identity.sh"

# check_args PATH NAME: sets src and name from the arguments and checks them and the archive.
check_args() {
  src=$1
  name=$2
  check_wal_file_name "$name"
  [ -f "$src" ] || fail "source '$src' does not exist or is not a regular file"
  [ -r "$src" ] || fail "source '$src' is not readable"
  [ -d "$WAL_ARCHIVE_DIR" ] || fail "archive folder '$WAL_ARCHIVE_DIR' does not exist"
}

# already_there: $dest exists. Identical content is success (PostgreSQL re-archives after a
# crash), a different content is an error that must never be resolved by overwriting.
already_there() {
  if archive_same "$src" "$name"; then
    log "$name already archived with identical content; nothing to do"
    exit 0
  fi
  fail "'$(archived_path "$name" || printf '%s' "$dest")' already exists with DIFFERENT content; refusing to overwrite it (another server archiving into the same folder, or a timeline clash?)"
}

# copy_to_tmp: stores $src under a hidden temporary name in the archive (archive_store checks
# it), flushes it and sets dest to its final name.
copy_to_tmp() {
  tmp="$WAL_ARCHIVE_DIR/.archive-wal.$name.$$.tmp"
  dest=$(archive_store "$src" "$name" "$tmp") || exit 1
  flush "$tmp" || fail "flushing '$tmp' to disk failed"
}

# publish: gives the temporary file its final name $dest. ln fails when the destination exists,
# so it cannot overwrite (unlike mv); the temporary name is then removed. A file system without
# hard links falls back to mv after a last check.
publish() {
  if ln -- "$tmp" "$dest" 2>/dev/null; then
    rm -f -- "$tmp"
    tmp=''
  else
    if [ -e "$dest" ]; then
      already_there
    fi
    mv -- "$tmp" "$dest" || fail "rename of '$tmp' to '$dest' failed"
    tmp=''
  fi
  flush "$WAL_ARCHIVE_DIR" || fail "flushing folder '$WAL_ARCHIVE_DIR' to disk failed"
}

main() {
  remove_tmp_on_exit
  [ "$#" -eq 2 ] || fail "usage: $me <path (%p)> <file name (%f)>"
  check_args "$1" "$2"
  dest="$WAL_ARCHIVE_DIR/$name"
  if archived_path "$name" >/dev/null || [ -e "$dest" ] || [ -L "$dest" ]; then
    already_there
  fi
  check_archive_identity "$src" "$name"
  copy_to_tmp
  publish
  log "archived $name as ${dest##*/}"
}

main "$@"
