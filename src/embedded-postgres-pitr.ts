import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { BaseBackupCronJob } from './base-backup-cron-job';
import { KubegresPostgres } from './kubegres-postgres';
import { PitrScripts } from './pitr-scripts';
import { DEFAULT_POSTGRES_IMAGE } from './pod-security';
import { RecoveryConfig } from './recovery-config';
import { RecoveryTarget, RecoveryTargetAction, RecoveryTimeline } from './recovery-target';
import { RecoveryWindowJob } from './recovery-window-job';
import { RestoreHelperPod, RestoreMode } from './restore-helper-pod';
import { RestorePointJob } from './restore-point-job';
import { checkImage, checkObjectName, checkPositiveInteger, checkSecretKey, invalid, parseAccessMode, parseCron, parseSeconds, parseSize, show } from './validate';
import { WalArchive } from './wal-archive';
import { warn, warningsOf } from './warnings';

/**
 * How a restore is set up: the recovery settings and the restore helper.
 */
export interface RestoreOptions {
  /**
   * What the server does at the target.
   * @default RecoveryTargetAction.PROMOTE
   */
  readonly action?: RecoveryTargetAction;

  /**
   * Whether recovery stops just after (`true`) or just before (`false`) a time, xid or LSN target.
   * @default - PostgreSQL's default (inclusive)
   */
  readonly inclusive?: boolean;

  /**
   * Which timeline recovery follows.
   * @default RecoveryTimeline.latest()
   */
  readonly timeline?: RecoveryTimeline;

  /**
   * Manual (the reference's `sleep infinity` pod) or automatic (the pod performs the restore).
   * @default RestoreMode.MANUAL
   */
  readonly mode?: RestoreMode;

  /**
   * Automatic mode: the base backup folder to restore.
   * @default - the newest complete backup that ends before a time or LSN target; the newest otherwise
   */
  readonly backupName?: string;

  /**
   * Automatic mode: delete the data directory moved aside once the restore is written.
   * @default false
   */
  readonly deleteOldData?: boolean;

  /**
   * Automatic mode, target `latest`: accept a WAL archive with a gap (history truncated at the gap).
   * @default false
   */
  readonly allowTruncatedHistory?: boolean;
}

/**
 * What the generated runbook refers to.
 */
export interface RunbookOptions {
  /**
   * The namespace the commands use.
   * @default - the chart's namespace, or `default`
   */
  readonly namespace?: string;

  /**
   * The manifest file that holds the restore objects (the recovery ConfigMap and the restore helper).
   * @default 'restore.k8s.yaml'
   */
  readonly restoreManifest?: string;

  /**
   * The manifest file that holds the recoverable-window Job (`addRecoveryWindowReport`).
   * @default 'window.k8s.yaml'
   */
  readonly windowManifest?: string;

  /**
   * Deployments of the applications that write to the database, scaled to zero during the restore (the reference
   * scales `tsb` and `iam`).
   * @default - `[name, 'iam']`
   */
  readonly clientDeployments?: string[];

  /**
   * The Kubegres controller Deployment.
   * @default 'kubegres-controller-manager'
   */
  readonly kubegresController?: string;
}

/**
 * The Kubegres side of the deployment, when the library synthesizes it.
 */
export interface KubegresOptions {
  /**
   * Size of each instance's data volume.
   * @default '10Gi'
   */
  readonly databaseStorageSize?: string;

  /**
   * Storage class of the data volumes.
   * @default 'standard'
   */
  readonly databaseStorageClassName?: string;

  /**
   * Key of the superuser's password (`POSTGRES_PASSWORD`) in the credentials Secret.
   * @default 'embedded-postgres-password'
   */
  readonly superUserPasswordKey?: string;

  /**
   * Key of the `replication` role's password (`POSTGRES_REPLICATION_PASSWORD`) in the credentials Secret; the backup
   * job connects as `replication` with it.
   * @default 'embedded-postgres-replication-password'
   */
  readonly replicationPasswordKey?: string;
}

/**
 * Options of the composite beyond the ManagementPlane parameters: the image, names of consumed objects, overrides of
 * the created names, and an optional restore.
 */
export interface EmbeddedPostgresPitrOptions {
  /**
   * The PostgreSQL image of the database pods; the backup and restore pods use it too.
   * @default 'postgres:15-alpine'
   */
  readonly postgresImage?: string;

