/**
 * Base backup drills against a real PostgreSQL 15: a backup killed midway leaves nothing that looks like a backup,
 * retention removes only older complete backups and the WAL no retained backup needs, and the automatic restore picks
 * the right one of three backups for a target between them.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DrillCluster, gaps, segno } from './cluster';
import { PgServer, runBackground, sleep, waitFor } from './harness';
import { RecoveryTarget } from '../../src';

let cluster: DrillCluster;
const servers: PgServer[] = [];

beforeAll(async () => {
  cluster = await DrillCluster.create('backups');
  // Enough data that a gzip'ed base backup (BACKUP_COMPRESSION=gzip) takes a few seconds, so it can be killed midway.
  cluster.primary.sql('CREATE TABLE big AS SELECT g, md5(g::text) || md5((g * 7)::text) AS filler FROM generate_series(1, 1500000) g');
  await cluster.switchAndArchive();
});

afterAll(() => {
  cluster?.destroy(servers);
});

function leftovers(): string[] {
  return fs.readdirSync(cluster.paths.backup).filter(f => !cluster.backups().includes(f));
}

async function killBackupMidway(signal: NodeJS.Signals): Promise<void> {
  // gzip, the slowest method, so that the backup is still running when it is seen midway.
  const child = runBackground(...cluster.synth.commandOf('CronJob', 'tsb-postgres-base-backup', cluster.paths), cluster.backupEnv({ BACKUP_COMPRESSION: 'gzip' }));
  const exited = new Promise<void>(resolve => child.on('exit', () => resolve()));
  await waitFor('the backup to be midway', () => {
    const tmp = fs.readdirSync(cluster.paths.backup).find(f => f.startsWith('.incomplete-'));
    const tar = tmp && path.join(cluster.paths.backup, tmp, 'base.tar.gz');
    return tar && fs.existsSync(tar) && fs.statSync(tar).size > 1_000_000 ? true : undefined;
  }, 120_000);
  process.kill(-child.pid!, signal);
  await exited;
}

describe('base backup drills', () => {
  test('a backup killed midway (TERM) leaves nothing behind', async () => {
    await killBackupMidway('SIGTERM');
    await sleep(500);
    expect(cluster.backups()).toEqual([]);
    expect(leftovers()).toEqual([]);
  });

  test('a backup killed midway (KILL) leaves only a hidden incomplete folder that retention ignores and the next run removes', async () => {
    await killBackupMidway('SIGKILL');
    expect(cluster.backups()).toEqual([]);
    const stale = leftovers();
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatch(/^\.incomplete-tsb-postgres-base-backup-/);
    const r = cluster.backup({ BACKUP_RETENTION_SECONDS: '1' });
    expect(r.status).toBe(0);
    expect(cluster.backups()).toHaveLength(1);
    expect(leftovers()).toEqual([]);
  });

  test('retention removes only the older of two backups, and the WAL that no retained backup needs', async () => {
    const [first] = cluster.backups();
    cluster.mark('between-backups');
    await cluster.switchAndArchive();
    // The first backup's end_epoch is rounded up by a second: wait past it plus the 2 s retention, whatever the load.
    await sleep(3100);
    const r = cluster.backup({ BACKUP_RETENTION_SECONDS: '2' });
    expect(r.status).toBe(0);
    const [second] = cluster.backups();
    expect(second).not.toBe(first);
    expect(cluster.backups()).toEqual([second]);
    // Archived WAL before the retained backup's start segment is gone; from it on, nothing is missing.
    const info = fs.readFileSync(path.join(cluster.paths.backup, second, 'pitr_backup_info'), 'utf8');
    const startWal = /^start_wal=([0-9A-F]{24})$/m.exec(info)![1];
    const segments = cluster.archivedSegments();
    expect(segno(segments[0])).toBe(segno(startWal));
    expect(gaps(segments)).toEqual([]);
    // The newest backup is never removed, however short the retention.
    await sleep(2100);
    cluster.mark('after-second');
    const again = cluster.backup({ BACKUP_RETENTION_SECONDS: '1' });
    expect(again.status).toBe(0);
    expect(cluster.backups()).toHaveLength(1);
    expect(cluster.backups()[0]).not.toBe(second);
    // And what remains still restores to the latest state.
    await cluster.switchAndArchive();
    const restored = cluster.restore(RecoveryTarget.latest());
    expect(restored.result.status).toBe(0);
    const server = await cluster.startRestored(restored);
    servers.push(server);
    await server.waitPromoted();
    expect(server.sql('SELECT string_agg(tag, \',\' ORDER BY tag) FROM markers')).toBe('after-second,between-backups');
    server.stop();
  });
});
