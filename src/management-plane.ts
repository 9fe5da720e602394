import * as kplus from 'cdk8s-plus-28';
import { BackupCompression } from './backup-compression';
import { RecoveryTarget, RecoveryTargetAction, RecoveryTimeline } from './recovery-target';
import { RestoreMode } from './restore-helper-pod';

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
   * Automatic mode: delete the old data directory before extracting, for a data volume too small for both (its
   * unarchived WAL is carried over first). A failed restore then leaves no old state: use it when the free-space check
   * refuses the restore. At restore time the target ConfigMap's `old-data=delete-first` does the same.
   * @default false
   */
  readonly deleteOldDataFirst?: boolean;

  /**
   * Automatic mode, target `latest`: accept a WAL archive with a gap (history truncated at the gap).
   * @default false
   */
  readonly allowTruncatedHistory?: boolean;
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

  /**
   * Resources of every instance's container.
   * @default - requests cpu 250m, memory 512Mi; limits cpu 2, memory 2Gi
   */
  readonly resources?: kplus.ContainerResources;

  /**
   * Disables Kubegres' failover; required with an Alpine image, in which Kubegres cannot promote a replica.
   * @default false
   */
  readonly failoverDisabled?: boolean;
}

/**
 * Options of the composite beyond the ManagementPlane parameters: the image, names of consumed objects, overrides of
 * the created names, and an optional restore.
 */
export interface EmbeddedPostgresPitrOptions {
  /**
   * The PostgreSQL image of the database pods; the backup, restore and job pods use it too. Pin a tag (such as
   * `postgres:15.10-bookworm`) or a digest so that every pod runs the same build: pods pull it `IfNotPresent`.
   * @default 'postgres:15-bookworm'
   */
  readonly postgresImage?: string;

  /**
   * uid and gid of the image's `postgres` user; the library's pods run as it.
   * @default - 70 for an image whose tag contains `alpine`, 999 otherwise (the official images)
   */
  readonly postgresUid?: number;

  /**
   * Which install the consumed objects follow: upstream Kubegres (the default), or TSB's (the reference design), whose
   * restore pod mounts the TLS Secret `{name}-postgres-certs` and runs as the ServiceAccount `{name}-kubegres`.
   * @default InstallPreset.UPSTREAM
   */
  readonly preset?: InstallPreset;

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
   * Name of the backup CronJob. Not `backup-{name}-postgres`: Kubegres owns that name and deletes such a CronJob.
   * @default - `{name}-postgres-base-backup`
   */
  readonly backupCronJobName?: string;

  /**
   * How base backups are compressed (client side, in the backup job). Restore, the window report and retention read
   * every method, so a change leaves older backups usable.
   * @default BackupCompression.zstd() - level 1, one thread
   */
  readonly backupCompression?: BackupCompression;

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
   * Claim of the primary's data volume (consumed). Kubegres numbers instances from 1 and a failover moves the primary
   * to another instance; the runbook finds the current primary's claim and puts it in the restore pod.
   * @default - `postgres-db-{name}-postgres-1-0`
   */
  readonly dataClaimName?: string;

  /**
   * TLS Secret of the server, mounted into the restore pod (consumed).
   * @default - `{name}-postgres-certs` with `InstallPreset.TSB`, none otherwise
   */
  readonly tlsSecretName?: string;

  /**
   * ServiceAccount of the restore pod (consumed).
   * @default - `{name}-kubegres` with `InstallPreset.TSB`, the namespace's default otherwise
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
 * The `spec.dataStore.embeddedPostgres` block of a ManagementPlane, as parsed from its YAML: the same names and string
 * forms.
 */
export interface ManagementPlaneEmbeddedPostgres {
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

/**
 * The props of `EmbeddedPostgresPitr`: the ManagementPlane parameters and the library's options.
 */
export interface EmbeddedPostgresPitrProps extends ManagementPlaneEmbeddedPostgres, EmbeddedPostgresPitrOptions {
}

/**
 * Which install the consumed objects and the runbook's commands follow.
 */
export enum InstallPreset {
  /**
   * Upstream Kubegres: the controller Deployment `kubegres-controller-manager` in `kubegres-system`, pods labelled
   * `control-plane=controller-manager`; the restore pod needs no ServiceAccount or TLS Secret.
   */
  UPSTREAM = 'upstream',
  /**
   * TSB (the reference design): the controller in the database's namespace, pods labelled
   * `app=kubegres-controller-manager`; the restore pod mounts the TLS Secret `{name}-postgres-certs` and runs as the
   * ServiceAccount `{name}-kubegres`.
   */
  TSB = 'tsb',
}
