/**
 * Restore at 3 a.m., against a real PostgreSQL 15, every restore into the primary's own data directory as the runbook
 * does it: three consecutive restores (a time, then a later time on the new timeline, then latest after a crash), the
 * commits only the crashed server's pg_wal held, a target given at restore time through a ConfigMap volume (valid, and
 * each invalid kind refused before any change), targets outside the recoverable window, too little space, and a
 * running server.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DrillCluster, Restore } from './cluster';
import { freePort, mkdirPg, PgServer, sleep, waitFor } from './harness';
import { RecoveryTarget } from '../../src';

let cluster: DrillCluster;
const servers: PgServer[] = [];
const at: Record<string, string> = {};
let backups: string[] = [];
/** The server on the primary's data directory, as restarted after each restore. */
let db: PgServer;
let tmpfs: string | undefined;

const now = (s: PgServer) => s.sql('SELECT to_char(clock_timestamp() AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\')');
const mark = (s: PgServer, tag: string) => s.sql(`INSERT INTO markers(tag) VALUES ('${tag}')`);
const markers = (s: PgServer) => s.sql('SELECT string_agg(tag, \',\' ORDER BY tag) FROM markers');
const output = (r: Restore) => r.result.stdout + r.result.stderr;
const ok = (r: Restore) => {
  if (r.result.status !== 0) {
    throw new Error(`restore failed:\n${output(r)}`);
  }
  return r;
};

/** Switches WAL on `s` and waits until the segment is archived. */
async function switchAndArchive(s: PgServer): Promise<void> {
  const segment = s.sql('SELECT pg_walfile_name(pg_switch_wal())');
  await waitFor(`archiving of ${segment}`, () => cluster.isArchived(segment) ? true : undefined);
}

