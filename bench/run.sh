#!/usr/bin/env bash
# bench/run.sh: the reference design and this library side by side on one machine, same data, same run.
#
#   bash bench/run.sh [--scale N] [--text-mb M] [--pgbench-seconds S] [--recovery-setting 'name = value']... [--keep]
#
# Builds one PostgreSQL 15 database (pgbench -i at scale N plus M MB of random text), archiving with the
# shipped settings (examples/dist: archive-wal.sh, wal_compression). Then, in this order:
#   1. reference backup: pg_basebackup -Ft -z -X stream (base.tar.gz + pg_wal.tar.gz)
#   2. our backup: src/scripts/base-backup.sh with the CronJob's environment from examples/dist
#   3. a 2-client pgbench for S seconds: WAL bytes as stored per segment, archiver lag (segments behind)
#   4. an idle forced switch (pg_switch_wal after one row): the stored size of that segment
#   5. reference restore: tar xzf base.tar.gz and pg_wal.tar.gz, restore_command 'test -f && cp' from a plain
#      copy of the archive, recovery_target_action = promote; timed until the server accepts writes
#   6. our restore: src/scripts/restore-data.sh (choose, check, extract), then the server replays from our
#      archive with restore-wal.sh and promotes; timed the same way
# and prints the table and the ratios. Needs PostgreSQL 15 (PG_BIN, default the Debian path), zstd, node (to
# read examples/dist). Run as root (servers run as postgres) or as the postgres user. Not part of the tests.
set -euo pipefail

SCALE=40 TEXT_MB=300 PGBENCH_SECONDS=20 KEEP=false EXTRA_RECOVERY=()
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --text-mb) TEXT_MB=$2; shift 2 ;;
    --pgbench-seconds) PGBENCH_SECONDS=$2; shift 2 ;;
    --keep) KEEP=true; shift ;;
    --recovery-setting) EXTRA_RECOVERY+=("$2"); shift 2 ;;
    *) echo "usage: bash bench/run.sh [--scale N] [--text-mb M] [--pgbench-seconds S] [--keep]" >&2; exit 2 ;;
  esac
done

