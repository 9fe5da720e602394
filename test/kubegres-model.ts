/**
 * A model of what the Kubegres operator renders and does, so tests can run a database the way Kubegres would.
 * Every fact cites its file in reactive-tech/kubegres at commit 4d08d616066b (tag v1.19). Short names:
 * `T/` = internal/controller/spec/template/, `Y/` = T/yaml/, `E/` = internal/controller/spec/enforcer/,
 * `S/` = E/resources_count_spec/statefulset/, `C` = internal/controller/ctx/KubegresContext.go.
 * This is our own code: the behaviour is modelled, and no Kubegres code or templates are copied.
 */

/** The Kubegres release and commit this model was checked against. */
export const KUBEGRES_VERSION = 'v1.19 (reactive-tech/kubegres 4d08d616066b)';

/** Names and defaults fixed by Kubegres (`C`; defaults are from defaultspec/UndefinedSpecValuesChecker.go). */
export const KUBEGRES_CONSTANTS = {
  baseConfigMap: 'base-kubegres-config',
  baseConfigVolume: 'base-config',
  customConfigVolume: 'custom-config',
  dataVolume: 'postgres-db',
  cronJobPrefix: 'backup-',
  defaultPort: 5432,
  defaultVolumeMount: '/var/lib/postgresql/data',
  pgdataFolder: 'pgdata',
  replicationRole: 'replication',
  apiVersion: 'kubegres.reactive-tech.io/v1',
} as const;

const K = KUBEGRES_CONSTANTS;
const MODE_0777 = 0o777; // `defaultMode: 0777` in Y/*StatefulSetTemplate.yaml (octal, i.e. 511)

/** Options of `renderInstance` for what Kubegres reads from the cluster rather than from the resource. */
export interface RenderOptions {
  /** Namespace, when the resource has no `metadata.namespace`. */
  readonly namespace?: string;
  /**
   * `data` of the ConfigMap named by `spec.customConfig`, as deployed. Required when that name is not
   * `base-kubegres-config`: Kubegres refuses a custom config that is not deployed (checker/SpecChecker.go), and only
   * keys with a non-empty value override the base ones (states/ConfigStates.go).
   */
  readonly customConfigData?: Record<string, string>;
  /** The cluster's default StorageClass, used when `spec.database.storageClassName` is empty (defaultspec/). */
  readonly defaultStorageClassName?: string;
  /** Render a replica StatefulSet after failover promoted it (S/failover/PrimaryToReplicaFailOver.go). */
  readonly promoted?: boolean;
}

/**
 * The spec errors that make Kubegres refuse to do anything for the resource (checker/SpecChecker.go logs a fatal
 * `SpecCheckErr` and reconciles nothing). Empty when Kubegres would go ahead.
 */
export function kubegresSpecErrors(kubegres: any, opts: RenderOptions = {}): string[] {
  const spec = kubegres?.spec ?? {};
  const errors: string[] = [];
  const env: any[] = spec.env ?? [];
  const reserved = (n: string) => [K.dataVolume, K.baseConfigVolume, K.customConfigVolume].includes(n as any) || n.includes('kube-api');
  if (!spec.database?.size) errors.push('spec.database.size is undefined');
  const cc = spec.customConfig;
  if (cc && cc !== K.baseConfigMap && !opts.customConfigData) errors.push(`spec.customConfig '${cc}' is not deployed`);
  for (const e of ['POSTGRES_PASSWORD', 'POSTGRES_REPLICATION_PASSWORD']) {
    if (!env.some(v => v.name === e)) errors.push(`spec.env.${e} is undefined`);
  }
  if (!(spec.replicas > 0)) errors.push('spec.replicas is undefined (0 and negative values are refused)');
  if (!spec.image) errors.push('spec.image is undefined');
  if (spec.backup?.schedule && !spec.backup.volumeMount) errors.push('spec.Backup.VolumeMount is undefined');
  if (spec.backup?.schedule && !spec.backup.pvcName) errors.push('spec.Backup.PvcName is undefined');
  const vol = spec.volume ?? {};
  for (const [field, list] of [['VolumeClaimTemplates', vol.volumeClaimTemplates], ['Volumes', vol.volumes], ['VolumeMounts', vol.volumeMounts]] as const) {
    for (const v of (list ?? []) as any[]) if (reserved(v.name)) errors.push(`spec.Volume.${field} uses the reserved name ${v.name}`);
  }
  const dbMount = spec.database?.volumeMount || K.defaultVolumeMount;
  if ((vol.volumeMounts ?? []).some((m: any) => m.mountPath === dbMount)) errors.push(`spec.Volume.VolumeMounts mounts at ${dbMount}`);
  return errors;
}

