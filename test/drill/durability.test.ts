/**
 * Durability and retention drills against a real PostgreSQL 15, with stand-ins first on PATH: a recording `sync` shows
 * what the backup and the restore flush and when; a `date` whose clock jumps 30 days once the new backup is published
 * makes the newest backup expired on purpose. Two kept backups show that WAL cleanup follows the oldest of them.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DrillCluster, gaps, segno } from './cluster';
import { baseEnv, mkdirPg, PgServer, sleep, writePg } from './harness';
import { RecoveryTarget } from '../../src';
import { readSyncLog, SyncCall, writeJumpingDate, writeRecordingSync } from '../recording-tools';

let cluster: DrillCluster;
const servers: PgServer[] = [];
let bin: string;
let syncLogs = 0;

beforeAll(async () => {
  cluster = await DrillCluster.create('durability');
  bin = mkdirPg(path.join(cluster.root, 'bin'), 0o755);
  writeRecordingSync(bin, writePg);
  writeJumpingDate(bin, writePg);
  await cluster.switchAndArchive();
});

afterAll(() => {
  cluster?.destroy(servers);
});

/** The environment that puts the stand-ins first on PATH, with a fresh sync log watching `watch`. */
function recording(watch: string, extra: Record<string, string> = {}): { env: Record<string, string>; calls: () => SyncCall[] } {
  const log = path.join(cluster.root, `sync-${++syncLogs}.log`);
  writePg(log, '', 0o666);
  return {
    env: { PATH: `${bin}:${baseEnv().PATH}`, PITR_SYNC_LOG: log, PITR_SYNC_WATCH: watch, ...extra },
    calls: () => readSyncLog(log),
  };
}

/** The start segment a backup recorded. */
function startWal(name: string): string {
  const info = fs.readFileSync(path.join(cluster.paths.backup, name, 'pitr_backup_info'), 'utf8');
  return /^start_wal=([0-9A-F]{24})$/m.exec(info)![1];
}

