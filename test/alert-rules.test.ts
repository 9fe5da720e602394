/**
 * PitrAlertRules: the PrometheusRule's exact shape, its validation, and the synthesized rules run through Prometheus'
 * own promtool: `promtool check rules`, then `promtool test rules` with series that make every rule fire and series
 * that must not.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Testing } from 'cdk8s';
import * as yaml from 'yaml';
import { EmbeddedPostgresPitr, PitrAlert, PitrAlertRules, PitrAlertRulesOptions } from '../src';
import { chart, REFERENCE, synth } from './util';

function build(options: PitrAlertRulesOptions = {}, extra: Partial<typeof REFERENCE> = {}) {
  const c = chart();
  const pitr = new EmbeddedPostgresPitr(c, 'pitr', { ...REFERENCE, ...extra });
  const rules = pitr.addAlertRules(options);
  const objects = synth(c);
  return { pitr, rules, objects, rule: objects.find(o => o.kind === 'PrometheusRule') };
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(Object.getPrototypeOf(e)).toBe(Error.prototype);
    return (e as Error).message;
  }
  throw new Error('expected an error, none was thrown');
}

const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

/** promtool, or a loud failure naming the Debian package. */
function promtool(args: string[], cwd: string) {
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8' });
  if (r.error) {
    throw new Error(`promtool is not installed: apt-get install -y prometheus (the check is never skipped): ${r.error.message}`);
  }
  return r;
}