/** Names of instance `index` (`C` GetStatefulSetResourceName; StatefulSet naming for the pod and the PVC). */
export function instanceNames(kubegresName: string, index: number): { statefulSet: string; pod: string; dataClaim: string } {
  const statefulSet = `${kubegresName}-${index}`;
  return { statefulSet, pod: `${statefulSet}-0`, dataClaim: `${K.dataVolume}-${statefulSet}-0` };
}

/**
 * Every object name Kubegres creates or manages for a resource, for instance indexes 1..maxIndex: StatefulSets, pods
 * and data PVCs (plus `{claim}-{K}-{n}-0` for each name in `extraClaimTemplates`, i.e. `spec.volume.volumeClaimTemplates`),
 * the Services `K` (made once the primary is ready) and `K-replica` (once a replica is ready; ServicesCountSpecEnforcer.go),
 * the backup CronJob `backup-K` (BackUpStates.go) and the per-namespace `base-kubegres-config` (shared by every
 * Kubegres in the namespace, no owner reference, never deleted). Kubegres never deletes a PVC.
 */
export function kubegresOwnedNames(kubegresName: string, maxIndex: number, extraClaimTemplates: string[] = []): { kind: string; name: string }[] {
  const out: { kind: string; name: string }[] = [];
  for (let i = 1; i <= maxIndex; i++) {
    const n = instanceNames(kubegresName, i);
    out.push({ kind: 'StatefulSet', name: n.statefulSet }, { kind: 'Pod', name: n.pod }, { kind: 'PersistentVolumeClaim', name: n.dataClaim });
    for (const c of extraClaimTemplates) out.push({ kind: 'PersistentVolumeClaim', name: `${c}-${n.statefulSet}-0` });
  }
  out.push({ kind: 'Service', name: kubegresName }, { kind: 'Service', name: `${kubegresName}-replica` },
    { kind: 'CronJob', name: `${K.cronJobPrefix}${kubegresName}` }, { kind: 'ConfigMap', name: K.baseConfigMap });
  return out;
}

/** The postgres container's args (Y/PrimaryStatefulSetTemplate.yaml, Y/ReplicaStatefulSetTemplate.yaml). */
export const POSTGRES_ARGS = ['-c', 'config_file=/etc/postgres.conf', '-c', 'hba_file=/etc/pg_hba.conf'];

const probe = (failureThreshold: number, initialDelaySeconds: number, periodSeconds: number, timeoutSeconds: number) => ({
  exec: { command: ['sh', '-c', 'exec pg_isready -U postgres -h $POD_IP'] },
  failureThreshold,
  initialDelaySeconds,
  periodSeconds,
  successThreshold: 1,
  timeoutSeconds,
});

const subPathMount = (name: string, mountPath: string, subPath: string) => ({ name, mountPath, subPath });

/**
 * The StatefulSet Kubegres v1.19 creates for instance `index` of `kubegres` (a Kubegres object as synthesized).
 * Follows T/ResourcesCreatorFromTemplate.go (initStatefulSet, Create{Primary,Replica}StatefulSet), the two
 * Y/*StatefulSetTemplate.yaml and T/CustomConfigSpecHelper.go. Throws when Kubegres would refuse the spec.
 *
 * Config keys: `postgres.conf` (at /etc/postgres.conf) and `pg_hba.conf` (/etc/pg_hba.conf) in every instance, and on
 * the primary `primary_init_script.sh` (/docker-entrypoint-initdb.d/), come from the `custom-config` volume when the
 * custom ConfigMap has that key non-empty, otherwise from `base-config`; all are single-file `subPath` mounts, so a
 * ConfigMap edit never reaches a running pod (and Kubegres does not watch ConfigMaps: kubegres_controller.go).
 * `primary_create_replication_role.sh` (primary) and `copy_primary_data_to_replica.sh` (replica init) always come
 * from `base-config`; `backup_database.sh` only concerns the CronJob.
 */
