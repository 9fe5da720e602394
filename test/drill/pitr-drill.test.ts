/**
 * The PITR drill: a real PostgreSQL 15 server with the synthesized archiving settings, a base backup by the CronJob's
 * script with the CronJob's environment, rows with known markers around recorded times, xids, LSNs and a restore
 * point, then, for every target type, a restore by the restore helper's script with the RecoveryConfig's output into
 * a fresh data directory, and exact assertions on which markers survive, promotion, the new timeline and writes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DrillCluster } from './cluster';
import { PgServer, sleep } from './harness';
import { RecoveryTarget } from '../../src';

let cluster: DrillCluster;
const servers: PgServer[] = [];
/** What the primary recorded: the times, xid, LSN and restore point between the markers. */
const at: { beforeBackup: string; t1: string; xidC: string; commitC: string; lsnAfterD: string; segments: string[] } = {} as any;

const ALL = ['A', 'B', 'C', 'D', 'E', 'F'];

beforeAll(async () => {
  cluster = await DrillCluster.create('drill');
  const p = cluster.primary;
  cluster.mark('A');
  at.beforeBackup = p.sql('SELECT to_char(clock_timestamp() AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\')');
  await sleep(1100);
  const backup = cluster.backup();
  if (backup.status !== 0) {
    throw new Error(`the base backup failed:\n${backup.stdout}\n${backup.stderr}`);
  }
  cluster.mark('B');
  await sleep(1100);
  at.t1 = p.sql('SELECT to_char(clock_timestamp() AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\')');
  await sleep(1100);
  at.xidC = cluster.mark('C');
  cluster.mark('D');
  at.lsnAfterD = p.sql('SELECT pg_current_wal_insert_lsn()');
  cluster.mark('E');
  p.sql('SELECT pg_create_restore_point(\'before-F\')');
  cluster.mark('F');
  await cluster.switchAndArchive();
  at.commitC = cluster.commitTime(at.xidC);
  at.segments = cluster.archivedSegments();
});

afterAll(() => {
  cluster?.destroy(servers);
});

/** Restores to a target, starts the server, waits for promotion and returns the markers it holds. */
async function restoreTo(target: RecoveryTarget, inclusive?: boolean) {
  const r = cluster.restore(target, inclusive === undefined ? {} : { inclusive });
  if (r.result.status !== 0) {
    throw new Error(`restore-data.sh failed (${r.result.status}):\n${r.result.stdout}\n${r.result.stderr}`);
  }
  // The script says exactly what it did: the one backup it chose, each recovery setting it wrote, where the old data
  // went and where the restored data is; no warning on a healthy archive.
  const [backup] = cluster.backups();
  const out = r.result.stdout.split('\n');
  expect(r.result.stderr).toBe('');
  expect(out.filter(l => l.startsWith('restore-data.sh: backup: '))).toEqual([expect.stringMatching(
    new RegExp(`^restore-data\\.sh: backup: ${backup} \\(.*\\); started .*, start WAL [0-9A-F]{24}$`))]);
  for (const setting of r.settings.split('\n').filter(l => l !== '' && !l.startsWith('#'))) {
    expect(out).toContain(`restore-data.sh:   ${setting}`);
  }
  // Exactly one signal file, recovery.signal, and the settings appended to postgresql.auto.conf.
  expect(fs.existsSync(path.join(r.pgdata, 'recovery.signal'))).toBe(true);
  expect(fs.existsSync(path.join(r.pgdata, 'standby.signal'))).toBe(false);
  expect(fs.readFileSync(path.join(r.pgdata, 'postgresql.auto.conf'), 'utf8')).toContain(r.settings.trim());
  // The old data directory is kept aside, intact.
  const aside = fs.readdirSync(r.dir).filter(f => /^pgdata\.before-restore-\d{8}T\d{6}Z$/.test(f));
  expect(aside).toHaveLength(1);
  expect(out).toContain(`restore-data.sh: old data directory moved to ${path.join(r.dir, aside[0])}`);
  expect(out).toContain(`restore-data.sh: restored ${backup} into ${r.pgdata}`);
  expect(fs.existsSync(path.join(r.dir, aside[0], 'OLD_DATA_MARKER'))).toBe(true);
  expect(fs.existsSync(path.join(r.pgdata, 'OLD_DATA_MARKER'))).toBe(false);

  const server = await cluster.startRestored(r);
  servers.push(server);
  await server.waitPromoted();
  const markers = server.sql('SELECT coalesce(string_agg(tag, \',\' ORDER BY tag), \'\') FROM markers').split(',').filter(Boolean);
  const timeline = server.timeline();
  server.sql('INSERT INTO markers(tag) VALUES (\'written-after-restore\')');
  const written = server.sql('SELECT count(*) FROM markers WHERE tag = \'written-after-restore\'');
  // After promotion no signal file is left behind, so the next start is a normal one.
  const signals = ['recovery.signal', 'standby.signal'].filter(f => fs.existsSync(path.join(r.pgdata, f)));
  const log = server.log();
  server.stop();
  return { markers, timeline, written, signals, log };
}

