import { ApiObject, ApiObjectMetadata, Chart, Duration, GroupVersionKind } from 'cdk8s';
import { Construct } from 'constructs';
import { BaseBackupCronJob } from './base-backup-cron-job';
import { checkConstruct } from './private/api';
import { cronIntervalSeconds } from './private/cron';
import { Names } from './private/names';
import { checkDuration, checkLabel, checkObjectName, checkPositiveInteger, invalid } from './private/validate';
import { WalArchive } from './wal-archive';

/**
 * The `PrometheusRule` custom resource (`monitoring.coreos.com/v1`, Prometheus Operator), typed for the fields this
 * library writes: groups of alerting rules.
 */
export class PrometheusRule extends ApiObject {
  /** The group, version and kind of the resource. */
  public static readonly GVK: GroupVersionKind = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
  };

  /** The typed spec. */
  public readonly spec: PrometheusRuleSpec;

  constructor(scope: Construct, id: string, props: PrometheusRuleProps) {
    super(checkConstruct(scope, id, 'PrometheusRuleProps', props), id, {
      ...PrometheusRule.GVK,
      metadata: props.metadata,
      spec: {
        groups: props.spec.groups.map(g => ({
          name: g.name,
          rules: g.rules.map(r => ({
            alert: r.alert,
            expr: r.expr,
            ...(r.forDuration ? { for: promDuration(r.forDuration.toSeconds()) } : {}),
            labels: r.labels,
            annotations: r.annotations,
          })),
        })),
      },
    });
    this.spec = props.spec;
  }
}

/** Props of `PrometheusRule`. */
export interface PrometheusRuleProps {
  /** Metadata of the resource. */
  readonly metadata?: ApiObjectMetadata;
  /** The spec. */
  readonly spec: PrometheusRuleSpec;
}

/** `spec` of a PrometheusRule. */
export interface PrometheusRuleSpec {
  /** The rule groups. */
  readonly groups: PrometheusRuleGroup[];
}

/** One rule group. */
export interface PrometheusRuleGroup {
  /** The group name, unique in the Prometheus. */
  readonly name: string;
  /** The alerting rules. */
  readonly rules: PrometheusAlertRule[];
}

/** One alerting rule. */
export interface PrometheusAlertRule {
  /** The alert name. */
  readonly alert: string;
  /** The PromQL expression: the alert fires for every series it returns. */
  readonly expr: string;
  /**
   * How long the expression must hold before the alert fires (`for`).
   * @default - at once
   */
  readonly forDuration?: Duration;
  /**
   * Labels added to the alert (`severity`).
   * @default - none
   */
  readonly labels?: { [key: string]: string };
  /**
   * Annotations of the alert (`summary`, `description`, `runbook_url`).
   * @default - none
   */
  readonly annotations?: { [key: string]: string };
}

/**
 * Options of the PITR alert rules (`EmbeddedPostgresPitr.addAlertRules`).
 */
export interface PitrAlertRulesOptions {
  /**
   * Name of the PrometheusRule.
   * @default - `{deploymentName}-postgres-pitr-alerts`
   */
  readonly ruleName?: string;

  /**
   * The namespace of the deployment's objects: every kube-state-metrics and kubelet series is selected by it.
   * @default - the chart's namespace, or `default`
   */
  readonly namespace?: string;

  /**
   * Labels of the PrometheusRule object, for the Prometheus' `ruleSelector` (for example `{ release: 'prometheus' }`).
   * @default - none
   */
  readonly ruleLabels?: { [key: string]: string };

  /**
   * Base of the `runbook_url` annotation: each rule links to `<runbookUrl>#<alert name in lower case>`, a section of
   * the generated runbook.
   * @default 'RUNBOOK.md'
   */
  readonly runbookUrl?: string;

  /**
   * Age of the newest successful base backup above which `PitrBaseBackupMissing` fires.
   * @default - 1.5 intervals of the backup schedule (required when the schedule has no fixed interval)
   */
  readonly backupMaxAge?: Duration;

  /**
   * Add the rules of the scheduled restore drill (`{deploymentName}-postgres-restore-drill`): it failed, or has not
   * succeeded within `restoreDrillMaxAge`.
   * @default false
   */
  readonly restoreDrill?: boolean;

  /**
   * Age of the newest successful restore drill above which `PitrRestoreDrillTooOld` fires.
   * @default Duration.hours(252) - 1.5 weekly intervals
   */
  readonly restoreDrillMaxAge?: Duration;

