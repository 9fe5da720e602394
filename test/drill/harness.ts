/**
 * The drill's harness: a real PostgreSQL 15 server started by the test, the scripts and settings taken from the
 * synthesized manifests of the example app, and every in-cluster path mapped to a temporary folder through the
 * scripts' environment variables.
 */
import { spawn, spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdk8s';
import * as yaml from 'yaml';
import { buildApps } from '../../examples/main';
import { RecoveryTarget, RestoreOptions } from '../../src';

/** Where the PostgreSQL 15 server binaries are (Debian's postgresql-15). */
export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * The drill's credentials Secret `postgres-credentials`: a secretKeyRef in a synthesized manifest resolves to these
 * values, as the kubelet would resolve it. The values are hostile on purpose: they reach the scripts only through
 * environment variables and must never be run or printed.
 */
export const DRILL_SECRET: Record<string, string> = {
  'embedded-postgres-password': 'super-Pa55;\'$(touch /tmp/pitr-pwned)',
  'embedded-postgres-replication-password': 'repl-Pa55"`touch /tmp/pitr-pwned`',
};

/** The superuser the Kubegres resource creates (`POSTGRES_USER`). */
export const SUPERUSER = 'tsb';

const IS_ROOT = process.getuid?.() === 0;

// Synth-time warnings are asserted through construct metadata; keep the drill's output readable.

/**
 * Fails (never skips) when PostgreSQL is missing, saying how to install it. Under CI a missing server is a failure.
 */
export function requirePostgres(): void {
  for (const bin of ['postgres', 'initdb', 'pg_ctl', 'pg_basebackup', 'pg_waldump', 'pg_archivecleanup']) {
    if (!fs.existsSync(path.join(PG_BIN, bin))) {
      throw new Error(`The PostgreSQL drill needs the PostgreSQL 15 server (${bin} not found in ${PG_BIN}). `
        + 'Install it with: apt-get update && apt-get install -y postgresql-15 (or set PG_BIN to its bin folder). '
        + 'The drill is never skipped: without a real server nothing is proven.');
    }
  }
  if (IS_ROOT && spawnSync('id', ['-u', 'postgres']).status !== 0) {
    throw new Error('Running as root, the drill runs PostgreSQL as the \'postgres\' user, which does not exist. Install postgresql-15, which creates it.');
  }
}

/** A command's result. */
export interface RunResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The command line, as the postgres user when we are root (PostgreSQL refuses to run as root). */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return IS_ROOT ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

/** The base environment of every command: PostgreSQL's binaries first on PATH, UTC, C locale. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: `${PG_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    ...extra,
  };
}

/** Runs a command as the postgres user and waits. */
export function run(cmd: string, args: string[], env: Record<string, string> = {}, cwd?: string): RunResult {
  const [c, a] = asPostgres(cmd, args);
  const r: SpawnSyncReturns<string> = spawnSync(c, a, { env: baseEnv(env), cwd, encoding: 'utf8', timeout: 300_000 });
  if (r.error) {
    throw r.error;
  }
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command and fails with its output when it exits non-zero. */
export function runOk(cmd: string, args: string[], env: Record<string, string> = {}, cwd?: string): RunResult {
  const r = run(cmd, args, env, cwd);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
  return r;
}

/** Starts a command in the background as the postgres user (for the killed-backup drill). */
export function runBackground(cmd: string, args: string[], env: Record<string, string> = {}) {
  const [c, a] = asPostgres(cmd, args);
  return spawn(c, a, { env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
}

/** A temporary folder owned by the postgres user. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pitr-${prefix}-`));
  chownPostgres(dir);
  return dir;
}

/** Makes a folder (recursively) owned by postgres. */
export function mkdirPg(dir: string, mode = 0o700): string {
  fs.mkdirSync(dir, { recursive: true, mode });
  fs.chmodSync(dir, mode);
  chownPostgres(dir);
  return dir;
}

/** Writes a file owned by postgres. */
export function writePg(file: string, text: string, mode = 0o600): void {
  fs.writeFileSync(file, text, { mode });
  fs.chmodSync(file, mode);
  chownPostgres(file);
}

function chownPostgres(p: string): void {
  if (IS_ROOT) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    fs.chownSync(p, uid, gid);
  }
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise(r => setTimeout(r, ms));
}

/** Polls until `fn` returns a value (not undefined) or the time runs out. */
export async function waitFor<T>(what: string, fn: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) {
      return v;
    }
    if (Date.now() > until) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(200);
  }
}

/** The in-cluster paths the drill maps to temporary folders. */
export interface PathMap {
  readonly scripts: string;
  readonly walArchive: string;
  readonly backup: string;
}

/** The synthesized example: every object of every chart, parsed from the YAML the app wrote. */
export class Synthesized {
  /** Synthesizes apps into their folders and parses the YAML of them all. */
  public static of(...apps: App[]): Synthesized {
    const objects: any[] = [];
    for (const app of apps) {
      app.synth();
      objects.push(...fs.readdirSync(app.outdir).filter(f => f.endsWith('.k8s.yaml')).sort()
        .flatMap(f => yaml.parseAllDocuments(fs.readFileSync(path.join(app.outdir, f), 'utf8')).map(d => d.toJS())));
    }
    for (const app of apps) {
      fs.rmSync(app.outdir, { recursive: true, force: true });
    }
    return new Synthesized(objects);
  }

  /** The example of `examples/main.ts`: its always-applied objects and its restore kit (for `target`, when given). */
  public static example(target?: RecoveryTarget, options: RestoreOptions = {}): Synthesized {
    const apps = buildApps(fs.mkdtempSync(path.join(os.tmpdir(), 'pitr-synth-')), target, options);
    return Synthesized.of(apps.always, apps.onDemand);
  }

  private constructor(public readonly objects: any[]) {
  }

  /** One object by kind and name. */
  public get(kind: string, name: string): any {
    const found = this.objects.filter(o => o.kind === kind && o.metadata?.name === name);
    if (found.length !== 1) {
      throw new Error(`the synthesized output has ${found.length} ${kind}/${name}`);
    }
    return found[0];
  }

  /** The scripts ConfigMap's files, written into a folder (mode 0555, as the ConfigMap volume mounts them). */
  public writeScripts(dir: string): void {
    mkdirPg(dir, 0o755);
    for (const [file, text] of Object.entries(this.get('ConfigMap', 'tsb-postgres-pitr-scripts').data as Record<string, string>)) {
      writePg(path.join(dir, file), text, 0o555);
    }
  }

  /** The first container of a CronJob or Pod, by name. */
  public container(kind: 'CronJob' | 'Job' | 'Pod', name: string): any {
    const o = this.get(kind, name);
    switch (kind) {
      case 'CronJob': return o.spec.jobTemplate.spec.template.spec.containers[0];
      case 'Job': return o.spec.template.spec.containers[0];
      default: return o.spec.containers[0];
    }
  }

  /** A container's command with the scripts' in-cluster folder mapped: `[program, args]`, ready for `run`. */
  public commandOf(kind: 'CronJob' | 'Job' | 'Pod', name: string, paths: PathMap): [string, string[]] {
    const [program, ...args]: string[] = this.container(kind, name).command;
    return [program, args.map(a => mapPaths(a, paths))];
  }

  /** A container's literal environment; secretKeyRef entries become the drill password (as Kubernetes resolves them). */
  public envOf(kind: 'CronJob' | 'Job' | 'Pod', name: string, paths: PathMap, extra: Record<string, string> = {},
    labels: Record<string, string> = {}): Record<string, string> {
    const env: Record<string, string> = {};
    for (const e of this.container(kind, name).env ?? []) {
      if (e.valueFrom?.fieldRef) {
        // The downward API: a pod label, as the Job controller sets it (job-name: the Job's name).
        const label = /^metadata\.labels\['([^']+)'\]$/.exec(e.valueFrom.fieldRef.fieldPath)?.[1];
        if (label === undefined || labels[label] === undefined) {
          throw new Error(`${kind}/${name} reads ${e.valueFrom.fieldRef.fieldPath}, which the drill was not given`);
        }
        env[e.name] = labels[label];
      } else if (e.valueFrom?.secretKeyRef) {
        const ref = e.valueFrom.secretKeyRef;
        if (ref.name !== 'postgres-credentials' || DRILL_SECRET[ref.key] === undefined) {
          throw new Error(`${kind}/${name} reads secret ${ref.name}/${ref.key}, which the drill's Secret does not have`);
        }
        env[e.name] = DRILL_SECRET[ref.key];
      } else {
        env[e.name] = mapPaths(String(e.value), paths);
      }
    }
    return { ...env, ...extra };
  }
}

