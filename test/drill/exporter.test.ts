/**
 * The alert rules against the real postgres_exporter: Debian's prometheus-postgres-exporter scrapes the drill's
 * primary (archiving with the synthesized settings) as a `pg_monitor` role, with the library's queries file given by
 * --extend.query-path, and every pg_* metric name the rules read must be in its /metrics. Archiving broken on purpose
 * moves the failure counter and the .ready backlog the rules watch.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as http from 'http';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { DrillCluster } from './cluster';
import { freePort, PgServer, sleep, writePg } from './harness';
import { EmbeddedPostgresPitr, PitrAlertRules } from '../../src';

const EXPORTER = process.env.POSTGRES_EXPORTER ?? 'prometheus-postgres-exporter';
const EXPORTER_PASSWORD = 'exp0rter-pw';

let cluster: DrillCluster;
const servers: PgServer[] = [];
let exporter: ChildProcess | undefined;
let exporterLog = '';
let port = 0;

/** The pg_* metric names in the expressions of every rule (all rule sets on). */
function ruleMetricNames(): string[] {
  const app = Testing.app();
  const c = new Chart(app, 'alerts', { namespace: 'tsb' });
  new EmbeddedPostgresPitr(c, 'pitr', { name: 'tsb', replicas: 3, walArchiveStorageSize: '10Gi', backupStorageSize: '50Gi' })
    .addAlertRules({ restoreDrill: true, postgresExporter: true });
  const rule = Testing.synth(c).find(o => o.kind === 'PrometheusRule');
  const exprs: string[] = rule.spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.expr));
  return [...new Set(exprs.flatMap(e => e.match(/\bpg_[a-z0-9_]+(?=\{)/g) ?? []))].sort();
}

function scrape(): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/metrics', timeout: 10_000 }, res => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', d => body += d);
      res.on('end', () => res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`)));
    }).on('error', reject);
  });
}

/** Polls an async check until it gives a value; fails after `timeoutMs`. */
async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) {
      return v;
    }
    if (Date.now() > until) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\nexporter output:\n${exporterLog}`);
    }
    await sleep(250);
  }
}

/** The value of a metric without labels other than the exporter's own `server` label; undefined when absent. */
function value(metrics: string, name: string): number | undefined {
  const line = metrics.split('\n').find(l => new RegExp(`^${name}(\\{[^}]*\\})? `).test(l));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

beforeAll(async () => {
  const version = spawnSync(EXPORTER, ['--version'], { encoding: 'utf8' });
  if (version.error) {
    throw new Error(`${EXPORTER} is not installed: apt-get install -y prometheus-postgres-exporter (the check is never skipped): ${version.error.message}`);
  }
  cluster = await DrillCluster.create('exporter');
  const p = cluster.primary;
  p.sql(`CREATE ROLE pitr_exporter LOGIN PASSWORD '${EXPORTER_PASSWORD}' IN ROLE pg_monitor`);
  await cluster.switchAndArchive();
  const queries = path.join(cluster.root, 'queries.yaml');
  writePg(queries, PitrAlertRules.POSTGRES_EXPORTER_QUERIES, 0o644);
  port = await freePort();
  exporter = spawn(EXPORTER, [`--web.listen-address=127.0.0.1:${port}`, `--extend.query-path=${queries}`], {
    env: { PATH: '/usr/bin:/bin', DATA_SOURCE_NAME: `postgresql://pitr_exporter:${EXPORTER_PASSWORD}@127.0.0.1:${p.port}/postgres?sslmode=disable` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exporter.stdout!.on('data', d => exporterLog += d);
  exporter.stderr!.on('data', d => exporterLog += d);
  await poll('the exporter to answer', async () => /^pg_up(\{[^}]*\})? 1$/m.test(await scrape()) ? true : undefined, 30_000);
});

afterAll(() => {
  exporter?.kill('SIGTERM');
  cluster?.destroy(servers);
});

describe('postgres_exporter against the drill\'s primary', () => {
  test('every pg_* metric the rules read is exported', async () => {
    const used = ruleMetricNames();
    expect(used).toEqual(['pg_pitr_archive_status_ready_files', 'pg_stat_archiver_archived_count', 'pg_stat_archiver_failed_count',
      'pg_stat_archiver_last_archive_age']);
    const metrics = await scrape();
    const exported = new Set(metrics.split('\n').filter(l => l && !l.startsWith('#')).map(l => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)![0]));
    expect(used.filter(n => !exported.has(n))).toEqual([]);
    // A healthy archive: archived, no failure, nothing waiting, and a last archival seconds old.
    expect(value(metrics, 'pg_stat_archiver_archived_count')).toBeGreaterThanOrEqual(1);
    expect(value(metrics, 'pg_stat_archiver_failed_count')).toBe(0);
    expect(value(metrics, 'pg_pitr_archive_status_ready_files')).toBe(0);
    expect(value(metrics, 'pg_stat_archiver_last_archive_age')).toBeLessThan(600);
  });

  test('archiving broken on purpose: the failure counter grows and the .ready backlog with it', async () => {
    const p = cluster.primary;
    p.sql('ALTER SYSTEM SET archive_command = \'/bin/false\'');
    p.sql('SELECT pg_reload_conf()');
    await sleep(500);
    for (let i = 0; i < 3; i++) {
      p.sql('CREATE TABLE IF NOT EXISTS t(x int); INSERT INTO t VALUES (1)');
      p.sql('SELECT pg_switch_wal()');
    }
    const broken = await poll('archive failures and a backlog', async () => {
      const m = await scrape();
      return (value(m, 'pg_stat_archiver_failed_count') ?? 0) > 0 && (value(m, 'pg_pitr_archive_status_ready_files') ?? 0) >= 3 ? m : undefined;
    }, 60_000);
    expect(value(broken, 'pg_pitr_archive_status_ready_files')).toBe(3);
    // Repaired: the backlog drains into the archive.
    p.sql('ALTER SYSTEM RESET archive_command');
    p.sql('SELECT pg_reload_conf()');
    const healed = await poll('the backlog to drain', async () => {
      const m = await scrape();
      return value(m, 'pg_pitr_archive_status_ready_files') === 0 ? m : undefined;
    }, 120_000);
    expect(value(healed, 'pg_stat_archiver_archived_count')).toBeGreaterThanOrEqual(4);
    expect(cluster.archivedSegments().length).toBeGreaterThanOrEqual(4);
  });
});