  /**
   * Synthesizes the database too: a Kubegres resource (`{name}-postgres`) and its custom config ConfigMap that enables
   * archiving into the WAL archive. The backup job then connects as Kubegres' `replication` role.
   * @default - no Kubegres objects: add `walArchive`'s settings, volume and scripts to your own database pods
   */
  readonly kubegres?: KubegresOptions;

  /**
   * Adds the restore helper pod and the recovery ConfigMap for this target.
   * @default - no restore objects
   */
  readonly recoveryTarget?: RecoveryTarget;

  /**
   * How the restore is set up, when `recoveryTarget` is given.
   * @default - promote, manual restore helper
   */
  readonly restore?: RestoreOptions;

  /**
   * Name of the WAL archive PVC.
   * @default - `{name}-postgres-wal-archive`
   */
  readonly walArchiveClaimName?: string;

  /**
   * Name of the backup PVC.
   * @default - `{name}-backup`
   */
  readonly backupClaimName?: string;

  /**
   * Name of the backup CronJob.
   * @default - `backup-{name}-postgres`
   */
  readonly backupCronJobName?: string;

  /**
   * Name of the scripts ConfigMap.
   * @default - `{name}-postgres-pitr-scripts`
   */
  readonly scriptsConfigMapName?: string;

  /**
   * Name of the recovery ConfigMap.
   * @default - `{name}-postgres-recovery`
   */
  readonly recoveryConfigMapName?: string;

  /**
   * Name of the restore helper pod.
   * @default 'postgres-restore'
   */
  readonly restorePodName?: string;

  /**
   * Claim of the primary's data volume (consumed).
   * @default - `postgres-db-{name}-postgres-1-0`
   */
  readonly dataClaimName?: string;

  /**
   * TLS Secret of the server (consumed).
   * @default - `{name}-postgres-certs`
   */
  readonly tlsSecretName?: string;

  /**
   * ServiceAccount of the restore pod (consumed).
   * @default - `{name}-kubegres`
   */
  readonly serviceAccountName?: string;

  /**
   * Secret with the password of the backup role (consumed).
   * @default 'postgres-credentials'
   */
  readonly credentialsSecretName?: string;

  /**
   * Key of the backup role's password in the credentials Secret.
   * @default - `kubegres.replicationPasswordKey` with `kubegres`, otherwise 'embedded-postgres-password'
   */
  readonly credentialsSecretKey?: string;

  /**
   * Host of the primary (its Service).
   * @default - `{name}-postgres`
   */
  readonly host?: string;

  /**
   * Port of the primary.
   * @default 5432
   */
  readonly port?: number;

  /**
   * Role the backup job connects as; it needs the REPLICATION attribute and a `pg_hba.conf` line for replication.
   * @default - `replication` with `kubegres`, otherwise `{name}`
   */
  readonly user?: string;
}

/**
 * The ManagementPlane parameters (`spec.dataStore.embeddedPostgres`), with the same names and string forms.
 */
export interface EmbeddedPostgresPitrProps extends EmbeddedPostgresPitrOptions {
  /**
   * Deployment name; it prefixes every object (reference: `tsb`).
   */
  readonly name: string;

  /**
   * PostgreSQL instances (primary and replicas).
   * @default 3
   */
  readonly replicas?: number;

  /**
   * Size of the WAL archive PVC, such as `10Gi`.
   */
  readonly walArchiveStorageSize: string;

  /**
   * Storage class of the WAL archive PVC.
   * @default 'standard'
   */
  readonly walArchiveStorageClassName?: string;

  /**
   * Access mode of the WAL archive PVC.
   * @default 'ReadWriteOnce'
   */
  readonly walArchiveStorageAccessMode?: string;

  /**
   * Size of the backup PVC, such as `50Gi`.
   */
  readonly backupStorageSize: string;

  /**
   * Storage class of the backup PVC.
   * @default 'standard'
   */
  readonly backupStorageClassName?: string;

  /**
   * Access mode of the backup PVC.
   * @default 'ReadWriteOnce'
   */
  readonly backupStorageAccessMode?: string;

  /**
   * Cron schedule of base backups (five fields).
   * @default '0 2 * * *'
   */
  readonly backupCronSchedule?: string;

