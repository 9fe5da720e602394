import { Cron, Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { BackupCompression } from './backup-compression';
import { PitrPaths, PitrScript, PitrScripts } from './pitr-scripts';
import { PostgresImage } from './postgres-image';
import { checkConstruct } from './private/api';
import { CREDENTIALS_SECRET, kubegresOwned, kubegresPrimaryLabels, Names, SUPERUSER_PASSWORD_KEY } from './private/names';
import { addPostgresContainer, defaultResources, podSecurityContext } from './private/pod-security';
import { colocateWithArchive } from './private/scheduling';
import { scriptEnv } from './private/script-env';
import {
  checkCron, checkDuration, checkHost, checkObjectName, checkPath, checkPort, checkPositiveInteger,
  checkRoleName, checkSecretKey, checkSize, checkWritableAccessMode, invalid,
} from './private/validate';
import { warn } from './private/warnings';
import { WalArchive } from './wal-archive';

/**
 * Props of `BaseBackupCronJob`.
 */
export interface BaseBackupCronJobProps {
  /**
   * The deployment name (the ManagementPlane's `name`, e.g. `tsb`); it prefixes the object names.
   */
  readonly deploymentName: string;

  /**
   * The scripts ConfigMap whose `base-backup.sh` the CronJob runs.
   */
  readonly scripts: PitrScripts;

  /**
   * Size of the backup volume (the ManagementPlane's `backupStorageSize`).
   */
  readonly storage: Size;

  /**
   * Storage class of the backup volume (`backupStorageClassName`).
   * @default 'standard'
   */
  readonly storageClassName?: string;

  /**
   * Access mode of the backup volume (`backupStorageAccessMode`).
   * @default kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE
   */
  readonly accessMode?: kplus.PersistentVolumeAccessMode;

  /**
   * Name of the backup PersistentVolumeClaim.
   * @default - `{deploymentName}-backup`
   */
  readonly claimName?: string;

  /**
   * Name of the CronJob. A manual backup is `kubectl create job --from=cronjob/<name> manual-backup-$(date +%s)`.
   * It must not be `backup-{kubegres resource}`: Kubegres owns that name and deletes such a CronJob.
   * @default - `{deploymentName}-postgres-base-backup`
   */
  readonly cronJobName?: string;

  /**
   * When base backups run (`backupCronSchedule`), in the controller's time zone (UTC on most clusters).
   * @default Cron.schedule({ minute: '0', hour: '2' }) - daily at 02:00
   */
  readonly schedule?: Cron;

  /**
   * How long complete base backups are kept (`backupCleanupRetention`). The newest complete backup is never removed.
   * @default Duration.seconds(432000) - 5 days
   */
  readonly retention?: Duration;

  /**
   * Whether the backup job removes archived WAL that no retained backup needs (`pg_archivecleanup` with the oldest
   * retained backup's start segment). Needs `walArchive`.
   * @default true when `walArchive` is given
   */
  readonly walArchiveCleanup?: boolean;

  /**
   * The WAL archive to clean up after retention. The job mounts it; with a `ReadWriteOnce` archive the job is
   * scheduled on the primary's node (pod affinity to `primaryPodLabels`), since the volume attaches to one node.
   * @default - archived WAL is not cleaned up by the backup job
   */
  readonly walArchive?: WalArchive;

  /**
   * The Kubegres resource whose own objects no name of this construct may take.
   * @default - `{deploymentName}-postgres`
   */
  readonly kubegresName?: string;

  /**
   * Labels of the primary database pod, for the pod affinity a `ReadWriteOnce` WAL archive needs.
   * @default - `{ app: '{deploymentName}-postgres', replicationRole: 'primary' }` (Kubegres' labels)
   */
  readonly primaryPodLabels?: { [key: string]: string };

  /**
   * Image that runs `pg_basebackup`, and the user it runs as: use the database's own image, so the client matches the
   * server's major version.
   * @default PostgresImage.debian15()
   */
  readonly image?: PostgresImage;

  /**
   * Host of the primary (its Service).
   * @default - `{deploymentName}-postgres`
   */
  readonly host?: string;

  /**
   * Port of the primary.
   * @default 5432
   */
  readonly port?: number;

  /**
   * Role the backup connects as; it needs the REPLICATION attribute and a `pg_hba.conf` line that admits it for
   * replication connections.
   * @default - `{deploymentName}`
   */
  readonly user?: string;

  /**
   * Secret that holds the role's password. It reaches the container only as `PGPASSWORD` through `secretKeyRef`.
   * @default - the Secret `postgres-credentials`
   */
  readonly passwordSecret?: kplus.ISecret;

  /**
   * Key of the password in `passwordSecret`.
   * @default 'embedded-postgres-password'
   */
  readonly passwordKey?: string;

  /**
   * How the backup is compressed (client side, in the backup container).
   * @default BackupCompression.zstd() - level 1, one thread: `base.tar.zst`, `pg_wal.tar.zst`
   */
  readonly compression?: BackupCompression;

  /**
   * Resources of the backup container.
   * @default - requests cpu 100m, memory 256Mi; limits cpu 1 (or the zstd workers, when more), memory 1Gi
   */
  readonly resources?: kplus.ContainerResources;

  /**
   * Retries of a failed backup before the Job fails.
   * @default 2
   */
  readonly backoffLimit?: number;

  /**
   * Longest a backup Job may run before it is stopped and fails.
   * @default Duration.hours(6)
   */
  readonly timeout?: Duration;

  /**
   * How late a missed schedule may still start.
   * @default Duration.minutes(10)
   */
  readonly startingDeadline?: Duration;
}

/**
 * Base backups: the backup PersistentVolumeClaim (`{name}-backup`) and the CronJob (`{name}-postgres-base-backup`) that runs
 * `pg_basebackup` with streamed WAL and a fast checkpoint into `{name}-postgres-base-backup-DD_MM_YYYY_HH_MM_SS`
 * (`base.tar.zst`, `pg_wal.tar.zst`, `backup_manifest` with the default compression; see `BackupCompression`), verifies
 * it in one pass, and removes backups older than the retention.
 *
 * It warns at synth time when the WAL archive it cleans up clearly cannot hold the WAL of the retention: even an idle
 * database archives one segment per `archive_timeout` (see README, "WAL archive size").
 */
export class BaseBackupCronJob extends Construct {
  /** Name of the backup PVC. */
  public readonly claimName: string;
  /** Storage class of the backup PVC. */
  public readonly storageClassName: string;
  /** Access mode of the backup PVC. */
  public readonly accessMode: kplus.PersistentVolumeAccessMode;
  /** Size of the backup PVC. */
  public readonly storage: Size;
  /** Name of the CronJob. */
  public readonly cronJobName: string;
  /** The schedule. */
  public readonly schedule: Cron;
  /** Retention of complete backups. */
  public readonly retention: Duration;
  /** How backups are compressed. */
  public readonly compression: BackupCompression;
  /** Whether archived WAL is cleaned up after retention. */
  public readonly walArchiveCleanup: boolean;
  /** Image of the backup container. */
  public readonly image: PostgresImage;
  /** Host of the primary. */
  public readonly host: string;
  /** Port of the primary. */
  public readonly port: number;
  /** Role the backup connects as. */
  public readonly user: string;
  /** Secret of the password. */
  public readonly passwordSecret: kplus.ISecret;
  /** Key of the password in the Secret. */
  public readonly passwordKey: string;
  /** Prefix of the backup folders: `{deploymentName}-postgres-base-backup`. */
  public readonly backupNamePrefix: string;
  /** Where the backup volume is mounted in the job. */
  public readonly mountPath: string;
  /** The environment of the backup script, without the password (which comes from the Secret). */
  public readonly environment: { [name: string]: string };
  /** The backup PVC. */
  public readonly claim: kplus.PersistentVolumeClaim;
  /** The CronJob (the construct's `Resource` child, so its `defaultChild`). */
  public readonly cronJob: kplus.CronJob;
  /** The backup volume as mounted into the job. */
  public readonly volume: kplus.Volume;

  constructor(scope: Construct, id: string, props: BaseBackupCronJobProps) {
    super(checkConstruct(scope, id, 'BaseBackupCronJobProps', props), id);
    const names = new Names(checkObjectName('deploymentName', props.deploymentName));
    const kubegresName = checkObjectName('kubegresName', props.kubegresName ?? names.kubegres);
    this.storage = checkSize('storage', props.storage);
    this.storageClassName = checkObjectName('storageClassName', props.storageClassName ?? 'standard');
    this.accessMode = checkWritableAccessMode('accessMode', props.accessMode ?? kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE);
    this.claimName = checkObjectName('claimName', props.claimName ?? names.backupClaim);
    // A CronJob name becomes a label value of its Jobs' pods, so it is kept to 52 characters as Kubernetes requires.
    this.cronJobName = checkObjectName('cronJobName', props.cronJobName ?? names.backupCronJob, 52);
    const owner = kubegresOwned(kubegresName, 'CronJob', this.cronJobName);
    if (owner) {
      invalid('cronJobName', this.cronJobName, `is Kubegres' name for ${owner}`, `Use another name, such as '${names.backupCronJob}'`);
    }
    this.schedule = checkCron('schedule', props.schedule ?? Cron.schedule({ minute: '0', hour: '2' }));
    this.retention = checkDuration('retention', props.retention ?? Duration.seconds(432000));
    this.walArchiveCleanup = props.walArchiveCleanup ?? props.walArchive !== undefined;
    if (this.walArchiveCleanup && !props.walArchive) {
      throw new Error('\'walArchiveCleanup\' is true but no \'walArchive\' was given. Pass the WalArchive whose segments the job should clean up, '
        + 'or set walArchiveCleanup: false');
    }
    this.compression = props.compression ?? BackupCompression.zstd();
    if (!(this.compression instanceof BackupCompression)) {
      throw new Error(`'compression' must be a BackupCompression, got ${JSON.stringify(this.compression)}. `
        + 'Build it with BackupCompression.zstd({ level, workers }), .gzip(level), .lz4() or .none()');
    }
    this.image = props.image ?? PostgresImage.debian15();
    this.host = checkHost('host', props.host ?? names.primaryHost);
    this.port = checkPort('port', props.port ?? 5432);
    this.user = checkRoleName('user', props.user ?? names.deployment);
    this.passwordSecret = props.passwordSecret ?? kplus.Secret.fromSecretName(this, 'PasswordSecret', CREDENTIALS_SECRET);
    checkObjectName('passwordSecret', this.passwordSecret.name);
    this.passwordKey = checkSecretKey('passwordKey', props.passwordKey ?? SUPERUSER_PASSWORD_KEY);
    const backoffLimit = checkPositiveInteger('backoffLimit', props.backoffLimit ?? 2, 0);
    const timeout = checkDuration('timeout', props.timeout ?? Duration.hours(6), 60);
    const startingDeadline = checkDuration('startingDeadline', props.startingDeadline ?? Duration.minutes(10), 10);
    const primaryPodLabels = props.primaryPodLabels ?? kubegresPrimaryLabels(kubegresName);
    this.backupNamePrefix = names.backupNamePrefix;
    this.mountPath = checkPath('mountPath', PitrPaths.BACKUP);

    this.environment = scriptEnv('base-backup.sh', {
      BACKUP_DIR: this.mountPath,
      BACKUP_NAME_PREFIX: this.backupNamePrefix,
      BACKUP_RETENTION_SECONDS: String(this.retention.toSeconds()),
      WAL_ARCHIVE_DIR: props.walArchive?.mountPath ?? PitrPaths.WAL_ARCHIVE,
      WAL_ARCHIVE_CLEANUP: String(this.walArchiveCleanup),
      PGHOST: this.host,
      PGPORT: String(this.port),
      PGUSER: this.user,
      ...this.compression.environment(),
    });
    if (props.walArchive) {
      warnIfArchiveTooSmall(this, props.walArchive, this.retention);
    }

    this.cronJob = new kplus.CronJob(this, 'Resource', {
      metadata: { name: this.cronJobName },
      schedule: this.schedule,
      concurrencyPolicy: kplus.ConcurrencyPolicy.FORBID,
      startingDeadline,
      successfulJobsRetained: 3,
      failedJobsRetained: 3,
      backoffLimit,
      activeDeadline: timeout,
      restartPolicy: kplus.RestartPolicy.NEVER,
      automountServiceAccountToken: false,
      securityContext: podSecurityContext(this.image.uid),
    });
    this.claim = new kplus.PersistentVolumeClaim(this, 'Claim', {
      metadata: { name: this.claimName },
      storage: this.storage,
      storageClassName: this.storageClassName,
      accessModes: [this.accessMode],
    });
    const container = addPostgresContainer(this.cronJob, this.image, {
      name: 'base-backup',
      command: props.scripts.command(PitrScript.BASE_BACKUP),
      resources: props.resources ?? backupResources(this.compression),
      env: this.environment,
      secretEnv: { PGPASSWORD: kplus.EnvValue.fromSecretValue({ secret: this.passwordSecret, key: this.passwordKey }) },
    });
    this.volume = kplus.Volume.fromPersistentVolumeClaim(this, 'BackupVolume', this.claim, { name: 'backup' });
    container.mount(this.mountPath, this.volume);
    props.scripts.mount(container);

    if (props.walArchive && this.walArchiveCleanup) {
      colocateWithArchive(this, this.cronJob, props.walArchive, primaryPodLabels, 'the backup job (walArchiveCleanup)');
      container.mount(props.walArchive.mountPath, props.walArchive);
    }
  }
}

/** The default resources, with a CPU limit that fits the zstd workers. */
function backupResources(compression: BackupCompression): kplus.ContainerResources {
  const d = defaultResources();
  return compression.cpus <= 1 ? d : { ...d, cpu: { request: d.cpu!.request, limit: kplus.Cpu.units(compression.cpus) } };
}

/**
 * Warns when the archive clearly cannot hold the WAL that the retention keeps: the oldest retained backup may be the
 * retention plus one day old (daily backups), and even an idle server archives one segment per `archive_timeout`.
 */
function warnIfArchiveTooSmall(scope: Construct, archive: WalArchive, retention: Duration): void {
  const keepDays = retention.toSeconds() / 86400 + 1;
  const perDay = archive.minimumBytesPerDay();
  const kib = archive.storage.toKibibytes({ rounding: SizeRoundingBehavior.NONE });
  const days = kib * 1024 / perDay;
  if (days < keepDays) {
    warn(scope, 'wal-archive-too-small', `the WAL archive (${(kib / 1048576).toFixed(1)}Gi) holds about ${days.toFixed(1)} days of WAL even for an `
      + `idle database (one segment per archive_timeout of ${archive.archiveTimeout.toSeconds()}s, `
      + `${(archive.minimumSegmentBytes / 1024).toFixed(0)} KiB each as stored), but the backup retention keeps about ${keepDays.toFixed(1)} days. `
      + 'When it fills up, archiving stops, pg_wal grows and the database stops. Enlarge walArchiveStorageSize, shorten the retention'
      + (archive.compressSegments ? '' : ', or enable compressSegments'));
  }
}
