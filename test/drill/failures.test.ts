/**
 * Failure drills against a real PostgreSQL 15: a missing WAL segment, a gap with no target, an archive folder that is
 * read-only or full, a segment archived again after a crash, and why recovery.signal and not standby.signal.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { archivedFile, DrillCluster, gaps } from './cluster';
import { mkdirPg, PgServer, run, sleep, waitFor } from './harness';
import { RecoveryTarget } from '../../src';

let cluster: DrillCluster;
const servers: PgServer[] = [];
let afterD: string;
let segmentOfC: string;

beforeAll(async () => {
  cluster = await DrillCluster.create('failures');
  cluster.mark('A');
  const b = cluster.backup();
  if (b.status !== 0) {
    throw new Error(`backup failed: ${b.stdout}${b.stderr}`);
  }
  cluster.mark('B');
  await cluster.switchAndArchive();
  cluster.mark('C');
  segmentOfC = cluster.primary.sql('SELECT pg_walfile_name(pg_current_wal_lsn())');
  await cluster.switchAndArchive();
  cluster.mark('D');
  await cluster.switchAndArchive();
  await sleep(1100);
  afterD = cluster.primary.sql('SELECT to_char(clock_timestamp() AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\')');
  await sleep(1100);
  cluster.mark('E');
  await cluster.switchAndArchive();
});

afterAll(() => {
  cluster?.destroy(servers);
});

/** A copy of the archive without the segment that holds C. */
function archiveWithGap(): string {
  const broken = mkdirPg(path.join(cluster.root, `archive-with-gap-${Date.now()}`));
  for (const f of fs.readdirSync(cluster.paths.walArchive)) {
    if (f.replace(/\.zst$/, '') !== segmentOfC) {
      fs.copyFileSync(path.join(cluster.paths.walArchive, f), path.join(broken, f));
    }
  }
  spawnSync('chown', ['-R', 'postgres:postgres', broken]);
  return broken;
}

function asideDirs(dir: string): string[] {
  return fs.readdirSync(dir).filter(f => f.startsWith('pgdata.before-restore-'));
}