  /**
   * How long base backups are kept, in seconds with an `s` suffix.
   * @default '432000s' - 5 days
   */
  readonly backupCleanupRetention?: string;
}

const MANAGEMENT_PLANE_KEYS = ['name', 'replicas', 'walArchiveStorageSize', 'walArchiveStorageClassName', 'walArchiveStorageAccessMode',
  'backupStorageSize', 'backupStorageClassName', 'backupStorageAccessMode', 'backupCronSchedule', 'backupCleanupRetention'];

/**
 * Point-in-Time Recovery for the embedded PostgreSQL of a ManagementPlane: the scripts ConfigMap, the WAL archive,
 * the base backup CronJob and, on request, the recovery ConfigMap and the restore helper pod, named as the reference
 * design names them.
 */
export class EmbeddedPostgresPitr extends Construct {
  /**
   * Builds the composite from a parsed ManagementPlane object (`spec.dataStore.embeddedPostgres`).
   *
   * @param manifest the ManagementPlane, as parsed from YAML or JSON
   * @param options the library's own options (image, names, restore)
   */
  public static fromManagementPlane(scope: Construct, id: string, manifest: any, options: EmbeddedPostgresPitrOptions = {}): EmbeddedPostgresPitr {
    const ep = manifest?.spec?.dataStore?.embeddedPostgres;
    if (ep === undefined || ep === null || typeof ep !== 'object' || Array.isArray(ep)) {
      throw new Error(`The ManagementPlane has no 'spec.dataStore.embeddedPostgres' object (got ${show(ep)}). `
        + 'Pass the parsed ManagementPlane resource whose spec.dataStore.embeddedPostgres holds name, walArchiveStorageSize and backupStorageSize');
    }
    const params: { [key: string]: any } = {};
    for (const key of MANAGEMENT_PLANE_KEYS) {
      if (ep[key] !== undefined && ep[key] !== null) {
        params[key] = ep[key];
      }
    }
    return new EmbeddedPostgresPitr(scope, id, { ...options, ...params } as EmbeddedPostgresPitrProps);
  }

  /** Deployment name. */
  public readonly name: string;
  /** PostgreSQL instances. */
  public readonly replicas: number;
  /** The PostgreSQL image. */
  public readonly postgresImage: string;
  /** The scripts ConfigMap. */
  public readonly scripts: PitrScripts;
  /** The WAL archive. */
  public readonly walArchive: WalArchive;
  /** The base backups. */
  public readonly baseBackup: BaseBackupCronJob;
  /** The Kubegres resource and its custom config, when `kubegres` is set. */
  public readonly kubegres?: KubegresPostgres;
  /** The recovery settings, once a restore is added. */
  public recoveryConfig?: RecoveryConfig;
  /** The restore helper, once a restore is added. */
  public restoreHelper?: RestoreHelperPod;

  private readonly options: EmbeddedPostgresPitrOptions;

