#!/bin/sh
# pitr-store-backup.sh: how base backups are stored; the backup half of pitr-store.sh, which
# sources it. Never run; it only defines functions.
#
# A backup folder holds base.tar.EXT and pg_wal.tar.EXT, where EXT says the compression:
#   zst  zstd (the default)   gz  gzip (pg_basebackup -Ft -z; the reference design's base.tar.gz)
#   lz4  lz4                  plain base.tar and pg_wal.tar: no compression
# The files say the format (pitr_backup_info records it too, as compression=...), so backups
# written before compression was configurable (base.tar.gz) are read the same way. Reading needs
# the matching command in the image: zstd, gzip or lz4.
#
#   backup_format BDIR        the suffix of BDIR's tar files: .zst, .gz, .lz4 or '' (plain tar);
#                             fails when BDIR holds no base.tar*
#   backup_cat BDIR FILE      the uncompressed tar stream of BDIR/FILE (base.tar or pg_wal.tar)
#   backup_check_files BDIR   fails unless the backup's data files are present and not empty
#   backup_wal_list BDIR      "SIZE NAME" for each file of the backup's own pg_wal, one a line
#   backup_extract BDIR DEST  extracts the data directory into DEST (an existing, empty folder)
#                             and the backup's pg_wal into DEST/pg_wal, each as one stream
#   backup_size_bytes BDIR    the bytes the extracted data directory takes (from backup_manifest
#                             and the pg_wal list; empty when unknown)
# For base-backup.sh:
#   backup_compress_arg       checks BACKUP_COMPRESSION (zstd | gzip | lz4 | none),
#                             BACKUP_COMPRESSION_LEVEL (empty: zstd 1, gzip 6, lz4 default) and
#                             BACKUP_COMPRESSION_WORKERS (zstd only; 0: one thread) and prints
#                             pg_basebackup's --compress value (client side)
#   backup_pack_wal BDIR      compresses a plain pg_wal.tar that pg_basebackup 15 leaves beside a
#                             zstd or lz4 base.tar (it compresses streamed WAL only with gzip)

# backup_format BDIR: see above.
backup_format() {
  for pitr_x in .zst .gz .lz4 ''; do
    if [ -f "$1/base.tar$pitr_x" ]; then
      printf '%s\n' "$pitr_x"
      return 0
    fi
  done
  fail "$1 holds no base.tar, base.tar.zst, base.tar.gz or base.tar.lz4"
}

# backup_cat BDIR FILE: see above.
backup_cat() {
  pitr_x=$(backup_format "$1")
  case "$pitr_x" in
    .zst) zstd -dcq -- "$1/$2$pitr_x" ;;
    .gz) gzip -dc -- "$1/$2$pitr_x" ;;
    .lz4) lz4 -dcq -- "$1/$2$pitr_x" ;;
    *) cat -- "$1/$2" ;;
  esac
}

# backup_check_files BDIR: see above.
backup_check_files() {
  pitr_x=$(backup_format "$1")
  case "$pitr_x" in
    .zst) need_command zstd ;;
    .gz) need_command gzip ;;
    .lz4) need_command lz4 ;;
  esac
  for pitr_f in "base.tar$pitr_x" "pg_wal.tar$pitr_x"; do
    [ -s "$1/$pitr_f" ] || fail "$1/$pitr_f is missing or empty"
  done
}

# backup_wal_list BDIR: see above.
backup_wal_list() {
  backup_cat "$1" pg_wal.tar | tar tvf - | awk '{ n = $NF; sub(/^.*\//, "", n); if (n != "") print $3, n }'
}

# backup_extract BDIR DEST: see above. Each tar file is decompressed and extracted as one stream,
# without a temporary copy; a failure of either side of the pipe fails.
backup_extract() {
  pitr_x=$(backup_format "$1")
  log "extracting $1/base.tar$pitr_x into $2"
  pitr_extract "$1" base.tar "$2"
  mkdir -p -- "$2/pg_wal" || fail "could not create $2/pg_wal"
  pitr_extract "$1" pg_wal.tar "$2/pg_wal"
}