describe('PitrAlertRules: the PrometheusRule', () => {
  test('default rules: the backup and volume rules, named after the deployment, in its namespace', () => {
    const { rule, rules } = build();
    expect(rule).toMatchSnapshot();
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule.metadata).toEqual({ name: 'tsb-postgres-pitr-alerts', namespace: 'tsb' });
    expect(rule.spec.groups.map((g: any) => g.name)).toEqual(['tsb-postgres-pitr']);
    expect(rule.spec.groups[0].rules.map((r: any) => r.alert)).toEqual([
      'PitrBaseBackupMissing', 'PitrBaseBackupFailed', 'PitrVolumeAlmostFull', 'PitrVolumeFillingUp',
    ]);
    expect(rules.ruleName).toBe('tsb-postgres-pitr-alerts');
    expect(rules.namespace).toBe('tsb');
  });

  test('every rule has a severity, a summary, a description and a runbook link to its own section', () => {
    const { rule } = build({ restoreDrill: true, postgresExporter: true });
    const all = rule.spec.groups[0].rules;
    expect(all.map((r: any) => r.alert)).toEqual(Object.values(PitrAlert));
    for (const r of all) {
      expect([r.alert, Object.keys(r.labels)]).toEqual([r.alert, ['severity']]);
      expect(['critical', 'warning']).toContain(r.labels.severity);
      expect(Object.keys(r.annotations).sort()).toEqual(['description', 'runbook_url', 'summary']);
      expect(r.annotations.runbook_url).toBe(`RUNBOOK.md#${r.alert.toLowerCase()}`);
    }
  });

  test('the selectors use the deployment\'s real object names', () => {
    const { rule, pitr } = build({ restoreDrill: true, postgresExporter: true }, { backupCronJobName: 'nightly', backupClaimName: 'my.backups' });
    const expr = (alert: string) => rule.spec.groups[0].rules.find((r: any) => r.alert === alert).expr;
    expect(pitr.baseBackup.cronJobName).toBe('nightly');
    expect(expr('PitrBaseBackupMissing')).toContain('kube_cronjob_status_last_successful_time{namespace="tsb",cronjob="nightly"}');
    expect(expr('PitrBaseBackupMissing')).toContain('kube_job_status_completion_time{namespace="tsb",job_name=~"nightly-[0-9]+"}');
    expect(expr('PitrBaseBackupFailed')).toContain('kube_job_failed{namespace="tsb",job_name=~"nightly-[0-9]+",condition="true"}');
    expect(expr('PitrRestoreDrillFailed')).toContain('job_name=~"tsb-postgres-restore-drill-[0-9]+"');
    expect(expr('PitrRestoreDrillTooOld')).toContain('cronjob="tsb-postgres-restore-drill"');
    expect(expr('PitrVolumeAlmostFull')).toContain('persistentvolumeclaim=~"tsb-postgres-wal-archive|my\\\\.backups"');
    expect(expr('PitrWalArchiveTooOld')).toBe('pg_stat_archiver_last_archive_age{namespace="tsb",pod=~"tsb-postgres-[0-9]+-0"} > 3600');
  });

  test('thresholds: 1.5 backup intervals, the drill age, the volume percentage and horizon, the archive age and backlog', () => {
    const expr = (o: PitrAlertRulesOptions, extra: Partial<typeof REFERENCE>, alert: string) =>
      build({ restoreDrill: true, postgresExporter: true, ...o }, extra).rule.spec.groups[0].rules.find((r: any) => r.alert === alert);
    expect(expr({}, {}, 'PitrBaseBackupMissing').expr).toContain('> 129600)'); // daily: 36 h
    expect(expr({}, { backupCronSchedule: '0 */6 * * *' }, 'PitrBaseBackupMissing').expr).toContain('> 32400)'); // 6 h: 9 h
    expect(expr({ backupMaxAge: Duration.hours(30) }, {}, 'PitrBaseBackupMissing').expr).toContain('> 108000)');
    expect(expr({}, {}, 'PitrRestoreDrillTooOld').expr).toContain('> 907200)');
    expect(expr({ restoreDrillMaxAge: Duration.days(2) }, {}, 'PitrRestoreDrillTooOld').annotations.summary)
      .toBe('No successful restore drill of tsb for 2d');
    expect(expr({ volumeUsedPercent: 90 }, {}, 'PitrVolumeAlmostFull').expr).toMatch(/\n {2}> 0\.9$/);
    expect(expr({ volumeFillHorizon: Duration.hours(48) }, {}, 'PitrVolumeFillingUp').expr).toContain('[6h], 172800)) < 0');
    expect(expr({ walArchiveMaxAge: Duration.minutes(20) }, {}, 'PitrWalArchiveTooOld').expr).toMatch(/ > 1200$/);
    expect(expr({ walReadyBacklog: 50 }, {}, 'PitrWalArchiveBacklog').expr).toMatch(/ > 50$/);
    expect(expr({ postgresExporterSelector: ' job="pg", env!~"dev|test" ' }, {}, 'PitrWalArchiveBacklog').expr)
      .toBe('pg_pitr_archive_status_ready_files{job="pg", env!~"dev|test"} > 10');
  });

  test('options: name, namespace, labels of the object, runbook base', () => {
    const { rule } = build({ ruleName: 'pitr-alerts', namespace: 'db', ruleLabels: { release: 'prometheus' }, runbookUrl: 'https://git.example.com/RUNBOOK.md' });
    expect(rule.metadata).toEqual({ name: 'pitr-alerts', namespace: 'db', labels: { release: 'prometheus' } });
    expect(rule.spec.groups[0].rules[0].expr).toContain('namespace="db"');
    expect(rule.spec.groups[0].rules[0].annotations.runbook_url).toBe('https://git.example.com/RUNBOOK.md#pitrbasebackupmissing');
  });

  test('one PrometheusRule per scope; another scope takes a second one', () => {
    const c = chart();
    const pitr = new EmbeddedPostgresPitr(c, 'pitr', REFERENCE);
    pitr.addAlertRules();
    expect(() => pitr.addAlertRules()).toThrow(/^addAlertRules\(\) was already called for this scope/);
    const other = chart();
    pitr.addAlertRules({}, other);
    expect(Testing.synth(other).map(o => o.kind)).toEqual(['PrometheusRule']);
  });

  test.each<[string, PitrAlertRulesOptions, Partial<typeof REFERENCE>, RegExp]>([
    ['an irregular schedule without backupMaxAge', {}, { backupCronSchedule: '0 2 1,15 * *' },
      /^'backupMaxAge' is required: the backup schedule '0 2 1,15 \* \*' has no fixed interval to take 1\.5 of, got undefined\. Set it/],
    ['backupMaxAge under a minute', { backupMaxAge: Duration.seconds(30) }, {}, /^'backupMaxAge' must be a whole number of seconds, at least 60, got "30s"/],
    ['restoreDrillMaxAge in fractions', { restoreDrillMaxAge: Duration.millis(61500) }, {}, /^'restoreDrillMaxAge' must be a whole number of seconds/],
    ['volumeUsedPercent 100', { volumeUsedPercent: 100 }, {}, /^'volumeUsedPercent' must be a whole percentage from 1 to 99, got 100\. Use a number such as 80$/],
    ['volumeUsedPercent 0.8', { volumeUsedPercent: 0.8 }, {}, /^'volumeUsedPercent' must be a whole percentage from 1 to 99, got 0\.8/],
    ['volumeFillHorizon of 10 minutes', { volumeFillHorizon: Duration.minutes(10) }, {}, /^'volumeFillHorizon' must be a whole number of seconds, at least 3600, got "600s"/],
    ['walReadyBacklog 0', { walReadyBacklog: 0 }, {}, /^'walReadyBacklog' /],
    ['a runbookUrl with a fragment', { runbookUrl: 'RUNBOOK.md#alerts' }, {}, /^'runbookUrl' must be a URL or path without spaces, quotes, braces or '#'.*, got "RUNBOOK.md#alerts"/],
    ['a runbookUrl with a template', { runbookUrl: 'x{{ $value }}' }, {}, /^'runbookUrl' /],
    ['a selector that is not label matchers', { postgresExporterSelector: 'namespace=tsb' }, {},
      /^'postgresExporterSelector' must be PromQL label matchers separated by commas.*, got "namespace=tsb"/],
    ['a selector that closes the braces', { postgresExporterSelector: 'a="b"} or vector(1) or x{c="d"' }, {}, /^'postgresExporterSelector' /],
    ['a namespace that is not a label', { namespace: 'Bad_NS' }, {}, /^'namespace' must be a DNS-1123 label/],
    ['a ruleName that is not a name', { ruleName: 'Alerts!' }, {}, /^'ruleName' must be a DNS-1123 name/],
  ])('refuses %s', (_name, options, extra, message) => {
    expect(errorOf(() => build(options, extra))).toMatch(message);
  });

  test('the exporter queries file defines the backlog metric the rules read', () => {
    const queries = yaml.parse(PitrAlertRules.POSTGRES_EXPORTER_QUERIES);
    const names = Object.entries<any>(queries).flatMap(([prefix, q]) => q.metrics.map((m: any) => `${prefix}_${Object.keys(m)[0]}`));
    expect(names).toEqual(['pg_pitr_archive_status_ready_files']);
    const { rule } = build({ postgresExporter: true });
    expect(rule.spec.groups[0].rules.find((r: any) => r.alert === 'PitrWalArchiveBacklog').expr).toMatch(/^pg_pitr_archive_status_ready_files\{/);
  });
});