/** Replaces the in-cluster paths with the drill's folders. */
export function mapPaths(text: string, paths: PathMap): string {
  return text
    .split('/opt/pitr/scripts').join(paths.scripts)
    .split('/var/lib/postgresql/wal-archive').join(paths.walArchive)
    .split('/var/lib/backup').join(paths.backup);
}

/** A PostgreSQL server in a temporary data directory. */
export class PgServer {
  public readonly socketDir: string;
  public readonly logFile: string;

  /**
   * @param args the server's own arguments at every start (the Kubegres container's `-c config_file=… -c hba_file=…`)
   */
  constructor(public readonly dataDir: string, public readonly port: number, public readonly env: Record<string, string>,
    public readonly args: string[] = []) {
    this.socketDir = path.dirname(dataDir);
    this.logFile = `${dataDir}.log`;
  }

  /** initdb as the official image's entrypoint does it, with the superuser `POSTGRES_USER` and `POSTGRES_PASSWORD`. */
  public initdb(): void {
    const pwfile = `${this.dataDir}.pw`;
    writePg(pwfile, `${DRILL_SECRET['embedded-postgres-password']}\n`);
    runOk(path.join(PG_BIN, 'initdb'), ['-D', this.dataDir, '-U', SUPERUSER, `--pwfile=${pwfile}`, '--auth=scram-sha-256',
      '--no-instructions', '-E', 'UTF8', '--locale=C.UTF-8'], this.env);
    fs.rmSync(pwfile);
  }