export function renderInstance(kubegres: any, index: number, role: 'primary' | 'replica', opts: RenderOptions = {}): any {
  const errors = kubegresSpecErrors(kubegres, opts);
  if (errors.length) throw new Error(`Kubegres would refuse this resource: ${errors.join('; ')}`);
  if (opts.promoted && role !== 'primary') throw new Error('promoted applies to role primary');
  const name: string = kubegres.metadata.name;
  const namespace: string | undefined = kubegres.metadata.namespace ?? opts.namespace;
  const ns = namespace ? { namespace } : {};
  const spec = kubegres.spec;
  const env: any[] = spec.env ?? [];
  const port: number = spec.port > 0 ? spec.port : K.defaultPort;
  const dbMount: string = spec.database.volumeMount || K.defaultVolumeMount;
  const pgdata = `${dbMount}/${K.pgdataFolder}`; // PGDATA env (initStatefulSet; DefaultDatabaseFolder in C)
  const customName: string = spec.customConfig || K.baseConfigMap;
  const custom = customName !== K.baseConfigMap ? opts.customConfigData : undefined;
  const from = (key: string) => (custom?.[key] ? K.customConfigVolume : K.baseConfigVolume);
  const startsAsReplica = role === 'replica' || opts.promoted === true; // a promoted primary keeps its replica template
  const index_ = String(index);
  const n = instanceNames(name, index);
  const annotations = Object.fromEntries(Object.entries(kubegres.metadata.annotations ?? {})
    .filter(([k]) => k !== 'kubectl.kubernetes.io/last-applied-configuration'));
  const withAnnotations = (o: any) => (Object.keys(annotations).length ? { ...o, annotations } : o);

  const mounts: any[] = [{ name: K.dataVolume, mountPath: dbMount }];
  if (!startsAsReplica) {
    mounts.push(subPathMount(K.baseConfigVolume, '/docker-entrypoint-initdb.d/primary_create_replication_role.sh', 'primary_create_replication_role.sh'));
  }
  mounts.push(subPathMount(from('postgres.conf'), '/etc/postgres.conf', 'postgres.conf'));
  if (!startsAsReplica) mounts.push(subPathMount(from('primary_init_script.sh'), '/docker-entrypoint-initdb.d/primary_init_script.sh', 'primary_init_script.sh'));
  mounts.push(subPathMount(from('pg_hba.conf'), '/etc/pg_hba.conf', 'pg_hba.conf'), ...(spec.volume?.volumeMounts ?? []));
  if (opts.promoted) mounts.push(KUBEGRES_PROMOTION.scriptMount);

  const container: any = {
    name: n.statefulSet,
    image: spec.image,
    imagePullPolicy: 'IfNotPresent',
    args: POSTGRES_ARGS,
    ports: [{ containerPort: port, protocol: 'TCP' }],
    env: [{ name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } }, { name: 'PGDATA', value: pgdata }, ...env],
    livenessProbe: spec.probe?.livenessProbe ?? probe(10, 60, 20, 15),
    readinessProbe: spec.probe?.readinessProbe ?? probe(3, 5, 10, 3),
    volumeMounts: mounts,
  };
  if (spec.resources?.requests || spec.resources?.limits) container.resources = spec.resources; // postgres container only
  if (spec.containerSecurityContext) container.securityContext = spec.containerSecurityContext;
  if (opts.promoted) container.lifecycle = { postStart: { exec: { command: KUBEGRES_PROMOTION.command } } };

  // base-config, then spec.volume.volumes, then custom-config (CustomConfigSpecHelper removes the template's
  // placeholder and appends it only if the custom ConfigMap is deployed).
  const baseVolume = { name: K.baseConfigVolume, configMap: { name: K.baseConfigMap, defaultMode: MODE_0777 } };
  const volumes: any[] = [baseVolume, ...(spec.volume?.volumes ?? [])];
  if (custom) volumes.push({ name: K.customConfigVolume, configMap: { name: customName, defaultMode: MODE_0777 } });

  const podSpec: any = { terminationGracePeriodSeconds: 10, volumes };
  if (spec.imagePullSecrets) podSpec.imagePullSecrets = spec.imagePullSecrets;
  if (startsAsReplica) {
    const replPsw = env.find(e => e.name === 'POSTGRES_REPLICATION_PASSWORD');
    const init: any = {
      name: 'setup-replica-data-directory',
      image: spec.image,
      imagePullPolicy: 'IfNotPresent',
      // only valueFrom is copied: a literal `value` leaves PGPASSWORD empty (CreateReplicaStatefulSet)
      env: [
        { name: 'PRIMARY_HOST_NAME', value: name },
        replPsw?.valueFrom ? { name: 'PGPASSWORD', valueFrom: replPsw.valueFrom } : { name: 'PGPASSWORD' },
        { name: 'PGDATA', value: pgdata },
      ],
      command: ['sh', '-c', '/tmp/copy_primary_data_to_replica.sh'],
      volumeMounts: [{ name: K.dataVolume, mountPath: dbMount }, subPathMount(K.baseConfigVolume, '/tmp/copy_primary_data_to_replica.sh', 'copy_primary_data_to_replica.sh')],
    };
    if (spec.containerSecurityContext) init.securityContext = spec.containerSecurityContext;
    podSpec.initContainers = [init];
  }
  podSpec.containers = [container];
  podSpec.affinity = spec.scheduler?.affinity ?? defaultAffinity(name);
  if (spec.scheduler?.tolerations?.length) podSpec.tolerations = spec.scheduler.tolerations;
  if (spec.securityContext) podSpec.securityContext = spec.securityContext; // copied verbatim, never validated
  if (spec.serviceAccountName) podSpec.serviceAccountName = spec.serviceAccountName;

  const storageClassName = spec.database.storageClassName || opts.defaultStorageClassName;
  const labels = { app: name, index: index_, replicationRole: role };
  const uid = kubegres.metadata.uid ? { uid: kubegres.metadata.uid } : {};
  const ownerReferences = [{ apiVersion: K.apiVersion, kind: 'Kubegres', name, ...uid, controller: true, blockOwnerDeletion: true }];
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: withAnnotations({ name: n.statefulSet, ...ns, labels, ownerReferences }),
    spec: {
      serviceName: startsAsReplica ? `${name}-replica` : name,
      replicas: 1,
      selector: { matchLabels: { app: name, index: index_ } }, // replicationRole is not in the selector
      volumeClaimTemplates: [
        { metadata: { name: K.dataVolume }, spec: { accessModes: ['ReadWriteOnce'], ...(storageClassName ? { storageClassName } : {}), resources: { requests: { storage: spec.database.size } } } },
        ...(spec.volume?.volumeClaimTemplates ?? []).map((t: any) => ({ metadata: { name: t.name, ...ns }, spec: t.spec })),
      ],
      template: { metadata: withAnnotations({ labels: { ...labels } }), spec: podSpec },
    },
  };
}

