/**
 * Internal: the composite's props checked once, under the names the user typed, and every default resolved before
 * anything reaches a construct. One rule per prop; an unknown prop is an error that names it and the closest known one.
 */
import { Cron, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { CREDENTIALS_SECRET, kubegresInstance, kubegresOwned, Names, REPLICATION_PASSWORD_KEY, SUPERUSER_PASSWORD_KEY } from './names';
import {
  checkHost, checkObjectName, checkPort, checkPositiveInteger, checkRoleName, checkSecretKey, invalid, parseAccessMode, parseCron,
  parseSeconds, parseSize, show, unknownKey,
} from './validate';
import { BackupCompression } from '../backup-compression';
import { EmbeddedPostgresPitrProps, InstallPreset, KubegresOptions, RestoreOptions } from '../management-plane';
import { PostgresImage } from '../postgres-image';
import { RecoveryTarget, RecoveryTargetAction, RecoveryTimeline } from '../recovery-target';
import { RestoreMode } from '../restore-helper-pod';

/** The keys of `spec.dataStore.embeddedPostgres`, in the ManagementPlane's order. */
export const MANAGEMENT_PLANE_KEYS = ['name', 'replicas', 'walArchiveStorageSize', 'walArchiveStorageClassName', 'walArchiveStorageAccessMode',
  'backupStorageSize', 'backupStorageClassName', 'backupStorageAccessMode', 'backupCronSchedule', 'backupCleanupRetention'] as const;

/** Every prop of the composite, each with its rule: the value checked under the prop's own name, or its default. */
const RULES: { [K in keyof Required<EmbeddedPostgresPitrProps>]: (v: any, p: string) => unknown } = {
  name: (v, p) => checkObjectName(p, str(p, v, 'name: tsb'), 36),
  replicas: (v, p) => checkPositiveInteger(p, v ?? 3),
  walArchiveStorageSize: (v, p) => parseSize(p, str(p, v, `${p}: 10Gi`)),
  walArchiveStorageClassName: (v, p) => checkObjectName(p, str(p, v ?? 'standard')),
  walArchiveStorageAccessMode: (v, p) => parseAccessMode(p, str(p, v ?? 'ReadWriteOnce')),
  backupStorageSize: (v, p) => parseSize(p, str(p, v, `${p}: 50Gi`)),
  backupStorageClassName: (v, p) => checkObjectName(p, str(p, v ?? 'standard')),
  backupStorageAccessMode: (v, p) => parseAccessMode(p, str(p, v ?? 'ReadWriteOnce')),
  backupCronSchedule: (v, p) => parseCron(p, str(p, v ?? '0 2 * * *')),
  backupCleanupRetention: (v, p) => parseSeconds(p, str(p, v ?? '432000s')),
  postgresImage: (v, p) => str(p, v ?? PostgresImage.DEFAULT_REFERENCE),
  postgresUid: (v, p) => (v === undefined ? undefined : checkPositiveInteger(p, v)),
  preset: (v, p) => oneOf(p, v ?? InstallPreset.UPSTREAM, Object.values(InstallPreset), 'InstallPreset.UPSTREAM or InstallPreset.TSB'),
  kubegres: (v, p) => (v === undefined ? undefined : object<KubegresOptions>(p, v, KUBEGRES_KEYS)),
  recoveryTarget: (v, p) => {
    if (v !== undefined && !(v instanceof RecoveryTarget)) {
      invalid(p, v, 'must be a RecoveryTarget', 'Build it with RecoveryTarget.time(...), .xid(...), .lsn(...), .restorePoint(...), .immediate() or .latest()');
    }
    return v;
  },
  restore: (v, p) => (v === undefined ? undefined : object<RestoreOptions>(p, v, RESTORE_KEYS)),
  walArchiveClaimName: (v, p) => optionalName(p, v),
  backupClaimName: (v, p) => optionalName(p, v),
  backupCronJobName: (v, p) => (v === undefined ? undefined : checkObjectName(p, str(p, v), 52)),
  backupCompression: (v, p) => {
    if (v !== undefined && !(v instanceof BackupCompression)) {
      invalid(p, v, 'must be a BackupCompression', 'Build it with BackupCompression.zstd({ level, workers }), .gzip(level), .lz4() or .none()');
    }
    return v ?? BackupCompression.zstd();
  },
  scriptsConfigMapName: (v, p) => optionalName(p, v),
  recoveryConfigMapName: (v, p) => optionalName(p, v),
  restorePodName: (v, p) => optionalName(p, v),
  dataClaimName: (v, p) => optionalName(p, v),
  tlsSecretName: (v, p) => optionalName(p, v),
  serviceAccountName: (v, p) => optionalName(p, v),
  credentialsSecretName: (v, p) => checkObjectName(p, str(p, v ?? CREDENTIALS_SECRET)),
  credentialsSecretKey: (v, p) => (v === undefined ? undefined : checkSecretKey(p, str(p, v))),
  host: (v, p) => (v === undefined ? undefined : checkHost(p, str(p, v))),
  port: (v, p) => checkPort(p, v ?? 5432),
  user: (v, p) => (v === undefined ? undefined : checkRoleName(p, str(p, v))),
};

const KUBEGRES_KEYS: { [K in keyof Required<KubegresOptions>]: (v: any, p: string) => unknown } = {
  databaseStorageSize: (v, p) => parseSize(p, str(p, v ?? '10Gi')),
  databaseStorageClassName: (v, p) => checkObjectName(p, str(p, v ?? 'standard')),
  superUserPasswordKey: (v, p) => checkSecretKey(p, str(p, v ?? SUPERUSER_PASSWORD_KEY)),
  replicationPasswordKey: (v, p) => checkSecretKey(p, str(p, v ?? REPLICATION_PASSWORD_KEY)),
  resources: (v, p) => (v === undefined ? undefined : object(p, v, { cpu: (x, q) => optionalObject(q, x), memory: (x, q) => optionalObject(q, x) })),
  failoverDisabled: (v, p) => bool(p, v ?? false),
};

const RESTORE_KEYS: { [K in keyof Required<RestoreOptions>]: (v: any, p: string) => unknown } = {
  action: (v, p) => (v === undefined ? undefined : oneOf(p, v, Object.values(RecoveryTargetAction), 'RecoveryTargetAction.PROMOTE, PAUSE or SHUTDOWN')),
  inclusive: (v, p) => (v === undefined ? undefined : bool(p, v)),
  timeline: (v, p) => {
    if (v !== undefined && !(v instanceof RecoveryTimeline)) {
      invalid(p, v, 'must be a RecoveryTimeline', 'Use RecoveryTimeline.latest(), .current() or .id(n)');
    }
    return v;
  },
  mode: (v, p) => (v === undefined ? undefined : oneOf(p, v, Object.values(RestoreMode), 'RestoreMode.MANUAL or RestoreMode.AUTOMATIC')),
  backupName: (v, p) => {
    if (v !== undefined && (typeof v !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(v))) {
      invalid(p, v, 'must be a backup folder name of letters, digits, \'.\', \'_\' and \'-\'', 'Use a folder name from the backup volume');
    }
    return v;
  },
  deleteOldData: (v, p) => (v === undefined ? undefined : bool(p, v)),
  deleteOldDataFirst: (v, p) => (v === undefined ? undefined : bool(p, v)),
  allowTruncatedHistory: (v, p) => (v === undefined ? undefined : bool(p, v)),
};

/** Checks `addRestore()`'s options as the `restore` prop is checked, under the given name. */
export function checkRestoreOptions(prop: string, options: unknown): RestoreOptions {
  return object<RestoreOptions>(prop, options, RESTORE_KEYS);
}

/** Every prop of the composite, and of its `kubegres` and `restore` objects (for tests and docs). */
export const COMPOSITE_PROPS = {
  top: Object.keys(RULES),
  kubegres: Object.keys(KUBEGRES_KEYS),
  restore: Object.keys(RESTORE_KEYS),
};

/** The composite's props, checked, with every default resolved. */
export interface ResolvedPitr {
  readonly names: Names;
  readonly replicas: number;
  readonly image: PostgresImage;
  readonly preset: InstallPreset;
  readonly walArchive: { size: Size; storageClassName: string; accessMode: kplus.PersistentVolumeAccessMode; claimName: string };
  readonly backup: { size: Size; storageClassName: string; accessMode: kplus.PersistentVolumeAccessMode; claimName: string; cronJobName: string };
  readonly schedule: Cron;
  readonly backupCompression: BackupCompression;
  readonly retention: Duration;
  readonly scriptsConfigMapName: string;
  readonly recoveryConfigMapName: string;
  readonly restorePodName: string;
  readonly dataClaimName: string;
  readonly tlsSecretName?: string;
  readonly serviceAccountName?: string;
  readonly credentialsSecretName: string;
  readonly credentialsSecretKey?: string;
  readonly host: string;
  readonly port: number;
  readonly user?: string;
  readonly kubegres?: {
    databaseStorage: Size;
    databaseStorageClassName: string;
    superUserPasswordKey: string;
    replicationPasswordKey: string;
    resources?: kplus.ContainerResources;
    failoverDisabled: boolean;
  };
  readonly recoveryTarget?: RecoveryTarget;
  readonly restore?: RestoreOptions;
}

/** Checks the composite's props under their own names and resolves every default. */
export function resolveProps(props: EmbeddedPostgresPitrProps): ResolvedPitr {
  if (props === undefined || props === null || typeof props !== 'object' || Array.isArray(props)) {
    throw new Error(`EmbeddedPostgresPitr needs props with the ManagementPlane parameters, got ${show(props)}`);
  }
  const v = object<EmbeddedPostgresPitrProps>('props', props, RULES, '') as any;
  const names = new Names(v.name);
  const image = PostgresImage.of(v.postgresImage, { uid: v.postgresUid });
  const tsb = v.preset === InstallPreset.TSB;
  const cronJobName = v.backupCronJobName ?? names.backupCronJob;
  if (kubegresOwned(names.kubegres, 'CronJob', cronJobName)) {
    invalid('backupCronJobName', cronJobName, 'is the CronJob Kubegres makes from its own spec.backup, and Kubegres deletes any other CronJob of '
      + 'that name', `Leave it unset for '${names.backupCronJob}', or choose another name`);
  }
  const restorePodName = v.restorePodName ?? names.restorePod;
  if (kubegresOwned(names.kubegres, 'Pod', restorePodName)) {
    invalid('restorePodName', restorePodName, 'is the name of a Kubegres instance\'s pod', `Leave it unset for '${names.restorePod}'`);
  }
  if (v.walArchiveStorageAccessMode === kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE_POD) {
    invalid('walArchiveStorageAccessMode', props.walArchiveStorageAccessMode, 'must not be ReadWriteOncePod: the backup job mounts the archive '
      + 'to clean it up and the restore helper to restore from it', 'Use ReadWriteOnce or ReadWriteMany');
  }
  if (v.restore && !v.recoveryTarget) {
    throw new Error('\'restore\' was given without \'recoveryTarget\'. Set recoveryTarget (RecoveryTarget.latest() for the end of the archive)');
  }
  return {
    names,
    replicas: v.replicas,
    image,
    preset: v.preset,
    walArchive: {
      size: v.walArchiveStorageSize,
      storageClassName: v.walArchiveStorageClassName,
      accessMode: v.walArchiveStorageAccessMode,
      claimName: v.walArchiveClaimName ?? names.walArchiveClaim,
    },
    backup: {
      size: v.backupStorageSize,
      storageClassName: v.backupStorageClassName,
      accessMode: v.backupStorageAccessMode,
      claimName: v.backupClaimName ?? names.backupClaim,
      cronJobName,
    },
    schedule: v.backupCronSchedule,
    backupCompression: v.backupCompression,
    retention: v.backupCleanupRetention,
    scriptsConfigMapName: v.scriptsConfigMapName ?? names.scriptsConfigMap,
    recoveryConfigMapName: v.recoveryConfigMapName ?? names.recoveryConfigMap,
    restorePodName,
    dataClaimName: v.dataClaimName ?? kubegresInstance(names.kubegres, 1).dataClaim,
    tlsSecretName: v.tlsSecretName ?? (tsb ? names.tlsSecret : undefined),
    serviceAccountName: v.serviceAccountName ?? (tsb ? names.serviceAccount : undefined),
    credentialsSecretName: v.credentialsSecretName,
    credentialsSecretKey: v.credentialsSecretKey,
    host: v.host ?? names.primaryHost,
    port: v.port,
    user: v.user,
    kubegres: v.kubegres && {
      databaseStorage: v.kubegres.databaseStorageSize,
      databaseStorageClassName: v.kubegres.databaseStorageClassName,
      superUserPasswordKey: v.kubegres.superUserPasswordKey,
      replicationPasswordKey: v.kubegres.replicationPasswordKey,
      resources: v.kubegres.resources,
      failoverDisabled: v.kubegres.failoverDisabled,
    },
    recoveryTarget: v.recoveryTarget,
    restore: v.restore,
  };
}

/** Checks an object against a rule table: no unknown key, every value through its rule (prefixed names inside). */
function object<T>(prop: string, value: any, rules: { [key: string]: (v: any, p: string) => unknown }, prefix = `${prop}.`): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    invalid(prop, value, 'must be an object', `Write it as { ${Object.keys(rules).slice(0, 2).join(': ..., ')}: ... }`);
  }
  const known = Object.keys(rules);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new Error(unknownKey(`${prefix}${key}`, key, known));
    }
  }
  return Object.fromEntries(known.map(k => [k, rules[k](value[k] === null ? undefined : value[k], `${prefix}${k}`)])) as T;
}

function str(prop: string, value: unknown, example?: string): string {
  if (value === undefined || (value === '' && example !== undefined)) {
    invalid(prop, value, 'is required and has no default', `Set it${example ? `, for example ${example}` : ''}`);
  }
  if (typeof value !== 'string') {
    invalid(prop, value, 'must be a string', 'Write it as in the ManagementPlane YAML');
  }
  return value as string;
}

function bool(prop: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    invalid(prop, value, 'must be true or false');
  }
  return value as boolean;
}

function oneOf<T>(prop: string, value: T, allowed: T[], fix: string): T {
  if (!allowed.includes(value)) {
    invalid(prop, value, `must be one of ${allowed.join(', ')}`, `Use ${fix}`);
  }
  return value;
}

function optionalObject(prop: string, value: unknown): unknown {
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    invalid(prop, value, 'must be an object with request and limit', 'Write it like { request: kplus.Cpu.millis(250), limit: kplus.Cpu.units(2) }');
  }
  return value;
}

function optionalName(prop: string, value: unknown): string | undefined {
  return value === undefined ? undefined : checkObjectName(prop, str(prop, value));
}
