/**
 * The scheduled restore drill against a real PostgreSQL 15: the example's restore drill CronJob (its command and
 * environment, paths mapped) run beside the live primary. A healthy archive passes and stays byte-for-byte unchanged; a
 * damaged or deleted segment, a wrong SQL check and too little scratch space each fail with a JSON line saying why.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { DrillCluster } from './cluster';
import { freePort, mkdirPg, run, runBackground, RunResult, sleep, Synthesized, waitFor } from './harness';
import { managementPlane } from '../../examples/main';
import { EmbeddedPostgresPitr, InstallPreset, RestoreDrillCheck } from '../../src';

const CRON_JOB = 'tsb-postgres-restore-drill';

let cluster: DrillCluster;
let lastXid: string;
let segments: string[];
let drills = 0;

beforeAll(async () => {
  cluster = await DrillCluster.create('restore-drill');
  // Archiving also in postgresql.auto.conf (as ALTER SYSTEM leaves it), so the backups carry it: only the drill's own
  // archive_mode = off keeps its promoted server from archiving into the live archive.
  const archiveCommand = cluster.primary.sql('SHOW archive_command').replace(/'/g, '\'\'');
  cluster.primary.sql('ALTER SYSTEM SET archive_mode = on');
  cluster.primary.sql(`ALTER SYSTEM SET archive_command = '${archiveCommand}'`);
  cluster.primary.sql('SELECT pg_reload_conf()');
  cluster.primary.sql('CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL)', 'tsb');
  cluster.primary.sql('CREATE INDEX accounts_owner ON accounts (owner)', 'tsb');
  cluster.primary.sql('INSERT INTO accounts SELECT g, \'owner-\' || g FROM generate_series(1, 5000) g', 'tsb');
  for (const n of [1, 2]) {
    cluster.mark(`before-backup-${n}`);
    await sleep(1100); // backup names carry seconds
    const b = cluster.backup();
    if (b.status !== 0) {
      throw new Error(`backup ${n} failed: ${b.stdout}${b.stderr}`);
    }
  }
  // Three segments after the newest backup, the last commit in the last one.
  cluster.mark('after-backup');
  await cluster.switchAndArchive();
  cluster.primary.sql('INSERT INTO accounts SELECT g, \'later-\' || g FROM generate_series(5001, 6000) g', 'tsb');
  await cluster.switchAndArchive();
  lastXid = cluster.mark('last');
  await cluster.switchAndArchive();
  segments = cluster.archivedSegments();
}, 300_000);

afterAll(() => {
  cluster?.destroy();
});

interface Drill {
  readonly result: RunResult;
  readonly json: any;
  readonly scratch: string;
}

/** Runs the drill CronJob's pod spec (from `synth`, the example by default) with a scratch folder and a free port. */
async function drill(extra: Record<string, string> = {}, synth?: Synthesized, checksDir?: string): Promise<Drill> {
  const n = ++drills;
  const scratch = mkdirPg(path.join(cluster.root, `drill-scratch-${n}`));
  const s = synth ?? cluster.synth;
  const env = s.envOf('CronJob', CRON_JOB, cluster.paths, {}, { 'job-name': `drill-${n}` });
  if (env.RESTORE_DRILL_CHECKS !== undefined) {
    env.RESTORE_DRILL_CHECKS = env.RESTORE_DRILL_CHECKS.replace('/etc/pitr/drill', checksDir!);
  }
  const result = run(...s.commandOf('CronJob', CRON_JOB, cluster.paths),
    { ...env, RESTORE_DRILL_DIR: scratch, RESTORE_DRILL_PORT: String(await freePort()), ...extra });
  // Exactly one line on stdout: the result.
  const lines = result.stdout.split('\n').filter(l => l !== '');
  expect(lines).toHaveLength(1);
  return { result, json: JSON.parse(lines[0]), scratch };
}

/** sha256 of every file below a folder, by relative path. */
function hashes(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = path.join(prefix, entry.name);
    if (entry.isDirectory()) {
      Object.assign(out, hashes(dir, rel));
    } else {
      out[rel] = crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, rel))).digest('hex');
    }
  }
  return out;
}