/** The anti-affinity Kubegres writes into `spec.scheduler.affinity` when it is empty (UndefinedSpecValuesChecker.go). */
export function defaultAffinity(kubegresName: string): any {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [{
        weight: 100,
        podAffinityTerm: {
          labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: [kubegresName] }] }, topologyKey: 'kubernetes.io/hostname',
        },
      }],
    },
  };
}

/**
 * How Kubegres promotes a replica (S/failover/PrimaryToReplicaFailOver.go promoteReplicaToPrimary, and the
 * `promote_replica_to_primary.sh` key of Y/BaseConfigMapTemplate.yaml). There is no `kubectl exec`: Kubegres updates
 * the replica's StatefulSet (labels `replicationRole: primary` on it and its pod template, an extra subPath mount of
 * the script, a postStart hook running it), so the StatefulSet re-creates the pod and the hook runs as the container's
 * user. The script writes /usr/share/promotion.log, exits if $PGDATA/standby.signal is absent, waits for
 * `pg_isready -U postgres` (10 tries, 5 s apart) and runs `pg_ctl promote` through `su ... postgres`. It has
 * `set -e`, so a failure fails the hook and the kubelet kills the container.
 */
export const KUBEGRES_PROMOTION = {
  command: ['sh', '-c', '/tmp/promote_replica_to_primary.sh'],
  scriptMount: { name: 'base-config', mountPath: '/tmp/promote_replica_to_primary.sh', subPath: 'promote_replica_to_primary.sh' },
  promote: "su -c '/usr/lib/postgresql/$PG_MAJOR/bin/pg_ctl promote -D $PGDATA' postgres",
  logFile: '/usr/share/promotion.log',
  standbySignal: '$PGDATA/standby.signal',
  needs: 'uid 0 with CAP_SETUID/CAP_SETGID (su to postgres without a password), a writable /usr/share, and pg_ctl at /usr/lib/postgresql/$PG_MAJOR/bin (Debian layout)',
} as const;