describe('failure drills', () => {
  test('missing WAL segment: recovery to a later target fails with a clear message, the old data directory is kept', async () => {
    const broken = archiveWithGap();
    expect(gaps(fs.readdirSync(broken).map(f => f.replace(/\.zst$/, '')).filter(f => /^[0-9A-F]{24}$/.test(f)))).toHaveLength(1);
    const r = cluster.restore(RecoveryTarget.time(afterD), {}, { WAL_ARCHIVE_DIR: broken });
    expect(r.result.status).toBe(0);
    expect(r.result.stdout + r.result.stderr).toMatch(new RegExp('gap|missing', 'i'));
    const server = await cluster.startRestored(r, true, broken);
    servers.push(server);
    await waitFor('the server to stop', () => (server.running() ? undefined : true));
    expect(server.log()).toMatch(/FATAL: {2}recovery ended before configured recovery target was reached/);
    // Nothing irreversible: the old data directory is intact beside the failed restore.
    const aside = asideDirs(r.dir);
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(r.dir, aside[0], 'OLD_DATA_MARKER'), 'utf8')).toBe('the data directory before the restore\n');
  });

  test('trap: a gap in the archive with no target is refused before recovery starts', () => {
    const broken = archiveWithGap();
    const r = cluster.restore(RecoveryTarget.latest(), {}, { WAL_ARCHIVE_DIR: broken });
    expect(r.result.status).not.toBe(0);
    expect(r.result.stdout + r.result.stderr).toMatch(new RegExp(segmentOfC));
    expect(r.result.stdout + r.result.stderr).toMatch(/RESTORE_ALLOW_TRUNCATED_HISTORY|allowTruncatedHistory/);
    expect(fs.readdirSync(r.dir).sort()).toEqual(['pgdata']);
    expect(fs.readdirSync(r.pgdata)).toEqual(['OLD_DATA_MARKER']);
  });

  test('trap: a gap with no target restores the truncated history only when explicitly accepted', async () => {
    const broken = archiveWithGap();
    const r = cluster.restore(RecoveryTarget.latest(), { allowTruncatedHistory: true }, { WAL_ARCHIVE_DIR: broken });
    expect(r.result.status).toBe(0);
    const server = await cluster.startRestored(r, false, broken);
    servers.push(server);
    await server.waitPromoted();
    // History ends at the gap: C and everything after it are gone, and the user asked for exactly that.
    expect(server.sql('SELECT string_agg(tag, \',\' ORDER BY tag) FROM markers')).toBe('A,B');
    server.stop();
  });

  test('archiving into a read-only folder fails, the server keeps the segment, and archiving resumes with no gap', async () => {
    const p = cluster.primary;
    const failedBefore = Number(p.sql('SELECT failed_count FROM pg_stat_archiver'));
    fs.chmodSync(cluster.paths.walArchive, 0o500);
    try {
      cluster.mark('read-only');
      const segment = p.sql('SELECT pg_walfile_name(pg_switch_wal())');
      await waitFor('a failed archive attempt', () => Number(p.sql('SELECT failed_count FROM pg_stat_archiver')) > failedBefore ? true : undefined);
      expect(cluster.isArchived(segment)).toBe(false);
      expect(fs.existsSync(path.join(p.dataDir, 'pg_wal', 'archive_status', `${segment}.ready`))).toBe(true);
      expect(p.sql('SELECT last_failed_wal FROM pg_stat_archiver')).toBe(segment);
    } finally {
      fs.chmodSync(cluster.paths.walArchive, 0o700);
    }
    const last = await cluster.switchAndArchive();
    expect(gaps(cluster.archivedSegments())).toEqual([]);
    expect(fs.readdirSync(cluster.paths.walArchive).filter(f => f.includes('.tmp') || f.startsWith('.'))).toEqual([]);
    expect(last).toBe(cluster.archivedSegments().slice(-1)[0]);
  });

  test('archiving into a full folder fails, nothing partial is left, and archiving resumes with no gap once space is back', async () => {
    const p = cluster.primary;
    if (process.getuid?.() !== 0) {
      throw new Error('this drill mounts a 1 MiB tmpfs over the archive to fill it, which needs root (CI runs as root)');
    }
    const failedBefore = Number(p.sql('SELECT failed_count FROM pg_stat_archiver'));
    const identity = fs.readFileSync(path.join(cluster.paths.walArchive, 'pitr_identity'));
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700,uid=' + uidOf('postgres'), 'tmpfs', cluster.paths.walArchive]);
    expect(mounted.status).toBe(0);
    let segment: string;
    try {
      // A compressed segment can take only a few KiB: the archive keeps its identity, and the rest of the file system
      // is filled, so that nothing more fits.
      fs.writeFileSync(path.join(cluster.paths.walArchive, 'pitr_identity'), identity);
      spawnSync('chown', ['postgres:postgres', path.join(cluster.paths.walArchive, 'pitr_identity')]);
      spawnSync('dd', ['if=/dev/zero', `of=${path.join(cluster.paths.walArchive, 'filler')}`, 'bs=4k', 'count=1024']);
      cluster.mark('disk-full');
      segment = p.sql('SELECT pg_walfile_name(pg_switch_wal())');
      await waitFor('a failed archive attempt', () => Number(p.sql('SELECT failed_count FROM pg_stat_archiver')) > failedBefore ? true : undefined);
      // No partial segment, no temporary file: only the identity and the filler.
      expect(fs.readdirSync(cluster.paths.walArchive).sort()).toEqual(['filler', 'pitr_identity']);
      expect(fs.existsSync(path.join(p.dataDir, 'pg_wal', 'archive_status', `${segment}.ready`))).toBe(true);
    } finally {
      expect(spawnSync('umount', [cluster.paths.walArchive]).status).toBe(0);
    }
    await waitFor(`archiving of ${segment} once space is back`, () => cluster.isArchived(segment) ? true : undefined);
    await cluster.switchAndArchive();
    expect(gaps(cluster.archivedSegments())).toEqual([]);
  });

  test('trap: a segment archived again after a crash is success (identical), archiving goes on; a different one is refused', async () => {
    const p = cluster.primary;
    const segment = await cluster.switchAndArchive();
    const status = path.join(p.dataDir, 'pg_wal', 'archive_status');
    expect(fs.existsSync(path.join(status, `${segment}.done`))).toBe(true);
    // The crash: the segment reached the archive, but the server died before it recorded that.
    p.stop('immediate');
    fs.renameSync(path.join(status, `${segment}.done`), path.join(status, `${segment}.ready`));
    p.start();
    await waitFor(`${segment} archived again`, () => fs.existsSync(path.join(status, `${segment}.done`)) ? true : undefined);
    expect(Number(p.sql('SELECT failed_count FROM pg_stat_archiver'))).toBe(0);
    cluster.mark('after-crash');
    const next = await cluster.switchAndArchive();
    expect(next > segment).toBe(true);
    expect(gaps(cluster.archivedSegments())).toEqual([]);

    // The archive command itself, with a different file under an archived name: refused, nothing overwritten.
    const archived = archivedFile(cluster.paths.walArchive, segment)!;
    expect(archived).toBe(path.join(cluster.paths.walArchive, `${segment}.zst`)); // stored compressed
    const before = fs.readFileSync(archived);
    const content = cluster.archivedContent(segment);
    const other = path.join(cluster.root, 'other-segment');
    fs.writeFileSync(other, Buffer.alloc(content.length, 7));
    fs.chmodSync(other, 0o644);
    const r = run('/bin/sh', [path.join(cluster.paths.scripts, 'archive-wal.sh'), other, segment], { WAL_ARCHIVE_DIR: cluster.paths.walArchive });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/differ/i);
    expect(fs.readFileSync(archived).equals(before)).toBe(true);
    // And the identical content: success (compared decompressed, not as stored bytes).
    const plain = path.join(cluster.root, 'same-segment');
    fs.writeFileSync(plain, content);
    fs.chmodSync(plain, 0o644);
    const same = run('/bin/sh', [path.join(cluster.paths.scripts, 'archive-wal.sh'), plain, segment], { WAL_ARCHIVE_DIR: cluster.paths.walArchive });
    expect(same.status).toBe(0);
  });

  test('signal file: standby.signal never ends a recovery to "latest", so PITR uses recovery.signal alone', async () => {
    const r = cluster.restore(RecoveryTarget.latest());
    expect(r.result.status).toBe(0);
    expect(fs.readdirSync(r.pgdata).filter(f => f.endsWith('.signal'))).toEqual(['recovery.signal']);
    fs.renameSync(path.join(r.pgdata, 'recovery.signal'), path.join(r.pgdata, 'standby.signal'));
    const server = await cluster.startRestored(r);
    servers.push(server);
    // The restored archive is fully replayed within a second or two (the drill's restores promote in about one);
    // a standby keeps waiting for more WAL instead of ending recovery.
    await sleep(5000);
    expect(server.sql('SELECT pg_is_in_recovery()')).toBe('t');
    expect(server.log()).toMatch(/entering standby mode/);
    expect(server.log()).not.toMatch(/archive recovery complete/);
    server.stop();
  });
});

function uidOf(user: string): string {
  return spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim();
}
