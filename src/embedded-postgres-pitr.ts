import * as fs from 'fs';
import { Chart, Yaml } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { BaseBackupCronJob } from './base-backup-cron-job';
import { KubegresPostgres } from './kubegres-postgres';
import { EmbeddedPostgresPitrOptions, EmbeddedPostgresPitrProps, InstallPreset, ManagementPlaneEmbeddedPostgres, RestoreOptions } from './management-plane';
import { PitrAlertRules, PitrAlertRulesOptions } from './pitr-alert-rules';
import { PitrScripts } from './pitr-scripts';
import { PostgresImage } from './postgres-image';
import { API, checkKind, checkShape, CONSTRUCT, required, STRING } from './private/api';
import { cronIntervalSeconds } from './private/cron';
import { checkRestoreOptions, MANAGEMENT_PLANE_KEYS, ResolvedPitr, resolveProps } from './private/resolve';
import { renderRunbook } from './private/runbook';
import { invalid, show, unknownKey } from './private/validate';
import { warn, warningsOf } from './private/warnings';
import { RecoveryConfig } from './recovery-config';
import { RecoveryTarget, RecoveryTargetType } from './recovery-target';
import { RecoveryWindowJob } from './recovery-window-job';
import { RestoreDrillCronJob, RestoreDrillOptions } from './restore-drill-cron-job';
import { RestoreHelperPod, RestoreMode } from './restore-helper-pod';
import { RestorePointJob } from './restore-point-job';
import { WalArchive } from './wal-archive';

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
   * The manifest file that holds the restore objects (the recovery ConfigMap and the restore helper), relative to the
   * folder the runbook is run from; keep it out of the always-applied folder (the example uses `on-demand/`).
   * @default 'restore.k8s.yaml'
   */
  readonly restoreManifest?: string;

  /**
   * The manifest file that holds the recoverable-window Job (`addRecoveryWindowReport`).
   * @default 'window.k8s.yaml'
   */
  readonly windowManifest?: string;

  /**
   * Deployments of the applications that write to the database, scaled to zero during the restore and back to the
   * replica counts they had (the reference scales `tsb` and `iam`).
   * @default - `[name, 'iam']`
   */
  readonly clientDeployments?: string[];

  /**
   * The Kubegres controller Deployment.
   * @default 'kubegres-controller-manager'
   */
  readonly kubegresController?: string;

  /**
   * The namespace of the Kubegres controller.
   * @default - `kubegres-system` (upstream's install); the database's namespace with `InstallPreset.TSB`
   */
  readonly kubegresControllerNamespace?: string;

  /**
   * The label selector of the Kubegres controller's pods.
   * @default - `control-plane=controller-manager` (upstream's install); `app=kubegres-controller-manager` with `InstallPreset.TSB`
   */
  readonly kubegresControllerSelector?: string;
}

/**
 * Point-in-Time Recovery for the embedded PostgreSQL of a ManagementPlane: the scripts ConfigMap, the WAL archive,
 * the base backup CronJob and, on request, the recovery ConfigMap and the restore helper pod, named as the reference
 * design names them. It only wires the constructs: every prop is checked first, under its own name.
 */