/** The exec command of the postStart hook Kubegres puts on the promoted instance. */
export function promotionCommand(): string[] {
  return [...KUBEGRES_PROMOTION.command];
}

/**
 * Whether Kubegres' promotion script can work for this image and security context. False for Alpine images (PostgreSQL
 * is under /usr/local, so /usr/lib/postgresql/$PG_MAJOR/bin/pg_ctl does not exist), for images that are not the
 * official `postgres` one (layout unverified), and for containers forced non-root (runAsNonRoot, runAsUser != 0),
 * without SETUID/SETGID capabilities, or with a read-only root filesystem. The official Debian image with its default
 * root entrypoint (which steps down to uid 999 with gosu for the server only) can promote.
 */
export function canPromote(image: string, podSecurityContext: any, containerSecurityContext?: any): { ok: boolean; why: string } {
  const [repoPart, tag = 'latest'] = image.split('@')[0].split(/:(?=[^/]*$)/);
  const repo = repoPart.split('/').pop();
  if (/alpine/i.test(tag) || /alpine/i.test(repoPart)) return { ok: false, why: 'Alpine image: pg_ctl is in /usr/local/bin, not /usr/lib/postgresql/$PG_MAJOR/bin' };
  if (repo !== 'postgres') return { ok: false, why: `'${image}' is not the official postgres image; its pg_ctl path is unverified` };
  const eff = { ...(podSecurityContext ?? {}), ...(containerSecurityContext ?? {}) };
  if (eff.runAsNonRoot === true) return { ok: false, why: 'runAsNonRoot: the hook cannot run as root, and su to postgres and writing /usr/share need root' };
  if (eff.runAsUser !== undefined && eff.runAsUser !== 0) return { ok: false, why: `runAsUser ${eff.runAsUser}: su asks a password and /usr/share is not writable` };
  const drop: string[] = (containerSecurityContext?.capabilities?.drop ?? []).map((c: string) => c.toUpperCase());
  const add: string[] = (containerSecurityContext?.capabilities?.add ?? []).map((c: string) => c.toUpperCase());
  const dropped = (c: string) => (drop.includes('ALL') || drop.includes(c)) && !add.includes(c);
  if (dropped('SETUID') || dropped('SETGID')) return { ok: false, why: 'SETUID/SETGID dropped: su (and the entrypoint gosu) cannot switch to postgres' };
  if (containerSecurityContext?.readOnlyRootFilesystem) return { ok: false, why: 'readOnlyRootFilesystem: /usr/share/promotion.log cannot be written' };
  return { ok: true, why: 'official Debian image as root: su to postgres and /usr/lib/postgresql/$PG_MAJOR/bin/pg_ctl work' };
}

/**
 * The upstream controller install (config/manager/manager.yaml with config/default/kustomization.yaml `namespace:
 * kubegres-system`, `namePrefix: kubegres-`; checked against the rendered kubegres.yaml at the repo root).
 */
export const controllerInstall = {
  namespace: 'kubegres-system',
  deployment: 'kubegres-controller-manager',
  serviceAccount: 'kubegres-controller-manager',
  container: 'manager',
  image: 'reactivetechio/kubegres:1.19',
  podLabels: { 'control-plane': 'controller-manager' },
  selector: { 'control-plane': 'controller-manager' },
  podSecurityContext: { runAsNonRoot: true },
} as const;

/**
 * The backup CronJob (Y/BackUpCronJobTemplate.yaml, T/ResourcesCreatorFromTemplate.go CreateBackUpCronJob,
 * E/resources_count_spec/BackUpCronJobCountSpecEnforcer.go, states/BackUpStates.go).
 */