# pitr_extract BDIR FILE DEST: backup_cat BDIR FILE | tar x into DEST, checking both exit codes.
pitr_extract() {
  pitr_rc=$({ { backup_cat "$1" "$2" || echo "decompress:$?" >&3; } | { pitr_untar "$3" || echo "tar:$?" >&3; }; } 3>&1 >&2)
  [ -z "$pitr_rc" ] || fail "extracting $2$pitr_x failed ($(printf '%s' "$pitr_rc" | tr '\n' ' '))"
}

# pitr_untar DEST: extracts the tar stream on stdin into DEST. GNU tar reads the pipe in 1 MiB
# records (-b 2048 -B: 25-30% faster on a 971 MB backup, BENCHMARKS.md); other tars as they are.
pitr_untar() {
  if tar --version 2>/dev/null | grep -q 'GNU tar'; then
    tar -x -b 2048 -B -f - -C "$1"
  else
    tar xf - -C "$1"
  fi
}

# backup_size_bytes BDIR: see above.
backup_size_bytes() {
  [ -f "$1/backup_manifest" ] || return 0
  {
    sed -n 's/.*"Size": *\([0-9][0-9]*\).*/\1/p' "$1/backup_manifest"
    backup_wal_list "$1" | cut -d ' ' -f 1
  } | awk '/^[0-9]+$/ { s += $1 } END { printf "%.0f\n", s }'
}

# backup_compress_arg: see above.
backup_compress_arg() {
  pitr_level=${BACKUP_COMPRESSION_LEVEL:-}
  pitr_workers=${BACKUP_COMPRESSION_WORKERS:-0}
  [ -z "$pitr_level" ] || is_uint "$pitr_level" || fail "BACKUP_COMPRESSION_LEVEL must be a whole number or empty, got '$pitr_level'"
  is_uint "$pitr_workers" || fail "BACKUP_COMPRESSION_WORKERS must be a whole number, got '$pitr_workers'"
  case "${BACKUP_COMPRESSION:-zstd}" in
    zstd)
      need_command zstd
      [ -z "$pitr_level" ] || [ "$pitr_level" -le 19 ] || fail "BACKUP_COMPRESSION_LEVEL for zstd must be 1 to 19, got '$pitr_level'"
      pitr_arg="client-zstd:level=${pitr_level:-1}"
      [ "$pitr_workers" -eq 0 ] || pitr_arg="$pitr_arg,workers=$pitr_workers" ;;
    gzip)
      need_command gzip
      [ -z "$pitr_level" ] || [ "$pitr_level" -le 9 ] || fail "BACKUP_COMPRESSION_LEVEL for gzip must be 1 to 9, got '$pitr_level'"
      pitr_arg="client-gzip:level=${pitr_level:-6}" ;;
    lz4)
      need_command lz4
      pitr_arg="client-lz4${pitr_level:+:level=$pitr_level}" ;;
    none) pitr_arg=none ;;
    *) fail "BACKUP_COMPRESSION must be zstd, gzip, lz4 or none, got '${BACKUP_COMPRESSION:-}'" ;;
  esac
  [ "$pitr_workers" -eq 0 ] || [ "${BACKUP_COMPRESSION:-zstd}" = zstd ] || fail "BACKUP_COMPRESSION_WORKERS applies to zstd only, got '$pitr_workers' with ${BACKUP_COMPRESSION:-}"
  printf '%s\n' "$pitr_arg"
}

# backup_pack_wal BDIR: see above. The compressed file replaces pg_wal.tar.
backup_pack_wal() {
  pitr_x=$(backup_format "$1")
  [ -n "$pitr_x" ] && [ -f "$1/pg_wal.tar" ] && [ ! -e "$1/pg_wal.tar$pitr_x" ] || return 0
  case "$pitr_x" in
    .zst) zstd -q --rm -- "$1/pg_wal.tar" || fail "zstd compression of pg_wal.tar failed" ;;
    .lz4) lz4 -q --rm -- "$1/pg_wal.tar" "$1/pg_wal.tar.lz4" || fail "lz4 compression of pg_wal.tar failed" ;;
    *) fail "pg_wal.tar is not compressed beside base.tar$pitr_x" ;;
  esac
}