// ---- promtool ---------------------------------------------------------------------------------------------------

/** Renders the few template forms the rules use, as Prometheus does. */
function render(text: string, labels: Record<string, string>, value: number): string {
  const humanizeDuration = (v: number) => {
    const d = Math.floor(v / 86400); const h = Math.floor(v / 3600) % 24; const m = Math.floor(v / 60) % 60; const s = Math.floor(v) % 60;
    return d ? `${d}d ${h}h ${m}m ${s}s` : h ? `${h}h ${m}m ${s}s` : m ? `${m}m ${s}s` : `${v}s`;
  };
  return text
    .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, l) => labels[l] ?? '')
    .replace(/\{\{ \$value \| humanizePercentage \}\}/g, `${Number((value * 100).toPrecision(4))}%`)
    .replace(/\{\{ \$value \| humanizeDuration \}\}/g, humanizeDuration(value))
    .replace(/\{\{ \$value \}\}/g, String(value));
}

interface Case {
  readonly name: string;
  readonly alert: PitrAlert;
  readonly series: Array<[string, string]>;
  readonly at: string;
  /** The interval of the series' samples. */
  readonly interval?: string;
  /** The labels of each alert that fires (severity added), and the value its annotations render; none: must not fire. */
  readonly fires: Array<{ labels: Record<string, string>; value: number }>;
}

const NS = 'namespace="tsb"';
const BACKUP_CRON = `${NS},cronjob="tsb-postgres-base-backup"`;
const DRILL_CRON = `${NS},cronjob="tsb-postgres-restore-drill"`;
const POD = `${NS},pod="tsb-postgres-1-0"`;
const job = (name: string) => `${NS},job_name="${name}"`;
const EXPORTER = { namespace: 'tsb', pod: 'tsb-postgres-1-0' };

/** A constant series over 3000 minutes (50 h) at one sample a minute. */
const flat = (v: number) => `${v}x3000`;
/** A constant series over 300 hours at one sample every 10 minutes (the cases of the restore drill's age). */
const long = (v: number) => `${v}x1800`;

