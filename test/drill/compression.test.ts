/**
 * Compression drills against a real PostgreSQL 15: a base backup in every compression mode is verified in one pass,
 * written with the mode's files and recorded in pitr_backup_info, and restores to exactly the primary's rows; the WAL
 * archive stores segments compressed and still reads a plain segment written before compression; the one-pass
 * verification refuses a damaged archive and a manifest that does not match.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { archivedFile, DrillCluster } from './cluster';
import { mkdirPg, PgServer, run } from './harness';
import { RecoveryTarget } from '../../src';

let cluster: DrillCluster;
const servers: PgServer[] = [];

/** A checksum of every row of the data table and of the markers, as a query result. */
const ROWS = 'SELECT count(*) || \':\' || md5(string_agg(g::text || filler, \',\' ORDER BY g)) FROM data';
const MARKERS = 'SELECT string_agg(tag, \',\' ORDER BY tag) FROM markers';

beforeAll(async () => {
  cluster = await DrillCluster.create('compression');
  cluster.primary.sql('CREATE TABLE data AS SELECT g, md5(g::text) || repeat(\'x\', g % 50) AS filler FROM generate_series(1, 200000) g');
  await cluster.switchAndArchive();
});

afterAll(() => {
  cluster?.destroy(servers);
});

/** [label, backup environment, file suffix, pitr_backup_info compression] */
const MODES: Array<[string, Record<string, string>, string, string]> = [
  ['zstd (the default)', {}, '.zst', 'client-zstd:level=1'],
  ['zstd level 3 with 2 workers', { BACKUP_COMPRESSION: 'zstd', BACKUP_COMPRESSION_LEVEL: '3', BACKUP_COMPRESSION_WORKERS: '2' }, '.zst', 'client-zstd:level=3,workers=2'],
  ['gzip', { BACKUP_COMPRESSION: 'gzip', BACKUP_COMPRESSION_LEVEL: '' }, '.gz', 'client-gzip:level=6'],
  ['lz4', { BACKUP_COMPRESSION: 'lz4', BACKUP_COMPRESSION_LEVEL: '' }, '.lz4', 'client-lz4'],
  ['none', { BACKUP_COMPRESSION: 'none', BACKUP_COMPRESSION_LEVEL: '' }, '', 'none'],
];