export class EmbeddedPostgresPitr extends Construct {
  /**
   * Builds the composite from a ManagementPlane YAML file: its `spec.dataStore.embeddedPostgres` block gives the
   * parameters. The file is read with cdk8s' own YAML loader, so no YAML package is needed; it may hold several
   * documents, of which exactly one is the ManagementPlane. An error in the block names the file and the key to edit.
   *
   * @param file path of the YAML file, such as `path.join(__dirname, 'managementplane.yaml')`
   * @param options the library's own options (image, names, restore)
   */
  public static fromManagementPlaneFile(scope: Construct, id: string, file: string, options: EmbeddedPostgresPitrOptions = {}): EmbeddedPostgresPitr {
    checkKind('file', file, required(STRING));
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
      invalid('file', file, 'must be a ManagementPlane YAML file, and there is no such file',
        'Give its path, such as path.join(__dirname, \'managementplane.yaml\')');
    }
    const planes = Yaml.load(file).filter(doc => doc?.kind === 'ManagementPlane' || doc?.spec?.dataStore?.embeddedPostgres !== undefined);
    if (planes.length !== 1) {
      throw new Error(`${file}: holds ${planes.length} ManagementPlane documents, expected one with spec.dataStore.embeddedPostgres`);
    }
    return fromManifest(scope, id, planes[0], options, file);
  }

  /**
   * Builds the composite from a parsed ManagementPlane object (`spec.dataStore.embeddedPostgres`), such as
   * `yaml.parse(...)` of its YAML. An error in the block names the key to edit.
   *
   * @param manifest the ManagementPlane, as parsed from YAML or JSON
   * @param options the library's own options (image, names, restore)
   */
  public static fromManagementPlane(scope: Construct, id: string, manifest: any, options: EmbeddedPostgresPitrOptions = {}): EmbeddedPostgresPitr {
    if (typeof manifest === 'string') {
      throw new Error('fromManagementPlane() got a string: pass the parsed ManagementPlane object, for example '
        + 'yaml.parse(fs.readFileSync(\'managementplane.yaml\', \'utf8\')) with the \'yaml\' package, or use '
        + 'EmbeddedPostgresPitr.fromManagementPlaneFile(scope, id, \'managementplane.yaml\') to read the file');
    }
    return fromManifest(scope, id, manifest, options);
  }

  /** Deployment name. */
  public readonly name: string;
  /** PostgreSQL instances. */
  public readonly replicas: number;
  /** The PostgreSQL image of every pod. */
  public readonly postgresImage: PostgresImage;
  /** Which install the consumed objects follow. */
  public readonly preset: InstallPreset;
  /** The scripts ConfigMap. */
  public readonly scripts: PitrScripts;
  /** The WAL archive. */
  public readonly walArchive: WalArchive;
  /** The base backups. */
  public readonly baseBackup: BaseBackupCronJob;
  /** The Kubegres resource and its custom config, when `kubegres` is set. */
  public readonly kubegres?: KubegresPostgres;

  private readonly resolved: ResolvedPitr;
  private readonly credentials: kplus.ISecret;
  private restore?: { config: RecoveryConfig; helper: RestoreHelperPod };

  constructor(scope: Construct, id: string, props: EmbeddedPostgresPitrProps) {
    super(checkScope(scope, id), id);
    const r = resolveProps(props);
    this.resolved = r;
    this.name = r.names.deployment;
    this.replicas = r.replicas;
    this.postgresImage = r.image;
    this.preset = r.preset;

    this.scripts = new PitrScripts(this, 'Scripts', { deploymentName: this.name, configMapName: r.scriptsConfigMapName });
    this.walArchive = new WalArchive(this, 'WalArchive', {
      deploymentName: this.name,
      scripts: this.scripts,
      storage: r.walArchive.size,
      storageClassName: r.walArchive.storageClassName,
      accessMode: r.walArchive.accessMode,
      claimName: r.walArchive.claimName,
    });
    this.credentials = kplus.Secret.fromSecretName(this, 'Credentials', r.credentialsSecretName);
    if (r.kubegres) {
      this.kubegres = new KubegresPostgres(this, 'Kubegres', {
        deploymentName: this.name,
        walArchive: this.walArchive,
        replicas: this.replicas,
        image: this.postgresImage,
        port: r.port,
        databaseStorage: r.kubegres.databaseStorage,
        databaseStorageClassName: r.kubegres.databaseStorageClassName,
        databaseUser: r.user,
        credentialsSecret: this.credentials,
        superUserPasswordKey: r.kubegres.superUserPasswordKey,
        replicationPasswordKey: r.kubegres.replicationPasswordKey,
        resources: r.kubegres.resources,
        failoverDisabled: r.kubegres.failoverDisabled,
      });
    }
    this.baseBackup = new BaseBackupCronJob(this, 'BaseBackup', {
      deploymentName: this.name,
      scripts: this.scripts,
      storage: r.backup.size,
      storageClassName: r.backup.storageClassName,
      accessMode: r.backup.accessMode,
      claimName: r.backup.claimName,
      cronJobName: r.backup.cronJobName,
      schedule: r.schedule,
      retention: r.retention,
      compression: r.backupCompression,
      walArchive: this.walArchive,
      image: this.postgresImage,
      host: r.host,
      port: r.port,
      user: this.kubegres ? this.kubegres.backupRole : r.user,
      passwordSecret: this.credentials,
      passwordKey: r.credentialsSecretKey ?? this.kubegres?.replicationPasswordKey,
    });

    // With Kubegres, its construct refuses a ReadWriteOnce archive for several instances.
    if (!this.kubegres && this.replicas > 1 && r.walArchive.accessMode === kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE) {
      warn(this, 'archive-read-write-once', `replicas is ${this.replicas} and walArchiveStorageAccessMode is ReadWriteOnce: only the primary archives WAL, but a volume `
        + 'mounted into every database pod attaches to one node only, so pods on other nodes cannot start. '
        + 'Use walArchiveStorageAccessMode: ReadWriteMany, or keep all database pods on one node.');
    }
    const interval = cronIntervalSeconds(r.schedule.expressionString);
    const retention = r.retention.toSeconds();
    if (interval !== undefined && retention < interval) {
      warn(this, 'retention-below-interval', `backupCleanupRetention (${retention}s) is shorter than the interval between backups (${interval}s) of `
        + `'${r.schedule.expressionString}', so at most one backup is kept and the recoverable window starts at the newest backup. `
        + `Use a retention of at least ${interval}s (better several intervals).`);
    }

    if (r.recoveryTarget) {
      this.addRestore(r.recoveryTarget, r.restore);
    }
  }

  /** The recovery settings, once a restore is added. */
  public get recoveryConfig(): RecoveryConfig | undefined {
    return this.restore?.config;
  }

  /** The restore helper, once a restore is added. */
  public get restoreHelper(): RestoreHelperPod | undefined {
    return this.restore?.helper;
  }

  /**
   * Adds the recovery ConfigMap (`{name}-postgres-recovery`) and the restore helper pod (`postgres-restore`) for a target.
   * A deployment has one restore.
   *
   * @param target where recovery stops
   * @param options how the restore is set up
   * @param scope where the two objects go: a separate chart that is applied only while restoring
   *   (default: this construct, so the same chart)
   */
  public addRestore(target: RecoveryTarget, options: RestoreOptions = {}, scope?: Construct): RestoreHelperPod {
    if (!(target instanceof RecoveryTarget)) {
      throw new Error(`addRestore() takes a RecoveryTarget as its first argument, got ${show(target)}. `
        + 'Build it with RecoveryTarget.time(\'2024-12-04T14:35:00Z\'), .xid(...), .lsn(...), .restorePoint(...), .immediate() or .latest()');
    }
    checkRestoreOptions('options', options);
    checkKind('scope', scope, CONSTRUCT);
    if (this.restore) {
      throw new Error(`A restore is already set up (target ${this.restore.config.target}); a deployment has one restore helper. `
        + 'Synthesize another chart for another target');
    }
    const where = scope ?? this;
    const r = this.resolved;
    const config = new RecoveryConfig(where, 'Recovery', {
      deploymentName: this.name,
      scripts: this.scripts,
      target,
      action: options.action,
      inclusive: options.inclusive,
      timeline: options.timeline,
      walArchiveMountPath: this.walArchive.mountPath,
      configMapName: r.recoveryConfigMapName,
    });
    const claim = (cid: string, name: string) => kplus.PersistentVolumeClaim.fromClaimName(where, `${cid}Claim`, name);
    const helper = new RestoreHelperPod(where, 'RestoreHelper', {
      deploymentName: this.name,
      scripts: this.scripts,
      recoveryConfig: config,
      mode: options.mode,
      backupName: options.backupName,
      deleteOldData: options.deleteOldData,
      deleteOldDataFirst: options.deleteOldDataFirst,
      allowTruncatedHistory: options.allowTruncatedHistory,
      ...(options.mode === RestoreMode.AUTOMATIC ? { primaryHost: r.host, primaryPort: r.port } : {}),
      podName: r.restorePodName,
      image: this.postgresImage,
      dataClaim: claim('RestoreData', r.dataClaimName),
      backupClaim: this.baseBackup.claim,
      walArchiveClaim: this.walArchive.claim,
      backupNamePrefix: this.baseBackup.backupNamePrefix,
      tlsSecret: r.tlsSecretName ? kplus.Secret.fromSecretName(where, 'RestoreTls', r.tlsSecretName) : undefined,
      serviceAccount: r.serviceAccountName ? kplus.ServiceAccount.fromServiceAccountName(where, 'RestoreServiceAccount', r.serviceAccountName) : undefined,
    });
    this.restore = { config, helper };
    return helper;
  }

  /**
   * Adds a one-shot Job that prints the recoverable window (backups, earliest and latest recoverable time, WAL gaps).
   *
   * @param scope where the Job goes (default: this construct); one report per scope
   */
  public addRecoveryWindowReport(scope?: Construct): RecoveryWindowJob {
    checkKind('scope', scope, CONSTRUCT);
    const where = scope ?? this;
    if (where.node.tryFindChild('RecoveryWindow')) {
      throw new Error('addRecoveryWindowReport() was already called for this scope: one recoverable-window Job per scope. '
        + 'Apply the same Job again (kubectl delete, then apply) to run it again');
    }
    return new RecoveryWindowJob(where, 'RecoveryWindow', {
      deploymentName: this.name,
      scripts: this.scripts,
      walArchive: this.walArchive,
      baseBackup: this.baseBackup,
      image: this.postgresImage,
    });
  }

  /**
   * Adds the restore point CronJob (`{name}-postgres-restore-point`): suspended, it never runs by itself and is the
   * template of `kubectl create job --from=cronjob/{name}-postgres-restore-point <point-name>`, which creates the restore
   * point `<point-name>` before a risky change, as often as needed. Harmless to apply, so it belongs with the
   * always-applied objects.
   *
   * @param scope where the CronJob goes (default: this construct); one per scope
   */
  public addRestorePoint(scope?: Construct): RestorePointJob {
    const where = scope ?? this;
    if (scope !== undefined && !(scope instanceof Construct)) {
      throw new Error(`addRestorePoint() takes an optional scope (a Construct), got ${show(scope)}. The restore point's name is given at run time: `
        + `kubectl create job --from=cronjob/${this.resolved.names.restorePointJob} <point-name>`);
    }
    if (where.node.tryFindChild('RestorePoint')) {
      throw new Error('addRestorePoint() was already called for this scope: one restore point CronJob serves every restore point '
        + `(kubectl create job --from=cronjob/${this.resolved.names.restorePointJob} <point-name>)`);
    }
    return new RestorePointJob(where, 'RestorePoint', {
      deploymentName: this.name,
      scripts: this.scripts,
      host: this.baseBackup.host,
      port: this.baseBackup.port,
      user: this.kubegres?.databaseUser ?? this.resolved.user,
      passwordSecret: this.credentials,
      passwordKey: this.kubegres?.superUserPasswordKey ?? this.resolved.credentialsSecretKey,
      image: this.postgresImage,
    });
  }

  /**
   * A Markdown runbook with the exact commands of a restore of this deployment: record and stop the writers, the backup
   * CronJob and the Kubegres controller, find the current primary's volume, restore into it, start the primary, rebuild
   * the replicas, check, and put everything back as it was.
   */
  public runbook(options: RunbookOptions = {}): string {
    checkShape('options', options, API.RunbookOptions, 'RunbookOptions');
    const r = this.resolved;
    const tsb = this.preset === InstallPreset.TSB;
    const namespace = options.namespace ?? Chart.of(this).namespace ?? 'default';
    return renderRunbook({
      deployment: this.name,
      namespace,
      kubegres: this.kubegres?.resourceName ?? r.names.kubegres,
      replicas: this.replicas,
      walArchiveClaim: this.walArchive.claimName,
      backupClaim: this.baseBackup.claimName,
      backupCronJob: this.baseBackup.cronJobName,
      recoveryWindowJob: r.names.recoveryWindowJob,
      restorePod: this.restoreHelper?.podName ?? r.restorePodName,
      restoreDataClaim: this.restoreHelper?.dataClaimName ?? r.dataClaimName,
      automatic: this.restoreHelper?.mode === RestoreMode.AUTOMATIC,
      target: this.recoveryConfig?.target.toString(),
      targetConfigMap: this.recoveryConfig?.target.type === RecoveryTargetType.RUNTIME ? this.recoveryConfig.targetConfigMapName : undefined,
      restoreManifest: options.restoreManifest ?? 'restore.k8s.yaml',
      windowManifest: options.windowManifest ?? 'window.k8s.yaml',
      clientDeployments: options.clientDeployments ?? [this.name, 'iam'],
      controller: options.kubegresController ?? 'kubegres-controller-manager',
      controllerNamespace: options.kubegresControllerNamespace ?? (tsb ? namespace : 'kubegres-system'),
      controllerSelector: options.kubegresControllerSelector ?? (tsb ? 'app=kubegres-controller-manager' : 'control-plane=controller-manager'),
    });
  }

  /** The synth-time warnings of this deployment. */
  public get warnings(): string[] {
    return warningsOf(this);
  }

  /**
   * Adds Prometheus alert rules (a `PrometheusRule`) for the backups, the archive and backup volumes and, as the
   * options say, the restore drill and postgres_exporter's archiver metrics.
   *
   * @param options thresholds, the runbook link and the optional rule sets
   * @param scope where the PrometheusRule goes (default: this construct); one per scope
   */
  public addAlertRules(options: PitrAlertRulesOptions = {}, scope?: Construct): PitrAlertRules {
    checkShape('options', options, API.PitrAlertRulesOptions, 'PitrAlertRulesOptions');
    checkKind('scope', scope, CONSTRUCT);
    const where = scope ?? this;
    if (where.node.tryFindChild('AlertRules')) {
      throw new Error('addAlertRules() was already called for this scope: one PrometheusRule per scope. Give all options in one call');
    }
    return new PitrAlertRules(where, 'AlertRules', {
      ...options,
      deploymentName: this.name,
      walArchive: this.walArchive,
      baseBackup: this.baseBackup,
    });
  }

  /**
   * Adds the scheduled restore drill (`{name}-postgres-restore-drill`): a CronJob that restores the newest backup and
   * the archive into scratch space, starts a server of its own there, checks it and prints one JSON line; a failure
   * fails the Job. Pair it with `addAlertRules({ restoreDrill: true })`.
   *
   * @param options schedule, scratch space, checks
   * @param scope where the CronJob goes (default: this construct); one per scope
   */
  public addRestoreDrill(options: RestoreDrillOptions = {}, scope?: Construct): RestoreDrillCronJob {
    checkShape('options', options, API.RestoreDrillOptions, 'RestoreDrillOptions');
    checkKind('scope', scope, CONSTRUCT);
    const where = scope ?? this;
    if (where.node.tryFindChild('RestoreDrill')) {
      throw new Error('addRestoreDrill() was already called for this scope: one restore drill CronJob per scope. Give all options in one call');
    }
    return new RestoreDrillCronJob(where, 'RestoreDrill', {
      ...options,
      user: options.user ?? this.kubegres?.databaseUser ?? this.resolved.user,
      deploymentName: this.name,
      scripts: this.scripts,
      walArchive: this.walArchive,
      baseBackup: this.baseBackup,
      image: this.postgresImage,
    });
  }
}