/** A crash, as a lost node or an OOM kill: SIGKILL to the postmaster and all its processes; postmaster.pid stays. */
async function crash(s: PgServer): Promise<void> {
  const pid = Number(fs.readFileSync(path.join(s.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  for (const p of [pid, ...children]) {
    process.kill(p, 'SIGKILL');
  }
  const alive = (p: number) => { try { process.kill(p, 0); return true; } catch { return false; } };
  await waitFor('the killed processes to be gone', () => [pid, ...children].some(alive) ? undefined : true);
}

/** Starts the restored primary on its data directory as Kubegres does, archiving into the shared archive. */
async function startPrimary(): Promise<PgServer> {
  const s = new PgServer(cluster.primary.dataDir, await freePort(), cluster.primary.env, cluster.primary.args);
  s.start();
  servers.push(s);
  await s.waitPromoted();
  return s;
}

/** The data directory's entries besides the data directory itself (staging, aside, tail copies). */
const siblings = (pgdata: string) => fs.readdirSync(path.dirname(pgdata))
  .filter(f => f.startsWith(`${path.basename(pgdata)}.`) && f !== `${path.basename(pgdata)}.log`).sort();

beforeAll(async () => {
  cluster = await DrillCluster.create('restore-ops');
  db = cluster.primary;
  mark(db, 'A');
  await sleep(1100);
  ok1(cluster.backup());
  mark(db, 'B');
  await sleep(1100);
  at.t1 = now(db);
  await sleep(1100);
  mark(db, 'C');
  // A backup on timeline 1 after t1: the timeline a restore to t1 creates does not descend from it.
  await sleep(1100);
  ok1(cluster.backup());
  mark(db, 'D');
  await switchAndArchive(db);
  backups = cluster.backups();
  db.stop();
});

function ok1(r: { status: number | null; stdout: string; stderr: string }): void {
  if (r.status !== 0) {
    throw new Error(`backup failed:\n${r.stdout}${r.stderr}`);
  }
}

afterAll(() => {
  if (tmpfs) {
    spawnSync('umount', [tmpfs]);
  }
  cluster?.destroy(servers);
});

describe('three consecutive restores into the primary\'s data directory', () => {
  test('two backups on timeline 1, the second taken after t1', () => {
    expect(backups).toHaveLength(2);
  });

  test('restore 1: to t1, from the first backup; the restored primary writes and archives on timeline 2', async () => {
    const r = ok(cluster.restoreInto(db.dataDir, RecoveryTarget.time(at.t1)));
    expect(output(r)).toContain(`backup: ${backups[0]}`);
    db = await startPrimary();
    expect(markers(db)).toBe('A,B');
    expect(db.timeline()).toBe(2);
    expect(siblings(db.dataDir).filter(f => f.startsWith('pgdata.before-restore-'))).toHaveLength(1);
    mark(db, 'E');
    await switchAndArchive(db);
    await sleep(1100);
    at.t3 = now(db);
    await sleep(1100);
    mark(db, 'F');
    await switchAndArchive(db);
    db.stop();
  });

  test('restore 2: to a later time on timeline 2, given at restore time; the timeline-1 backup after the branch is no candidate', async () => {
    const target = cluster.configMapVolume('target', { time: at.t3.replace('T', ' ').replace('Z', '+00') });
    const r = ok(cluster.restoreInto(db.dataDir, RecoveryTarget.runtime(), {}, { RESTORE_TARGET_DIR: target }));
    expect(output(r)).toContain('target timeline: 2 (latest)');
    expect(output(r)).toMatch(new RegExp(`not a candidate: ${backups[1]} \\(timeline 1, ends at LSN [0-9A-F/]+\\): timeline 2 left timeline 1 before that point`));
    expect(output(r)).toContain(`backup: ${backups[0]}`);
    expect(output(r)).toContain(`restore target from ConfigMap tsb-postgres-restore-target: time ${at.t3.replace('T', ' ').replace('Z', '+00')}`);
    db = await startPrimary();
    expect(markers(db)).toBe('A,B,E');
    expect(db.timeline()).toBe(3);
    mark(db, 'G');
    await switchAndArchive(db);
    // H and I are committed after the last archived segment; the server then crashes before archiving them.
    mark(db, 'H');
    await sleep(1100);
    at.t4 = now(db);
    await sleep(1100);
    mark(db, 'I');
    await crash(db);
    expect(fs.existsSync(path.join(db.dataDir, 'postmaster.pid'))).toBe(true);
  });

  test('a time inside the unarchived tail: the window reaches into the old pg_wal, and H is found', async () => {
    // On a copy of the crashed data directory, so that the latest restore below still has the original.
    const copy = path.join(path.dirname(db.dataDir), 'crashed-copy');
    expect(spawnSync('cp', ['-a', db.dataDir, copy]).status).toBe(0);
    const r = ok(cluster.restoreInto(copy, RecoveryTarget.time(at.t4)));
    expect(output(r)).toMatch(/the old data directory holds WAL the archive lacks; it is carried over: [0-9A-F]{24}\n/);
    expect(output(r)).toMatch(/not carried over: \d+ segment\(s\) past the end of WAL \(recycled or preallocated: no valid WAL\)/);
    expect(output(r)).toMatch(/lies in the recoverable window, from .* to .*\(last commit, in [0-9A-F]{24}\)/);
    const s = await cluster.startRestored(r);
    servers.push(s);
    await s.waitPromoted();
    expect(markers(s)).toBe('A,B,E,G,H');
    s.stop();
  });

  test('restore 3: to latest after the crash: the commits only the old pg_wal held (H, I) are carried over and found', async () => {
    const r = ok(cluster.restoreInto(db.dataDir, RecoveryTarget.latest()));
    expect(output(r)).toMatch(/postmaster.pid exists but names no live postgres here/);
    expect(output(r)).toMatch(/carried over from the old pg_wal: [0-9A-F]{24}/);
    expect(output(r)).toContain('target timeline: 3 (latest)');
    db = await startPrimary();
    expect(markers(db)).toBe('A,B,E,G,H,I');
    expect(db.timeline()).toBe(4);
    // Every restore kept the data directory it replaced.
    expect(siblings(db.dataDir).filter(f => f.startsWith('pgdata.before-restore-'))).toHaveLength(3);
    expect(siblings(db.dataDir).filter(f => !f.startsWith('pgdata.before-restore-'))).toEqual([]);
  });

  test('the window report shows each timeline and its branch point', () => {
    const r = cluster.runJob('tsb-postgres-recovery-window');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    const json = JSON.parse(lines.slice(lines.indexOf('{')).join('\n'));
    expect(json.newest_timeline).toBe(4);
    expect(json.timelines.map((t: any) => [t.timeline, t.parent])).toEqual([[2, 1], [3, 2], [4, 3]]);
    expect(json.timelines.every((t: any) => /^[0-9A-F]+\/[0-9A-F]+$/.test(t.switch_lsn))).toBe(true);
    expect(r.stdout).toMatch(/timeline 3 branched from timeline 2 at LSN [0-9A-F]+\/[0-9A-F]+/);
  });
});

describe('refused before any change', () => {
  /** Restores into a fresh data directory with a marker and expects a refusal with `message`, the directory untouched. */
  function refused(target: RecoveryTarget, extraEnv: Record<string, string>, message: string | RegExp): string {
    const r = cluster.restore(target, {}, extraEnv);
    expect(r.result.status).toBe(1);
    if (typeof message === 'string') {
      expect(r.result.stderr).toContain(message);
    } else {
      expect(r.result.stderr).toMatch(message);
    }
    expect(fs.readdirSync(r.pgdata)).toEqual(['OLD_DATA_MARKER']);
    expect(siblings(r.pgdata)).toEqual([]);
    return r.result.stderr;
  }

  /** The synth-time error of a target, without its prop name. */
  function synthError(make: () => RecoveryTarget): string {
    try {
      make();
    } catch (e) {
      return (e as Error).message.replace(/^'[^']+' /, '');
    }
    throw new Error('no synth-time error');
  }

  test.each([
    ['time', '2024-12-04 14:35:00', () => RecoveryTarget.time('2024-12-04 14:35:00')],
    ['time', '2024-12-04 14:35:00 PDT', () => RecoveryTarget.time('2024-12-04 14:35:00 PDT')],
    ['time', '2024-12-04 14:35:00+16', () => RecoveryTarget.time('2024-12-04 14:35:00+16')],
    ['time', '2023-02-29 00:00:00Z', () => RecoveryTarget.time('2023-02-29 00:00:00Z')],
    ['xid', '12a', () => RecoveryTarget.xid('12a')],
    ['xid', '2', () => RecoveryTarget.xid('2')],
    ['xid', '18446744073709551616', () => RecoveryTarget.xid('18446744073709551616')],
    ['lsn', '0/3000060/1', () => RecoveryTarget.lsn('0/3000060/1')],
    ['lsn', '123456789/0', () => RecoveryTarget.lsn('123456789/0')],
    ['name', 'x'.repeat(64), () => RecoveryTarget.restorePoint('x'.repeat(64))],
  ])('a runtime %s of %j: the synth-time rule and message', (key, value, make) => {
    const dir = cluster.configMapVolume('bad', { [key]: value });
    refused(RecoveryTarget.runtime(), { RESTORE_TARGET_DIR: dir }, `restore target ConfigMap tsb-postgres-restore-target: '${key}' ${synthError(make)}`);
  });

  test.each([
    ['no target', {}, /sets no target\. Create it with one: kubectl create configmap tsb-postgres-restore-target --from-literal=time=/],
    ['two targets', { time: '2024-12-04 14:35:00+00', xid: '1234' }, /sets two targets, 'time' and 'xid'/],
    ['an unknown key', { time: '2024-12-04 14:35:00+00', inclusiv: 'true' }, /unknown key 'inclusiv'; the keys are: time xid lsn name/],
    ['inclusive with a name', { name: 'x', inclusive: 'true' }, /'inclusive' applies only to time, xid and LSN targets, and the target is name/],
  ])('a runtime ConfigMap with %s', (_what, data, message) => {
    refused(RecoveryTarget.runtime(), { RESTORE_TARGET_DIR: cluster.configMapVolume('bad', data as Record<string, string>) }, message as RegExp);
  });

  test('no target ConfigMap mounted: the restore says which one to create', () => {
    refused(RecoveryTarget.runtime(), { RESTORE_TARGET_DIR: path.join(cluster.root, 'no-such-configmap') },
      /no restore target: the ConfigMap tsb-postgres-restore-target is not mounted at .*\. Create it: kubectl create configmap/);
  });

  test('a time after the last commit on the target timeline: refused with the window', () => {
    refused(RecoveryTarget.time(new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z')), {},
      /is after the latest recoverable time: the recoverable window is from \S+ \(end of backup tsb-postgres-base-backup-\S+\) to \S+ \(last commit, in [0-9A-F]{24}\)/);
  });

  test('a time before the first backup ends: refused with the window', () => {
    refused(RecoveryTarget.time('2020-01-01T00:00:00Z'), {}, /the target time 2020-01-01T00:00:00Z is before the earliest recoverable time: the recoverable window is from /);
  });

  test('a running server on the primary Service: refused', () => {
    expect(db.running()).toBe(true);
    refused(RecoveryTarget.latest(), { PRIMARY_HOST: '127.0.0.1', PRIMARY_PORT: String(db.port) },
      `the database is running: a server answers at 127.0.0.1:${db.port}`);
  });

  test('a live postgres named by postmaster.pid (the restore pod beside the running server): refused, nothing changed', () => {
    const before = fs.readdirSync(db.dataDir).sort();
    const r = cluster.restoreInto(db.dataDir, RecoveryTarget.latest());
    expect(r.result.status).toBe(1);
    expect(r.result.stderr).toMatch(/the database is running: .*postmaster.pid names process \d+, a live postgres/);
    expect(fs.readdirSync(db.dataDir).sort()).toEqual(before);
    expect(siblings(db.dataDir).filter(f => !f.startsWith('pgdata.before-restore-'))).toEqual([]);
  });

  test('too little space on the data volume: refused with both numbers, nothing changed; old-data=delete-first is the way out', () => {
    // A real small file system: a 24 MiB tmpfs holding only the data directory's folder.
    tmpfs = mkdirPg(path.join(cluster.root, 'small-volume'), 0o755);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0755', 'tmpfs', tmpfs], { encoding: 'utf8' });
    expect(m.stderr).toBe('');
    expect(m.status).toBe(0);
    const pgdata = mkdirPg(path.join(mkdirPg(path.join(tmpfs, 'data'), 0o700), 'pgdata'));
    fs.writeFileSync(path.join(pgdata, 'OLD_DATA_MARKER'), 'x');
    spawnSync('chown', ['-R', 'postgres:postgres', path.join(tmpfs, 'data')]);
    const r = cluster.restoreInto(pgdata, RecoveryTarget.latest());
    expect(r.result.status).toBe(1);
    expect(r.result.stderr).toMatch(/not enough space: the restore needs about \d+ MiB on the data volume and \S+ has \d+ MiB free\. Nothing was changed/);
    expect(r.result.stderr).toContain('old-data=delete-first');
    expect(fs.readdirSync(pgdata)).toEqual(['OLD_DATA_MARKER']);
    expect(fs.readdirSync(path.dirname(pgdata))).toEqual(['pgdata']);
  });
});
