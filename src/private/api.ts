/**
 * Internal: the runtime shape of every public props object and argument, for JavaScript callers. TypeScript checks these
 * at compile time; plain JavaScript (and `any`) does not, so each public constructor and static factory checks its
 * arguments here first: an unknown key is an error that names the closest known key, and a value of the wrong kind
 * gets the error a compiler would give (`'target' must be a RecoveryTarget, got "2024-12-04T14:35:00Z"`). The values
 * themselves (name formats, ranges) are checked where they are used, as before.
 *
 * Each table is typed `{ [K in keyof Required<Props>]: Kind }`, so adding a prop without its kind does not compile, and
 * test/api.test.ts checks that every exported interface has a table.
 */
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { invalid, show, unknownKey } from './validate';
// The classes are read only when a check runs, so these modules may import this one in turn.
import { BackupCompression, ZstdCompressionOptions } from '../backup-compression';
import { BaseBackupCronJob, BaseBackupCronJobProps } from '../base-backup-cron-job';
import type { RunbookOptions } from '../embedded-postgres-pitr';
import type { KubegresPostgresProps } from '../kubegres-postgres';
import type { KubegresProps, KubegresSpec, KubegresSpecDatabase, KubegresSpecFailover, KubegresSpecVolume } from '../kubegres-resource';
import type {
  PitrAlertRulesOptions, PitrAlertRulesProps, PrometheusAlertRule, PrometheusRuleGroup, PrometheusRuleProps, PrometheusRuleSpec,
} from '../pitr-alert-rules';
import { PitrScript, PitrScripts, PitrScriptsProps } from '../pitr-scripts';
import { ImageLayout, PostgresImage, PostgresImageOptions } from '../postgres-image';
import { RecoveryConfig, RecoveryConfigProps } from '../recovery-config';
import { RecoveryTarget, RecoveryTargetAction, RecoveryTimeline } from '../recovery-target';
import { RecoveryWindowJobProps, ReportFormat } from '../recovery-window-job';
import type { RestoreDrillCheck, RestoreDrillCronJobProps, RestoreDrillOptions } from '../restore-drill-cron-job';
import { RestoreHelperPodProps, RestoreMode } from '../restore-helper-pod';
import type { RestorePointJobProps } from '../restore-point-job';
import { WalArchive, WalArchiveProps } from '../wal-archive';

/** The kind of one value: a check and how the message names it. */
export interface Kind {
  /** What the value must be, for the message: `a string`, `a Size (Size.gibibytes(10))` (computed when needed). */
  readonly expected: () => string;
  /** Whether the value (never undefined) is of this kind. */
  readonly test: (value: unknown) => boolean;
  /** Whether the prop must be given. */
  readonly required?: boolean;
  /** Checks nested inside the value once its kind is right (an object's own keys). */
  readonly inner?: (value: any, prop: string) => void;
}

/** A table of kinds, one per key of a props interface. */
export type Shape<T> = { readonly [K in keyof Required<T>]: Kind };

const kind = (expected: string, test: (v: unknown) => boolean): Kind => ({ expected: () => expected, test });

