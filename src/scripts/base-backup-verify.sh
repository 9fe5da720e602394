#!/bin/sh
# base-backup-verify.sh: the checks base-backup.sh runs on a new tar-format base backup before it
# publishes it (pg_verifybackup cannot check tar backups before PostgreSQL 18). Sourced by
# base-backup.sh after pitr-lib.sh, never run; it only defines functions. Its messages carry the
# prefix of the script that sources it.

# verify_backup FOLDER: runs verify_files, verify_manifest and read_wal_range on FOLDER.
verify_backup() {
  verify_files "$1"
  verify_manifest "$1"
  read_wal_range "$1"
}

# verify_files FOLDER: exactly base.tar.gz, pg_wal.tar.gz and backup_manifest, none empty, both
# archives pass gzip -t, and the manifest's own checksum matches.
verify_files() {
  for f in "$1"/* "$1"/.[!.]*; do
    [ -e "$f" ] || continue
    case "${f##*/}" in
      base.tar.gz | pg_wal.tar.gz | backup_manifest) ;;
      *) fail "unexpected file '${f##*/}' in the backup (tablespaces are not supported)" ;;
    esac
  done
  for f in base.tar.gz pg_wal.tar.gz backup_manifest; do
    [ -s "$1/$f" ] || fail "$f is missing or empty"
  done
  gzip -t "$1/base.tar.gz" || fail "base.tar.gz fails gzip -t"
  gzip -t "$1/pg_wal.tar.gz" || fail "pg_wal.tar.gz fails gzip -t"
  sum=$(sed -n 's/^"Manifest-Checksum": "\([0-9a-f]*\)"}$/\1/p' "$1/backup_manifest")
  [ -n "$sum" ] || fail "backup_manifest has no Manifest-Checksum line"
  if command -v sha256sum >/dev/null 2>&1; then
    # The checksum covers every byte before the last line.
    actual=$(sed '$d' "$1/backup_manifest" | sha256sum | cut -d ' ' -f 1)
    [ "$actual" = "$sum" ] || fail "backup_manifest checksum mismatch (expected $sum, got $actual)"
  fi
}

# verify_manifest FOLDER: every file of backup_manifest is in base.tar.gz with the listed size.
verify_manifest() {
  check=$(tar tzvf "$1/base.tar.gz" | awk '
    function problem(msg) { if (++bad <= 10) print msg }
    FNR == NR {
      if (substr($1, 1, 1) != "-") next
      n = $6; for (i = 7; i <= NF; i++) n = n " " $i
      size[n] = $3; next
    }
    /^\{ "Encoded-Path": / { encoded++; next }
    /^\{ "Path": "/ {
      line = $0
      sub(/^\{ "Path": "/, "", line)
      p = line; sub(/", "Size": .*$/, "", p)
      gsub(/\\"/, "\"", p); gsub(/\\\\/, "\\", p)
      s = line; sub(/^.*", "Size": /, "", s); sub(/,.*$/, "", s)
      files++
      if (!(p in size)) problem("missing from base.tar.gz: " p)
      else if (size[p] != s) problem("size of " p " is " size[p] " in base.tar.gz, " s " in the manifest")
    }
    END {
      if (files == 0) { problem("no Path entries in backup_manifest") }
      if (encoded > 0) print "warning: " encoded " encoded paths not checked"
      if (bad > 10) print "... and " (bad - 10) " more problems"
      if (bad > 0) exit 1
      print "ok " files
    }' - "$1/backup_manifest") || fail "base.tar.gz does not match backup_manifest: $check"
  log "manifest check: $check files of backup_manifest present in base.tar.gz with their sizes"
}

# read_wal_range FOLDER: sets start_lsn, end_lsn and timeline (from backup_manifest) and start_wal
# (from backup_label), and checks that pg_wal.tar.gz holds the start segment.
# shellcheck disable=SC2034 # start_lsn, end_lsn and timeline are for the caller
read_wal_range() {
  ranges=$(sed -n 's/^{ "Timeline": \([0-9]*\), "Start-LSN": "\([0-9A-F]*\/[0-9A-F]*\)", "End-LSN": "\([0-9A-F]*\/[0-9A-F]*\)" },\{0,1\}$/\1 \2 \3/p' "$1/backup_manifest")
  [ -n "$ranges" ] || fail "backup_manifest has no WAL-Ranges entry"
  start_lsn=$(printf '%s\n' "$ranges" | head -n 1 | cut -d ' ' -f 2)
  end_lsn=$(printf '%s\n' "$ranges" | tail -n 1 | cut -d ' ' -f 3)
  timeline=$(printf '%s\n' "$ranges" | tail -n 1 | cut -d ' ' -f 1)
  label=$(tar xzf "$1/base.tar.gz" -O backup_label) || fail "could not read backup_label from base.tar.gz"
  start_wal=$(printf '%s\n' "$label" | sed -n 's/^START WAL LOCATION: .* (file \([0-9A-F]*\))$/\1/p')
  is_wal_name "$start_wal" || fail "no START WAL LOCATION file name in backup_label"
  wal_list=$(tar tzf "$1/pg_wal.tar.gz") || fail "could not list pg_wal.tar.gz"
  printf '%s\n' "$wal_list" | grep -qxF -- "$start_wal" || fail "pg_wal.tar.gz does not hold the start segment $start_wal"
}