/** A copy of the archive (owner and modes kept). */
function copyArchive(name: string): string {
  const dir = path.join(cluster.root, name);
  const r = run('cp', ['-a', cluster.paths.walArchive, dir]);
  expect(r.status).toBe(0);
  // The tests edit segments in place, so the copy holds them plain, as an archive written before compression (the
  // scripts read both).
  const plain = run('sh', ['-c', 'for f in "$1"/*.zst; do [ -e "$f" ] || continue; zstd -dq --rm -- "$f" || exit 1; done', 'sh', dir]);
  expect(plain.status).toBe(0);
  return dir;
}

describe('restore drill CronJob', () => {
  test('a healthy archive passes: the newest backup, replayed to the last commit, every check passed; archive and backups unchanged', async () => {
    const archiveBefore = hashes(cluster.paths.walArchive);
    const backupBefore = hashes(cluster.paths.backup);
    expect(Object.keys(backupBefore).length).toBeGreaterThan(0);

    const d = await drill();
    expect(d.result.stderr).not.toMatch(/ERROR/);
    expect(d.result.status).toBe(0);
    expect(d.json.ok).toBe(true);
    expect(d.json.error).toBeNull();
    expect(d.json.backup).toBe(cluster.backups()[1]);
    expect(Date.parse(d.json.recovered_to)).toBeGreaterThanOrEqual(Date.parse(cluster.commitTime(lastXid).replace(' UTC', 'Z').replace(' ', 'T')));
    expect(d.json.recovered_to_source).toBe('last commit replayed');
    expect(d.json.seconds_to_restore).toBeGreaterThanOrEqual(0);
    expect(d.json.replayed_wal_bytes).toBeGreaterThan(3 * 16 * 1024 * 1024 - 1);
    expect(d.json.replay_bytes_per_second).toBeGreaterThan(0);
    const checks = Object.fromEntries(d.json.checks.map((c: any) => [c.name, c]));
    expect(Object.keys(checks).sort()).toEqual(['amcheck:postgres', 'amcheck:tsb', 'query', 'replayed_to_end_of_archive']);
    expect(Object.values(checks).every((c: any) => c.ok === true)).toBe(true);
    expect(checks.replayed_to_end_of_archive.expected_end_segment).toBe(segments[segments.length - 1]);
    expect(checks['amcheck:tsb'].indexes).toBeGreaterThan(0);
    // The scratch data and the server are gone.
    expect(fs.readdirSync(d.scratch)).toEqual([]);

    // The backups are byte-for-byte unchanged. Every archived file is too; the live primary may archive more segments
    // meanwhile (archive_timeout), all on its timeline 1: the drill's promoted server (timeline 2) archived nothing.
    expect(hashes(cluster.paths.backup)).toEqual(backupBefore);
    const archiveAfter = hashes(cluster.paths.walArchive);
    expect(Object.fromEntries(Object.keys(archiveBefore).map(k => [k, archiveAfter[k]]))).toEqual(archiveBefore);
    expect(Object.keys(archiveAfter).filter(k => !(k in archiveBefore) && !/^00000001[0-9A-F]{16}$/.test(k))).toEqual([]);
  });

  test('a damaged segment on the way fails: recovery ends early, replayed_to_end_of_archive says so, exit 1', async () => {
    const archive = copyArchive('archive-damaged');
    // Overwrite the first record that starts in the first segment after the newest backup.
    const seg = segments[segments.length - 3];
    const dump = run('pg_waldump', ['-p', archive, '-n', '1', seg, seg]);
    const lsn = /lsn: ([0-9A-F]+)\/([0-9A-F]+)/.exec(dump.stdout)!;
    const offset = parseInt(lsn[2], 16) % (16 * 1024 * 1024);
    const fd = fs.openSync(path.join(archive, seg), 'r+');
    fs.writeSync(fd, Buffer.alloc(32, 0x5a), 0, 32, offset + 8);
    fs.closeSync(fd);

    const d = await drill({ WAL_ARCHIVE_DIR: archive });
    expect(d.result.status).toBe(1);
    expect(d.json.ok).toBe(false);
    expect(d.json.failed_step).toBe('checks');
    expect(d.json.error).toMatch(/^checks failed: replayed_to_end_of_archive: recovery ended at LSN \S+, before segment \S+, the end of the archive/);
    const check = d.json.checks.find((c: any) => c.name === 'replayed_to_end_of_archive');
    expect(check).toMatchObject({ ok: false, expected_end_segment: segments[segments.length - 1] });
    expect(fs.readdirSync(d.scratch)).toEqual([]);
  });

  test('just after a restore promoted (a newer timeline with only its history file archived) the drill still passes', async () => {
    const archive = copyArchive('archive-new-timeline');
    // Timeline 2 left timeline 1 at a record in the middle segment; none of its own segments is archived yet.
    const seg = segments[segments.length - 2];
    const lsn = /lsn: (\S+),/.exec(run('pg_waldump', ['-p', archive, '-n', '2', seg, seg]).stdout.split('\n')[1])![1];
    fs.writeFileSync(path.join(archive, '00000002.history'), `1\t${lsn}\tno recovery target specified\n`);
    run('chown', ['-R', 'postgres:postgres', archive]);
    const d = await drill({ WAL_ARCHIVE_DIR: archive });
    expect(d.result.status).toBe(0);
    expect(d.json.checks.find((c: any) => c.name === 'replayed_to_end_of_archive')).toMatchObject({ ok: true });
  });

  test('a deleted segment on the way fails before anything is restored: the restore step names the gap', async () => {
    const archive = copyArchive('archive-gap');
    const seg = segments[segments.length - 2];
    fs.rmSync(path.join(archive, seg));
    const d = await drill({ WAL_ARCHIVE_DIR: archive });
    expect(d.result.status).toBe(1);
    expect(d.json).toMatchObject({ ok: false, failed_step: 'restore', backup: cluster.backups()[1], checks: [] });
    expect(d.json.error).toContain(`missing ${seg}`);
  });

  test('too little scratch space fails before the restore with both numbers', async () => {
    const d = await drill({ RESTORE_DRILL_SCRATCH_LIMIT_MB: '100' });
    expect(d.result.status).toBe(1);
    expect(d.json).toMatchObject({ ok: false, failed_step: 'space', backup: null });
    expect(d.json.error).toMatch(/^not enough scratch space: backup \S+ needs about \d+ MiB .* has 100 MiB free of its 100 MiB limit/);
  });
});

