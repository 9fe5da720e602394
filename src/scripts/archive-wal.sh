#!/bin/sh
# archive-wal.sh: PostgreSQL archive_command. Copies one WAL file into the WAL archive.
#
# Usage (postgresql.conf; the working directory is the data directory):
#   archive_command = '/bin/sh /opt/pitr/scripts/archive-wal.sh "%p" "%f"'
#
# Environment:
#   WAL_ARCHIVE_DIR  archive folder (default /var/lib/postgresql/wal-archive)
#
# Behaviour:
#   - copies %p to a hidden temporary name inside WAL_ARCHIVE_DIR, checks the copy, flushes it
#     to disk (file, then folder), then links it to %f without ever overwriting;
#   - %f already archived with identical content: success (a re-archive after a crash);
#     with different content: failure, the archived file is kept;
#   - accepts segment, .partial, .history and .backup names.
# Exit codes: 0 archived (or identical copy already there); 1 any failure (PostgreSQL keeps the
# file and retries later). Temporary files are removed on failure.
set -eu

me='archive-wal.sh'
WAL_ARCHIVE_DIR="${WAL_ARCHIVE_DIR:-/var/lib/postgresql/wal-archive}"

log() { printf '%s: %s\n' "$me" "$*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

tmp=''
cleanup() {
  if [ -n "$tmp" ]; then rm -f -- "$tmp" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM

# Flush a file or folder to disk. busybox sync before 1.24 takes no operand: fall back to a
# full sync then.
flush() {
  sync -- "$1" 2>/dev/null || sync "$1" 2>/dev/null || sync
}

[ "$#" -eq 2 ] || fail "usage: $me <path (%p)> <file name (%f)>"
src=$1
name=$2
case "$name" in
  '' | */* | .*) fail "invalid WAL file name '$name'" ;;
esac
[ -f "$src" ] || fail "source '$src' does not exist or is not a regular file"
[ -r "$src" ] || fail "source '$src' is not readable"
[ -d "$WAL_ARCHIVE_DIR" ] || fail "archive folder '$WAL_ARCHIVE_DIR' does not exist"

dest="$WAL_ARCHIVE_DIR/$name"

# Already archived? Identical content is success (PostgreSQL re-archives after a crash), a
# different content is an error that must never be resolved by overwriting.
already_there() {
  if cmp -s -- "$src" "$dest"; then
    log "$name already archived with identical content; nothing to do"
    exit 0
  fi
  fail "'$dest' already exists with DIFFERENT content; refusing to overwrite it (another server archiving into the same folder, or a timeline clash?)"
}
if [ -e "$dest" ] || [ -L "$dest" ]; then
  already_there
fi

tmp="$WAL_ARCHIVE_DIR/.archive-wal.$name.$$.tmp"
cp -- "$src" "$tmp" || fail "copy of '$src' to '$tmp' failed"
cmp -s -- "$src" "$tmp" || fail "the copy '$tmp' differs from '$src' (short write?)"
flush "$tmp" || fail "flushing '$tmp' to disk failed"

# ln fails when the destination exists, so it cannot overwrite (unlike mv); the temporary name
# is then removed. A file system without hard links falls back to mv after a last check.
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
log "archived $name"
