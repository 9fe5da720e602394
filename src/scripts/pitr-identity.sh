#!/bin/sh
# pitr-identity.sh: the identity file of the WAL archive and of each base backup, and the checks
# that keep one database system's history apart from another's. Sourced after pitr-lib.sh, never
# run; it only defines functions.
#
# The identity file (pitr_identity, key=value lines) holds:
#   system_identifier   the database system identifier (initdb makes it; restores keep it)
#   pg_major            the PostgreSQL major version (15)
#   timeline            the timeline when the file was written
#   library_version     the cdk8s-postgres-pitr version of the scripts that wrote it
#   written_at          UTC time
# The archive's is written by archive-wal.sh with the first segment it archives; a segment of
# another system identifier is then refused (a new initdb, or another cluster, pointed at this
# archive). Each backup's is written by base-backup.sh; restore-data.sh refuses a backup of another
# major version or of another system than the archive.

# identity_value FILE KEY: the value of KEY in the identity file FILE (empty when absent).
identity_value() { sed -n "s/^$2=//p" "$1" 2>/dev/null | head -n 1; }

# library_version: the version of the scripts (the pitr-version file beside them), or unknown.
library_version() {
  v=$(cat -- "${script_dir:-.}/pitr-version" 2>/dev/null || true)
  printf '%s' "${v:-unknown}"
}

# wal_system_identifier FILE: the system identifier in a WAL segment's first page header (its
# long header: magic, info, timeline, page address, remaining length, padding, then the 8-byte
# identifier at offset 24); empty when FILE is not a WAL segment of this machine's byte order.
wal_system_identifier() {
  case "$(od -A n -t x2 -N 2 -- "$1" 2>/dev/null | tr -d ' ')" in
    d1[0-9a-f][0-9a-f]) od -A n -t u8 -j 24 -N 8 -- "$1" 2>/dev/null | tr -d ' ' ;;
    *) ;;
  esac
}

# write_identity FILE SYSID MAJOR TIMELINE: writes an identity file atomically (temporary name, flush,
# hard link: never overwrites one that appeared meanwhile; the caller flushes the folder). Returns 1
# when FILE already exists.
write_identity() {
  pitr_id_tmp="$1.$$.tmp"
  if ! printf 'system_identifier=%s\npg_major=%s\ntimeline=%s\nlibrary_version=%s\nwritten_at=%s\n' \
    "$2" "$3" "$4" "$(library_version)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$pitr_id_tmp"; then
    rm -f -- "$pitr_id_tmp"
    fail "could not write $pitr_id_tmp (a full or read-only folder?)"
  fi
  flush "$pitr_id_tmp"
  if ln -- "$pitr_id_tmp" "$1" 2>/dev/null; then
    rm -f -- "$pitr_id_tmp"
    return 0
  fi
  rm -f -- "$pitr_id_tmp"
  return 1
}

# check_archive_identity SEGMENT_PATH NAME: for a WAL segment (24 hex digits), compares its system
# identifier with the archive's identity file, which it writes on first use. Fails on a mismatch.
check_archive_identity() {
  is_wal_name "$2" || return 0
  sysid=$(wal_system_identifier "$1")
  [ -n "$sysid" ] || fail "$2 has no WAL page header this archive can read (not a PostgreSQL WAL segment?)"
  id_file="$WAL_ARCHIVE_DIR/pitr_identity"
  if [ ! -f "$id_file" ]; then
    major=$(cat PG_VERSION 2>/dev/null || true)
    if write_identity "$id_file" "$sysid" "${major:-unknown}" "$(printf '%d' "0x$(printf '%s' "$2" | cut -c 1-8)")"; then
      flush "$WAL_ARCHIVE_DIR"
      log "wrote the archive's identity: system $sysid, PostgreSQL ${major:-unknown}"
      return 0
    fi
  fi
  archive_sysid=$(identity_value "$id_file" system_identifier)
  [ "$archive_sysid" = "$sysid" ] || fail "the WAL archive $WAL_ARCHIVE_DIR belongs to database system $archive_sysid (its pitr_identity), and $2 comes from system $sysid: another cluster, or a new initdb, is pointed at this archive. Refusing to mix their histories: give this server its own archive, or move the old archive away on purpose."
}

# check_backup_identity BDIR: a backup whose identity file names another PostgreSQL major version
# than the local server binaries, or another system than the archive, is refused.
check_backup_identity() {
  id_file="$1/pitr_identity"
  if [ ! -f "$id_file" ]; then
    warn "backup ${1##*/} has no pitr_identity (an older backup): its version and system are not checked"
    return 0
  fi
  b_major=$(identity_value "$id_file" pg_major)
  b_sysid=$(identity_value "$id_file" system_identifier)
  here=$(pg_ctl --version 2>/dev/null | sed -n 's/^.* \([0-9][0-9]*\)\.[0-9.]*.*$/\1/p' | head -n 1)
  if [ -n "$here" ] && [ -n "$b_major" ] && [ "$b_major" != "$here" ]; then
    fail "backup ${1##*/} is from PostgreSQL $b_major, and this image runs PostgreSQL $here: a data directory opens only with its own major version. Nothing was changed. Restore with a PostgreSQL $b_major image."
  fi
  a_sysid=$(identity_value "$WAL_ARCHIVE_DIR/pitr_identity" system_identifier)
  if [ -n "$a_sysid" ] && [ -n "$b_sysid" ] && [ "$a_sysid" != "$b_sysid" ]; then
    fail "backup ${1##*/} is of database system $b_sysid, and the WAL archive belongs to system $a_sysid: its WAL cannot be replayed on this backup. Nothing was changed."
  fi
  log "backup identity: system ${b_sysid:-unknown}, PostgreSQL ${b_major:-unknown}${here:+ (this image: $here)}"
}