/** Runs the backup job, failing with its output unless it succeeds. */
function backup(env: Record<string, string>): string {
  const r = cluster.backup(env);
  if (r.status !== 0) {
    throw new Error(`the backup failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

const backupDir = () => cluster.paths.backup;

describe('durability and retention drills', () => {
  test('the backup flushes each of its files whole and its folder before the rename, then the backup folder after it', () => {
    const rec = recording(backupDir());
    backup(rec.env);
    const [name] = cluster.backups();
    const work = path.join(backupDir(), `.incomplete-${name}`);
    const final = path.join(backupDir(), name);
    const files = ['backup_manifest', 'base.tar.zst', 'pg_wal.tar.zst', 'pitr_backup_info', 'pitr_identity'];
    const calls = rec.calls();
    const at = (operand: string) => calls.findIndex(c => c.operands.length === 1 && c.operands[0] === operand);
    for (const f of files) {
      const i = at(path.join(work, f));
      // Flushed under the temporary folder, with its final size.
      // pitr_backup_info gets the archive check appended after the backup is kept: its published size is what precedes it.
      const published = fs.readFileSync(path.join(final, f)).toString('latin1').split(/(?=^archive_check=)/m)[0].length;
      expect([f, i >= 0 ? calls[i].kinds : 'not flushed']).toEqual([f, [`f${published}`]]);
      expect(i).toBeLessThan(at(work));
    }
    const folder = calls[at(work)];
    expect(folder.kinds).toEqual(['d']);
    expect(folder.watched).toEqual(expect.arrayContaining(files.map(f => `.incomplete-${name}/${f}`)));
    // The backup folder is flushed once the backup has its final name.
    const parent = calls.findIndex((c, i) => i > at(work) && c.operands.length === 1 && c.operands[0] === backupDir());
    expect(parent).toBeGreaterThan(at(work));
    expect(calls[parent].watched).toContain(name);
    expect(calls[parent].watched).not.toContain(`.incomplete-${name}`);
  });

  test('WAL cleanup with two kept backups keeps the archive from the OLDER backup\'s start segment', async () => {
    const [first] = cluster.backups();
    cluster.mark('between-backups');
    await cluster.switchAndArchive();
    await cluster.switchAndArchive();
    await sleep(1100);
    const out = backup({});
    const kept = cluster.backups();
    expect(kept).toHaveLength(2);
    expect(kept[0]).toBe(first);
    // The two backups start in different segments, so keeping from the newer one would be visible.
    expect(segno(startWal(kept[1]))).toBeGreaterThan(segno(startWal(kept[0])));
    const segments = cluster.archivedSegments();
    expect(segno(segments[0])).toBe(segno(startWal(kept[0])));
    expect(gaps(segments)).toEqual([]);
    expect(out).toContain(`older than ${startWal(kept[0])} (start of the oldest retained backup ${kept[0]})`);
  });

  test('an expired newest backup is kept: with the clock 30 days ahead and a 1-day retention, only the older ones go', async () => {
    const before = cluster.backups();
    expect(before).toHaveLength(2);
    cluster.mark('after-second');
    await cluster.switchAndArchive();
    await sleep(1100);
    const stamp = path.join(cluster.root, 'clock-stamp');
    writePg(stamp, '', 0o644);
    await sleep(20);
    const out = backup({
      PATH: `${bin}:${baseEnv().PATH}`,
      PITR_CLOCK_STAMP: stamp,
      PITR_CLOCK_JUMP: String(30 * 86400),
      BACKUP_RETENTION_SECONDS: '86400',
    });
    const after = cluster.backups();
    expect(after).toHaveLength(1);
    expect(before).not.toContain(after[0]);
    // Every backup was expired, the newest too: the two older ones were deleted and the newest kept.
    for (const b of before) {
      expect(out).toContain(`deleting expired backup ${b}`);
    }
    const info = fs.readFileSync(path.join(backupDir(), after[0], 'pitr_backup_info'), 'utf8');
    const endEpoch = Number(/^end_epoch=(\d+)$/m.exec(info)![1]);
    expect(endEpoch).toBeLessThan(Date.now() / 1000 + 30 * 86400 - 86400);
    // WAL cleanup then follows the one backup left.
    const segments = cluster.archivedSegments();
    expect(segno(segments[0])).toBe(segno(startWal(after[0])));
    expect(gaps(segments)).toEqual([]);
  });

  test('the restore flushes the configured staging copy before the switch and the data directory after it; the result restores', async () => {
    cluster.mark('last');
    await cluster.switchAndArchive();
    // The first restore of this cluster goes to <root>/restore-1 (cluster.restore numbers them): watch it.
    const rec = recording(path.join(cluster.root, 'restore-1'));
    const r = cluster.restore(RecoveryTarget.latest(), {}, rec.env);
    expect(r.dir).toBe(path.join(cluster.root, 'restore-1'));
    expect([r.result.status, r.result.stderr]).toEqual([0, '']);
    const calls = rec.calls();
    /** The folders that held a configured data directory (PG_VERSION and recovery.signal) when the call was made. */
    const configured = (c: SyncCall) => [...new Set(c.watched.map(e => e.split('/')[0]))]
      .filter(d => c.watched.includes(`${d}/PG_VERSION`) && c.watched.includes(`${d}/recovery.signal`));
    // Before the switch: the staged copy, configured, is flushed while PGDATA still holds the old data.
    const staged = calls.findIndex(c => configured(c).length === 1 && configured(c)[0] !== 'pgdata' && c.watched.includes('pgdata/OLD_DATA_MARKER'));
    // After the switch: the configured copy is PGDATA itself, the old data is aside, no staging folder is left.
    const switched = calls.findIndex(c => configured(c).join() === 'pgdata' && c.watched.filter(e => !e.includes('/')).length === 2);
    expect([staged >= 0, switched > staged]).toEqual([true, true]);
    const top = calls[switched].watched.filter(e => !e.includes('/'));
    expect(top.filter(e => !/^pgdata\.before-restore-\d{8}T\d{6}Z$/.test(e))).toEqual(['pgdata']);
    expect(fs.existsSync(path.join(r.pgdata, 'recovery.signal'))).toBe(true);
    const server = await cluster.startRestored(r);
    servers.push(server);
    await server.waitPromoted();
    expect(server.sql('SELECT string_agg(tag, \',\' ORDER BY tag) FROM markers')).toBe('after-second,between-backups,last');
    server.stop();
  });
});
