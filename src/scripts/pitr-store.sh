#!/bin/sh
# pitr-store.sh: how the WAL archive and the base backups are stored on their volumes. Sourced
# after pitr-lib.sh, never run; it only defines functions. Every script that reads archived WAL
# or a backup's files goes through these functions, so the storage format lives in one place.
# It sources pitr-store-backup.sh (the backup half) from the same folder.
#
# Reads WAL_ARCHIVE_DIR (the archive folder). Backup folders are given as arguments.
#
# Archive format: WAL segments and .partial files are stored zstd-compressed as NAME.zst
# (archive_store); .history and .backup files stay plain (small, and read by people). A plain
# NAME written before compression (or with WAL_ARCHIVE_COMPRESSION=none) is read the same way,
# so an archive may mix both.
#   archive_names           the WAL file names the archive holds (segments, .history, .partial,
#                           .backup), without any storage suffix, one a line, unsorted
#   archived_path NAME      the path of the file holding NAME (maybe compressed); returns 1 when
#                           NAME is not archived
#   archived_cat NAME       NAME's content, as PostgreSQL wrote it, on stdout; returns 1 when absent
#   archived_to_file NAME DEST  writes NAME's content to the file DEST (for pg_waldump); 1 when absent
#   archived_mtime NAME     the Unix time the archived file was written; returns 1 when absent
#   archived_size NAME      NAME's content size in bytes; returns 1 when absent
#   archive_store SRC NAME TMP  writes SRC, in the stored form of NAME, to the new file TMP and
#                           prints the final path TMP must be linked to (the caller publishes it)
#   archive_same SRC NAME   whether the archived NAME has exactly SRC's content
#   archive_remove_before START_WAL  removes the archived segments and .partial files before
#                           START_WAL (pg_archivecleanup, plain and compressed) and prints how many
# Backups (BDIR is a backup folder): see pitr-store-backup.sh.
#   backup_check_files BDIR   fails unless the backup's data files are present and not empty
#   backup_wal_list BDIR      "SIZE NAME" for each file of the backup's own pg_wal, one a line
#   backup_extract BDIR DEST  extracts the data directory into DEST (an existing, empty folder)
#                             and the backup's pg_wal into DEST/pg_wal
#   backup_size_bytes BDIR    the bytes the extracted data directory takes (from backup_manifest
#                             and the pg_wal list; empty when unknown)

# archive_names: see above.
archive_names() {
  pitr_names=$(ls -A -- "$WAL_ARCHIVE_DIR") || fail "cannot list '$WAL_ARCHIVE_DIR'"
  [ -z "$pitr_names" ] || printf '%s\n' "$pitr_names" | sed 's/\.zst$//'
}

# archived_path NAME: see above. A plain NAME wins over NAME.zst.
archived_path() {
  for pitr_p in "$WAL_ARCHIVE_DIR/$1" "$WAL_ARCHIVE_DIR/$1.zst"; do
    if [ -f "$pitr_p" ]; then
      printf '%s\n' "$pitr_p"
      return 0
    fi
  done
  return 1
}

# archived_cat NAME: see above.
archived_cat() {
  pitr_src=$(archived_path "$1") || return 1
  case "$pitr_src" in
    *.zst) zstd -dcq -- "$pitr_src" ;;
    *) cat -- "$pitr_src" ;;
  esac
}

# archived_to_file NAME DEST: see above.
archived_to_file() {
  archived_path "$1" >/dev/null || return 1
  archived_cat "$1" >"$2"
}

