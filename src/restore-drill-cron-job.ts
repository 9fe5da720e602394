import { Cron, Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { BaseBackupCronJob } from './base-backup-cron-job';
import { PitrPaths, PitrScript, PitrScripts } from './pitr-scripts';
import { PostgresImage } from './postgres-image';
import { checkConstruct } from './private/api';
import { kubegresPrimaryLabels, Names } from './private/names';
import { addPostgresContainer, podSecurityContext } from './private/pod-security';
import { colocateWithArchive } from './private/scheduling';
import { scriptEnv } from './private/script-env';
import { checkCron, checkDuration, checkObjectName, checkPort, checkRoleName, checkSize, invalid } from './private/validate';
import { WalArchive } from './wal-archive';

/**
 * One SQL check of the restore drill: a query run on the restored server once it has promoted, and the result it must
 * give.
 */
export interface RestoreDrillCheck {
  /**
   * Name of the check in the drill's JSON result: 1 to 63 of `A-Z a-z 0-9 _ . -`, unique among the checks.
   */
  readonly name: string;

  /**
   * The SQL, on one line. It reaches `psql` on its standard input, never a command line or a shell; it must not hold a
   * backslash (psql would read a meta-command such as `\!`), a tab or a line break.
   */
  readonly sql: string;

  /**
   * The output the SQL must give, as `psql -XAt` prints it: fields separated by `|`, rows joined by a comma, `''` for
   * no row. Compared exactly.
   */
  readonly expected: string;

  /**
   * The database the SQL runs in.
   * @default 'postgres'
   */
  readonly database?: string;
}

/**
 * Options of `EmbeddedPostgresPitr.addRestoreDrill()`.
 */
export interface RestoreDrillOptions {
  /**
   * When the drill runs, in the controller's time zone (UTC on most clusters). Keep it inside the alert rules'
   * `restoreDrillMaxAge` (10.5 days by default).
   * @default Cron.schedule({ minute: '0', hour: '4', weekDay: '0' }) - Sundays at 04:00
   */
  readonly schedule?: Cron;

  /**
   * Size limit of the scratch emptyDir the backup is restored into. It must hold the newest backup extracted plus
   * 512 MiB of replayed WAL; the drill checks that against the backup's recorded size before it starts and fails
   * with both numbers. The node must have that much ephemeral storage free.
   * @default - the size of the backup volume
   */
  readonly scratchSize?: Size;

  /**
   * A PersistentVolumeClaim to restore into instead of an emptyDir (for backups larger than the nodes' ephemeral
   * storage). The drill works in its folder `pitr-restore-drill` there and removes it at the end.
   * @default - an emptyDir of `scratchSize`
   */
  readonly scratchClaim?: kplus.IPersistentVolumeClaim;

  /**
   * Whether the drill runs `amcheck`'s `bt_index_check` on every btree index of every database.
   * @default true
   * @see https://www.postgresql.org/docs/15/amcheck.html
   */
  readonly amcheck?: boolean;

  /**
   * SQL checks run on the restored server, each with its expected result. They go into the ConfigMap
   * `{name}-postgres-restore-drill-checks`.
   * @default - none: the drill checks the recovery, a query and amcheck
   */
  readonly checks?: RestoreDrillCheck[];

  /**
   * A role of the restored database the checks connect as (through the drill server's own socket, trusted); a
   * superuser for amcheck.
   * @default - the database's superuser (`{deploymentName}`, the Kubegres resource's `POSTGRES_USER`)
   */
  readonly user?: string;

  /**
   * Port of the drill's server, on its Unix socket only (it listens on no TCP address).
   * @default 5433
   */
  readonly port?: number;

  /**
   * Longest wait for the restored server to replay the archive and promote.
   * @default Duration.hours(2)
   */
  readonly recoveryTimeout?: Duration;

  /**
   * `statement_timeout` of each amcheck and SQL check.
   * @default Duration.minutes(10)
   */
  readonly checkTimeout?: Duration;

  /**
   * Resources of the drill container (it runs a PostgreSQL server).
   * @default - requests cpu 250m, memory 512Mi; limits cpu 2, memory 2Gi
   */
  readonly resources?: kplus.ContainerResources;

  /**
   * Longest a drill Job may run before it is stopped and fails.
   * @default Duration.hours(6)
   */
  readonly timeout?: Duration;
}

/**
 * Props of `RestoreDrillCronJob`.
 */
export interface RestoreDrillCronJobProps extends RestoreDrillOptions {
  /** The deployment name (the ManagementPlane's `name`, e.g. `tsb`). */
  readonly deploymentName: string;
  /** The scripts ConfigMap whose `restore-drill.sh` the CronJob runs. */
  readonly scripts: PitrScripts;
  /** The WAL archive to replay (mounted read-only). */
  readonly walArchive: WalArchive;
  /** The base backups to restore from (their volume is mounted read-only). */
  readonly baseBackup: BaseBackupCronJob;

  /**
   * Image of the drill, and the user it runs as: the database's own image, so the server matches the backup's major
   * version.
   * @default PostgresImage.debian15()
   */
  readonly image?: PostgresImage;

  /**
   * Labels of the primary pod, for the pod affinity a `ReadWriteOnce` WAL archive needs (as the backup job).
   * @default - `{ app: '{deploymentName}-postgres', replicationRole: 'primary' }`
   */
  readonly primaryPodLabels?: { [key: string]: string };
}

const CHECK_NAME = /^[A-Za-z0-9_.-]{1,63}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The scheduled restore drill (`{name}-postgres-restore-drill`): a CronJob that restores the newest complete backup
 * plus the WAL archive, replayed to the end, into scratch space (an emptyDir, or a claim you name), starts a server
 * of its own there (`archive_mode = off`, its own port and socket, no Service, no TCP), checks the recovered-to time,
 * that replay reached the archive's newest segment, a query, amcheck and your SQL checks, and prints one JSON line
 * (`kubectl logs job/<job>`). Any failure fails the Job, which `PitrAlertRules` (`restoreDrill: true`) alerts on. The
 * archive and backup volumes are mounted read-only; the database's own data is never mounted.
 */
export class RestoreDrillCronJob extends Construct {
  /** Name of the CronJob. */
  public readonly cronJobName: string;
  /** The schedule. */
  public readonly schedule: Cron;
  /** Size limit of the scratch emptyDir; undefined with `scratchClaim`. */
  public readonly scratchSize?: Size;
  /** The user SQL checks. */
  public readonly checks: RestoreDrillCheck[];
  /** The ConfigMap of the SQL checks, when there are any. */
  public readonly checksConfigMap?: kplus.ConfigMap;
  /** The environment of the drill script. */
  public readonly environment: { [name: string]: string };
  /** The CronJob (the construct's `Resource` child). */
  public readonly cronJob: kplus.CronJob;

  constructor(scope: Construct, id: string, props: RestoreDrillCronJobProps) {
    super(checkConstruct(scope, id, 'RestoreDrillCronJobProps', props), id);
    const names = new Names(checkObjectName('deploymentName', props.deploymentName));
    // A CronJob name becomes a label value of its Jobs' pods: at most 52 characters.
    if (names.restoreDrillCronJob.length > 52) {
      invalid('deploymentName', props.deploymentName, `makes the restore drill CronJob name '${names.restoreDrillCronJob}' longer than 52 characters`,
        'Use a shorter deployment name');
    }
    this.cronJobName = names.restoreDrillCronJob;
    this.schedule = checkCron('schedule', props.schedule ?? Cron.schedule({ minute: '0', hour: '4', weekDay: '0' }));
    if (props.scratchSize !== undefined && props.scratchClaim !== undefined) {
      invalid('scratchSize', props.scratchSize.asString(), 'cannot be given with \'scratchClaim\' (the claim has its own size)',
        'Give one of the two');
    }
    this.scratchSize = props.scratchClaim ? undefined : checkSize('scratchSize', props.scratchSize ?? props.baseBackup.storage);
    const image = props.image ?? PostgresImage.debian15();
    const user = checkRoleName('user', props.user ?? names.deployment);
    const port = checkPort('port', props.port ?? 5433);
    const recoveryTimeout = checkDuration('recoveryTimeout', props.recoveryTimeout ?? Duration.hours(2), 60);
    const checkTimeout = checkDuration('checkTimeout', props.checkTimeout ?? Duration.minutes(10), 1);
    const timeout = checkDuration('timeout', props.timeout ?? Duration.hours(6), 60);
    this.checks = checkChecks(props.checks ?? []);

    const scratchMiB = this.scratchSize?.toMebibytes({ rounding: SizeRoundingBehavior.FLOOR });
    this.environment = scriptEnv('restore-drill.sh', {
      BACKUP_DIR: props.baseBackup.mountPath,
      WAL_ARCHIVE_DIR: props.walArchive.mountPath,
      BACKUP_NAME_PREFIX: props.baseBackup.backupNamePrefix,
      RESTORE_DRILL_DIR: PitrPaths.RESTORE_DRILL_SCRATCH,
      RESTORE_DRILL_SCRATCH_LIMIT_MB: scratchMiB === undefined ? undefined : String(scratchMiB),
      RESTORE_DRILL_PORT: String(port),
      RESTORE_DRILL_TIMEOUT_SECONDS: String(recoveryTimeout.toSeconds()),
      RESTORE_DRILL_AMCHECK: String(props.amcheck ?? true),
      RESTORE_DRILL_CHECK_TIMEOUT_SECONDS: String(checkTimeout.toSeconds()),
      RESTORE_DRILL_CHECKS: this.checks.length > 0 ? `${PitrPaths.RESTORE_DRILL_CHECKS}/checks.tsv` : undefined,
      PGUSER: user,
    });

    this.cronJob = new kplus.CronJob(this, 'Resource', {
      metadata: { name: this.cronJobName },
      schedule: this.schedule,
      concurrencyPolicy: kplus.ConcurrencyPolicy.FORBID,
      startingDeadline: Duration.minutes(10),
      successfulJobsRetained: 3,
      failedJobsRetained: 3,
      backoffLimit: 0,
      activeDeadline: timeout,
      restartPolicy: kplus.RestartPolicy.NEVER,
      automountServiceAccountToken: false,
      securityContext: podSecurityContext(image.uid),
    });
    const container = addPostgresContainer(this.cronJob, image, {
      name: 'restore-drill',
      command: props.scripts.command(PitrScript.RESTORE_DRILL),
      resources: props.resources ?? {
        cpu: { request: kplus.Cpu.millis(250), limit: kplus.Cpu.units(2) },
        memory: { request: Size.mebibytes(512), limit: Size.gibibytes(2) },
      },
      env: this.environment,
    });
    container.mount(props.baseBackup.mountPath, kplus.Volume.fromPersistentVolumeClaim(this, 'Backup', props.baseBackup.claim,
      { name: 'backup', readOnly: true }), { readOnly: true });
    container.mount(props.walArchive.mountPath, kplus.Volume.fromPersistentVolumeClaim(this, 'WalArchive', props.walArchive.claim,
      { name: 'wal-archive', readOnly: true }), { readOnly: true });
    const scratch = props.scratchClaim
      ? kplus.Volume.fromPersistentVolumeClaim(this, 'ScratchClaim', props.scratchClaim, { name: 'restore-drill' })
      : kplus.Volume.fromEmptyDir(this, 'ScratchDir', 'restore-drill', { sizeLimit: this.scratchSize });
    container.mount(PitrPaths.RESTORE_DRILL_SCRATCH, scratch);
    props.scripts.mount(container);
    if (this.checks.length > 0) {
      this.checksConfigMap = new kplus.ConfigMap(this, 'Checks', {
        metadata: { name: names.restoreDrillChecksConfigMap },
        data: { 'checks.tsv': this.checks.map(c => `${c.name}\t${c.database ?? 'postgres'}\t${c.sql}\t${c.expected}\n`).join('') },
      });
      container.mount(PitrPaths.RESTORE_DRILL_CHECKS, kplus.Volume.fromConfigMap(this, 'ChecksVolume', this.checksConfigMap,
        { name: 'restore-drill-checks' }), { readOnly: true });
    }
    colocateWithArchive(this, this.cronJob, props.walArchive, props.primaryPodLabels ?? kubegresPrimaryLabels(names.kubegres), 'the restore drill');
  }
}

/** Validates the SQL checks as restore-drill.sh reads them (it checks them again at run time). */
function checkChecks(checks: RestoreDrillCheck[]): RestoreDrillCheck[] {
  if (!Array.isArray(checks)) {
    invalid('checks', checks, 'must be a list of { name, sql, expected, database? }');
  }
  const seen = new Set<string>();
  checks.forEach((c, i) => {
    const at = `checks[${i}]`;
    if (typeof c?.name !== 'string' || !CHECK_NAME.test(c.name)) {
      invalid(`${at}.name`, c?.name, 'must be 1 to 63 of A-Z a-z 0-9 _ . -', 'Use a name such as \'orders-present\'');
    }
    if (seen.has(c.name)) {
      invalid(`${at}.name`, c.name, 'is used by an earlier check', 'Give each check its own name');
    }
    seen.add(c.name);
    if (typeof c.sql !== 'string' || c.sql.trim() === '' || CONTROL.test(c.sql) || c.sql.includes('\\')) {
      invalid(`${at}.sql`, c.sql, 'must be SQL on one line without tabs, control characters or backslashes (psql would read a backslash '
        + 'as a meta-command)', 'Write the query on one line, such as \'SELECT count(*) > 0 FROM orders\'');
    }
    if (typeof c.expected !== 'string' || CONTROL.test(c.expected)) {
      invalid(`${at}.expected`, c.expected, 'must be text without tabs, line breaks or control characters (rows are joined by a comma)',
        'Write it as psql -XAt prints it, such as \'t\' or \'1|alice\'');
    }
    if (c.database !== undefined && (typeof c.database !== 'string' || c.database === '' || c.database.length > 63 || CONTROL.test(c.database))) {
      invalid(`${at}.database`, c.database, 'must be a database name of 1 to 63 characters without control characters', 'Use a name such as \'tsb\'');
    }
  });
  return checks;
}