export const backupCronJobFacts = {
  name: (kubegresName: string) => `${K.cronJobPrefix}${kubegresName}`,
  createdWhen: 'spec.backup.schedule is non-empty (and spec.backup.volumeMount and spec.backup.pvcName set, the PVC deployed)',
  schedule: 'spec.backup.schedule',
  concurrencyPolicy: 'Forbid',
  restartPolicy: 'OnFailure',
  container: { name: 'backup-postgres', image: 'spec.image', imagePullPolicy: 'IfNotPresent', args: ['sh', '-c', '/tmp/backup_database.sh'] },
  mounts: [
    'volume backup-volume = PVC spec.backup.pvcName, at spec.backup.volumeMount',
    'volume postgres-config = ConfigMap base-kubegres-config, or spec.customConfig when it has a non-empty backup_database.sh; subPath backup_database.sh at /tmp/backup_database.sh (mode 0777)',
  ],
  env: [
    'PGPASSWORD: the valueFrom of spec.env POSTGRES_PASSWORD (a literal value is not copied)',
    'KUBEGRES_RESOURCE_NAME: the Kubegres name', 'BACKUP_DESTINATION_FOLDER: spec.backup.volumeMount',
    'BACKUP_SOURCE_DB_HOST_NAME: `K-replica`, or `K` when spec.replicas is 1', 'then all of spec.env',
  ],
  user: 'no securityContext, no affinity, tolerations or imagePullSecrets: the image default user (root for the official image); the base script runs `pg_dumpall -h $BACKUP_SOURCE_DB_HOST_NAME -U postgres -c | gzip` into $BACKUP_DESTINATION_FOLDER/$KUBEGRES_RESOURCE_NAME-backup-<date>.gz as role postgres',
  ownerReference: 'controller reference to the Kubegres; pod template annotations = the Kubegres annotations',
  deletedWhen: 'a CronJob named backup-{K} exists in the namespace (looked up by name only, whoever made it) and its schedule, '
    + 'its first container\'s first volumeMount path, its first volume\'s PVC claimName or its second volume\'s ConfigMap name '
    + 'differs from spec.backup.schedule, spec.backup.volumeMount, spec.backup.pvcName or the ConfigMap holding backup_database.sh; '
    + 'it is then re-created only if spec.backup.schedule is set, so removing spec.backup deletes it',
} as const;

/** Blocking-operation timeouts in seconds (S/*, failover/, E/statefulset_spec/AllStatefulSetsSpecEnforcer.go, BaseConfigMapCountSpecEnforcer.go). */
export const BLOCKING_OPERATION_TIMEOUTS_SECONDS = {
  baseConfigDeploying: 10,
  primaryDbDeploying: 300,
  replicaDbDeploying: 300,
  replicaDbUndeploying: 60,
  waitBeforeFailingOver: 10,
  failingOver: 300,
  failoverMinimumBeforeComplete: 40,
  statefulSetSpecUpdating: 300,
  podSpecUpdating: 300,
  waitingOnStuckPod: 300,
} as const;

/** Failover and instance-count behaviour (S/PrimaryDbCountSpecEnforcer.go, S/ReplicaDbCountSpecEnforcer.go, failover/). */
export const FAILOVER_FACTS = {
  when: 'the primary was ever deployed (status.enforcedReplicas > 0), at least one replica is ready, and either spec.failover.promotePod names a ready replica pod or the primary StatefulSet is missing or not ready (ReadyReplicas == 0)',
  choice: 'the ready replica named by spec.failover.promotePod, otherwise the ready replica with the lowest index',
  steps: 'delete the old primary StatefulSet (its PVC stays: Kubegres never deletes PVCs), wait 10 s, then update the chosen replica StatefulSet as in KUBEGRES_PROMOTION; done when >= 40 s passed and it is ready, timeout 300 s (then manual fix)',
  promotedInstance: 'keeps its index, name, PVC, serviceName K-replica and init container; only replicationRole changes to primary (StatefulSet and pod labels), which moves it behind Service K',
  indexes: 'a new instance gets status.lastCreatedInstanceIndex + 1: indexes only grow; replicas are removed highest index first',
  notReadyReplica: 'when the replica count matches the spec, a replica that is not ready is deleted and replaced by a new index',
  singleInstance: 'with spec.replicas 1 a lost primary is re-created at the last index when its PVC postgres-db-K-{n}-0 exists, else at the next index with a new PVC; with replicas > 1 and no replica left, nothing is re-created',
  replicasZero: 'refused: spec.replicas <= 0 is a fatal spec error (SpecChecker.go), nothing is reconciled',
  isDisabled: 'spec.failover.isDisabled stops automatic promotion and the replacement of lost replicas (unless spec.replicas > status.enforcedReplicas); manual promotePod still works and is reset to "" by Kubegres',
  specUpdates: 'spec changes are applied one StatefulSet at a time, replicas (highest index first) then primary, waiting for each pod; env changes are not enforced on existing StatefulSets (no env enforcer)',
} as const;