describe('restore drill: failing fast and cleaning up', () => {
  test('a role the restored database lacks fails as soon as the server is up, not at the timeout', async () => {
    const started = Date.now();
    const d = await drill({ PGUSER: 'no_such_role', RESTORE_DRILL_TIMEOUT_SECONDS: '600' });
    expect(d.result.status).toBe(1);
    expect(d.json).toMatchObject({ ok: false, failed_step: 'recovery' });
    expect(d.json.error).toMatch(/role "no_such_role" does not exist \(PGUSER=no_such_role\)$/);
    expect(Date.now() - started).toBeLessThan(120_000);
    expect(fs.readdirSync(d.scratch)).toEqual([]);
  });

  test('SIGTERM (the Job deadline, a deleted pod) stops the drill server, removes the scratch and still prints the JSON line', async () => {
    const scratch = mkdirPg(path.join(cluster.root, 'drill-scratch-term'));
    const env = cluster.synth.envOf('CronJob', CRON_JOB, cluster.paths, {}, { 'job-name': 'drill-term' });
    const child = runBackground(...cluster.synth.commandOf('CronJob', CRON_JOB, cluster.paths),
      { ...env, RESTORE_DRILL_DIR: scratch, RESTORE_DRILL_PORT: String(await freePort()) });
    let stdout = '';
    child.stdout!.on('data', (b: Buffer) => stdout += b.toString());
    const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)));
    const log = path.join(scratch, 'pitr-restore-drill', 'server.log');
    await waitFor('the drill server to start', () => fs.existsSync(log) ? true : undefined, 120_000);
    // Only the script (the container's PID 1 in a pod): not its process group, so the server must be stopped by the script.
    const sh = run('pgrep', ['-P', String(child.pid), '-f', 'restore-drill.sh']).stdout.trim().split('\n')[0];
    expect(sh).toMatch(/^\d+$/);
    process.kill(Number(sh), 'SIGTERM');
    expect(await exited).toBe(1);
    const json = JSON.parse(stdout.trim());
    expect(json).toMatchObject({ ok: false, error: 'interrupted' });
    expect(fs.readdirSync(scratch)).toEqual([]);
    expect(run('pgrep', ['-f', `[p]ostgres -D ${scratch}`]).stdout.trim()).toBe('');
  });
});