const CASES: Case[] = [
  // Base backup missing: the CronJob's last success, a Job's completion (older kube-state-metrics), or none at all.
  {
    name: 'last success 36 h 10 m ago',
    alert: PitrAlert.BASE_BACKUP_MISSING,
    at: '2170m',
    series: [[`kube_cronjob_status_last_successful_time{${BACKUP_CRON}}`, flat(0)], [`kube_cronjob_created{${BACKUP_CRON}}`, flat(0)]],
    fires: [{ labels: {}, value: 0 }],
  },
  {
    name: 'last success 35 h ago',
    alert: PitrAlert.BASE_BACKUP_MISSING,
    at: '2100m',
    series: [[`kube_cronjob_status_last_successful_time{${BACKUP_CRON}}`, flat(0)], [`kube_cronjob_created{${BACKUP_CRON}}`, flat(0)]],
    fires: [],
  },
  {
    name: 'a success 25 h in',
    alert: PitrAlert.BASE_BACKUP_MISSING,
    at: '2170m',
    series: [[`kube_cronjob_status_last_successful_time{${BACKUP_CRON}}`, '0x1500 90000x1500'], [`kube_cronjob_created{${BACKUP_CRON}}`, flat(0)]],
    fires: [],
  },
  {
    name: 'older kube-state-metrics: a succeeded Job completed at 0',
    alert: PitrAlert.BASE_BACKUP_MISSING,
    at: '2170m',
    series: [[`kube_job_status_completion_time{${job('tsb-postgres-base-backup-29000000')}}`, flat(0)],
      [`kube_job_status_succeeded{${job('tsb-postgres-base-backup-29000000')}}`, flat(1)], [`kube_cronjob_created{${BACKUP_CRON}}`, flat(0)]],
    fires: [{ labels: {}, value: 0 }],
  },
  {
    name: 'older kube-state-metrics: a succeeded Job completed 25 h in',
    alert: PitrAlert.BASE_BACKUP_MISSING,
    at: '2170m',
    series: [[`kube_job_status_completion_time{${job('tsb-postgres-base-backup-29000000')}}`, flat(90000)],
      [`kube_job_status_succeeded{${job('tsb-postgres-base-backup-29000000')}}`, flat(1)], [`kube_cronjob_created{${BACKUP_CRON}}`, flat(0)]],
    fires: [],
  },
  {
    name: 'never succeeded, created 36 h 10 m ago',
    alert: PitrAlert.BASE_BACKUP_MISSING,
    at: '2170m',
    series: [[`kube_cronjob_created{${BACKUP_CRON}}`, flat(0)]],
    fires: [{ labels: {}, value: 0 }],
  },
  {
    name: 'only another CronJob\'s and another namespace\'s series',
    alert: PitrAlert.BASE_BACKUP_MISSING,
    at: '2170m',
    series: [[`kube_cronjob_created{${NS},cronjob="other"}`, flat(0)], ['kube_cronjob_created{namespace="other",cronjob="tsb-postgres-base-backup"}', flat(0)]],
    fires: [],
  },
  // Base backup failed: a failed Job newer than the last success fires; older, not failed, or another CronJob's does not.
  {
    name: 'a Job failed after the last success',
    alert: PitrAlert.BASE_BACKUP_FAILED,
    at: '10m',
    series: [[`kube_job_failed{${job('tsb-postgres-base-backup-100')},condition="true"}`, flat(1)],
      [`kube_job_failed{${job('tsb-postgres-base-backup-100')},condition="false"}`, flat(0)],
      [`kube_job_status_start_time{${job('tsb-postgres-base-backup-100')}}`, flat(6000)],
      [`kube_cronjob_status_last_successful_time{${BACKUP_CRON}}`, flat(3000)]],
    fires: [{ labels: { namespace: 'tsb', job_name: 'tsb-postgres-base-backup-100' }, value: 1 }],
  },
  {
    name: 'a failed Job older than the last success',
    alert: PitrAlert.BASE_BACKUP_FAILED,
    at: '10m',
    series: [[`kube_job_failed{${job('tsb-postgres-base-backup-100')},condition="true"}`, flat(1)],
      [`kube_job_status_start_time{${job('tsb-postgres-base-backup-100')}}`, flat(3000)],
      [`kube_cronjob_status_last_successful_time{${BACKUP_CRON}}`, flat(6000)]],
    fires: [],
  },
  {
    name: 'a Job that did not fail, and another CronJob\'s failed Job',
    alert: PitrAlert.BASE_BACKUP_FAILED,
    at: '10m',
    series: [[`kube_job_failed{${job('tsb-postgres-base-backup-100')},condition="true"}`, flat(0)],
      [`kube_job_failed{${job('other-backup-100')},condition="true"}`, flat(1)],
      [`kube_job_failed{${job('tsb-postgres-base-backup-manual')},condition="true"}`, flat(1)]],
    fires: [],
  },
  // Restore drill.
  {
    name: 'a drill Job failed after the last drill success',
    alert: PitrAlert.RESTORE_DRILL_FAILED,
    at: '10m',
    series: [[`kube_job_failed{${job('tsb-postgres-restore-drill-200')},condition="true"}`, flat(1)],
      [`kube_job_status_start_time{${job('tsb-postgres-restore-drill-200')}}`, flat(6000)],
      [`kube_cronjob_status_last_successful_time{${DRILL_CRON}}`, flat(3000)]],
    fires: [{ labels: { namespace: 'tsb', job_name: 'tsb-postgres-restore-drill-200' }, value: 1 }],
  },
  {
    name: 'a backup Job failed (not the drill\'s)',
    alert: PitrAlert.RESTORE_DRILL_FAILED,
    at: '10m',
    series: [[`kube_job_failed{${job('tsb-postgres-base-backup-200')},condition="true"}`, flat(1)]],
    fires: [],
  },
  {
    name: 'last drill success 252 h 10 m ago',
    alert: PitrAlert.RESTORE_DRILL_TOO_OLD,
    at: '15130m',
    interval: '10m',
    series: [[`kube_cronjob_status_last_successful_time{${DRILL_CRON}}`, long(0)], [`kube_cronjob_created{${DRILL_CRON}}`, long(0)]],
    fires: [{ labels: {}, value: 0 }],
  },
  {
    name: 'last drill success 251 h 50 m ago',
    alert: PitrAlert.RESTORE_DRILL_TOO_OLD,
    at: '15110m',
    interval: '10m',
    series: [[`kube_cronjob_status_last_successful_time{${DRILL_CRON}}`, long(0)], [`kube_cronjob_created{${DRILL_CRON}}`, long(0)]],
    fires: [],
  },
  // Volumes.
  {
    name: 'the backup volume 90% full, the archive 50%',
    alert: PitrAlert.VOLUME_ALMOST_FULL,
    at: '15m',
    series: [[`kubelet_volume_stats_used_bytes{${NS},persistentvolumeclaim="tsb-backup",node="n1"}`, flat(90)],
      [`kubelet_volume_stats_capacity_bytes{${NS},persistentvolumeclaim="tsb-backup",node="n1"}`, flat(100)],
      [`kubelet_volume_stats_used_bytes{${NS},persistentvolumeclaim="tsb-postgres-wal-archive"}`, flat(50)],
      [`kubelet_volume_stats_capacity_bytes{${NS},persistentvolumeclaim="tsb-postgres-wal-archive"}`, flat(100)]],
    fires: [{ labels: { namespace: 'tsb', persistentvolumeclaim: 'tsb-backup' }, value: 0.9 }],
  },
  {
    name: 'another claim 95% full; the archive at 80% exactly',
    alert: PitrAlert.VOLUME_ALMOST_FULL,
    at: '15m',
    series: [[`kubelet_volume_stats_used_bytes{${NS},persistentvolumeclaim="postgres-db-tsb-postgres-1-0"}`, flat(95)],
      [`kubelet_volume_stats_capacity_bytes{${NS},persistentvolumeclaim="postgres-db-tsb-postgres-1-0"}`, flat(100)],
      [`kubelet_volume_stats_used_bytes{${NS},persistentvolumeclaim="tsb-postgres-wal-archive"}`, flat(80)],
      [`kubelet_volume_stats_capacity_bytes{${NS},persistentvolumeclaim="tsb-postgres-wal-archive"}`, flat(100)]],
    fires: [],
  },
  {
    name: 'the archive losing 1000 bytes a minute with 910000 left',
    alert: PitrAlert.VOLUME_FILLING_UP,
    at: '90m',
    series: [[`kubelet_volume_stats_available_bytes{${NS},persistentvolumeclaim="tsb-postgres-wal-archive"}`, '1000000-1000x200']],
    fires: [{ labels: { namespace: 'tsb', persistentvolumeclaim: 'tsb-postgres-wal-archive' }, value: -530000 }],
  },
  {
    name: 'the archive losing 10 bytes a minute',
    alert: PitrAlert.VOLUME_FILLING_UP,
    at: '90m',
    series: [[`kubelet_volume_stats_available_bytes{${NS},persistentvolumeclaim="tsb-postgres-wal-archive"}`, '1000000-10x200']],
    fires: [],
  },
  // postgres_exporter.
  {
    name: 'every archival fails',
    alert: PitrAlert.WAL_ARCHIVER_FAILING,
    at: '20m',
    series: [[`pg_stat_archiver_failed_count{${POD}}`, '0+1x30'], [`pg_stat_archiver_archived_count{${POD}}`, '5x30']],
    fires: [{ labels: EXPORTER, value: 10 }],
  },
  {
    name: 'failures, but archivals succeed too',
    alert: PitrAlert.WAL_ARCHIVER_FAILING,
    at: '20m',
    series: [[`pg_stat_archiver_failed_count{${POD}}`, '0+1x30'], [`pg_stat_archiver_archived_count{${POD}}`, '0+1x30']],
    fires: [],
  },
  {
    name: 'last archival 2 h ago',
    alert: PitrAlert.WAL_ARCHIVE_TOO_OLD,
    at: '10m',
    series: [[`pg_stat_archiver_last_archive_age{${POD}}`, '7200x30']],
    fires: [{ labels: EXPORTER, value: 7200 }],
  },
  {
    name: 'last archival a minute ago; another pod\'s 2 h ago',
    alert: PitrAlert.WAL_ARCHIVE_TOO_OLD,
    at: '10m',
    series: [[`pg_stat_archiver_last_archive_age{${POD}}`, '60x30'], [`pg_stat_archiver_last_archive_age{${NS},pod="other-1-0"}`, '7200x30']],
    fires: [],
  },
  {
    name: '25 .ready files',
    alert: PitrAlert.WAL_ARCHIVE_BACKLOG,
    at: '20m',
    series: [[`pg_pitr_archive_status_ready_files{${POD}}`, '25x30']],
    fires: [{ labels: EXPORTER, value: 25 }],
  },
  {
    name: '3 .ready files',
    alert: PitrAlert.WAL_ARCHIVE_BACKLOG,
    at: '20m',
    series: [[`pg_pitr_archive_status_ready_files{${POD}}`, '3x30']],
    fires: [],
  },
];