repo=$(cd "$(dirname "$0")/.." && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
export PATH="$PG_BIN:$PATH" TZ=UTC LANG=C.UTF-8
for c in pg_ctl initdb pg_basebackup pgbench psql zstd node; do command -v "$c" >/dev/null || { echo "bench: $c not found" >&2; exit 1; }; done
work=$(mktemp -d "${TMPDIR:-/tmp}/pitr-bench.XXXXXX")
chmod 755 "$work"
scripts="$work/scripts" arch="$work/wal-archive" backups="$work/backup" refarch="$work/wal-archive-plain"
mkdir -p "$scripts" "$arch" "$backups" "$work/ref" "$refarch"
cp "$repo"/src/scripts/*.sh "$scripts/"
port=$((20000 + RANDOM % 20000))
sock="$work"

# The servers read WAL_ARCHIVE_DIR from their environment, as the drill's do (archive-wal.sh, restore-wal.sh).
export WAL_ARCHIVE_DIR="$arch"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- env PATH="$PATH" TZ=UTC WAL_ARCHIVE_DIR="$arch" "$@"; else "$@"; fi; }
# wait_for WHAT COMMAND...: runs COMMAND every 0.05 s until it succeeds; gives up after 600 s.
wait_for() {
  local what=$1 i=0; shift
  until "$@"; do
    i=$((i + 1)); [ "$i" -lt 12000 ] || { echo "bench: timed out waiting for $what" >&2; exit 1; }
    sleep 0.05
  done
}
[ "$(id -u)" != 0 ] || chown -R postgres: "$work"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
sql() { as_pg psql -X -q -At -h "$sock" -p "$port" -d postgres -c "$1"; }
dirsize() { du -sb "$1" | cut -f 1; }
cleanup() {
  for d in "$work/primary" "$work/ref/pgdata" "$work/ours/pgdata"; do
    if [ -f "$d/postmaster.pid" ]; then as_pg pg_ctl -D "$d" stop -m immediate >/dev/null 2>&1 || true; fi
  done
  if [ "$KEEP" = true ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
say() { printf 'bench: %s\n' "$*" >&2; }

# The shipped settings, from the synthesized example (the drill reads the same files), paths mapped.
shipped() {
  node -e '
    const y = require("yaml"); const fs = require("fs");
    const file = f => [`${process.argv[1]}/examples/dist/${f}.k8s.yaml`, `${process.argv[1]}/examples/dist/on-demand/${f}.k8s.yaml`].find(x => fs.existsSync(x));
    const docs = f => y.parseAllDocuments(fs.readFileSync(file(f), "utf8")).map(d => d.toJSON());
    const pitr = docs("pitr");
    const conf = pitr.find(o => o.kind === "ConfigMap" && o.metadata.name.endsWith("-archiving")).data["archiving.conf"];
    const cron = pitr.find(o => o.kind === "CronJob");
    const env = cron.spec.jobTemplate.spec.template.spec.containers[0].env.filter(e => e.value !== undefined);
    const rec = docs("restore").find(o => o.kind === "ConfigMap" && o.metadata.name.endsWith("-recovery")).data["recovery.conf"];
    if (process.argv[2] === "conf") console.log(conf);
    if (process.argv[2] === "env") for (const e of env) console.log(`${e.name}=${e.value}`);
    if (process.argv[2] === "restore_command") console.log(rec.split("\n").find(l => l.startsWith("restore_command")));
  ' "$repo" "$1" | sed -e "s|/opt/pitr/scripts|$scripts|g" -e "s|/var/lib/postgresql/wal-archive|$arch|g" -e "s|/var/lib/backup|$backups|g"
}

start_server() { # DATADIR LOG
  as_pg pg_ctl -D "$1" -l "$2" -w -t 600 -o "-p $port -k $sock -c listen_addresses=''" start >/dev/null
}
promoted() { [ "$(sql 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; }
archived_upto() { [ "$(sql "SELECT last_archived_wal >= '$1' FROM pg_stat_archiver")" = t ]; }
in_archive() { [ -e "$arch/$1.zst" ] || [ -e "$arch/$1" ]; }
wait_writable() { wait_for "the restored server to promote" promoted; }
segno() { awk -v n="$1" 'BEGIN { h = "0123456789ABCDEF"; v = 0; for (i = 9; i <= 24; i++) v = v * 16 + index(h, substr(n, i, 1)) - 1; print v }'; }

# --- the database -------------------------------------------------------------------------------------------------
say "database: pgbench scale $SCALE + $TEXT_MB MB of random text"
as_pg initdb -D "$work/primary" -A trust -U postgres >/dev/null
{ shipped conf; echo "max_wal_size = '1GB'"; } >>"$work/primary/postgresql.conf"
start_server "$work/primary" "$work/primary.log"
as_pg pgbench -q -i -s "$SCALE" -h "$sock" -p "$port" postgres >/dev/null 2>&1
rows=$((TEXT_MB * 1048576 / 200))
sql "CREATE TABLE notes AS SELECT g, md5(random()::text) || md5(random()::text) || md5(random()::text) AS a, md5(random()::text) || md5(random()::text) || md5(random()::text) AS b FROM generate_series(1, $rows) g"
sql "CHECKPOINT"
sql "SELECT pg_switch_wal()" >/dev/null
dbsize=$(sql "SELECT sum(pg_database_size(oid)) FROM pg_database")
say "database size $(mb "$dbsize") MB"

# --- backups -------------------------------------------------------------------------------------------------------
say "reference backup: pg_basebackup -Ft -z -X stream"
t0=$(now)
as_pg pg_basebackup -h "$sock" -p "$port" -D "$work/ref/backup" -Ft -z -X stream --checkpoint=fast
t1=$(now)
ref_backup_s=$(secs "$t0" "$t1"); ref_backup_b=$(dirsize "$work/ref/backup")

say "our backup: base-backup.sh (its CronJob environment)"
mapfile -t envs < <(shipped env)
t0=$(now)
as_pg env "${envs[@]}" PGHOST="$sock" PGPORT="$port" PGUSER=postgres WAL_ARCHIVE_CLEANUP=false /bin/sh "$scripts/base-backup.sh" >"$work/ours-backup.log"
t1=$(now)
ours_backup_s=$(secs "$t0" "$t1")
ours_dir=$(ls -d "$backups"/*-base-backup-*)
ours_backup_b=$(( $(dirsize "$ours_dir") - $(stat -c %s "$ours_dir/pitr_backup_info") ))
# Verification cost: the one-pass check of base-backup-verify.sh on the finished backup, timed alone.
vcopy="$work/verify-copy"; mkdir "$vcopy"; cp "$ours_dir"/base.tar* "$ours_dir"/pg_wal.tar* "$ours_dir"/backup_manifest "$vcopy/"
[ "$(id -u)" != 0 ] || chown -R postgres: "$vcopy"
t0=$(now)
as_pg sh -c 'me=verify; script_dir=$1; . "$1/pitr-lib.sh"; . "$1/pitr-store.sh"; . "$1/base-backup-verify.sh"; verify_backup "$2"' sh "$scripts" "$vcopy" >/dev/null
t1=$(now)
verify_s=$(secs "$t0" "$t1")
rm -rf "$vcopy"

# --- WAL under pgbench: stored bytes per segment, archiver lag -----------------------------------------------------
say "pgbench -c 2 for $PGBENCH_SECONDS s: archive bytes and archiver lag"
first_seg=$(sql "SELECT pg_walfile_name(pg_current_wal_lsn())")
as_pg pgbench -n -c 2 -j 2 -T "$PGBENCH_SECONDS" -h "$sock" -p "$port" postgres >"$work/pgbench.log" 2>&1 &
bench_pid=$!
max_lag=0
while kill -0 "$bench_pid" 2>/dev/null; do
  line=$(sql "SELECT pg_walfile_name(pg_current_wal_lsn()), coalesce(last_archived_wal, '') FROM pg_stat_archiver" | tr '|' ' ')
  cur=${line% *} last=${line#* }
  if [ ${#last} -eq 24 ]; then
    lag=$(( $(segno "$cur") - $(segno "$last") - 1 ))
    [ "$lag" -le "$max_lag" ] || max_lag=$lag
  fi
  sleep 0.2
done
wait "$bench_pid"
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench.log" | head -n 1)
last_seg=$(sql "SELECT pg_walfile_name(pg_current_wal_lsn())")
sql "SELECT pg_switch_wal()" >/dev/null
wait_for "archiving of $last_seg" archived_upto "$last_seg"
nseg=0 stored=0
for f in "$arch"/*; do
  n=${f##*/}; n=${n%.zst}
  [ ${#n} -eq 24 ] || continue
  if [[ "$n" > "$first_seg" || "$n" == "$first_seg" ]] && [[ "$n" < "$last_seg" || "$n" == "$last_seg" ]]; then
    nseg=$((nseg + 1)); stored=$((stored + $(stat -c %s "$f")))
  fi
done
per_seg=$((stored / nseg))

# --- idle forced switch -------------------------------------------------------------------------------------------
sleep 1
sql "CREATE TABLE IF NOT EXISTS idle_probe (t timestamptz); INSERT INTO idle_probe VALUES (now())"
idle_seg=$(sql "SELECT pg_walfile_name(pg_current_wal_lsn())")
sql "SELECT pg_switch_wal()" >/dev/null
wait_for "archiving of $idle_seg" in_archive "$idle_seg"
idle_b=$(stat -c %s "$arch/$idle_seg.zst" 2>/dev/null || stat -c %s "$arch/$idle_seg")
sql "INSERT INTO idle_probe VALUES (now())"
final_seg=$(sql "SELECT pg_walfile_name(pg_current_wal_lsn())")
sql "SELECT pg_switch_wal()" >/dev/null
wait_for "archiving of $final_seg" in_archive "$final_seg"
expected=$(sql "SELECT count(*) || ':' || sum(abalance) FROM pgbench_accounts")/$(sql "SELECT count(*) FROM idle_probe")
as_pg pg_ctl -D "$work/primary" stop -m fast >/dev/null

# The reference's archive holds the same segments, plain (its archive_command is cp).
for f in "$arch"/*; do
  n=${f##*/}
  case "$n" in *.zst) zstd -dcq "$f" >"$refarch/${n%.zst}" ;; *) cp "$f" "$refarch/$n" ;; esac
