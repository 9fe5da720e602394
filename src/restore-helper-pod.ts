import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PitrPaths, PitrScript, PitrScripts } from './pitr-scripts';
import {
  addScratch, containerSecurityContext, DEFAULT_POSTGRES_IMAGE, defaultResources, literalEnv, podSecurityContext, POSTGRES_UID,
} from './pod-security';
import { RecoveryConfig } from './recovery-config';
import { checkImage, checkLabel, checkObjectName, checkPositiveInteger, invalid } from './validate';

/**
 * How the restore helper works.
 */
export enum RestoreMode {
  /** The reference design's pod: `sleep infinity`, for a DBA to `kubectl exec` into and run the restore by hand. */
  MANUAL = 'manual',
  /**
   * The pod runs `restore-data.sh` once: picks the base backup for the target, keeps the current data directory aside,
   * extracts the backup, writes the recovery settings and the signal file, prints what it did, and exits. On any
   * failure it exits non-zero with the old data directory untouched.
   */
  AUTOMATIC = 'automatic',
}

/**
 * Props of `RestoreHelperPod`.
 */
export interface RestoreHelperPodProps {
  /**
   * The deployment name (the ManagementPlane's `name`, e.g. `tsb`); it prefixes the default names.
   */
  readonly deploymentName: string;

  /**
   * The scripts ConfigMap (mounted at `/opt/pitr/scripts`).
   */
  readonly scripts: PitrScripts;

  /**
   * The recovery settings to apply. Mounted at `/etc/pitr/recovery`; required in automatic mode.
   * @default - none mounted; in manual mode the DBA writes the settings by hand
   */
  readonly recoveryConfig?: RecoveryConfig;

  /**
   * Manual (`sleep infinity`) or automatic (runs the restore and exits).
   * @default RestoreMode.MANUAL
   */
  readonly mode?: RestoreMode;

  /**
   * Automatic mode: the base backup folder to restore, such as `tsb-postgres-base-backup-04_12_2024_02_00_03`.
   * @default - the newest complete backup that ends before a time or LSN target; the newest for other targets
   */
  readonly backupName?: string;

  /**
   * Automatic mode: delete the data directory that was moved aside (`pgdata.before-restore-<UTC timestamp>`) once
   * the restore has been written.
   * @default false - the old data directory is kept
   */
  readonly deleteOldData?: boolean;

  /**
   * Automatic mode, target `latest`: restore even when the WAL archive has a gap, accepting a history that ends at
   * the gap. Without it the restore refuses, since PostgreSQL would silently promote the shortened history.
   * @default false
   */
  readonly allowTruncatedHistory?: boolean;

  /**
   * Name of the pod.
   * @default 'postgres-restore'
   */
  readonly podName?: string;

  /**
   * Image of the pod: the database's own image.
   * @default 'postgres:15-alpine'
   */
  readonly image?: string;

  /**
   * Claim of the primary's data volume.
   * @default - `postgres-db-{deploymentName}-postgres-1-0`
   */
  readonly dataClaimName?: string;

  /**
   * Claim of the backup volume.
   * @default - `{deploymentName}-backup`
   */
  readonly backupClaimName?: string;

  /**
   * Claim of the WAL archive volume.
   * @default - `{deploymentName}-postgres-wal-archive`
   */
  readonly walArchiveClaimName?: string;

  /**
   * Prefix of the backup folders.
   * @default - `{deploymentName}-postgres-base-backup`
   */
  readonly backupNamePrefix?: string;

  /**
   * Secret with the server's TLS files, mounted read-only with mode 0600 at `/var/lib/postgresql/data/tls`.
   * @default - `{deploymentName}-postgres-certs`
   */
  readonly tlsSecretName?: string;

  /**
   * ServiceAccount of the pod.
   * @default - `{deploymentName}-kubegres`
   */
  readonly serviceAccountName?: string;

  /**
   * uid and gid of the pod (the image's `postgres` user).
   * @default 70
   */
  readonly runAsUser?: number;

  /**
   * Resources of the container.
   * @default - requests cpu 100m, memory 256Mi; limits cpu 1, memory 1Gi
   */
  readonly resources?: kplus.ContainerResources;
}

/**
 * The restore helper pod (`postgres-restore`) of the reference design: the postgres image as uid/gid 70 with the data,
 * backup, WAL archive and TLS volumes and the kubegres ServiceAccount, either waiting for a DBA (manual) or running the
 * data-directory restore itself (automatic).
 */
export class RestoreHelperPod extends Construct {
  /** Name of the pod. */
  public readonly podName: string;
  /** The mode. */
  public readonly mode: RestoreMode;
  /** Image of the pod. */
  public readonly image: string;
  /** Claim of the data volume. */
  public readonly dataClaimName: string;
  /** Claim of the backup volume. */
  public readonly backupClaimName: string;
  /** Claim of the WAL archive. */
  public readonly walArchiveClaimName: string;
  /** TLS Secret name. */
  public readonly tlsSecretName: string;
  /** ServiceAccount name. */
  public readonly serviceAccountName: string;
  /** The environment of the container (the restore script's settings). */
  public readonly environment: { [name: string]: string };
  /** The pod. */
  public readonly pod: kplus.Pod;