/** The kind, and the prop must be given. */
export function required(k: Kind): Kind {
  return { ...k, required: true };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const hasFunction = (v: unknown, name: string) => isObject(v) && typeof (v as any)[name] === 'function';

export const STRING = kind('a string', v => typeof v === 'string');
export const NUMBER = kind('a number', v => typeof v === 'number');
export const BOOLEAN = kind('true or false', v => typeof v === 'boolean');
export const STRING_MAP = kind('an object of string values, such as { app: \'tsb-postgres\' }',
  v => isObject(v) && Object.values(v).every(x => typeof x === 'string'));
export const OBJECT = kind('an object', isObject);

// cdk8s' and cdk8s-plus' types by their members, not instanceof: an app may hold a second copy of those packages.
export const SIZE = kind('a Size (such as Size.gibibytes(10))', v => hasFunction(v, 'toKibibytes'));
export const DURATION = kind('a Duration (such as Duration.seconds(60))', v => hasFunction(v, 'toSeconds'));
export const CRON = kind('a Cron (such as Cron.schedule({ minute: \'0\', hour: \'2\' }))',
  v => isObject(v) && typeof (v as any).expressionString === 'string');
export const SECRET = kind('an ISecret (such as kplus.Secret.fromSecretName(...))', v => isObject(v) && typeof (v as any).name === 'string');
export const CLAIM = kind('an IPersistentVolumeClaim (such as kplus.PersistentVolumeClaim.fromClaimName(...))',
  v => isObject(v) && typeof (v as any).name === 'string');
export const SERVICE_ACCOUNT = kind('an IServiceAccount (such as kplus.ServiceAccount.fromServiceAccountName(...))',
  v => isObject(v) && typeof (v as any).name === 'string');
export const RESOURCES = {
  ...kind('a ContainerResources object ({ cpu: { request, limit }, memory: { request, limit } })', isObject),
  inner: (v: any, p: string) => checkShape(p, v, { cpu: OBJECT, memory: OBJECT }, 'ContainerResources'),
};
export const CONTAINER = kind('a kplus Container', v => v instanceof kplus.Container);
export const CONSTRUCT = kind('a Construct (a Chart, or a construct inside one)', v => Construct.isConstruct(v));

/** One of an enum's values. */
export function oneOf(enumName: string, values: () => object): Kind {
  const all = () => Object.values(values());
  return {
    expected: () => `a ${enumName} (${Object.keys(values()).map(k => `${enumName}.${k}`).join(', ')})`,
    test: v => all().includes(v),
  };
}

/** An instance of one of the library's classes (resolved when checked, so that modules may import each other). */
export function instance(name: string, cls: () => Function, how: string): Kind {
  return kind(`a ${name} (${how})`, v => v instanceof cls());
}

/** An array whose elements are of a kind. */
export function arrayOf(element: Kind): Kind {
  return {
    expected: () => `an array of ${element.expected().replace(/^an? /, '')}s`,
    test: v => Array.isArray(v) && v.every(x => element.test(x)),
    // Each element's own table, named by its index: spec.groups[0].rules[1].alert.
    inner: element.inner ? (v: any[], p: string) => v.forEach((x, i) => element.inner!(x, `${p}[${i}]`)) : undefined,
  };
}

/** A nested props object checked against its own table. */
export function shape<T>(name: string, table: Shape<T>): Kind {
  return { ...kind(`a ${name} object`, isObject), inner: (v: any, p: string) => checkShape(p, v, table as { [key: string]: Kind }, name) };
}

/**
 * Checks a props object from any caller: an object, no unknown key (with the closest known one), every required key
 * given, every given value of its kind. `prefix` names nested keys (`spec.database.size`).
 */
export function checkShape(prop: string, value: unknown, table: { readonly [key: string]: Kind }, name: string, prefix = prop ? `${prop}.` : ''): void {
  if (!isObject(value)) {
    invalid(prop || name, value, `must be a ${name} object`, `Pass { ${Object.keys(table).filter(k => table[k].required).join(', ') || Object.keys(table)[0]}: ... }`);
  }
  const known = Object.keys(table);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new Error(unknownKey(`${prefix}${key}`, key, known, name));
    }
  }
  for (const key of known) {
    const k = table[key];
    const v = value[key];
    if (v === undefined) {
      if (k.required) {
        throw new Error(`'${prefix}${key}' is required by ${name}: pass ${k.expected()}`);
      }
      continue;
    }
    checkKind(`${prefix}${key}`, v, k);
  }
}

/** Checks one argument against its kind. */
export function checkKind(prop: string, value: unknown, k: Kind): void {
  if (value === undefined) {
    if (k.required) {
      throw new Error(`'${prop}' is required: pass ${k.expected()}`);
    }
    return;
  }
  if (!k.test(value)) {
    throw new Error(`'${prop}' must be ${k.expected()}, got ${show(value)}`);
  }
  k.inner?.(value, prop);
}

