/**
 * A drill cluster: a primary PostgreSQL 15 running the synthesized archiving settings, the synthesized scripts, a WAL
 * archive and a backup folder in temporary folders, and helpers to back up and to restore with the synthesized
 * restore helper's environment.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  DRILL_SECRET, freePort, mapPaths, mkdirPg, PathMap, PgServer, requirePostgres, run, RunResult, Synthesized, tempDir, waitFor, writePg,
} from './harness';
import { kubegresInstanceRuntime } from './kubegres-pod';
import { RecoveryTarget, RestoreOptions } from '../../src';

/** The result of one restore. */
export interface Restore {
  readonly result: RunResult;
  readonly pgdata: string;
  readonly dir: string;
  readonly settings: string;
}

export class DrillCluster {
  /** Builds the folders, writes the synthesized scripts and starts the primary with the synthesized archiving settings. */
  public static async create(name: string): Promise<DrillCluster> {
    requirePostgres();
    const root = tempDir(name);
    const paths: PathMap = {
      scripts: path.join(root, 'scripts'),
      walArchive: mkdirPg(path.join(root, 'wal-archive')),
      backup: mkdirPg(path.join(root, 'backup')),
    };
    const synth = Synthesized.example();
    synth.writeScripts(paths.scripts);
    // The primary as Kubegres runs instance 1: the model's pod spec, its custom config files mounted by subPath and
    // passed with -c config_file=… -c hba_file=…, PGDATA from its environment.
    const runtime = kubegresInstanceRuntime(synth, paths, 1, 'primary', mkdirPg(path.join(root, 'primary')), path.join(root, 'etc-1'));
    const primary = new PgServer(runtime.pgdata, await freePort(), { WAL_ARCHIVE_DIR: paths.walArchive }, runtime.args);
    primary.initdb();
    primary.start();
    // What the image's entrypoint does with POSTGRES_DB, then what Kubegres' base primary_init_script.sh does on the first start of the primary.
    const replicationPassword = DRILL_SECRET['embedded-postgres-replication-password'].replace(/'/g, '\'\'');
    primary.sql('CREATE DATABASE tsb');
    primary.sql(`CREATE ROLE replication WITH REPLICATION PASSWORD '${replicationPassword}' LOGIN`);
    primary.sql('CREATE TABLE markers (tag text PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())');
    return new DrillCluster(root, paths, synth, primary, await freePort());
  }

  private restores = 0;

  /**
   * @param closedPort a port where no server listens: the restore helper's primary Service in drill restores (the
   *   helper refuses to run while a server answers there)
   */
  private constructor(
    public readonly root: string,
    public readonly paths: PathMap,
    public readonly synth: Synthesized,
    public readonly primary: PgServer,
    public readonly closedPort: number) {
  }

  /** The backup CronJob's environment from the manifest, paths mapped, host and port pointed at the drill's primary. */
  public backupEnv(extra: Record<string, string> = {}): Record<string, string> {
    return this.synth.envOf('CronJob', 'tsb-postgres-base-backup', this.paths, { PGHOST: '127.0.0.1', PGPORT: String(this.primary.port), ...extra });
  }

  /** Runs the CronJob's command (`/bin/sh <scripts>/base-backup.sh`) with its environment. */
  public backup(extra: Record<string, string> = {}): RunResult {
    return run(...this.synth.commandOf('CronJob', 'tsb-postgres-base-backup', this.paths), this.backupEnv(extra));
  }

  /** Runs a one-shot Job's command from the synthesized example with its environment (paths mapped, host pointed at the primary). */
  public runJob(name: string, extra: Record<string, string> = {}): RunResult {
    const env = this.synth.envOf('Job', name, this.paths);
    const server: Record<string, string> = 'PGHOST' in env ? { PGHOST: '127.0.0.1', PGPORT: String(this.primary.port) } : {};
    return run(...this.synth.commandOf('Job', name, this.paths), { ...env, ...server, ...extra });
  }

  /**
   * Runs a Job made from a (suspended) CronJob as `kubectl create job --from=cronjob/<cronJob> <jobName>` makes it: the
   * CronJob's pod spec, its pods labelled `job-name: <jobName>`; host pointed at the primary.
   */
  public runFromCronJob(cronJob: string, jobName: string, extra: Record<string, string> = {}): RunResult {
    const env = this.synth.envOf('CronJob', cronJob, this.paths, {}, { 'job-name': jobName });
    return run(...this.synth.commandOf('CronJob', cronJob, this.paths), { ...env, PGHOST: '127.0.0.1', PGPORT: String(this.primary.port), ...extra });
  }