  constructor(scope: Construct, id: string, props: RestoreHelperPodProps) {
    super(scope, id);
    const name = checkObjectName('deploymentName', props.deploymentName);
    this.mode = props.mode ?? RestoreMode.MANUAL;
    if (!Object.values(RestoreMode).includes(this.mode)) {
      invalid('mode', this.mode, 'must be manual or automatic');
    }
    this.podName = checkObjectName('podName', props.podName ?? 'postgres-restore');
    this.image = checkImage('image', props.image ?? DEFAULT_POSTGRES_IMAGE);
    this.dataClaimName = checkObjectName('dataClaimName', props.dataClaimName ?? `postgres-db-${name}-postgres-1-0`);
    this.backupClaimName = checkObjectName('backupClaimName', props.backupClaimName ?? `${name}-backup`);
    this.walArchiveClaimName = checkObjectName('walArchiveClaimName', props.walArchiveClaimName ?? `${name}-postgres-wal-archive`);
    this.tlsSecretName = checkLabel('tlsSecretName', props.tlsSecretName ?? `${name}-postgres-certs`);
    this.serviceAccountName = checkObjectName('serviceAccountName', props.serviceAccountName ?? `${name}-kubegres`);
    const prefix = checkObjectName('backupNamePrefix', props.backupNamePrefix ?? `${name}-postgres-base-backup`);
    const uid = checkPositiveInteger('runAsUser', props.runAsUser ?? POSTGRES_UID);
    if (props.backupName !== undefined && (typeof props.backupName !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(props.backupName))) {
      invalid('backupName', props.backupName, 'must be a backup folder name of letters, digits, \'.\', \'_\' and \'-\'',
        `Use a folder name from the backup volume, such as '${prefix}-04_12_2024_02_00_03'`);
    }
    const automatic = this.mode === RestoreMode.AUTOMATIC;
    if (automatic && !props.recoveryConfig) {
      throw new Error('\'recoveryConfig\' is required when \'mode\' is RestoreMode.AUTOMATIC: the restore writes its settings. '
        + 'Pass a RecoveryConfig (RecoveryTarget.latest() for the end of the archive)');
    }
    for (const [prop, value] of [['backupName', props.backupName], ['deleteOldData', props.deleteOldData],
      ['allowTruncatedHistory', props.allowTruncatedHistory]] as const) {
      if (!automatic && value !== undefined) {
        invalid(prop, value, 'applies only to RestoreMode.AUTOMATIC', 'Set mode: RestoreMode.AUTOMATIC or remove it');
      }
    }

    this.environment = {
      PGDATA: PitrPaths.PGDATA,
      BACKUP_DIR: PitrPaths.BACKUP,
      WAL_ARCHIVE_DIR: PitrPaths.WAL_ARCHIVE,
      BACKUP_NAME_PREFIX: prefix,
      ...(automatic ? {
        ...props.recoveryConfig!.restoreEnvironment,
        RESTORE_BACKUP: props.backupName ?? '',
        RESTORE_DELETE_OLD_DATA: String(props.deleteOldData ?? false),
        RESTORE_ALLOW_TRUNCATED_HISTORY: String(props.allowTruncatedHistory ?? false),
      } : {}),
    };

    this.pod = new kplus.Pod(this, 'Resource', {
      metadata: { name: this.podName },
      serviceAccount: kplus.ServiceAccount.fromServiceAccountName(this, 'ServiceAccount', this.serviceAccountName),
      automountServiceAccountToken: false,
      securityContext: podSecurityContext(uid),
      restartPolicy: automatic ? kplus.RestartPolicy.NEVER : kplus.RestartPolicy.ALWAYS,
    });
    const container = this.pod.addContainer({
      name: 'postgres',
      image: this.image,
      command: automatic ? props.scripts.command(PitrScript.RESTORE_DATA) : ['sleep', 'infinity'],
      securityContext: containerSecurityContext(uid),
      resources: props.resources ?? defaultResources(),
      envVariables: literalEnv(this.environment),
    });
    const claim = (cid: string, claimName: string, volumeName: string) =>
      kplus.Volume.fromPersistentVolumeClaim(this, cid, kplus.PersistentVolumeClaim.fromClaimName(this, `${cid}Claim`, claimName), { name: volumeName });
    container.mount(PitrPaths.DATA, claim('Data', this.dataClaimName, 'postgres-data'));
    container.mount(PitrPaths.BACKUP, claim('Backup', this.backupClaimName, 'backup-volume'));
    container.mount(PitrPaths.WAL_ARCHIVE, claim('WalArchive', this.walArchiveClaimName, 'wal-archive'));
    container.mount(PitrPaths.TLS, kplus.Volume.fromSecret(this, 'Tls', kplus.Secret.fromSecretName(this, 'TlsSecret', this.tlsSecretName), {
      name: this.tlsSecretName,
      defaultMode: 0o600,
    }), { readOnly: true });
    props.scripts.mount(container);
    if (props.recoveryConfig) {
      container.mount(PitrPaths.RECOVERY, kplus.Volume.fromConfigMap(this, 'Recovery', props.recoveryConfig.configMap, { name: 'recovery' }),
        { readOnly: true });
    }
    addScratch(this.pod, container);
  }
}