# last_commit_epoch NAME [FILE]: the time (Unix seconds) of the last COMMIT record in the WAL
# segment NAME, read from FILE when given, else from the archive (decompressed into a temporary
# folder); empty when it holds none or pg_waldump is not on PATH.
last_commit_epoch() {
  command -v pg_waldump >/dev/null 2>&1 || return 0
  pitr_lc_dir=''
  pitr_lc_file=${2:-}
  if [ -z "$pitr_lc_file" ]; then
    pitr_lc_dir=$(mktemp -d "${TMPDIR:-/tmp}/pitr-wal.XXXXXX") || return 0
    pitr_lc_file="$pitr_lc_dir/$1"
    archived_to_file "$1" "$pitr_lc_file" || pitr_lc_file=''
  fi
  pitr_lc=''
  if [ -n "$pitr_lc_file" ]; then
    pitr_lc=$(TZ=UTC pg_waldump "$pitr_lc_file" 2>/dev/null | sed -n 's/^.*desc: COMMIT \([0-9-]* [0-9:]*\).*$/\1/p' | tail -n 1 || true)
  fi
  [ -z "$pitr_lc_dir" ] || rm -rf -- "$pitr_lc_dir"
  [ -z "$pitr_lc" ] || date -u -d "$pitr_lc" +%s 2>/dev/null || true
}

# archived_mtime NAME: see above.
archived_mtime() {
  pitr_src=$(archived_path "$1") || return 1
  stat -c %Y -- "$pitr_src"
}

# archived_size NAME: see above.
archived_size() {
  pitr_src=$(archived_path "$1") || return 1
  case "$pitr_src" in
    *.zst)
      zstd -tq -- "$pitr_src" 2>/dev/null || fail "cannot read the archived $pitr_src"
      zstd -dcq -- "$pitr_src" | wc -c | tr -d ' ' ;;
    *) stat -c %s -- "$pitr_src" ;;
  esac
}

# archive_store SRC NAME TMP: see above. WAL_ARCHIVE_COMPRESSION=none stores plain files. The
# stored file is read back and compared with SRC before the path is printed.
archive_store() {
  pitr_dest="$WAL_ARCHIVE_DIR/$2"
  case "${WAL_ARCHIVE_COMPRESSION:-zstd}:$2" in
    none:* | *:*.history | *:*.backup)
      cp -- "$1" "$3" || fail "copy of '$1' to '$3' failed"
      cmp -s -- "$1" "$3" || fail "the copy '$3' differs from '$1' (short write?)" ;;
    zstd:*)
      zstd -q -c -- "$1" >"$3" || fail "zstd compression of '$1' into '$3' failed"
      zstd -dcq -- "$3" | cmp -s -- "$1" - || fail "the compressed copy '$3' does not decompress to '$1'"
      pitr_dest="$pitr_dest.zst" ;;
    *) fail "WAL_ARCHIVE_COMPRESSION must be zstd or none, got '${WAL_ARCHIVE_COMPRESSION:-}'" ;;
  esac
  printf '%s\n' "$pitr_dest"
}

# archive_same SRC NAME: see above (content, not stored bytes).
archive_same() {
  pitr_src=$(archived_path "$2") || return 1
  case "$pitr_src" in
    *.zst) zstd -dcq -- "$pitr_src" 2>/dev/null | cmp -s -- "$1" - ;;
    *) cmp -s -- "$1" "$pitr_src" ;;
  esac
}

# archive_remove_before START_WAL: see above. -x .zst: a compressed segment counts by its name
# without the suffix; plain ones are removed as before.
archive_remove_before() {
  [ -d "$WAL_ARCHIVE_DIR" ] || fail "WAL archive folder '$WAL_ARCHIVE_DIR' does not exist"
  pitr_before=$(find "$WAL_ARCHIVE_DIR" -type f | wc -l)
  pg_archivecleanup -x .zst "$WAL_ARCHIVE_DIR" "$1" >&2 || fail "pg_archivecleanup failed"
  pitr_after=$(find "$WAL_ARCHIVE_DIR" -type f | wc -l)
  printf '%s\n' "$((pitr_before - pitr_after))"
}

need_helper pitr-store-backup.sh
# shellcheck source=pitr-store-backup.sh disable=SC2154 # script_dir: set by the script that sources this file
. "$script_dir/pitr-store-backup.sh"
