#!/bin/sh
# restore-data-stage.sh: the steps of restore-data.sh that deal with the recovery settings file
# and build the new data directory in a staging folder. Sourced by restore-data.sh after
# pitr-lib.sh and pitr-store.sh, never run; it only defines functions. Its messages carry the prefix of the script
# that sources it. Reads RECOVERY_SETTINGS_FILE, RECOVERY_SIGNAL_FILE and RECOVERY_TARGET_TYPE
# (see restore-data.sh).

# check_recovery_settings TARGET_KEY: RECOVERY_SETTINGS_FILE sets exactly the recovery_target*
# setting TARGET_KEY (none when empty; two targets are FATAL) and, for recovery.signal, a
# restore_command (recovery.signal without one is FATAL).
check_recovery_settings() {
  [ -f "$RECOVERY_SETTINGS_FILE" ] || fail "recovery settings file '$RECOVERY_SETTINGS_FILE' not found"
  [ -r "$RECOVERY_SETTINGS_FILE" ] || fail "recovery settings file '$RECOVERY_SETTINGS_FILE' is not readable"
  keys=$(awk '
    /^[ \t]*(#|$)/ { next }
    { k = tolower($0); sub(/^[ \t]*/, "", k); sub(/[ \t]*=.*$/, "", k); sub(/[ \t].*$/, "", k); print k }
  ' "$RECOVERY_SETTINGS_FILE")
  targets=$(printf '%s\n' "$keys" | grep -E '^recovery_target(_time|_xid|_lsn|_name)?$' || true)
  if [ "$(printf '%s\n' "$targets" | grep -c .)" -gt 1 ]; then
    fail "$RECOVERY_SETTINGS_FILE sets more than one recovery target ($(printf '%s' "$targets" | tr '\n' ' ')); PostgreSQL refuses to start with 'multiple recovery targets specified'"
  fi
  if [ "$targets" != "$1" ]; then
    fail "RECOVERY_TARGET_TYPE=$RECOVERY_TARGET_TYPE expects ${1:-no recovery target} in $RECOVERY_SETTINGS_FILE, found ${targets:-none}"
  fi
  if [ "$RECOVERY_SIGNAL_FILE" = recovery.signal ] && ! printf '%s\n' "$keys" | grep -qx restore_command; then
    fail "$RECOVERY_SETTINGS_FILE has no restore_command; recovery.signal needs one"
  fi
}

# stage STAGING BACKUP_FOLDER: extracts the backup (backup_extract of pitr-store.sh) into a new
# folder STAGING (one left by an interrupted run is removed first), without the signal files the
# backup may carry.
stage() {
  if [ -e "$1" ]; then
    log "removing the staging folder of an earlier, interrupted run: $1"
    rm -rf -- "$1" || fail "could not remove '$1'"
  fi
  mkdir -m 0700 -- "$1" || fail "could not create '$1'"
  backup_extract "$2" "$1"
  chmod 0700 "$1" || fail "chmod of '$1' failed"
  for f in PG_VERSION backup_label; do
    [ -f "$1/$f" ] || fail "the extracted backup has no $f"
  done
  for f in recovery.signal standby.signal; do
    [ -e "$1/$f" ] || continue
    log "removing $f carried by the backup"
    rm -f -- "$1/$f" || fail "could not remove $1/$f"
  done
}

# recovery_lines keep|drop FILE: prints the restore_command / recovery_target* lines, or the others.
recovery_lines() {
  awk -v mode="$1" '
    { k = tolower($0); sub(/^[ \t]*/, "", k) }
    { hit = (k ~ /^restore_command([ \t=]|$)/ || k ~ /^recovery_target[a-z_]*([ \t=]|$)/) }
    (mode == "keep") == hit' "$2"
}

# configure STAGING COMMENT: strips restore_command and recovery_target* from STAGING's
# postgresql.auto.conf, appends "# COMMENT", RECOVERY_SETTINGS_FILE and runtime_lines (the target
# given at restore time, if any) to it and creates RECOVERY_SIGNAL_FILE.
configure() {
  auto="$1/postgresql.auto.conf"
  if [ -f "$auto" ] && [ -n "$(recovery_lines keep "$auto")" ]; then
    recovery_lines keep "$auto" | log_lines 'removed from postgresql.auto.conf: '
    recovery_lines drop "$auto" >"$auto.new" || fail "could not rewrite $auto"
    mv -f -- "$auto.new" "$auto" || fail "could not rewrite $auto"
  fi
  if [ -f "$1/postgresql.conf" ] && [ -n "$(recovery_lines keep "$1/postgresql.conf")" ]; then
    warn "the backup's postgresql.conf sets restore_command or recovery_target* itself; if the server reads it, remove those lines (two targets are FATAL)"
  fi
  {
    printf '\n# %s\n' "$2"
    cat -- "$RECOVERY_SETTINGS_FILE"
    printf '\n%s' "${runtime_lines:-}"
  } >>"$auto" || fail "could not append the recovery settings to $auto"
  chmod 0600 "$auto" || fail "chmod of $auto failed"
  : >"$1/$RECOVERY_SIGNAL_FILE" || fail "could not create $RECOVERY_SIGNAL_FILE"
  log "recovery settings written to postgresql.auto.conf:"
  { grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' -- "$RECOVERY_SETTINGS_FILE"; printf '%s' "${runtime_lines:-}"; } | log_lines '  '
  log "created $RECOVERY_SIGNAL_FILE"
  sync
}