  constructor(scope: Construct, id: string, props: EmbeddedPostgresPitrProps) {
    super(scope, id);
    if (props === undefined || props === null || typeof props !== 'object') {
      throw new Error(`EmbeddedPostgresPitr needs props with the ManagementPlane parameters, got ${show(props)}`);
    }
    for (const key of ['name', 'walArchiveStorageSize', 'backupStorageSize'] as const) {
      if (props[key] === undefined || props[key] === null || props[key] === '') {
        throw new Error(`'${key}' is required and has no default (the ManagementPlane's spec.dataStore.embeddedPostgres.${key}). `
          + `Set it, for example ${key === 'name' ? 'name: tsb' : `${key}: ${key.startsWith('wal') ? '10Gi' : '50Gi'}`}`);
      }
    }
    for (const key of ['name', 'walArchiveStorageSize', 'walArchiveStorageClassName', 'walArchiveStorageAccessMode', 'backupStorageSize',
      'backupStorageClassName', 'backupStorageAccessMode', 'backupCronSchedule', 'backupCleanupRetention'] as const) {
      if (props[key] !== undefined && typeof props[key] !== 'string') {
        invalid(key, props[key], 'must be a string', 'Write it as in the ManagementPlane YAML');
      }
    }
    // The name prefixes objects such as `backup-{name}-postgres` (a CronJob name of at most 52 characters).
    this.name = checkObjectName('name', props.name, 36);
    this.replicas = checkPositiveInteger('replicas', props.replicas ?? 3);
    this.postgresImage = checkImage('postgresImage', props.postgresImage ?? DEFAULT_POSTGRES_IMAGE);
    this.options = props;
    const walAccessMode = parseAccessMode('walArchiveStorageAccessMode', props.walArchiveStorageAccessMode ?? 'ReadWriteOnce');
    if (walAccessMode === kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE_POD) {
      invalid('walArchiveStorageAccessMode', props.walArchiveStorageAccessMode, 'must not be ReadWriteOncePod: the backup job mounts the archive '
        + 'to clean it up and the restore helper to restore from it', 'Use ReadWriteOnce or ReadWriteMany');
    }
    // Validate under the composite's own prop names before the values reach the constructs.
    const storageClass = (prop: string, v: string | undefined) => checkObjectName(prop, v ?? 'standard');
    const walStorageClass = storageClass('walArchiveStorageClassName', props.walArchiveStorageClassName);
    const backupStorageClass = storageClass('backupStorageClassName', props.backupStorageClassName);
    if (props.backupCronJobName !== undefined) {
      checkObjectName('backupCronJobName', props.backupCronJobName, 52);
    }
    if (props.credentialsSecretKey !== undefined) {
      checkSecretKey('credentialsSecretKey', props.credentialsSecretKey);
    }

    this.scripts = new PitrScripts(this, 'Scripts', {
      deploymentName: this.name,
      configMapName: props.scriptsConfigMapName,
    });
    this.walArchive = new WalArchive(this, 'WalArchive', {
      deploymentName: this.name,
      scripts: this.scripts,
      storage: parseSize('walArchiveStorageSize', props.walArchiveStorageSize),
      storageClassName: walStorageClass,
      accessMode: walAccessMode,
      claimName: props.walArchiveClaimName,
    });
    const credentials = props.credentialsSecretName !== undefined
      ? kplus.Secret.fromSecretName(this, 'Credentials', checkObjectName('credentialsSecretName', props.credentialsSecretName))
      : undefined;
    if (props.kubegres) {
      this.kubegres = new KubegresPostgres(this, 'Kubegres', {
        deploymentName: this.name,
        walArchive: this.walArchive,
        replicas: this.replicas,
        image: this.postgresImage,
        port: props.port,
        databaseStorage: parseSize('kubegres.databaseStorageSize', props.kubegres.databaseStorageSize ?? '10Gi'),
        databaseStorageClassName: props.kubegres.databaseStorageClassName,
        databaseUser: props.user,
        credentialsSecret: credentials,
        superUserPasswordKey: props.kubegres.superUserPasswordKey,
        replicationPasswordKey: props.kubegres.replicationPasswordKey,
      });
    }
    this.baseBackup = new BaseBackupCronJob(this, 'BaseBackup', {
      deploymentName: this.name,
      scripts: this.scripts,
      storage: parseSize('backupStorageSize', props.backupStorageSize),
      storageClassName: backupStorageClass,
      accessMode: parseAccessMode('backupStorageAccessMode', props.backupStorageAccessMode ?? 'ReadWriteOnce'),
      claimName: props.backupClaimName,
      cronJobName: props.backupCronJobName,
      schedule: parseCron('backupCronSchedule', props.backupCronSchedule ?? '0 2 * * *'),
      retention: parseSeconds('backupCleanupRetention', props.backupCleanupRetention ?? '432000s'),
      walArchive: this.walArchive,
      image: this.postgresImage,
      host: props.host,
      port: props.port,
      user: this.kubegres ? this.kubegres.backupRole : props.user,
      passwordSecret: credentials,
      passwordKey: props.credentialsSecretKey ?? this.kubegres?.replicationPasswordKey,
    });

    // With Kubegres, its construct gives the more specific warning about spec.volume.
    if (!this.kubegres && this.replicas > 1 && walAccessMode === kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE) {
      warn(this, `replicas is ${this.replicas} and walArchiveStorageAccessMode is ReadWriteOnce: only the primary archives WAL, but a volume `
        + 'mounted into every database pod attaches to one node only, so pods on other nodes cannot start. '
        + 'Use walArchiveStorageAccessMode: ReadWriteMany, or keep all database pods on one node.');
    }
    this.checkRetentionAgainstSchedule();

    if (props.recoveryTarget) {
      this.addRestore(props.recoveryTarget, props.restore);
    } else if (props.restore) {
      throw new Error('\'restore\' was given without \'recoveryTarget\'. Set recoveryTarget (RecoveryTarget.latest() for the end of the archive)');
    }
  }