/** Checks a construct's scope and id, and returns the scope. */
function checkScope(scope: unknown, id: unknown): Construct {
  checkKind('scope', scope, required(CONSTRUCT));
  if (typeof id !== 'string' || id.length === 0) {
    invalid('id', id, 'must be a non-empty string', 'Pass the construct\'s id, such as \'pitr\'');
  }
  return scope as Construct;
}

/**
 * The composite from a parsed ManagementPlane. An error about one of its parameters is rewritten for the YAML user:
 * it names the key where it is written (`spec.dataStore.embeddedPostgres.backupStorageSize`) and the file.
 */
function fromManifest(scope: Construct, id: string, manifest: any, options: EmbeddedPostgresPitrOptions, file?: string): EmbeddedPostgresPitr {
  const where = file ? `${file}: ` : '';
  const ep = manifest?.spec?.dataStore?.embeddedPostgres;
  if (ep === undefined || ep === null || typeof ep !== 'object' || Array.isArray(ep)) {
    throw new Error(`${where}The ManagementPlane has no 'spec.dataStore.embeddedPostgres' object (got ${show(ep)}). `
      + 'Pass the parsed ManagementPlane resource whose spec.dataStore.embeddedPostgres holds name, walArchiveStorageSize and backupStorageSize');
  }
  for (const key of Object.keys(ep)) {
    if (!(MANAGEMENT_PLANE_KEYS as readonly string[]).includes(key)) {
      throw new Error(where + unknownKey(`spec.dataStore.embeddedPostgres.${key}`, key, MANAGEMENT_PLANE_KEYS));
    }
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    invalid('options', options, 'must be an object of EmbeddedPostgresPitrOptions', 'Pass { kubegres: {} } or leave it out');
  }
  for (const key of Object.keys(options)) {
    if ((MANAGEMENT_PLANE_KEYS as readonly string[]).includes(key)) {
      throw new Error(`'${key}' is a ManagementPlane parameter: set it in spec.dataStore.embeddedPostgres, not in the options`);
    }
  }
  const params = Object.fromEntries(Object.entries(ep).filter(([, v]) => v !== null)) as unknown as ManagementPlaneEmbeddedPostgres;
  try {
    return new EmbeddedPostgresPitr(scope, id, { ...options, ...params });
  } catch (e) {
    const m = e instanceof Error ? /^'([A-Za-z]+)' ([^]*)$/.exec(e.message) : null;
    if (m && (MANAGEMENT_PLANE_KEYS as readonly string[]).includes(m[1])) {
      throw new Error(`${where}'spec.dataStore.embeddedPostgres.${m[1]}' ${m[2]}`);
    }
    throw e;
  }
}