  /**
   * Percentage of the WAL archive or backup volume in use above which `PitrVolumeAlmostFull` fires (1 to 99).
   * @default 80
   */
  readonly volumeUsedPercent?: number;

  /**
   * How far ahead `PitrVolumeFillingUp` projects the free space of the volumes (from the trend of the last 6 hours).
   * @default Duration.hours(24)
   */
  readonly volumeFillHorizon?: Duration;

  /**
   * Add the rules that read postgres_exporter's metrics: the archiver failing, the last archival too old and a backlog
   * of WAL files waiting to be archived. The backlog metric comes from `PitrAlertRules.POSTGRES_EXPORTER_QUERIES`,
   * given to the exporter with `--extend.query-path`.
   * @default false
   */
  readonly postgresExporter?: boolean;

  /**
   * PromQL label matchers that select postgres_exporter's series of this deployment's servers.
   * @default - `namespace="<namespace>",pod=~"<kubegres resource>-[0-9]+-0"` (an exporter beside each instance)
   */
  readonly postgresExporterSelector?: string;

  /**
   * Age of the last successful archival above which `PitrWalArchiveTooOld` fires. An idle server switches WAL files
   * rarely: keep it above the longest quiet time.
   * @default Duration.hours(1)
   */
  readonly walArchiveMaxAge?: Duration;

  /**
   * Number of WAL files waiting to be archived (`.ready` files) above which `PitrWalArchiveBacklog` fires.
   * @default 10
   */
  readonly walReadyBacklog?: number;
}

/**
 * Props of `PitrAlertRules`.
 */
export interface PitrAlertRulesProps extends PitrAlertRulesOptions {
  /** The deployment name (the ManagementPlane's `name`, e.g. `tsb`). */
  readonly deploymentName: string;
  /** The WAL archive whose volume is watched. */
  readonly walArchive: WalArchive;
  /** The base backups: their CronJob, its schedule, and the backup volume. */
  readonly baseBackup: BaseBackupCronJob;
}

/** The alerts, by name: the anchors of their runbook sections are their names in lower case. */
export enum PitrAlert {
  /** No successful base backup within `backupMaxAge`. */
  BASE_BACKUP_MISSING = 'PitrBaseBackupMissing',
  /** The newest run of the base backup CronJob failed. */
  BASE_BACKUP_FAILED = 'PitrBaseBackupFailed',
  /** The newest run of the restore drill CronJob failed. */
  RESTORE_DRILL_FAILED = 'PitrRestoreDrillFailed',
  /** No successful restore drill within `restoreDrillMaxAge`. */
  RESTORE_DRILL_TOO_OLD = 'PitrRestoreDrillTooOld',
  /** The WAL archive or backup volume is above `volumeUsedPercent`. */
  VOLUME_ALMOST_FULL = 'PitrVolumeAlmostFull',
  /** The WAL archive or backup volume is projected to fill within `volumeFillHorizon`. */
  VOLUME_FILLING_UP = 'PitrVolumeFillingUp',
  /** The archiver fails and archives nothing (postgres_exporter). */
  WAL_ARCHIVER_FAILING = 'PitrWalArchiverFailing',
  /** The last successful archival is older than `walArchiveMaxAge` (postgres_exporter). */
  WAL_ARCHIVE_TOO_OLD = 'PitrWalArchiveTooOld',
  /** More than `walReadyBacklog` WAL files wait to be archived (postgres_exporter with the library's query). */
  WAL_ARCHIVE_BACKLOG = 'PitrWalArchiveBacklog',
}

/**
 * Opt-in Prometheus alerts for PITR: a `PrometheusRule` (`monitoring.coreos.com/v1`) whose rules read kube-state-metrics
 * (the backup and drill CronJobs and their Jobs), the kubelet's volume statistics (the WAL archive and backup volumes)
 * and, optionally, postgres_exporter. Every rule carries a `severity` label and `summary`, `description` and
 * `runbook_url` annotations.
 */
export class PitrAlertRules extends Construct {
  /**
   * postgres_exporter queries for `--extend.query-path` (a YAML file): `pg_pitr_archive_status_ready_files`, the
   * WAL files waiting to be archived. The exporter's user needs the `pg_monitor` role (`pg_ls_archive_statusdir()`).
   */
  public static readonly POSTGRES_EXPORTER_QUERIES = [
    'pg_pitr_archive_status:',
    '  query: "SELECT count(*) FILTER (WHERE name LIKE \'%.ready\') AS ready_files FROM pg_ls_archive_statusdir()"',
    '  master: true',
    '  metrics:',
    '    - ready_files:',
    '        usage: "GAUGE"',
    '        description: "WAL files waiting to be archived (.ready files in pg_wal/archive_status)"',
    '',
  ].join('\n');