done
[ "$(id -u)" != 0 ] || chown -R postgres: "$refarch"
drop_caches() { sync; [ "$(id -u)" != 0 ] || echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }

# --- reference restore --------------------------------------------------------------------------------------------
say "reference restore: tar xzf, restore_command cp, promote"
drop_caches
d="$work/ref/pgdata"
t0=$(now)
as_pg mkdir -m 0700 "$d"
as_pg tar xzf "$work/ref/backup/base.tar.gz" -C "$d"
as_pg tar xzf "$work/ref/backup/pg_wal.tar.gz" -C "$d/pg_wal"
t1=$(now)
as_pg sh -c "cat >>'$d/postgresql.auto.conf'" <<CONF
restore_command = 'test -f $refarch/%f && cp $refarch/%f %p'
recovery_target_action = 'promote'
archive_mode = 'off'
CONF
as_pg touch "$d/recovery.signal"
start_server "$d" "$work/ref-restore.log"
wait_writable
t2=$(now)
ref_got=$(sql "SELECT count(*) || ':' || sum(abalance) FROM pgbench_accounts")/$(sql "SELECT count(*) FROM idle_probe")
as_pg pg_ctl -D "$d" stop -m fast >/dev/null
ref_extract=$(secs "$t0" "$t1") ref_replay=$(secs "$t1" "$t2") ref_total=$(secs "$t0" "$t2")

