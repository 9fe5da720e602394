import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PitrPaths, PitrScript, PitrScripts } from './pitr-scripts';
import { PostgresImage } from './postgres-image';
import { checkConstruct } from './private/api';
import { kubegresInstance, kubegresOwned, Names } from './private/names';
import { addPostgresContainer, defaultResources, podSecurityContext } from './private/pod-security';
import { scriptEnv } from './private/script-env';
import { checkHost, checkObjectName, checkPort, invalid } from './private/validate';
import { RecoveryConfig } from './recovery-config';
import { RecoveryTargetType } from './recovery-target';

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
   * Automatic mode: delete the old data directory before extracting the backup, for a data volume too small to hold
   * both. The WAL only the old directory holds is copied aside first and carried over. If the restore then fails, the
   * state before it is gone: use it only when the free-space check refuses the restore.
   * @default false
   */
  readonly deleteOldDataFirst?: boolean;

  /**
   * Automatic mode: the primary's Service. The restore refuses to start while a server answers there.
   * @default - `{deploymentName}-postgres`, Kubegres' primary Service
   */
  readonly primaryHost?: string;

  /**
   * Automatic mode: the port of `primaryHost`.
   * @default 5432
   */
  readonly primaryPort?: number;

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
   * Image of the pod and the user it runs as: the database's own image.
   * @default PostgresImage.debian15()
   */
  readonly image?: PostgresImage;

  /**
   * The data volume the database starts from: the current primary's. Kubegres gives new instances new indexes, so
   * after a failover this is not instance 1; the runbook puts the current primary's claim in its place.
   * @default - `postgres-db-{deploymentName}-postgres-1-0`, Kubegres' first instance
   */
  readonly dataClaim?: kplus.IPersistentVolumeClaim;

  /**
   * The backup volume.
   * @default - the claim `{deploymentName}-backup`
   */
  readonly backupClaim?: kplus.IPersistentVolumeClaim;

  /**
   * The WAL archive volume.
   * @default - the claim `{deploymentName}-postgres-wal-archive`
   */
  readonly walArchiveClaim?: kplus.IPersistentVolumeClaim;

  /**
   * Prefix of the backup folders.
   * @default - `{deploymentName}-postgres-base-backup`
   */
  readonly backupNamePrefix?: string;

  /**
   * Secret with the server's TLS files, mounted read-only with mode 0600 at `/var/lib/postgresql/data/tls`, as TSB's
   * restore pod has it. Give it only where the Secret exists: a pod that mounts a missing Secret never starts.
   * @default - no TLS volume
   */
  readonly tlsSecret?: kplus.ISecret;

  /**
   * ServiceAccount of the pod (TSB's restore pod uses `{name}-kubegres`). Give it only where it exists: admission
   * rejects a pod whose ServiceAccount is missing.
   * @default - the namespace's default ServiceAccount (its token is not mounted)
   */
  readonly serviceAccount?: kplus.IServiceAccount;

  /**
   * Resources of the container.
   * @default - requests cpu 100m, memory 256Mi; limits cpu 2 (the decompressor and tar of the extract), memory 1Gi
   */
  readonly resources?: kplus.ContainerResources;
}

/**
 * The restore helper pod (`postgres-restore`) of the reference design: the postgres image as its `postgres` user with
 * the data, backup and WAL archive volumes (and TSB's TLS volume and ServiceAccount where they exist), either waiting
 * for a DBA (manual) or running the data-directory restore itself (automatic).
 */
export class RestoreHelperPod extends Construct {
  /** Name of the pod. */
  public readonly podName: string;
  /** The mode. */
  public readonly mode: RestoreMode;
  /** Image of the pod. */
  public readonly image: PostgresImage;
  /** Claim of the data volume. */
  public readonly dataClaimName: string;
  /** Claim of the backup volume. */
  public readonly backupClaimName: string;
  /** Claim of the WAL archive. */
  public readonly walArchiveClaimName: string;
  /** The TLS Secret, when mounted. */
  public readonly tlsSecret?: kplus.ISecret;
  /** The ServiceAccount, when set. */
  public readonly serviceAccount?: kplus.IServiceAccount;
  /** The environment of the container (the restore script's settings). */
  public readonly environment: { [name: string]: string };
  /** The pod. */
  public readonly pod: kplus.Pod;