// The library's own classes and enums, looked up when a check runs.
export const SCRIPTS = instance('PitrScripts', () => PitrScripts, 'the scripts ConfigMap construct');
export const IMAGE = instance('PostgresImage', () => PostgresImage, 'PostgresImage.of(\'postgres:15-bookworm\')');
export const WAL_ARCHIVE = instance('WalArchive', () => WalArchive, 'the WAL archive construct');
export const COMPRESSION = instance('BackupCompression', () => BackupCompression, 'BackupCompression.zstd(), .gzip(), .lz4() or .none()');
export const BASE_BACKUP = instance('BaseBackupCronJob', () => BaseBackupCronJob, 'the base backup construct');
export const RECOVERY_CONFIG = instance('RecoveryConfig', () => RecoveryConfig, 'the recovery settings construct');
export const TARGET = instance('RecoveryTarget', () => RecoveryTarget,
  'RecoveryTarget.time(\'2024-12-04T14:35:00Z\'), .xid(...), .lsn(...), .restorePoint(...), .immediate() or .latest()');
export const TIMELINE = instance('RecoveryTimeline', () => RecoveryTimeline, 'RecoveryTimeline.latest(), .current() or .id(n)');
export const ACTION = oneOf('RecoveryTargetAction', () => RecoveryTargetAction);
export const MODE = oneOf('RestoreMode', () => RestoreMode);
const FORMAT = oneOf('ReportFormat', () => ReportFormat);
export const SCRIPT = oneOf('PitrScript', () => PitrScript);
const LAYOUT = oneOf('ImageLayout', () => ImageLayout);
const PULL_POLICY = oneOf('kplus.ImagePullPolicy', () => kplus.ImagePullPolicy);
const ACCESS_MODE = oneOf('kplus.PersistentVolumeAccessMode', () => kplus.PersistentVolumeAccessMode);

const KUBEGRES_SPEC_DATABASE: Shape<KubegresSpecDatabase> = {
  size: required(STRING),
  storageClassName: STRING,
  volumeMount: STRING,
};

const KUBEGRES_SPEC_VOLUME: Shape<KubegresSpecVolume> = {
  volumes: arrayOf(kind('Volume object', isObject)),
  volumeMounts: arrayOf(kind('VolumeMount object', isObject)),
};

const KUBEGRES_SPEC_FAILOVER: Shape<KubegresSpecFailover> = {
  isDisabled: BOOLEAN,
};

const KUBEGRES_SPEC: Shape<KubegresSpec> = {
  replicas: required(NUMBER),
  image: required(STRING),
  port: NUMBER,
  database: required(shape('KubegresSpecDatabase', KUBEGRES_SPEC_DATABASE)),
  customConfig: STRING,
  env: required(arrayOf(kind('EnvVar object', isObject))),
  volume: shape('KubegresSpecVolume', KUBEGRES_SPEC_VOLUME),
  securityContext: OBJECT,
  containerSecurityContext: OBJECT,
  resources: OBJECT,
  failover: shape('KubegresSpecFailover', KUBEGRES_SPEC_FAILOVER),
};

const PROMETHEUS_ALERT_RULE: Shape<PrometheusAlertRule> = {
  alert: required(STRING),
  expr: required(STRING),
  forDuration: DURATION,
  labels: STRING_MAP,
  annotations: STRING_MAP,
};

const PROMETHEUS_RULE_GROUP: Shape<PrometheusRuleGroup> = {
  name: required(STRING),
  rules: required(arrayOf(shape('PrometheusAlertRule', PROMETHEUS_ALERT_RULE))),
};

const PROMETHEUS_RULE_SPEC: Shape<PrometheusRuleSpec> = {
  groups: required(arrayOf(shape('PrometheusRuleGroup', PROMETHEUS_RULE_GROUP))),
};

const PITR_ALERT_RULES_OPTIONS: Shape<PitrAlertRulesOptions> = {
  ruleName: STRING,
  namespace: STRING,
  ruleLabels: STRING_MAP,
  runbookUrl: STRING,
  backupMaxAge: DURATION,
  restoreDrill: BOOLEAN,
  restoreDrillMaxAge: DURATION,
  volumeUsedPercent: NUMBER,
  volumeFillHorizon: DURATION,
  postgresExporter: BOOLEAN,
  postgresExporterSelector: STRING,
  walArchiveMaxAge: DURATION,
  walReadyBacklog: NUMBER,
};

const RESTORE_DRILL_CHECK: Shape<RestoreDrillCheck> = {
  name: required(STRING),
  sql: required(STRING),
  expected: required(STRING),
  database: STRING,
};

