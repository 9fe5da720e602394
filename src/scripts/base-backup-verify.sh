#!/bin/sh
# base-backup-verify.sh: the checks base-backup.sh runs on a new tar-format base backup before it
# publishes it (pg_verifybackup cannot check tar backups before PostgreSQL 18). Sourced by
# base-backup.sh after pitr-lib.sh and pitr-store.sh, never run; it only defines functions. Its
# messages carry the prefix of the script that sources it.
#
# One pass: each compressed file is decompressed once, as one stream read by "tar tv" (names
# and sizes, for the manifest check; a damaged or truncated archive fails it). backup_label comes
# from the first 64 KiB of base.tar's stream: pg_basebackup writes it as the first member, so
# only the head of the file is decompressed again (a label further in is read from the whole
# stream, with a warning). pg_wal.tar is listed once. Measured in BENCHMARKS.md. The scratch
# files live in FOLDER/.verify and are removed when the checks pass.

# verify_backup FOLDER: runs verify_files, scan_base, verify_manifest and read_wal_range on FOLDER.
verify_backup() {
  verify_files "$1"
  scan_base "$1"
  verify_manifest "$1"
  read_wal_range "$1"
  rm -rf -- "$1/.verify" || fail "could not remove $1/.verify"
}

# verify_files FOLDER: exactly base.tar.EXT, pg_wal.tar.EXT (one format, see pitr-store-backup.sh)
# and backup_manifest, none empty, and the manifest's own checksum matches. Sets ext.
verify_files() {
  ext=$(backup_format "$1") || exit 1
  for f in "$1"/* "$1"/.[!.]*; do
    [ -e "$f" ] || continue
    case "${f##*/}" in
      "base.tar$ext" | "pg_wal.tar$ext" | backup_manifest) ;;
      *) fail "unexpected file '${f##*/}' in the backup (tablespaces are not supported)" ;;
    esac
  done
  for f in "base.tar$ext" "pg_wal.tar$ext" backup_manifest; do
    [ -s "$1/$f" ] || fail "$f is missing or empty"
  done
  sum=$(sed -n 's/^"Manifest-Checksum": "\([0-9a-f]*\)"}$/\1/p' "$1/backup_manifest")
  [ -n "$sum" ] || fail "backup_manifest has no Manifest-Checksum line"
  if command -v sha256sum >/dev/null 2>&1; then
    # The checksum covers every byte before the last line.
    actual=$(sed '$d' "$1/backup_manifest" | sha256sum | cut -d ' ' -f 1)
    [ "$actual" = "$sum" ] || fail "backup_manifest checksum mismatch (expected $sum, got $actual)"
  fi
}

# scan_base FOLDER: lists base.tar.EXT (one decompression) into FOLDER/.verify/list ("tar tv"
# lines) and reads backup_label into FOLDER/.verify/label; fails when the stream or tar fails.
scan_base() {
  v="$1/.verify"
  mkdir -- "$v" || fail "could not create $v"
  rc=0
  { backup_cat "$1" base.tar || echo "$?" >"$v/cat.rc"; } | tar tvf - >"$v/list" || rc=$?
  [ ! -f "$v/cat.rc" ] || fail "base.tar$ext is not readable: decompression failed (exit code $(cat "$v/cat.rc"))"
  [ "$rc" -eq 0 ] || fail "base.tar$ext is not a readable tar archive (tar exit code $rc)"
  # The head of the stream: decompression and tar stop early, so their complaints are expected.
  { backup_cat "$1" base.tar 2>/dev/null | head -c 65536 | tar xOf - backup_label >"$v/label" 2>/dev/null; } || true
  if ! grep -q '^START WAL LOCATION: ' "$v/label"; then
    warn "backup_label is not at the start of base.tar$ext; reading the whole stream for it"
    backup_cat "$1" base.tar | tar xOf - backup_label >"$v/label" || fail "could not read backup_label from base.tar$ext"
  fi
}

# verify_manifest FOLDER: every file of backup_manifest is in base.tar.EXT with the listed size.
verify_manifest() {
  check=$(awk '
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
      if (!(p in size)) problem("missing from base.tar" ext ": " p)
      else if (size[p] != s) problem("size of " p " is " size[p] " in base.tar" ext ", " s " in the manifest")
    }
    END {
      if (files == 0) { problem("no Path entries in backup_manifest") }
      if (encoded > 0) print "warning: " encoded " encoded paths not checked"
      if (bad > 10) print "... and " (bad - 10) " more problems"
      if (bad > 0) exit 1
      print "ok " files
    }' ext="$ext" "$1/.verify/list" "$1/backup_manifest") || fail "base.tar$ext does not match backup_manifest: $check"
  log "manifest check: $check files of backup_manifest present in base.tar$ext with their sizes"
}

# read_wal_range FOLDER: sets start_lsn, end_lsn and timeline (from backup_manifest) and start_wal
# (from backup_label), and checks that pg_wal.tar.EXT (listed once) holds the start segment.
# shellcheck disable=SC2034 # start_lsn, end_lsn and timeline are for the caller
read_wal_range() {
  ranges=$(sed -n 's/^{ "Timeline": \([0-9]*\), "Start-LSN": "\([0-9A-F]*\/[0-9A-F]*\)", "End-LSN": "\([0-9A-F]*\/[0-9A-F]*\)" },\{0,1\}$/\1 \2 \3/p' "$1/backup_manifest")
  [ -n "$ranges" ] || fail "backup_manifest has no WAL-Ranges entry"
  start_lsn=$(printf '%s\n' "$ranges" | head -n 1 | cut -d ' ' -f 2)
  end_lsn=$(printf '%s\n' "$ranges" | tail -n 1 | cut -d ' ' -f 3)
  timeline=$(printf '%s\n' "$ranges" | tail -n 1 | cut -d ' ' -f 1)
  start_wal=$(sed -n 's/^START WAL LOCATION: .* (file \([0-9A-F]*\))$/\1/p' "$1/.verify/label")
  is_wal_name "$start_wal" || fail "no START WAL LOCATION file name in backup_label"
  wal_list=$(backup_cat "$1" pg_wal.tar | tar tf -) || fail "could not list pg_wal.tar$ext"
  printf '%s\n' "$wal_list" | grep -qxF -- "$start_wal" || fail "pg_wal.tar$ext does not hold the start segment $start_wal"
}