  constructor(scope: Construct, id: string, props: RestoreHelperPodProps) {
    super(checkConstruct(scope, id, 'RestoreHelperPodProps', props), id);
    const names = new Names(checkObjectName('deploymentName', props.deploymentName));
    this.mode = props.mode ?? RestoreMode.MANUAL;
    if (!Object.values(RestoreMode).includes(this.mode)) {
      invalid('mode', this.mode, 'must be manual or automatic');
    }
    this.podName = checkObjectName('podName', props.podName ?? names.restorePod);
    if (kubegresOwned(names.kubegres, 'Pod', this.podName)) {
      invalid('podName', this.podName, 'is the name of a Kubegres instance\'s pod', `Use another name, such as '${names.restorePod}'`);
    }
    this.image = props.image ?? PostgresImage.debian15();
    // Each claim: the one given, or the default name as a reference; its name is checked either way.
    const claim = (prop: string, given: kplus.IPersistentVolumeClaim | undefined, fallback: string) => {
      const c = given ?? kplus.PersistentVolumeClaim.fromClaimName(this, `${prop}Ref`, fallback);
      checkObjectName(prop, c.name);
      return c;
    };
    const dataClaim = claim('dataClaim', props.dataClaim, kubegresInstance(names.kubegres, 1).dataClaim);
    const backupClaim = claim('backupClaim', props.backupClaim, names.backupClaim);
    const walArchiveClaim = claim('walArchiveClaim', props.walArchiveClaim, names.walArchiveClaim);
    this.dataClaimName = dataClaim.name;
    this.backupClaimName = backupClaim.name;
    this.walArchiveClaimName = walArchiveClaim.name;
    this.tlsSecret = props.tlsSecret;
    this.serviceAccount = props.serviceAccount;
    const prefix = checkObjectName('backupNamePrefix', props.backupNamePrefix ?? names.backupNamePrefix);
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
      ['deleteOldDataFirst', props.deleteOldDataFirst], ['allowTruncatedHistory', props.allowTruncatedHistory],
      ['primaryHost', props.primaryHost], ['primaryPort', props.primaryPort]] as const) {
      if (!automatic && value !== undefined) {
        invalid(prop, value, 'applies only to RestoreMode.AUTOMATIC', 'Set mode: RestoreMode.AUTOMATIC or remove it');
      }
    }

    for (const [prop, value] of [['deleteOldData', props.deleteOldData], ['deleteOldDataFirst', props.deleteOldDataFirst]] as const) {
      if (value !== undefined && typeof value !== 'boolean') {
        invalid(prop, value, 'must be true or false');
      }
    }
    if (props.deleteOldData && props.deleteOldDataFirst) {
      invalid('deleteOldData', props.deleteOldData, 'and deleteOldDataFirst exclude each other', 'Set one: deleteOldDataFirst deletes before extracting, deleteOldData after');
    }
    const oldData = props.deleteOldDataFirst ? 'delete-first' : props.deleteOldData ? 'delete' : 'keep';
    this.environment = scriptEnv('restore-data.sh', {
      PGDATA: PitrPaths.PGDATA,
      BACKUP_DIR: PitrPaths.BACKUP,
      WAL_ARCHIVE_DIR: PitrPaths.WAL_ARCHIVE,
      BACKUP_NAME_PREFIX: prefix,
      ...(automatic ? {
        ...props.recoveryConfig!.restoreEnvironment,
        RESTORE_BACKUP: props.backupName ?? '',
        RESTORE_OLD_DATA: oldData,
        RESTORE_ALLOW_TRUNCATED_HISTORY: String(props.allowTruncatedHistory ?? false),
        PRIMARY_HOST: checkHost('primaryHost', props.primaryHost ?? names.primaryHost),
        PRIMARY_PORT: String(checkPort('primaryPort', props.primaryPort ?? 5432)),
      } : {}),
    });

    this.pod = new kplus.Pod(this, 'Resource', {
      metadata: { name: this.podName },
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: false,
      securityContext: podSecurityContext(this.image.uid),
      restartPolicy: automatic ? kplus.RestartPolicy.NEVER : kplus.RestartPolicy.ALWAYS,
    });
    const container = addPostgresContainer(this.pod, this.image, {
      name: 'postgres',
      command: automatic ? props.scripts.command(PitrScript.RESTORE_DATA) : ['sleep', 'infinity'],
      // The decompressor and tar run as a pipe, each keeping a CPU busy: a limit of 2 (measured in bench/).
      resources: props.resources ?? { ...defaultResources(), cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.units(2) } },
      env: this.environment,
    });
    const mountClaim = (cid: string, c: kplus.IPersistentVolumeClaim, volumeName: string) =>
      kplus.Volume.fromPersistentVolumeClaim(this, cid, c, { name: volumeName });
    container.mount(PitrPaths.DATA, mountClaim('Data', dataClaim, 'postgres-data'));
    container.mount(PitrPaths.BACKUP, mountClaim('Backup', backupClaim, 'backup-volume'));
    container.mount(PitrPaths.WAL_ARCHIVE, mountClaim('WalArchive', walArchiveClaim, 'wal-archive'));
    if (this.tlsSecret) {
      container.mount(PitrPaths.TLS, kplus.Volume.fromSecret(this, 'Tls', this.tlsSecret, { name: 'tls', defaultMode: 0o600 }), { readOnly: true });
    }
    props.scripts.mount(container);
    if (automatic && props.recoveryConfig!.target.type === RecoveryTargetType.RUNTIME) {
      // Optional: without it the restore fails at once, saying which ConfigMap to create, instead of waiting.
      const target = kplus.ConfigMap.fromConfigMapName(this, 'TargetRef', props.recoveryConfig!.targetConfigMapName);
      container.mount(PitrPaths.RESTORE_TARGET, kplus.Volume.fromConfigMap(this, 'Target', target, { name: 'restore-target', optional: true }),
        { readOnly: true });
    }
    if (props.recoveryConfig) {
      container.mount(PitrPaths.RECOVERY, kplus.Volume.fromConfigMap(this, 'Recovery', props.recoveryConfig.configMap, { name: 'recovery' }),
        { readOnly: true });
    }
  }
}