  /** The PrometheusRule. */
  public readonly rule: PrometheusRule;
  /** Name of the PrometheusRule. */
  public readonly ruleName: string;
  /** The namespace the selectors use. */
  public readonly namespace: string;
  /** The alerting rules, in order. */
  public readonly rules: PrometheusAlertRule[];

  constructor(scope: Construct, id: string, props: PitrAlertRulesProps) {
    super(checkConstruct(scope, id, 'PitrAlertRulesProps', props), id);
    const names = new Names(checkLabel('deploymentName', props.deploymentName, 40));
    this.ruleName = checkObjectName('ruleName', props.ruleName ?? names.pitrAlertRules);
    this.namespace = checkLabel('namespace', props.namespace ?? Chart.of(this).namespace ?? 'default');
    const runbook = checkRunbookUrl(props.runbookUrl ?? 'RUNBOOK.md');
    const backup = props.baseBackup;
    const schedule = backup.schedule.expressionString;
    const interval = cronIntervalSeconds(schedule);
    if (props.backupMaxAge === undefined && interval === undefined) {
      invalid('backupMaxAge', props.backupMaxAge, `is required: the backup schedule '${schedule}' has no fixed interval to take 1.5 of`,
        'Set it to the longest time between two backups plus a margin, such as Duration.hours(36)');
    }
    const backupMaxAge = seconds('backupMaxAge', props.backupMaxAge ?? Duration.seconds(Math.ceil(interval! * 1.5)), 60);
    const drillMaxAge = seconds('restoreDrillMaxAge', props.restoreDrillMaxAge ?? Duration.hours(252), 60);
    const usedPercent = props.volumeUsedPercent ?? 80;
    if (!Number.isInteger(usedPercent) || usedPercent < 1 || usedPercent > 99) {
      invalid('volumeUsedPercent', usedPercent, 'must be a whole percentage from 1 to 99', 'Use a number such as 80');
    }
    const horizon = seconds('volumeFillHorizon', props.volumeFillHorizon ?? Duration.hours(24), 3600);
    const archiveMaxAge = seconds('walArchiveMaxAge', props.walArchiveMaxAge ?? Duration.hours(1), 60);
    const backlog = checkPositiveInteger('walReadyBacklog', props.walReadyBacklog ?? 10);
    const exporter = props.postgresExporterSelector !== undefined
      ? checkSelector('postgresExporterSelector', props.postgresExporterSelector)
      : `namespace="${this.namespace}",pod=~"${regexQuote(names.kubegres)}-[0-9]+-0"`;

    const ns = `namespace="${this.namespace}"`;
    const annotate = (alert: PitrAlert, summary: string, description: string) => ({
      summary, description, runbook_url: `${runbook}#${alert.toLowerCase()}`,
    });
    const claims = [props.walArchive.claimName, backup.claimName];
    const pvc = `${ns},persistentvolumeclaim=~"${claims.map(regexQuote).join('|')}"`;
    const byPvc = 'max by (namespace, persistentvolumeclaim)';

    const rules: PrometheusAlertRule[] = [
      {
        alert: PitrAlert.BASE_BACKUP_MISSING,
        expr: tooOld(this.namespace, backup.cronJobName, backupMaxAge),
        forDuration: Duration.minutes(5),
        labels: { severity: 'critical' },
        annotations: annotate(PitrAlert.BASE_BACKUP_MISSING, `No successful base backup of ${names.deployment} for ${promDuration(backupMaxAge)}`,
          `CronJob ${this.namespace}/${backup.cronJobName} ('${schedule}') has not completed a backup within ${promDuration(backupMaxAge)}: `
          + 'the recoverable window stops growing and the WAL archive is not cleaned up.'),
      },
      {
        alert: PitrAlert.BASE_BACKUP_FAILED,
        expr: jobFailed(this.namespace, backup.cronJobName),
        labels: { severity: 'warning' },
        annotations: annotate(PitrAlert.BASE_BACKUP_FAILED, `Base backup Job {{ $labels.job_name }} of ${names.deployment} failed`,
          `Job ${this.namespace}/{{ $labels.job_name }} of CronJob ${backup.cronJobName} failed and no later run has succeeded. `
          + `Read its log: kubectl -n ${this.namespace} logs job/{{ $labels.job_name }}`),
      },
    ];
    if (props.restoreDrill ?? false) {
      const drill = names.restoreDrillCronJob;
      rules.push({
        alert: PitrAlert.RESTORE_DRILL_FAILED,
        expr: jobFailed(this.namespace, drill),
        labels: { severity: 'critical' },
        annotations: annotate(PitrAlert.RESTORE_DRILL_FAILED, `Restore drill Job {{ $labels.job_name }} of ${names.deployment} failed`,
          `Job ${this.namespace}/{{ $labels.job_name }} of CronJob ${drill} could not restore the newest backup and the archive: `
          + `the backups may not restore. Read its JSON result: kubectl -n ${this.namespace} logs job/{{ $labels.job_name }}`),
      }, {
        alert: PitrAlert.RESTORE_DRILL_TOO_OLD,
        expr: tooOld(this.namespace, drill, drillMaxAge),
        forDuration: Duration.minutes(5),
        labels: { severity: 'warning' },
        annotations: annotate(PitrAlert.RESTORE_DRILL_TOO_OLD, `No successful restore drill of ${names.deployment} for ${promDuration(drillMaxAge)}`,
          `CronJob ${this.namespace}/${drill} has not completed a restore drill within ${promDuration(drillMaxAge)}: `
          + 'nothing has proven recently that the backups restore.'),
      });
    }
    rules.push({
      alert: PitrAlert.VOLUME_ALMOST_FULL,
      expr: `${byPvc} (kubelet_volume_stats_used_bytes{${pvc}})\n  / ${byPvc} (kubelet_volume_stats_capacity_bytes{${pvc}})\n  > ${usedPercent / 100}`,
      forDuration: Duration.minutes(10),
      labels: { severity: 'warning' },
      annotations: annotate(PitrAlert.VOLUME_ALMOST_FULL, 'Volume {{ $labels.persistentvolumeclaim }} is {{ $value | humanizePercentage }} full',
        `PVC ${this.namespace}/{{ $labels.persistentvolumeclaim }} is above ${usedPercent}%. A full WAL archive stops archiving and `
        + 'then fills the primary\'s pg_wal; a full backup volume fails the backups. Grow the volume or shorten the retention.'),
    }, {
      alert: PitrAlert.VOLUME_FILLING_UP,
      expr: `${byPvc} (predict_linear(kubelet_volume_stats_available_bytes{${pvc}}[6h], ${horizon})) < 0`,
      forDuration: Duration.hours(1),
      labels: { severity: 'critical' },
      annotations: annotate(PitrAlert.VOLUME_FILLING_UP, `Volume {{ $labels.persistentvolumeclaim }} will fill within ${promDuration(horizon)}`,
        `At the rate of the last 6 hours, PVC ${this.namespace}/{{ $labels.persistentvolumeclaim }} runs out of space within `
        + `${promDuration(horizon)}. Grow the volume, or find what writes so much WAL.`),
    });
    if (props.postgresExporter ?? false) {
      rules.push({
        alert: PitrAlert.WAL_ARCHIVER_FAILING,
        expr: `increase(pg_stat_archiver_failed_count{${exporter}}[10m]) > 0\n  and increase(pg_stat_archiver_archived_count{${exporter}}[10m]) == 0`,
        forDuration: Duration.minutes(5),
        labels: { severity: 'critical' },
        annotations: annotate(PitrAlert.WAL_ARCHIVER_FAILING, 'WAL archiving fails on {{ $labels.pod }}',
          'archive_command has failed for 10 minutes without one success: WAL piles up in pg_wal and the recoverable window stops. '
          + 'The server log names the error (archive-wal.sh: ERROR: ...).'),
      }, {
        alert: PitrAlert.WAL_ARCHIVE_TOO_OLD,
        expr: `pg_stat_archiver_last_archive_age{${exporter}} > ${archiveMaxAge}`,
        forDuration: Duration.minutes(5),
        labels: { severity: 'warning' },
        annotations: annotate(PitrAlert.WAL_ARCHIVE_TOO_OLD, 'No WAL archived from {{ $labels.pod }} for {{ $value | humanizeDuration }}',
          `The last successful archival is older than ${promDuration(archiveMaxAge)}: a restore would lose everything since.`),
      }, {
        alert: PitrAlert.WAL_ARCHIVE_BACKLOG,
        expr: `pg_pitr_archive_status_ready_files{${exporter}} > ${backlog}`,
        forDuration: Duration.minutes(15),
        labels: { severity: 'warning' },
        annotations: annotate(PitrAlert.WAL_ARCHIVE_BACKLOG, '{{ $value }} WAL files wait to be archived on {{ $labels.pod }}',
          `More than ${backlog} .ready files in pg_wal/archive_status for 15 minutes: archiving is slower than WAL is written, `
          + 'or failing. What is not archived is lost if the volume is lost.'),
      });
    }
    this.rules = rules;
    this.rule = new PrometheusRule(this, 'Resource', {
      metadata: { name: this.ruleName, namespace: this.namespace, ...(props.ruleLabels ? { labels: props.ruleLabels } : {}) },
      spec: { groups: [{ name: names.pitrAlertGroup, rules }] },
    });
  }
}