describe('PitrAlertRules under promtool', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitr-promtool-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { rule } = build({ restoreDrill: true, postgresExporter: true });
  const rules: any[] = rule.spec.groups[0].rules;

  test('promtool check rules accepts the synthesized rules', () => {
    fs.writeFileSync(path.join(dir, 'rules.yaml'), yaml.stringify(rule.spec));
    const r = promtool(['check', 'rules', 'rules.yaml'], dir);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain(`SUCCESS: ${Object.values(PitrAlert).length} rules found`);
  });

  test('every rule has a case that fires and one that does not', () => {
    for (const alert of Object.values(PitrAlert)) {
      expect([alert, CASES.some(c => c.alert === alert && c.fires.length > 0), CASES.some(c => c.alert === alert && c.fires.length === 0)])
        .toEqual([alert, true, true]);
    }
  });

  test(`promtool test rules: ${CASES.length} cases`, () => {
    fs.writeFileSync(path.join(dir, 'rules.yaml'), yaml.stringify(rule.spec));
    const tests = {
      rule_files: ['rules.yaml'],
      evaluation_interval: '5m',
      tests: CASES.map(c => {
        const r = rules.find(x => x.alert === c.alert);
        return {
          name: `${c.alert}: ${c.name}`,
          interval: c.interval ?? '1m',
          input_series: c.series.map(([series, values]) => ({ series, values })),
          alert_rule_test: [{
            alertname: c.alert,
            eval_time: c.at,
            exp_alerts: c.fires.map(f => ({
              exp_labels: { severity: r.labels.severity, ...f.labels },
              exp_annotations: Object.fromEntries(Object.entries<string>(r.annotations).map(([k, v]) => [k, render(v, f.labels, f.value)])),
            })),
          }],
        };
      }),
    };
    fs.writeFileSync(path.join(dir, 'tests.yaml'), yaml.stringify(tests));
    const r = promtool(['test', 'rules', 'tests.yaml'], dir);
    if (r.status !== 0) {
      throw new Error(`promtool test rules failed:\n${r.stdout}\n${r.stderr}`);
    }
    expect(r.stdout).toContain('SUCCESS');
  });
});