# --- our restore --------------------------------------------------------------------------------------------------
say "our restore: restore-data.sh, restore-wal.sh, promote"
drop_caches
mkdir -p "$work/ours"; [ "$(id -u)" != 0 ] || chown postgres: "$work/ours"
d="$work/ours/pgdata"
{ shipped restore_command; echo "recovery_target_timeline = 'latest'"; echo "recovery_target_action = 'promote'"; echo "archive_mode = 'off'"
  for x in "${EXTRA_RECOVERY[@]}"; do echo "$x"; done; } >"$work/recovery.conf"
chmod 644 "$work/recovery.conf"
t0=$(now)
as_pg env PGDATA="$d" BACKUP_DIR="$backups" WAL_ARCHIVE_DIR="$arch" BACKUP_NAME_PREFIX=tsb-postgres-base-backup \
  RECOVERY_TARGET_TYPE=latest RECOVERY_TARGET_TIMELINE=latest RECOVERY_SIGNAL_FILE=recovery.signal RECOVERY_SETTINGS_FILE="$work/recovery.conf" \
  PRIMARY_HOST="$sock" PRIMARY_PORT="$port" \
  /bin/sh "$scripts/restore-data.sh" >"$work/ours-restore.log"
t1=$(now)
start_server "$d" "$work/ours-restore-server.log"
wait_writable
t2=$(now)
ours_got=$(sql "SELECT count(*) || ':' || sum(abalance) FROM pgbench_accounts")/$(sql "SELECT count(*) FROM idle_probe")
as_pg pg_ctl -D "$d" stop -m fast >/dev/null
ours_extract=$(secs "$t0" "$t1") ours_replay=$(secs "$t1" "$t2") ours_total=$(secs "$t0" "$t2")
if [ "$ref_got" != "$expected" ] || [ "$ours_got" != "$expected" ]; then
  echo "bench: restored data differs: expected $expected, reference $ref_got, ours $ours_got" >&2
  exit 1
fi

# --- report -------------------------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
seg=16777216
cat <<REPORT

machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), PostgreSQL $(pg_ctl --version | awk '{ print $3 }'), zstd $(zstd -V | sed 's/.* v\([0-9.]*\).*/\1/')
dataset: pgbench scale $SCALE + $TEXT_MB MB random text = $(mb "$dbsize") MB; command: bash bench/run.sh --scale $SCALE --text-mb $TEXT_MB --pgbench-seconds $PGBENCH_SECONDS$(for x in "${EXTRA_RECOVERY[@]}"; do printf " --recovery-setting '%s'" "$x"; done)

| step | reference | ours | ours / reference | goal |
| --- | --- | --- | --- | --- |
| base backup time (s) | $ref_backup_s | $ours_backup_s | $(ratio "$ours_backup_s" "$ref_backup_s") | <= 0.20x |
| base backup size (MB) | $(mb "$ref_backup_b") | $(mb "$ours_backup_b") | $(ratio "$ours_backup_b" "$ref_backup_b") | <= 1.05x |
| backup verification, one pass (s) | - | $verify_s | | |
| restore: choose + extract (s) | $ref_extract | $ours_extract | $(ratio "$ours_extract" "$ref_extract") | |
| restore: replay + promote (s) | $ref_replay | $ours_replay | $(ratio "$ours_replay" "$ref_replay") | |
| restore: total (s) | $ref_total | $ours_total | $(ratio "$ours_total" "$ref_total") | <= 0.50x |
| archive bytes per segment, pgbench ($nseg segments, $tps tps) | $seg | $per_seg | $(ratio "$per_seg" "$seg") | |
| archive bytes, idle forced switch | $seg | $idle_b | $(awk -v a="$idle_b" -v b="$seg" 'BEGIN { printf "%.2f%%", 100 * a / b }') of 16 MiB | <= 1% |
| archiver lag under 2-client pgbench (segments, max) | | $max_lag | | <= 2 |

restored rows (pgbench_accounts count:sum, probes): expected $expected, reference $ref_got, ours $ours_got
REPORT