/** A Duration as whole seconds, at least `min`. */
function seconds(prop: string, value: Duration, min: number): number {
  return checkDuration(prop, value, min).toSeconds();
}

/** Seconds as a Prometheus duration: the largest of d, h, m and s that divides them. */
function promDuration(s: number): string {
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as Array<[string, number]>) {
    if (s % size === 0) {
      return `${s / size}${unit}`;
    }
  }
  return `${s}s`;
}

/** A name as a literal inside a PromQL regex string (DNS names: only '.' is special). */
function regexQuote(name: string): string {
  return name.replace(/\./g, '\\\\.');
}

/** The Jobs a CronJob creates are `<cronjob>-<scheduled minute>`. */
function jobsOf(namespace: string, cronJob: string): string {
  return `namespace="${namespace}",job_name=~"${regexQuote(cronJob)}-[0-9]+"`;
}

/**
 * Fires when the newest success of a CronJob (kube-state-metrics' `kube_cronjob_status_last_successful_time`, or the
 * completion time of its succeeded Jobs for kube-state-metrics versions without that metric) is older than `max` seconds, or when it
 * never succeeded and was created more than `max` seconds ago.
 */
function tooOld(namespace: string, cronJob: string, max: number): string {
  const cron = `namespace="${namespace}",cronjob="${cronJob}"`;
  const jobs = jobsOf(namespace, cronJob);
  const lastSuccess = `max(\n    kube_cronjob_status_last_successful_time{${cron}}\n    or (kube_job_status_completion_time{${jobs}} `
    + `and on (namespace, job_name) kube_job_status_succeeded{${jobs}} > 0)\n  )`;
  return `(time() - ${lastSuccess} > ${max})\nor\n(time() - max(kube_cronjob_created{${cron}}) > ${max}\n  unless ${lastSuccess})`;
}