describe('PITR drill: restore to every recovery target type', () => {
  test('the backup job wrote a complete, verified backup (zstd, the default compression)', () => {
    const backups = cluster.backups();
    expect(backups).toHaveLength(1);
    expect(fs.readdirSync(path.join(cluster.paths.backup, backups[0])).sort())
      .toEqual(['backup_manifest', 'base.tar.zst', 'pg_wal.tar.zst', 'pitr_backup_info', 'pitr_identity']);
    // A fast checkpoint: the backup did not wait for a spread checkpoint.
    expect(cluster.primary.log()).toMatch(/checkpoint starting: immediate force wait/);
    expect(at.segments.length).toBeGreaterThan(1);
  });

  test('target time (a Z timestamp, normalised) between B and C: A, B', async () => {
    const r = await restoreTo(RecoveryTarget.time(at.t1));
    expect(r.markers).toEqual(['A', 'B']);
    expect(r.timeline).toBe(2);
    expect(r.written).toBe('1');
    expect(r.signals).toEqual([]);
    expect(r.log).toMatch(/starting point-in-time recovery to 20\d\d-\d\d-\d\d \d\d:\d\d:\d\d/);
  });

  test('target time inclusive at C\'s exact commit time: A, B, C', async () => {
    const r = await restoreTo(RecoveryTarget.time(at.commitC), true);
    expect(r.markers).toEqual(['A', 'B', 'C']);
    expect(r.timeline).toBe(2);
  });

  test('target time exclusive at C\'s exact commit time: A, B', async () => {
    const r = await restoreTo(RecoveryTarget.time(at.commitC), false);
    expect(r.markers).toEqual(['A', 'B']);
    expect(r.timeline).toBe(2);
  });

  test('target xid of C (inclusive): A, B, C', async () => {
    const r = await restoreTo(RecoveryTarget.xid(at.xidC));
    expect(r.markers).toEqual(['A', 'B', 'C']);
    expect(r.timeline).toBe(2);
    expect(r.log).toMatch(new RegExp(`recovery stopping after commit of transaction ${at.xidC}`));
  });

  test('target xid of C exclusive: A, B', async () => {
    const r = await restoreTo(RecoveryTarget.xid(at.xidC), false);
    expect(r.markers).toEqual(['A', 'B']);
  });

  test('target LSN after D: A, B, C, D', async () => {
    const r = await restoreTo(RecoveryTarget.lsn(at.lsnAfterD));
    expect(r.markers).toEqual(['A', 'B', 'C', 'D']);
    expect(r.timeline).toBe(2);
  });

  test('target name (restore point before F): A, B, C, D, E', async () => {
    const r = await restoreTo(RecoveryTarget.restorePoint('before-F'));
    expect(r.markers).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(r.timeline).toBe(2);
    expect(r.log).toMatch(/recovery stopping at restore point "before-F"/);
  });

  test('target immediate (the backup\'s consistent point): A', async () => {
    const r = await restoreTo(RecoveryTarget.immediate());
    expect(r.markers).toEqual(['A']);
    expect(r.timeline).toBe(2);
  });

  test('target latest: every marker, and recovery ends instead of waiting for more WAL', async () => {
    const r = await restoreTo(RecoveryTarget.latest());
    expect(r.markers).toEqual(ALL);
    expect(r.timeline).toBe(2);
    expect(r.log).toMatch(/archive recovery complete/);
  });

  test('trap: a time target earlier than every backup\'s end is refused, not silently restored to the backup end', () => {
    const r = cluster.restore(RecoveryTarget.time(at.beforeBackup));
    expect(r.result.status).not.toBe(0);
    expect(r.result.stderr + r.result.stdout).toMatch(/earliest/i);
    // Nothing was changed: the data directory is still the old one and nothing was moved aside.
    expect(fs.readdirSync(r.dir).sort()).toEqual(['pgdata']);
    expect(fs.readdirSync(r.pgdata)).toEqual(['OLD_DATA_MARKER']);
  });
});