describe('restore drill SQL checks (from the checks ConfigMap)', () => {
  function synthWithChecks(checks: RestoreDrillCheck[]): { synth: Synthesized; dir: string } {
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'pitr-drill-checks-')) });
    const chart = new Chart(app, 'drill', { namespace: 'tsb', disableResourceNameHashes: true });
    const pitr = EmbeddedPostgresPitr.fromManagementPlane(chart, 'pitr', managementPlane, { kubegres: {}, preset: InstallPreset.TSB });
    pitr.addRestoreDrill({ checks });
    const synth = Synthesized.of(app);
    const dir = cluster.configMapVolume('drill-checks', synth.get('ConfigMap', 'tsb-postgres-restore-drill-checks').data);
    return { synth, dir };
  }

  test('a check with the right result passes and one with a wrong expected value fails the drill', async () => {
    const { synth, dir } = synthWithChecks([
      { name: 'accounts', database: 'tsb', sql: 'SELECT count(*), max(id) FROM accounts', expected: '6000|6000' },
      { name: 'markers', sql: 'SELECT tag FROM markers WHERE tag LIKE \'before-%\' ORDER BY tag', expected: 'before-backup-1,before-backup-2' },
      { name: 'wrong', database: 'tsb', sql: 'SELECT count(*) FROM accounts', expected: '5000' },
    ]);
    const d = await drill({}, synth, dir);
    expect(d.result.status).toBe(1);
    expect(d.json.ok).toBe(false);
    expect(d.json.failed_step).toBe('checks');
    expect(d.json.error).toBe('checks failed: wrong');
    const byName = Object.fromEntries(d.json.checks.map((c: any) => [c.name, c]));
    expect(byName.accounts).toEqual({ name: 'accounts', ok: true, database: 'tsb', expected: '6000|6000', got: '6000|6000' });
    expect(byName.markers.ok).toBe(true);
    expect(byName.wrong).toEqual({ name: 'wrong', ok: false, database: 'tsb', expected: '5000', got: '6000' });
    // Everything else passed.
    expect(byName.replayed_to_end_of_archive.ok).toBe(true);
  });

  test('a check whose SQL fails reports the error; a malformed checks file fails before the restore', async () => {
    const { synth, dir } = synthWithChecks([{ name: 'missing-table', sql: 'SELECT count(*) FROM no_such_table', expected: '0' }]);
    const d = await drill({}, synth, dir);
    expect(d.result.status).toBe(1);
    expect(d.json.checks.find((c: any) => c.name === 'missing-table')).toMatchObject({ ok: false, error: expect.stringMatching(/no_such_table/) });

    const bad = path.join(cluster.root, 'bad-checks.tsv');
    fs.writeFileSync(bad, 'ok\tpostgres\tSELECT 1\t1\nshell\tpostgres\t\\! touch /tmp/pitr-pwned\t\n');
    fs.chmodSync(bad, 0o644);
    const m = await drill({ RESTORE_DRILL_CHECKS: bad });
    expect(m.result.status).toBe(1);
    expect(m.json).toMatchObject({ ok: false, failed_step: 'settings', backup: null });
    expect(m.json.error).toMatch(/line 2: the SQL holds a backslash/);
  });
});
