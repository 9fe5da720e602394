/**
 * Internal: every object name of a deployment, in one place (SPEC section 2). Constructs, the runbook and the docs read
 * names from here; no other module builds an object name from the deployment name (a test greps for it).
 *
 * Kubegres owns some names outright (its StatefulSets, pods, Services, data PVCs, the `backup-{kubegres}` CronJob and
 * `base-kubegres-config`): `kubegresOwned` lists them, and no object the library creates may take one.
 */

/** Names of the objects of one deployment, derived from its name (the ManagementPlane's `name`, e.g. `tsb`). */
export class Names {
  /** The Kubegres resource, its custom config ConfigMap and its primary Service. */
  public readonly kubegres: string;
  /** The WAL archive PVC. */
  public readonly walArchiveClaim: string;
  /** The archiving settings ConfigMap. */
  public readonly archivingConfigMap: string;
  /** The backup PVC. */
  public readonly backupClaim: string;
  /** The base backup CronJob: not `backup-{kubegres}`, which Kubegres owns and deletes. */
  public readonly backupCronJob: string;
  /** Prefix of the base backup folders on the backup volume. */
  public readonly backupNamePrefix: string;
  /** The scripts ConfigMap. */
  public readonly scriptsConfigMap: string;
  /** The recovery settings ConfigMap. */
  public readonly recoveryConfigMap: string;
  /** The ConfigMap that gives the target at restore time (`RecoveryTarget.runtime()`), made with kubectl. */
  public readonly restoreTargetConfigMap: string;
  /** The restore helper pod (the reference's name, kept so its `kubectl` commands work). */
  public readonly restorePod: string;
  /** The recoverable-window report Job. */
  public readonly recoveryWindowJob: string;
  /** The restore point CronJob (suspended: a template for `kubectl create job --from=cronjob/...`). */
  public readonly restorePointJob: string;
  /** The TLS Secret of the server (TSB creates it). */
  public readonly tlsSecret: string;
  /** The ServiceAccount of the Kubegres pods in a TSB install. */
  public readonly serviceAccount: string;
  /** The primary's Service, which Kubegres points at the current primary. */
  public readonly primaryHost: string;
  /** The PrometheusRule of the PITR alerts. */
  public readonly pitrAlertRules: string;
  /** The rule group in that PrometheusRule (unique in the Prometheus that loads it). */
  public readonly pitrAlertGroup: string;
  /** The scheduled restore drill CronJob. */
  public readonly restoreDrillCronJob: string;
  /** The ConfigMap of the restore drill's SQL checks. */
  public readonly restoreDrillChecksConfigMap: string;

  constructor(public readonly deployment: string) {
    this.kubegres = `${deployment}-postgres`;
    this.walArchiveClaim = `${this.kubegres}-wal-archive`;
    this.archivingConfigMap = `${this.kubegres}-archiving`;
    this.backupClaim = `${deployment}-backup`;
    this.backupCronJob = `${this.kubegres}-base-backup`;
    this.backupNamePrefix = `${this.kubegres}-base-backup`;
    this.scriptsConfigMap = `${this.kubegres}-pitr-scripts`;
    this.recoveryConfigMap = `${this.kubegres}-recovery`;
    this.restoreTargetConfigMap = `${this.kubegres}-restore-target`;
    this.restorePod = RESTORE_POD;
    this.recoveryWindowJob = `${this.kubegres}-recovery-window`;
    this.restorePointJob = `${this.kubegres}-restore-point`;
    this.tlsSecret = `${this.kubegres}-certs`;
    this.serviceAccount = `${deployment}-kubegres`;
    this.primaryHost = this.kubegres;
    this.pitrAlertRules = `${this.kubegres}-pitr-alerts`;
    this.pitrAlertGroup = `${this.kubegres}-pitr`;
    this.restoreDrillCronJob = `${this.kubegres}-restore-drill`;
    this.restoreDrillChecksConfigMap = `${this.kubegres}-restore-drill-checks`;
  }
}

/** The restore helper pod of the reference design. */
export const RESTORE_POD = 'postgres-restore';
/** The credentials Secret the reference design reads. */
export const CREDENTIALS_SECRET = 'postgres-credentials';
/** Key of the superuser password in the credentials Secret. */
export const SUPERUSER_PASSWORD_KEY = 'embedded-postgres-password';
/** Key of the replication role's password in the credentials Secret. */
export const REPLICATION_PASSWORD_KEY = 'embedded-postgres-replication-password';
/** The ConfigMap Kubegres creates for its base config in every namespace it serves. */
export const KUBEGRES_BASE_CONFIG = 'base-kubegres-config';

/** The StatefulSet, pod and data PVC of Kubegres instance `index` of resource `kubegres`. */
export function kubegresInstance(kubegres: string, index: number): { statefulSet: string; pod: string; dataClaim: string } {
  return { statefulSet: `${kubegres}-${index}`, pod: `${kubegres}-${index}-0`, dataClaim: `postgres-db-${kubegres}-${index}-0` };
}

/** Kubegres' labels of the primary pod of a Kubegres resource. */
export function kubegresPrimaryLabels(kubegres: string): { [key: string]: string } {
  return { app: kubegres, replicationRole: 'primary' };
}

/**
 * Whether Kubegres creates or manages an object of this kind and name for the resource `kubegres` (v1.19): the
 * StatefulSets `K-{n}`, pods `K-{n}-0`, data PVCs `postgres-db-K-{n}-0`, Services `K` and `K-replica`, the CronJob
 * `backup-K` (deleted when it differs from `spec.backup`) and the ConfigMap `base-kubegres-config`.
 * Returns what owns it, or undefined.
 */
export function kubegresOwned(kubegres: string, kind: string, name: string): string | undefined {
  const esc = kubegres.replace(/[.]/g, '\\.');
  const rules: Array<[string, RegExp, string]> = [
    ['StatefulSet', new RegExp(`^${esc}-\\d+$`), 'the StatefulSet of an instance'],
    ['Pod', new RegExp(`^${esc}-\\d+-0$`), 'the pod of an instance'],
    ['PersistentVolumeClaim', new RegExp(`^postgres-db-${esc}-\\d+-0$`), 'the data volume of an instance'],
    ['Service', new RegExp(`^${esc}(-replica)?$`), 'a Service of the primary or the replicas'],
    ['CronJob', new RegExp(`^backup-${esc}$`), 'the CronJob Kubegres makes from spec.backup and deletes when it differs'],
    ['ConfigMap', new RegExp(`^${KUBEGRES_BASE_CONFIG}$`), 'the base config of every Kubegres resource in the namespace'],
  ];
  return rules.find(([k, re]) => k === kind && re.test(name))?.[2];
}
