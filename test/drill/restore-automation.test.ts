/**
 * The automatic restore and its helpers against a real PostgreSQL 15: backup choice among three backups for targets
 * between them, a named backup, the restore point Job, and the recoverable-window report with and without a gap.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DrillCluster } from './cluster';
import { mkdirPg, PgServer, sleep } from './harness';
import { RecoveryTarget } from '../../src';

let cluster: DrillCluster;
const servers: PgServer[] = [];
const times: string[] = [];
let backups: string[] = [];

const now = () => cluster.primary.sql('SELECT to_char(clock_timestamp() AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\')');

beforeAll(async () => {
  cluster = await DrillCluster.create('automation');
  for (const [i, tag] of ['A', 'B', 'C'].entries()) {
    cluster.mark(tag);
    // Backup names carry seconds: keep them apart.
    await sleep(1100);
    const b = cluster.backup();
    if (b.status !== 0) {
      throw new Error(`backup ${i + 1} failed: ${b.stdout}${b.stderr}`);
    }
    cluster.mark(`after-backup-${i + 1}`);
    await sleep(1100);
    times.push(now());
    await sleep(1100);
  }
  cluster.mark('D');
  await cluster.switchAndArchive();
  backups = cluster.backups();
});

afterAll(() => {
  cluster?.destroy(servers);
});

async function restoreAndRead(target: RecoveryTarget, backupName?: string) {
  return cluster.restoreAndRead(target, backupName ? { backupName } : {}, servers);
}

describe('automatic restore: backup choice', () => {
  test('three complete backups exist', () => {
    expect(backups).toHaveLength(3);
  });

  test.each([0, 1, 2])('a time target after backup %i (0-based) picks that backup, the newest one ending before the target', async (i) => {
    const r = await restoreAndRead(RecoveryTarget.time(times[i]));
    expect(r.output).toContain(backups[i]);
    for (const other of backups.filter(b => b !== backups[i])) {
      expect(r.output).not.toMatch(new RegExp(`(chose|chosen|using|restoring)[^\\n]*${other}`, 'i'));
    }
    const expected = ['A', 'B', 'C'].slice(0, i + 1).flatMap((t, j) => [t, `after-backup-${j + 1}`]).sort().join(',');
    expect(r.markers).toBe(expected);
    // The old data directory is kept aside.
    expect(fs.readdirSync(r.dir).filter(f => f.startsWith('pgdata.before-restore-'))).toHaveLength(1);
  });

  test('a name target with a named older backup restores from that backup through the restore point', async () => {
    // The example's restore point CronJob, as `kubectl create job --from=cronjob/tsb-postgres-restore-point before-upgrade` runs it.
    const job = cluster.runFromCronJob('tsb-postgres-restore-point', 'before-upgrade');
    expect(job.stdout + job.stderr).toMatch(/restore point 'before-upgrade' created at LSN/);
    expect(job.status).toBe(0);
    cluster.mark('E');
    await cluster.switchAndArchive();
    const r = await restoreAndRead(RecoveryTarget.restorePoint('before-upgrade'), backups[0]);
    expect(r.output).toContain(backups[0]);
    expect(r.markers).toBe('A,B,C,D,after-backup-1,after-backup-2,after-backup-3');
  });
});

describe('recoverable-window report', () => {
  function report(walArchive?: string) {
    const r = cluster.runJob('tsb-postgres-recovery-window', walArchive ? { WAL_ARCHIVE_DIR: walArchive } : {});
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    const json = JSON.parse(lines.slice(lines.indexOf('{')).join('\n'));
    return { text: lines.slice(0, lines.indexOf('{')).join('\n'), json };
  }

  test('lists each backup with its times and LSNs, the earliest and latest recoverable time, and no gap', () => {
    const { text, json } = report();
    expect(json.backups.map((b: any) => b.name)).toEqual(backups);
    for (const b of json.backups) {
      expect(b.start_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(b.end_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(b.start_lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      expect(b.end_lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    }
    expect(json.earliest_recoverable_time).toBe(json.backups[0].end_time);
    expect(Date.parse(json.latest_recoverable_time)).toBeGreaterThanOrEqual(Date.parse(times[2]) - 1000);
    expect(json.wal_gaps).toEqual([]);
    expect(text).toMatch(/no gap in the WAL archive/);
    expect(json.newest_timeline).toBe(1);
    expect(json.timelines).toEqual([]);
  });

  test('reports a deleted segment as a gap', () => {
    const broken = mkdirPg(path.join(cluster.root, 'archive-with-gap'));
    const segments = cluster.archivedSegments();
    const victim = segments[Math.floor(segments.length / 2)];
    for (const f of fs.readdirSync(cluster.paths.walArchive).filter(n => n.replace(/\.zst$/, '') !== victim)) {
      fs.copyFileSync(path.join(cluster.paths.walArchive, f), path.join(broken, f));
    }
    spawnSync('chown', ['-R', 'postgres:postgres', broken]); // the report reads compressed segments as postgres
    const { text, json } = report(broken);
    expect(json.wal_gaps).toEqual([{ from: victim, to: victim, count: 1 }]);
    expect(text).toContain(`GAP: missing ${victim} - ${victim} (1 segment(s))`);
  });
});