  /** Replaces a configuration file of the data directory, as Kubegres copies its custom config's files there. */
  public writeConf(file: 'postgresql.conf' | 'pg_hba.conf', text: string): void {
    writePg(path.join(this.dataDir, file), text);
  }

  /** Starts the server; returns pg_ctl's result (not throwing) when `allowFail`. */
  public start(options: string[] = [], allowFail = false): RunResult {
    // Only the network (port, socket, loopback) is overridden on top of the server's own arguments.
    const opts = [...this.args, '-p', String(this.port), '-k', this.socketDir, '-c', 'listen_addresses=127.0.0.1', ...options].join(' ');
    const r = run(path.join(PG_BIN, 'pg_ctl'), ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', '120', '-o', opts, 'start'], this.env);
    if (r.status !== 0 && !allowFail) {
      throw new Error(`pg_ctl start failed (${r.status}):\n${r.stdout}${r.stderr}\nserver log:\n${this.log()}`);
    }
    return r;
  }

  /** Stops the server (fast, or immediate to simulate a crash). */
  public stop(mode: 'fast' | 'immediate' = 'fast'): void {
    run(path.join(PG_BIN, 'pg_ctl'), ['-D', this.dataDir, '-m', mode, '-w', '-t', '120', 'stop'], this.env);
  }

  /** Whether the server is running. */
  public running(): boolean {
    return run(path.join(PG_BIN, 'pg_ctl'), ['-D', this.dataDir, 'status'], this.env).status === 0;
  }

  /** The server log so far. */
  public log(): string {
    return fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : '';
  }

  /** Runs SQL over the socket as postgres and returns the unaligned, tuples-only output. */
  public sql(query: string, db = 'postgres'): string {
    return runOk(path.join(PG_BIN, 'psql'), ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', this.socketDir, '-p', String(this.port),
      '-U', SUPERUSER, '-d', db, '-c', query], { ...this.env, PGPASSWORD: DRILL_SECRET['embedded-postgres-password'] }).stdout.trim();
  }

  /** Waits until recovery has ended (promotion) and the server accepts writes. */
  public async waitPromoted(timeoutMs = 120_000): Promise<void> {
    await waitFor(`promotion of ${this.dataDir}`, () => {
      const r = run(path.join(PG_BIN, 'psql'), ['-X', '-At', '-h', this.socketDir, '-p', String(this.port), '-U', SUPERUSER, '-d', 'postgres',
        '-c', 'SELECT pg_is_in_recovery()'], { ...this.env, PGPASSWORD: DRILL_SECRET['embedded-postgres-password'] });
      return r.status === 0 && r.stdout.trim() === 'f' ? true : undefined;
    }, timeoutMs);
  }

  /** The timeline the server writes on now. */
  public timeline(): number {
    return parseInt(this.sql('SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)'), 16);
  }
}