/** Fires for each failed Job of a CronJob that started after its newest success. */
function jobFailed(namespace: string, cronJob: string): string {
  const jobs = jobsOf(namespace, cronJob);
  return `max by (namespace, job_name) (kube_job_failed{${jobs},condition="true"}) == 1\n`
    + `unless on (namespace, job_name)\n(max by (namespace, job_name) (kube_job_status_start_time{${jobs}})\n`
    + `  < on (namespace) group_left max by (namespace) (kube_cronjob_status_last_successful_time{namespace="${namespace}",cronjob="${cronJob}"}))`;
}

/** A URL or path for the runbook link: no spaces, quotes or control characters, no fragment. */
function checkRunbookUrl(value: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048 || /[\s"'<>#\u0000-\u001f\u007f{}]/.test(value)) {
    invalid('runbookUrl', value, 'must be a URL or path without spaces, quotes, braces or \'#\' (each rule adds #<alert>)',
      'Use a value such as \'https://git.example.com/ops/RUNBOOK.md\' or \'RUNBOOK.md\'');
  }
  return value;
}

/** PromQL label matchers: `name="value"`, `name=~"regex"`, ... separated by commas. */
function checkSelector(prop: string, value: string): string {
  const matcher = '[a-zA-Z_][a-zA-Z0-9_]*\\s*(=~|!~|!=|=)\\s*"(?:[^"\\\\\\n]|\\\\.)*"';
  if (typeof value !== 'string' || !new RegExp(`^\\s*${matcher}(\\s*,\\s*${matcher})*\\s*$`).test(value)) {
    invalid(prop, value, 'must be PromQL label matchers separated by commas, each label="value", label=~"regex", != or !~',
      'Use a value such as namespace="tsb",pod=~"tsb-postgres-[0-9]+-0"');
  }
  return value.trim();
}