describe('compression drills', () => {
  test.each(MODES)('%s: the backup is verified and restores to exactly the primary\'s rows', async (label, env, ext, recorded) => {
    const before = new Set(cluster.backups());
    const b = cluster.backup(env);
    expect([b.status, b.stderr]).toEqual([0, '']);
    const name = cluster.backups().find(x => !before.has(x))!;
    const dir = path.join(cluster.paths.backup, name);
    expect(fs.readdirSync(dir).sort()).toEqual(['backup_manifest', `base.tar${ext}`, `pg_wal.tar${ext}`, 'pitr_backup_info', 'pitr_identity'].sort());
    expect(fs.readFileSync(path.join(dir, 'pitr_backup_info'), 'utf8')).toContain(`\ncompression=${recorded}\n`);
    expect(b.stdout).toMatch(new RegExp(`manifest check: ok \\d+ files of backup_manifest present in base\\.tar${ext.replace('.', '\\.')} `));

    cluster.primary.sql(`UPDATE data SET filler = filler || '${label.length}' WHERE g % 1000 = 0`);
    cluster.mark(`after ${label}`);
    await cluster.switchAndArchive();
    const expected = [cluster.primary.sql(ROWS), cluster.primary.sql(MARKERS)];

    const r = cluster.restore(RecoveryTarget.latest(), { backupName: name });
    expect([r.result.status, r.result.stderr]).toEqual([0, expect.any(String)]);
    expect(r.result.stdout).toContain(`extracting ${dir}/base.tar${ext} into`);
    const server = await cluster.startRestored(r);
    servers.push(server);
    await server.waitPromoted();
    expect([server.sql(ROWS), server.sql(MARKERS)]).toEqual(expected);
    server.stop();
  });

  test('the archive stores segments compressed, and a plain segment from before compression still restores', async () => {
    const [oldest] = cluster.backups();
    cluster.mark('in a plain segment');
    const segment = await cluster.switchAndArchive();
    const stored = archivedFile(cluster.paths.walArchive, segment)!;
    expect(stored).toBe(path.join(cluster.paths.walArchive, `${segment}.zst`));
    // An idle-ish switched segment takes a small fraction of its 16 MiB.
    expect(fs.statSync(stored).size).toBeLessThan(1024 * 1024);
    // Turn it into the plain file an archive written before compression holds.
    const plain = path.join(cluster.paths.walArchive, segment);
    fs.writeFileSync(plain, cluster.archivedContent(segment));
    fs.rmSync(stored);
    fs.chmodSync(plain, 0o600);
    execFileSync('chown', ['postgres:postgres', plain]);
    cluster.mark('after the plain segment');
    await cluster.switchAndArchive();
    const expected = [cluster.primary.sql(ROWS), cluster.primary.sql(MARKERS)];
    const r = cluster.restore(RecoveryTarget.latest(), { backupName: oldest });
    expect(r.result.status).toBe(0);
    const server = await cluster.startRestored(r);
    servers.push(server);
    await server.waitPromoted();
    expect([server.sql(ROWS), server.sql(MARKERS)]).toEqual(expected);
    expect(server.log()).toMatch(new RegExp(`restored log file "${segment}" from archive`));
    server.stop();
  });

  /** Runs the backup job's verification (base-backup-verify.sh) on a copy of a backup, after `damage`. */
  function verifyCopy(name: string, damage: (dir: string) => void) {
    const copy = mkdirPg(path.join(cluster.root, `verify-${Date.now()}`));
    for (const f of fs.readdirSync(path.join(cluster.paths.backup, name)).filter(x => !['pitr_backup_info', 'pitr_identity'].includes(x))) {
      fs.copyFileSync(path.join(cluster.paths.backup, name, f), path.join(copy, f));
    }
    damage(copy);
    execFileSync('chown', ['-R', 'postgres:postgres', copy]);
    const program = 'me=verify; script_dir=$1; . "$1/pitr-lib.sh"; . "$1/pitr-store.sh"; . "$1/base-backup-verify.sh"; verify_backup "$2"; echo "start_wal=$start_wal"';
    return run('/bin/sh', ['-c', program, 'sh', cluster.paths.scripts, copy]);
  }

  test('the one-pass verification passes a good backup and refuses a truncated archive or a manifest that does not match', () => {
    const zstd = cluster.backups().find(n => fs.existsSync(path.join(cluster.paths.backup, n, 'base.tar.zst')))!;
    const good = verifyCopy(zstd, () => undefined);
    expect([good.status, good.stderr]).toEqual([0, '']);
    expect(good.stdout).toMatch(/start_wal=[0-9A-F]{24}/);

    const truncated = verifyCopy(zstd, dir => {
      const f = path.join(dir, 'base.tar.zst');
      fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2));
    });
    expect(truncated.status).toBe(1);
    expect(truncated.stderr).toMatch(/base\.tar\.zst is not (readable|a readable tar archive)/);

    const gzip = cluster.backups().find(n => fs.existsSync(path.join(cluster.paths.backup, n, 'base.tar.gz')))!;
    const resized = verifyCopy(gzip, dir => {
      // A listed size that differs from the archive's (the manifest checksum is recomputed, so only the size check can catch it).
      const m = path.join(dir, 'backup_manifest');
      const text = fs.readFileSync(m, 'utf8').replace(/("Path": "PG_VERSION", "Size": )\d+/, '$1999');
      const body = text.replace(/\n"Manifest-Checksum": "[0-9a-f]+"\}\n$/, '\n');
      const sum = execFileSync('sha256sum', { input: body }).toString().split(' ')[0];
      fs.writeFileSync(m, `${body}"Manifest-Checksum": "${sum}"}\n`);
    });
    expect(resized.status).toBe(1);
    expect(resized.stderr).toMatch(/size of PG_VERSION is 3 in base\.tar\.gz, 999 in the manifest/);
  });
});