  /** Complete backups in the backup folder (folders named like the reference's), sorted. */
  public backups(): string[] {
    return fs.readdirSync(this.paths.backup).filter(f => /^tsb-postgres-base-backup-\d{2}_\d{2}_\d{4}_\d{2}_\d{2}_\d{2}$/.test(f)).sort();
  }

  /** Inserts a marker row (its own transaction) and returns its xid. */
  public mark(tag: string): string {
    return this.primary.sql(`INSERT INTO markers(tag) VALUES ('${tag}') RETURNING txid_current()`).split('\n')[0];
  }

  /** Switches WAL and waits until the segment is in the archive. */
  public async switchAndArchive(): Promise<string> {
    const segment = this.primary.sql('SELECT pg_walfile_name(pg_switch_wal())');
    await waitFor(`archiving of ${segment}`, () => this.isArchived(segment) ? true : undefined);
    return segment;
  }

  /** Whether the archive holds NAME, stored plain or zstd-compressed (`NAME.zst`). */
  public isArchived(name: string, dir = this.paths.walArchive): boolean {
    return archivedFile(dir, name) !== undefined;
  }

  /** The WAL segments in the archive (names without the storage suffix), sorted. */
  public archivedSegments(): string[] {
    return fs.readdirSync(this.paths.walArchive).map(f => f.replace(/\.zst$/, '')).filter(f => /^[0-9A-F]{24}$/.test(f)).sort();
  }

  /** The content of an archived WAL file, as the server wrote it. */
  public archivedContent(name: string): Buffer {
    const file = archivedFile(this.paths.walArchive, name);
    if (!file) {
      throw new Error(`${name} is not in the archive`);
    }
    return file.endsWith('.zst') ? execFileSync('zstd', ['-dcq', file], { maxBuffer: 64 * 1024 * 1024 }) : fs.readFileSync(file);
  }

  /**
   * Restores into a fresh data directory with the synthesized restore helper's environment and recovery ConfigMap,
   * running its command (`restore-data.sh`). The directory first holds an "old" data directory with a marker file, so
   * that the drill can see it kept aside.
   */
  public restore(target: RecoveryTarget, options: RestoreOptions = {}, extraEnv: Record<string, string> = {}): Restore {
    const dir = mkdirPg(path.join(this.root, `restore-${++this.restores}`));
    const pgdata = mkdirPg(path.join(dir, 'pgdata'));
    writePg(path.join(pgdata, 'OLD_DATA_MARKER'), 'the data directory before the restore\n');
    return this.restoreInto(pgdata, target, options, extraEnv);
  }

  /**
   * Restores into an existing data directory (the primary's own, as the runbook does) with the synthesized restore
   * helper's environment and recovery ConfigMap; its primary Service is a port where nothing listens unless
   * `extraEnv` says otherwise.
   */
  public restoreInto(pgdata: string, target: RecoveryTarget, options: RestoreOptions = {}, extraEnv: Record<string, string> = {}): Restore {
    const synth = Synthesized.example(target, options);
    const settings = mapPaths(synth.get('ConfigMap', 'tsb-postgres-recovery').data['recovery.conf'], this.paths);
    const dir = mkdirPg(path.join(this.root, `settings-${++this.restores}`), 0o755);
    writePg(path.join(dir, 'recovery.conf'), settings, 0o644);
    const env = synth.envOf('Pod', 'postgres-restore', this.paths, {
      PGDATA: pgdata,
      RECOVERY_SETTINGS_FILE: path.join(dir, 'recovery.conf'),
      PRIMARY_HOST: '127.0.0.1',
      PRIMARY_PORT: String(this.closedPort),
      ...extraEnv,
    });
    const result = run(...synth.commandOf('Pod', 'postgres-restore', this.paths), env);
    return { result, pgdata, dir: path.dirname(pgdata), settings };
  }

  /**
   * A folder laid out as the kubelet mounts a ConfigMap: the keys as symlinks into `..data`, a symlink to a hidden
   * timestamped folder holding the files.
   */
  public configMapVolume(name: string, data: Record<string, string>): string {
    const dir = mkdirPg(path.join(this.root, `configmap-${name}-${++this.restores}`), 0o755);
    const stamped = mkdirPg(path.join(dir, '..2026_11_22_00_00_00.000000001'), 0o755);
    for (const [k, v] of Object.entries(data)) {
      writePg(path.join(stamped, k), v, 0o644);
    }
    fs.symlinkSync(path.basename(stamped), path.join(dir, '..data'));
    for (const k of Object.keys(data)) {
      fs.symlinkSync(path.join('..data', k), path.join(dir, k));
    }
    return dir;
  }