  /**
   * Adds the recovery ConfigMap (`{name}-postgres-recovery`) and the restore helper pod (`postgres-restore`) for a target.
   * A deployment has one restore.
   *
   * @param target where recovery stops
   * @param options how the restore is set up
   * @param scope where the two objects go: for example a separate chart that is applied only while restoring
   *   (default: this construct, so the same chart)
   */
  public addRestore(target: RecoveryTarget, options: RestoreOptions = {}, scope?: Construct): RestoreHelperPod {
    const where = scope ?? this;
    if (this.restoreHelper) {
      throw new Error(`A restore is already set up (target ${this.recoveryConfig!.target}); a deployment has one restore helper. `
        + 'Synthesize another chart for another target');
    }
    this.recoveryConfig = new RecoveryConfig(where, 'Recovery', {
      deploymentName: this.name,
      scripts: this.scripts,
      target,
      action: options.action,
      inclusive: options.inclusive,
      timeline: options.timeline,
      walArchiveMountPath: this.walArchive.mountPath,
      configMapName: this.options.recoveryConfigMapName,
    });
    this.restoreHelper = new RestoreHelperPod(where, 'RestoreHelper', {
      deploymentName: this.name,
      scripts: this.scripts,
      recoveryConfig: this.recoveryConfig,
      mode: options.mode,
      backupName: options.backupName,
      deleteOldData: options.deleteOldData,
      allowTruncatedHistory: options.allowTruncatedHistory,
      podName: this.options.restorePodName,
      image: this.postgresImage,
      dataClaimName: this.options.dataClaimName,
      backupClaimName: this.baseBackup.claimName,
      walArchiveClaimName: this.walArchive.claimName,
      backupNamePrefix: this.baseBackup.backupNamePrefix,
      tlsSecretName: this.options.tlsSecretName,
      serviceAccountName: this.options.serviceAccountName,
    });
    return this.restoreHelper;
  }

  /**
   * Adds a one-shot Job that prints the recoverable window (backups, earliest and latest recoverable time, WAL gaps).
   *
   * @param scope where the Job goes (default: this construct)
   */
  public addRecoveryWindowReport(scope?: Construct): RecoveryWindowJob {
    return new RecoveryWindowJob(scope ?? this, 'RecoveryWindow', {
      deploymentName: this.name,
      scripts: this.scripts,
      walArchive: this.walArchive,
      baseBackup: this.baseBackup,
      image: this.postgresImage,
    });
  }

  /**
   * Adds a one-shot Job that creates a named restore point before a risky change.
   *
   * @param restorePointName the name, later `RecoveryTarget.name(restorePointName)`
   * @param scope where the Job goes (default: this construct)
   */
  public addRestorePoint(restorePointName: string, scope?: Construct): RestorePointJob {
    return new RestorePointJob(scope ?? this, 'RestorePoint', {
      deploymentName: this.name,
      scripts: this.scripts,
      restorePointName,
      host: this.baseBackup.host,
      port: this.baseBackup.port,
      user: this.kubegres?.databaseUser ?? this.options.user,
      passwordSecret: this.baseBackup.passwordSecret,
      passwordKey: this.kubegres?.superUserPasswordKey ?? this.options.credentialsSecretKey,
      image: this.postgresImage,
    });
  }

  /**
   * A Markdown runbook with the exact commands of a restore of this deployment: scale down, restore, follow the logs,
   * check promotion, scale up, verify.
   */
  public runbook(options: RunbookOptions = {}): string {
    return renderRunbook(this, options);
  }

  /** The synth-time warnings of this deployment. */
  public get warnings(): string[] {
    return warningsOf(this);
  }

