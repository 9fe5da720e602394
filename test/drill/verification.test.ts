/**
 * A self-describing archive and backups, and continuity verified after every backup, against a real PostgreSQL 15:
 * the identity files, a foreign cluster's segment refused by archive_command, a backup of another major version or of
 * another system refused by the restore, and a deleted segment failing the backup job after the backup is kept.
 */
import * as fs from 'fs';
import * as path from 'path';
import { archivedFile, DrillCluster } from './cluster';
import { freePort, mkdirPg, PgServer, run, sleep } from './harness';
import { RecoveryTarget } from '../../src';

let cluster: DrillCluster;
const servers: PgServer[] = [];

const identity = (file: string) => Object.fromEntries(fs.readFileSync(file, 'utf8').trim().split('\n').map(l => l.split('=', 2) as [string, string]));
const info = (backup: string) => identity(path.join(cluster.paths.backup, backup, 'pitr_backup_info'));
const sysid = () => cluster.primary.sql('SELECT system_identifier FROM pg_control_system()');

beforeAll(async () => {
  cluster = await DrillCluster.create('verification');
  cluster.mark('A');
  await cluster.switchAndArchive();
});

afterAll(() => {
  cluster?.destroy(servers);
});

describe('identity files', () => {
  test('the archive names its system, major version and timeline, and the library version, from its first segment', () => {
    const id = identity(path.join(cluster.paths.walArchive, 'pitr_identity'));
    expect(id).toMatchObject({ system_identifier: sysid(), pg_major: '15', timeline: '1', library_version: '0.0.0' });
    expect(id.written_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('each backup names the same system, its major version and timeline', () => {
    const b = cluster.backup();
    expect([b.status, b.stderr]).toEqual([0, '']);
    const [backup] = cluster.backups();
    expect(identity(path.join(cluster.paths.backup, backup, 'pitr_identity'))).toMatchObject({
      system_identifier: sysid(), pg_major: '15', timeline: '1', library_version: '0.0.0',
    });
  });

  test('archive_command refuses a segment of another database system, and the archive is unchanged', async () => {
    // Another cluster (a new initdb), pointed at this archive by mistake.
    const other = new PgServer(mkdirPg(path.join(mkdirPg(path.join(cluster.root, 'other'), 0o755), 'pgdata')), await freePort(), {});
    other.initdb();
    other.start();
    servers.push(other);
    const segment = other.sql('SELECT pg_walfile_name(pg_current_wal_lsn())');
    other.stop();
    const before = fs.readdirSync(cluster.paths.walArchive).sort();
    const r = run('/bin/sh', [path.join(cluster.paths.scripts, 'archive-wal.sh'), path.join(other.dataDir, 'pg_wal', segment), segment],
      { WAL_ARCHIVE_DIR: cluster.paths.walArchive }, other.dataDir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`the WAL archive ${cluster.paths.walArchive} belongs to database system ${sysid()} (its pitr_identity), and ${segment} `
      + 'comes from system ');
    expect(fs.readdirSync(cluster.paths.walArchive).sort()).toEqual(before);
  });

  test.each([
    ['another major version', { pg_major: '14' }, /backup \S+ is from PostgreSQL 14, and this image runs PostgreSQL 15: .* Nothing was changed/],
    ['another system', { system_identifier: '1234567890' }, /backup \S+ is of database system 1234567890, and the WAL archive belongs to system \d+/],
  ])('the restore refuses a backup of %s before changing anything', (_what, change, message) => {
    const [backup] = cluster.backups();
    const file = path.join(cluster.paths.backup, backup, 'pitr_identity');
    const original = fs.readFileSync(file, 'utf8');
    try {
      fs.writeFileSync(file, Object.entries(change).reduce((t, [k, v]) => t.replace(new RegExp(`^${k}=.*$`, 'm'), `${k}=${v}`), original));
      const r = cluster.restore(RecoveryTarget.latest());
      expect(r.result.status).toBe(1);
      expect(r.result.stderr).toMatch(message);
      expect(fs.readdirSync(r.pgdata)).toEqual(['OLD_DATA_MARKER']);
      expect(fs.readdirSync(r.dir)).toEqual(['pgdata']);
    } finally {
      fs.writeFileSync(file, original);
    }
  });
});

describe('archive continuity after every backup', () => {
  test('a healthy archive: the job logs the check as JSON and records it in the backup\'s info', async () => {
    cluster.mark('B');
    await cluster.switchAndArchive();
    await sleep(1100); // backup names carry seconds
    const b = cluster.backup();
    expect([b.status, b.stderr]).toEqual([0, '']);
    const line = b.stdout.split('\n').find(l => l.startsWith('{"archive_continuity"'))!;
    const json = JSON.parse(line).archive_continuity;
    const [oldest, newest] = cluster.backups();
    expect(json).toMatchObject({ ok: true, oldest_backup: oldest, gaps: [], missing_history: [], inconsistent_history: [] });
    expect(json.from).toBe(info(oldest).start_wal);
    expect(json.segments).toBeGreaterThan(1);
    expect(info(newest)).toMatchObject({ archive_check: 'ok', archive_checked_from: info(oldest).start_wal, archive_checked_to: json.to });
  });

  test('a deleted segment fails the job with its name, after the new backup is safely kept', async () => {
    cluster.mark('C');
    await cluster.switchAndArchive();
    const [oldest] = cluster.backups();
    const segments = cluster.archivedSegments();
    const victim = segments.find(s => s.slice(8) > info(oldest).start_wal.slice(8))!;
    fs.rmSync(archivedFile(cluster.paths.walArchive, victim)!);
    await sleep(1100);
    const b = cluster.backup();
    expect(b.status).toBe(1);
    expect(b.stderr).toContain(`the WAL archive cannot replay from the oldest retained backup ${oldest} (${info(oldest).start_wal})`);
    expect(b.stderr).toContain(`missing ${victim}-${victim} (1 segments)`);
    const json = JSON.parse(b.stdout.split('\n').find(l => l.startsWith('{"archive_continuity"'))!).archive_continuity;
    expect(json).toMatchObject({ ok: false, gaps: [{ from: victim, to: victim, count: 1 }] });
    // The backup itself is complete and kept, and says the archive check failed.
    const backups = cluster.backups();
    expect(backups).toHaveLength(3);
    expect(info(backups[2])).toMatchObject({ archive_check: 'failed' });
    expect(fs.existsSync(path.join(cluster.paths.backup, backups[2], 'base.tar.zst'))).toBe(true);
  });
});