const RESTORE_DRILL_OPTIONS: Shape<RestoreDrillOptions> = {
  schedule: CRON,
  scratchSize: SIZE,
  scratchClaim: CLAIM,
  amcheck: BOOLEAN,
  checks: arrayOf(shape('RestoreDrillCheck', RESTORE_DRILL_CHECK)),
  user: STRING,
  port: NUMBER,
  recoveryTimeout: DURATION,
  checkTimeout: DURATION,
  resources: RESOURCES,
  timeout: DURATION,
};

/** Every public props and options interface with its table (test/api.test.ts checks that none is missing). */
export const API = {
  PitrScriptsProps: {
    deploymentName: required(STRING),
    configMapName: STRING,
    mountPath: STRING,
  } satisfies Shape<PitrScriptsProps>,
  WalArchiveProps: {
    deploymentName: required(STRING),
    scripts: required(SCRIPTS),
    storage: required(SIZE),
    storageClassName: STRING,
    accessMode: ACCESS_MODE,
    claimName: STRING,
    settingsConfigMapName: STRING,
    mountPath: STRING,
    archiveTimeout: DURATION,
    compressSegments: BOOLEAN,
  } satisfies Shape<WalArchiveProps>,
  BaseBackupCronJobProps: {
    deploymentName: required(STRING),
    scripts: required(SCRIPTS),
    storage: required(SIZE),
    storageClassName: STRING,
    accessMode: ACCESS_MODE,
    claimName: STRING,
    cronJobName: STRING,
    schedule: CRON,
    retention: DURATION,
    walArchiveCleanup: BOOLEAN,
    walArchive: WAL_ARCHIVE,
    kubegresName: STRING,
    primaryPodLabels: STRING_MAP,
    image: IMAGE,
    host: STRING,
    port: NUMBER,
    user: STRING,
    passwordSecret: SECRET,
    passwordKey: STRING,
    resources: RESOURCES,
    backoffLimit: NUMBER,
    timeout: DURATION,
    startingDeadline: DURATION,
    compression: COMPRESSION,
  } satisfies Shape<BaseBackupCronJobProps>,
  ZstdCompressionOptions: {
    level: NUMBER,
    workers: NUMBER,
  } satisfies Shape<ZstdCompressionOptions>,
  RecoveryConfigProps: {
    deploymentName: required(STRING),
    scripts: required(SCRIPTS),
    target: TARGET,
    action: ACTION,
    inclusive: BOOLEAN,
    timeline: TIMELINE,
    walArchiveMountPath: STRING,
    configMapName: STRING,
    targetConfigMapName: STRING,
  } satisfies Shape<RecoveryConfigProps>,
  RestoreHelperPodProps: {
    deploymentName: required(STRING),
    scripts: required(SCRIPTS),
    recoveryConfig: RECOVERY_CONFIG,
    mode: MODE,
    backupName: STRING,
    deleteOldData: BOOLEAN,
    deleteOldDataFirst: BOOLEAN,
    primaryHost: STRING,
    primaryPort: NUMBER,
    allowTruncatedHistory: BOOLEAN,
    podName: STRING,
    image: IMAGE,
    dataClaim: CLAIM,
    backupClaim: CLAIM,
    walArchiveClaim: CLAIM,
    backupNamePrefix: STRING,
    tlsSecret: SECRET,
    serviceAccount: SERVICE_ACCOUNT,
    resources: RESOURCES,
  } satisfies Shape<RestoreHelperPodProps>,
  RecoveryWindowJobProps: {
    deploymentName: required(STRING),
    scripts: required(SCRIPTS),
    walArchive: required(WAL_ARCHIVE),
    baseBackup: required(BASE_BACKUP),
    jobName: STRING,
    format: FORMAT,
    image: IMAGE,
    primaryPodLabels: STRING_MAP,
    ttlAfterFinished: DURATION,
  } satisfies Shape<RecoveryWindowJobProps>,
  RestorePointJobProps: {
    deploymentName: required(STRING),
    scripts: required(SCRIPTS),
    restorePointName: STRING,
    cronJobName: STRING,
    host: STRING,
    port: NUMBER,
    user: STRING,
    database: STRING,
    passwordSecret: SECRET,
    passwordKey: STRING,
    archiveWait: DURATION,
    image: IMAGE,
  } satisfies Shape<RestorePointJobProps>,
  KubegresPostgresProps: {
    deploymentName: required(STRING),
    walArchive: required(WAL_ARCHIVE),
    replicas: NUMBER,
    image: IMAGE,
    port: NUMBER,
    databaseStorage: SIZE,
    databaseStorageClassName: STRING,
    databaseUser: STRING,
    credentialsSecret: SECRET,
    superUserPasswordKey: STRING,
    replicationPasswordKey: STRING,
    resourceName: STRING,
    customConfigName: STRING,
    resources: RESOURCES,
    failoverDisabled: BOOLEAN,
    maxConnections: NUMBER,
    sharedBuffers: SIZE,
  } satisfies Shape<KubegresPostgresProps>,
  KubegresProps: {
    metadata: OBJECT,
    spec: required(shape('KubegresSpec', KUBEGRES_SPEC)),
  } satisfies Shape<KubegresProps>,
  KubegresSpec: KUBEGRES_SPEC,
  KubegresSpecDatabase: KUBEGRES_SPEC_DATABASE,
  KubegresSpecVolume: KUBEGRES_SPEC_VOLUME,
  KubegresSpecFailover: KUBEGRES_SPEC_FAILOVER,
  PostgresImageOptions: {
    layout: LAYOUT,
    uid: NUMBER,
    pullPolicy: PULL_POLICY,
  } satisfies Shape<PostgresImageOptions>,
  PrometheusRuleProps: {
    metadata: OBJECT,
    spec: required(shape('PrometheusRuleSpec', PROMETHEUS_RULE_SPEC)),
  } satisfies Shape<PrometheusRuleProps>,
  PrometheusRuleSpec: PROMETHEUS_RULE_SPEC,
  PrometheusRuleGroup: PROMETHEUS_RULE_GROUP,
  PrometheusAlertRule: PROMETHEUS_ALERT_RULE,
  PitrAlertRulesOptions: PITR_ALERT_RULES_OPTIONS,
  PitrAlertRulesProps: {
    ...PITR_ALERT_RULES_OPTIONS,
    deploymentName: required(STRING),
    walArchive: required(WAL_ARCHIVE),
    baseBackup: required(BASE_BACKUP),
  } satisfies Shape<PitrAlertRulesProps>,
  RestoreDrillCheck: RESTORE_DRILL_CHECK,
  RestoreDrillOptions: RESTORE_DRILL_OPTIONS,
  RestoreDrillCronJobProps: {
    ...RESTORE_DRILL_OPTIONS,
    deploymentName: required(STRING),
    scripts: required(SCRIPTS),
    walArchive: required(WAL_ARCHIVE),
    baseBackup: required(BASE_BACKUP),
    image: IMAGE,
    primaryPodLabels: STRING_MAP,
  } satisfies Shape<RestoreDrillCronJobProps>,
  RunbookOptions: {
    namespace: STRING,
    restoreManifest: STRING,
    windowManifest: STRING,
    clientDeployments: arrayOf(STRING),
    kubegresController: STRING,
    kubegresControllerNamespace: STRING,
    kubegresControllerSelector: STRING,
  } satisfies Shape<RunbookOptions>,
};

/** The interfaces the composite checks with its own rule table (src/private/resolve.ts). */
export const COMPOSITE_INTERFACES = ['EmbeddedPostgresPitrProps', 'EmbeddedPostgresPitrOptions', 'ManagementPlaneEmbeddedPostgres',
  'KubegresOptions', 'RestoreOptions'];

/** Checks a construct's props: `checkProps('WalArchiveProps', props)`. */
export function checkProps(name: keyof typeof API, props: unknown): void {
  checkShape('', props, API[name] as { [key: string]: Kind }, String(name));
}

/**
 * Checks a construct's arguments (scope, id and props) before the construct is created, and returns the scope:
 * `super(checkConstruct(scope, id, 'WalArchiveProps', props), id)`.
 */
export function checkConstruct(scope: unknown, id: unknown, name: keyof typeof API, props: unknown): Construct {
  checkKind('scope', scope, required(CONSTRUCT));
  if (typeof id !== 'string' || id.length === 0) {
    invalid('id', id, 'must be a non-empty string', 'Pass the construct\'s id, such as \'pitr\'');
  }
  checkProps(name, props);
  return scope as Construct;
}