  /** Warns when the retention is shorter than the interval between backups of a simple schedule. */
  private checkRetentionAgainstSchedule(): void {
    const fields = this.baseBackup.schedule.expressionString.split(' ');
    const interval = cronIntervalSeconds(fields);
    const retention = this.baseBackup.retention.toSeconds();
    if (interval !== undefined && retention < interval) {
      warn(this, `backupCleanupRetention (${retention}s) is shorter than the interval between backups (${interval}s) of `
        + `'${this.baseBackup.schedule.expressionString}', so at most one backup is kept and the recoverable window starts at the newest backup. `
        + `Use a retention of at least ${interval}s (better several intervals).`);
    }
  }
}

/** Renders the runbook of a deployment. */
function renderRunbook(pitr: EmbeddedPostgresPitr, options: RunbookOptions): string {
  const ns = options.namespace ?? Chart.of(pitr).namespace ?? 'default';
  checkObjectName('namespace', ns, 63);
  const restoreFile = options.restoreManifest ?? 'restore.k8s.yaml';
  const windowFile = options.windowManifest ?? 'window.k8s.yaml';
  for (const [prop, file] of [['restoreManifest', restoreFile], ['windowManifest', windowFile]]) {
    if (!/^[A-Za-z0-9._\/-]+$/.test(file)) {
      invalid(prop, file, 'must be a file path of letters, digits, \'.\', \'_\', \'-\' and \'/\'');
    }
  }
  const clients = (options.clientDeployments ?? [pitr.name, 'iam']).map(d => checkObjectName('clientDeployments', d));
  const controller = checkObjectName('kubegresController', options.kubegresController ?? 'kubegres-controller-manager');
  const kubegres = `${pitr.name}-postgres`;
  const primaryPod = `${kubegres}-1-0`;
  const restore = pitr.restoreHelper;
  const recovery = pitr.recoveryConfig;
  const pod = restore?.podName ?? 'postgres-restore';
  const target = recovery ? recovery.target.toString() : 'the target of your restore chart';
  const automatic = restore?.mode === RestoreMode.AUTOMATIC;
  const psql = (sql: string) => `kubectl exec -n ${ns} ${primaryPod} -- sh -c 'PGPASSWORD="$POSTGRES_PASSWORD" psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Atc "${sql}"'`;
  const k = (cmd: string) => `kubectl ${cmd}`;
  const lines = [
    `# Point-in-time restore runbook: ${pitr.name} (namespace ${ns})`,
    '',
    `Generated by cdk8s-postgres-pitr for the Kubegres resource \`${kubegres}\` (${pitr.replicas} instance${pitr.replicas === 1 ? '' : 's'}),`,
    `the WAL archive \`${pitr.walArchive.claimName}\` and the backups in \`${pitr.baseBackup.claimName}\`. Target: ${target}.`,
    'Run the commands in order; each step says what to expect.',
    '',
    '## 1. Check what can be restored',
    '',
    '```sh',
    k(`apply -n ${ns} -f ${windowFile}`),
    k(`wait -n ${ns} --for=condition=complete --timeout=300s job/${pitr.name}-postgres-recovery-window`),
    k(`logs -n ${ns} job/${pitr.name}-postgres-recovery-window`),
    k(`delete -n ${ns} -f ${windowFile}`),
    '```',
    '',
    'The target must lie between the earliest and the latest recoverable time, and no gap may precede it.',
    '',
    '## 2. Stop the writers',
    '',
    '```sh',
    k(`scale deployment -n ${ns} ${clients.join(' ')} --replicas 0`),
    '```',
    '',
    '## 3. Scale PostgreSQL down to nothing',
    '',
    '```sh',
    k(`patch kubegres -n ${ns} ${kubegres} --type=merge -p '{"spec":{"replicas":1}}'`),
    k(`wait -n ${ns} --for=delete --timeout=120s pod -l app=${kubegres},replicationRole=replica || true`),
    k(`scale deployment -n ${ns} ${controller} --replicas=0`),
    k(`wait -n ${ns} --for=delete --timeout=120s pod -l app=${controller}`),
    k(`scale statefulset -n ${ns} -l app=${kubegres},replicationRole=primary --replicas=0`),
    k(`wait -n ${ns} --for=delete --timeout=120s pod -l app=${kubegres},replicationRole=primary`),
    '```',
    '',
    '## 4. Restore the data directory',
    '',
    automatic
      ? 'The restore helper runs the restore itself: it picks the base backup for the target, moves the current data directory aside to '
        + '`pgdata.before-restore-<UTC timestamp>`, extracts the backup, writes the recovery settings and `recovery.signal`, prints what it did '
        + 'and exits. On any failure it exits non-zero and leaves the data directory untouched.'
      : 'The restore helper waits for you (`sleep infinity`): run `/opt/pitr/scripts/restore-data.sh` in it, with the environment of the '
        + 'automatic mode, or follow the manual steps of the README.',
    '',
    '```sh',
    k(`apply -n ${ns} -f ${restoreFile}`),
    automatic
      ? k(`wait -n ${ns} --for=jsonpath='{.status.phase}'=Succeeded --timeout=1800s pod/${pod}`)
      : k(`wait -n ${ns} --for=condition=ready --timeout=120s pod/${pod}`),
    k(`logs -n ${ns} ${pod}`),
    k(`delete pod -n ${ns} ${pod}  # releases the data volume`),
    '```',
    '',
    '## 5. Start the primary and follow recovery',
    '',
    '```sh',
    k(`scale statefulset -n ${ns} -l app=${kubegres},replicationRole=primary --replicas=1`),
    k(`logs -n ${ns} -f ${primaryPod}`),
    '```',
    '',
    'Expect `starting point-in-time recovery`, `restored log file "…" from archive`, then `selected new timeline ID`,',
    '`archive recovery complete` and `database system is ready to accept connections`. A `FATAL: recovery ended before',
    'configured recovery target was reached` means WAL is missing before the target: nothing is lost, the old data directory',
    'is beside the new one; pick an earlier target.',
    '',
    '## 6. Check the promotion',
    '',
    '```sh',
    `${psql('SELECT pg_is_in_recovery()')}  # f`,
    `${psql('SELECT timeline_id FROM pg_control_checkpoint()')}  # a new timeline`,
    '```',
    '',
    '## 7. Scale up the controller, the replicas and the writers',
    '',
    '```sh',
    k(`scale deployment -n ${ns} ${controller} --replicas=1`),
    k(`wait -n ${ns} --for=condition=available --timeout=120s deployment/${controller}`),
    k(`patch kubegres -n ${ns} ${kubegres} --type=merge -p '{"spec":{"replicas":${pitr.replicas}}}'`),
    k(`wait -n ${ns} --for=condition=ready --timeout=300s pod -l app=${kubegres},replicationRole=replica`),
    k(`scale deployment -n ${ns} ${clients.join(' ')} --replicas 1`),
    '```',
    '',
    '## 8. Verify',
    '',
    '```sh',
    `${psql('SELECT count(*) FROM pg_stat_replication')}  # ${pitr.replicas - 1}`,
    k(`create job -n ${ns} --from=cronjob/${pitr.baseBackup.cronJobName} after-restore-backup-$(date +%s)  # a base backup on the new timeline`),
    '```',
    '',
    'When the restored data is confirmed, remove the old data directory (`pgdata.before-restore-*` beside `pgdata` on',
    `the \`postgres-db-${kubegres}-1-0\` volume) to free its space.`,
    '',
  ];
  return lines.join('\n');
}

/** The interval of simple schedules (every n minutes, hourly, daily, weekly); undefined when irregular. */
function cronIntervalSeconds([minute, hour, day, month, weekDay]: string[]): number | undefined {
  const fixed = (f: string) => /^\d+$/.test(f);
  const step = (f: string) => /^\*\/(\d+)$/.exec(f)?.[1];
  if (month !== '*' || (day !== '*' && day !== '?')) {
    return undefined;
  }
  if (fixed(minute) && fixed(hour) && (weekDay === '*' || weekDay === '?')) {
    return 86400;
  }
  if (fixed(minute) && fixed(hour) && fixed(weekDay)) {
    return 7 * 86400;
  }
  if (weekDay !== '*' && weekDay !== '?') {
    return undefined;
  }
  if (fixed(minute) && hour === '*') {
    return 3600;
  }
  if (fixed(minute) && step(hour)) {
    return Number(step(hour)) * 3600;
  }
  if (minute === '*' && hour === '*') {
    return 60;
  }
  if (step(minute) && hour === '*') {
    return Number(step(minute)) * 60;
  }
  return undefined;
}