  /**
   * Starts a restored server on a free port, reading WAL from the shared archive (or `walArchive`). It must not archive
   * into that archive (a test timeline there would be followed by later restores): archive_mode is off for drill restores.
   */
  public async startRestored(r: Restore, allowFail = false, walArchive = this.paths.walArchive): Promise<PgServer> {
    // The restored primary starts as Kubegres starts it (the primary's config args), without archiving.
    const server = new PgServer(r.pgdata, await freePort(), { WAL_ARCHIVE_DIR: walArchive }, this.primary.args);
    server.start(['-c', 'archive_mode=off'], allowFail);
    return server;
  }

  /**
   * Restores to a target with the synthesized restore helper, fails with the script's output unless it succeeded,
   * starts the restored server, waits for promotion, reads the markers and the timeline, and stops it.
   */
  public async restoreAndRead(target: RecoveryTarget, options: RestoreOptions = {}, servers: PgServer[] = []) {
    const r = this.restore(target, options);
    if (r.result.status !== 0) {
      throw new Error(`restore failed:\n${r.result.stdout}\n${r.result.stderr}`);
    }
    const server = await this.startRestored(r);
    servers.push(server);
    await server.waitPromoted();
    const markers = server.sql('SELECT string_agg(tag, \',\' ORDER BY tag) FROM markers');
    const timeline = server.timeline();
    server.stop();
    return { output: r.result.stdout + r.result.stderr, markers, timeline, dir: r.dir };
  }

  /**
   * A server for Kubegres instance `index` (a replica by default) with the model's pod spec, in a new data volume
   * folder; its data directory is for the caller to fill (as Kubegres' init container does with pg_basebackup -R).
   */
  public async instance(index: number, role: 'primary' | 'replica' = 'replica'): Promise<PgServer> {
    const runtime = kubegresInstanceRuntime(this.synth, this.paths, index, role, mkdirPg(path.join(this.root, `instance-${index}`)),
      path.join(this.root, `etc-${index}`));
    return new PgServer(runtime.pgdata, await freePort(), { WAL_ARCHIVE_DIR: this.paths.walArchive }, runtime.args);
  }

  /** Stops every server and removes the folders. */
  public destroy(servers: PgServer[] = []): void {
    for (const s of [this.primary, ...servers]) {
      if (s.running()) {
        s.stop('immediate');
      }
    }
    if (!process.env.PITR_DRILL_KEEP) {
      fs.rmSync(this.root, { recursive: true, force: true });
    }
  }

  /** Reads pg_waldump of the archive for a transaction's commit record and returns its timestamp (UTC). */
  public commitTime(xid: string): string {
    for (const seg of this.archivedSegments().reverse()) {
      // pg_waldump exits non-zero at the end of the last valid record; its output up to there is what we read.
      const dir = path.join(this.root, 'waldump');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, seg), this.archivedContent(seg));
      fs.chmodSync(dir, 0o755);
      fs.chmodSync(path.join(dir, seg), 0o644);
      const r = run('pg_waldump', ['-p', dir, '-r', 'Transaction', seg, seg]);
      fs.rmSync(path.join(dir, seg));
      const line = r.stdout.split('\n').find(l => new RegExp(`tx:\\s+${xid},`).test(l) && /desc: COMMIT/.test(l));
      if (line) {
        return /desc: COMMIT (\S+ \S+ UTC)/.exec(line)![1];
      }
    }
    throw new Error(`no commit record of xid ${xid} in the archive`);
  }
}


/** The file holding an archived WAL file NAME in DIR: NAME, or NAME.zst (compressed by archive-wal.sh); undefined if none. */
export function archivedFile(dir: string, name: string): string | undefined {
  return [name, `${name}.zst`].map(f => path.join(dir, f)).find(f => fs.existsSync(f));
}

/** The segment number of a WAL file name (16 MB segments), ignoring the timeline. */
export function segno(name: string): number {
  return parseInt(name.slice(8, 16), 16) * 0x100 + parseInt(name.slice(16, 24), 16);
}

/** The segment numbers missing between the first and the last archived segment. */
export function gaps(segments: string[]): number[] {
  const nos = [...new Set(segments.map(segno))].sort((a, b) => a - b);
  const missing: number[] = [];
  for (let i = 1; i < nos.length; i++) {
    for (let n = nos[i - 1] + 1; n < nos[i]; n++) {
      missing.push(n);
    }
  }
  return missing;
}
