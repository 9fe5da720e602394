#!/bin/sh
# pitr-store.sh: how the WAL archive and the base backups are stored on their volumes. Sourced
# after pitr-lib.sh, never run; it only defines functions. Every script that reads archived WAL
# or a backup's files goes through these functions, so the storage format lives in one place.
#
# Reads WAL_ARCHIVE_DIR (the archive folder). Backup folders are given as arguments.
#
# Archive:
#   archive_names           the WAL file names the archive holds (segments, .history, .partial,
#                           .backup), without any storage suffix, one a line, unsorted
#   archived_path NAME      the path of the file holding NAME; returns 1 when NAME is not archived
#   archived_cat NAME       NAME's content, as PostgreSQL wrote it, on stdout; returns 1 when absent
# Backups (BDIR is a backup folder):
#   backup_check_files BDIR   fails unless the backup's data files are present and not empty
#   backup_wal_list BDIR      "SIZE NAME" for each file of the backup's own pg_wal, one a line
#   backup_extract BDIR DEST  extracts the data directory into DEST (an existing, empty folder)
#                             and the backup's pg_wal into DEST/pg_wal
#   backup_size_bytes BDIR    the bytes the extracted data directory takes (from backup_manifest
#                             and the pg_wal list; empty when unknown)

# archive_names: see above.
archive_names() {
  ls -A -- "$WAL_ARCHIVE_DIR" || fail "cannot list '$WAL_ARCHIVE_DIR'"
}

# archived_path NAME: see above.
archived_path() {
  [ -f "$WAL_ARCHIVE_DIR/$1" ] || return 1
  printf '%s\n' "$WAL_ARCHIVE_DIR/$1"
}

# archived_cat NAME: see above.
archived_cat() {
  pitr_src=$(archived_path "$1") || return 1
  cat -- "$pitr_src"
}

# backup_check_files BDIR: see above.
backup_check_files() {
  for pitr_f in base.tar.gz pg_wal.tar.gz; do
    [ -s "$1/$pitr_f" ] || fail "$1/$pitr_f is missing or empty"
  done
}

# backup_wal_list BDIR: see above.
backup_wal_list() {
  tar tzvf "$1/pg_wal.tar.gz" | awk '{ n = $NF; sub(/^.*\//, "", n); if (n != "") print $3, n }'
}

# backup_extract BDIR DEST: see above.
backup_extract() {
  log "extracting $1/base.tar.gz into $2"
  tar xzf "$1/base.tar.gz" -C "$2" || fail "extracting base.tar.gz failed"
  mkdir -p -- "$2/pg_wal" || fail "could not create $2/pg_wal"
  tar xzf "$1/pg_wal.tar.gz" -C "$2/pg_wal" || fail "extracting pg_wal.tar.gz failed"
}

# backup_size_bytes BDIR: see above.
backup_size_bytes() {
  [ -f "$1/backup_manifest" ] || return 0
  {
    sed -n 's/.*"Size": *\([0-9][0-9]*\).*/\1/p' "$1/backup_manifest"
    backup_wal_list "$1" | cut -d ' ' -f 1
  } | awk '/^[0-9]+$/ { s += $1 } END { printf "%.0f\n", s }'
}
