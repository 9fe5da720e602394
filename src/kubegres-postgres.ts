import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Kubegres } from './kubegres-resource';
import { ImageLayout, PostgresImage } from './postgres-image';
import { checkConstruct } from './private/api';
import { CREDENTIALS_SECRET, Names, REPLICATION_PASSWORD_KEY, SUPERUSER_PASSWORD_KEY } from './private/names';
import {
  checkObjectName, checkPort, checkPositiveInteger, checkRoleName, checkSecretKey, checkSize, invalid,
} from './private/validate';
import { warn } from './private/warnings';
import { WalArchive } from './wal-archive';

/**
 * Props of `KubegresPostgres`.
 */
export interface KubegresPostgresProps {
  /**
   * The deployment name (the ManagementPlane's `name`, e.g. `tsb`); the resource is `{deploymentName}-postgres`.
   */
  readonly deploymentName: string;

  /**
   * The WAL archive: its settings go into the custom config's `postgres.conf`, its volume and the scripts into
   * `spec.volume` (mounted into every instance; only the primary archives).
   */
  readonly walArchive: WalArchive;

  /**
   * PostgreSQL instances: one primary and `replicas - 1` replicas (the ManagementPlane's `replicas`).
   * @default 3
   */
  readonly replicas?: number;

  /**
   * The PostgreSQL image. Kubegres promotes a replica by running `/usr/lib/postgresql/$PG_MAJOR/bin/pg_ctl promote`
   * through `su` as root, which only the official Debian images can do: an Alpine image needs `failoverDisabled`.
   * @default PostgresImage.debian15()
   */
  readonly image?: PostgresImage;

  /**
   * Port of the instances.
   * @default 5432
   */
  readonly port?: number;

  /**
   * Size of each instance's data volume (`spec.database.size`).
   * @default Size.gibibytes(10)
   */
  readonly databaseStorage?: Size;

  /**
   * Storage class of the data volumes.
   * @default 'standard'
   */
  readonly databaseStorageClassName?: string;

  /**
   * The database superuser and the database created at initialisation (`POSTGRES_USER`, `POSTGRES_DB`).
   * @default - `{deploymentName}`
   */
  readonly databaseUser?: string;

  /**
   * Secret with the passwords. Read keys: `superUserPasswordKey` (`POSTGRES_PASSWORD`) and `replicationPasswordKey`
   * (`POSTGRES_REPLICATION_PASSWORD`, the password of Kubegres' `replication` role, which the backup job uses).
   * @default - the Secret `postgres-credentials`
   */
  readonly credentialsSecret?: kplus.ISecret;

  /**
   * Key of the superuser's password in `credentialsSecret`.
   * @default 'embedded-postgres-password'
   */
  readonly superUserPasswordKey?: string;

  /**
   * Key of the `replication` role's password in `credentialsSecret`.
   * @default 'embedded-postgres-replication-password'
   */
  readonly replicationPasswordKey?: string;

  /**
   * Name of the Kubegres resource.
   * @default - `{deploymentName}-postgres`
   */
  readonly resourceName?: string;

  /**
   * Name of the custom config ConfigMap.
   * @default - `{deploymentName}-postgres`
   */
  readonly customConfigName?: string;

  /**
   * Resources of every instance's container (`spec.resources`).
   * @default - requests cpu 250m, memory 512Mi; limits cpu 2, memory 2Gi
   */
  readonly resources?: kplus.ContainerResources;

  /**
   * Disables Kubegres' failover (`spec.failover.isDisabled`): a failed primary is not replaced by a replica. Needed
   * for an image Kubegres cannot promote in (Alpine).
   * @default false
   */
  readonly failoverDisabled?: boolean;

  /**
   * `max_connections`.
   * @default 100
   */
  readonly maxConnections?: number;

  /**
   * `shared_buffers`.
   * @default Size.mebibytes(128)
   */
  readonly sharedBuffers?: Size;
}

/**
 * The capabilities a Kubegres instance keeps: the entrypoint's `chown`/`chmod` of the data directory and its step down
 * to the postgres user (gosu), and the promotion hook's `su`.
 */
const KUBEGRES_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID'];

/** The role Kubegres creates for replication (`POSTGRES_REPLICATION_PASSWORD`); the backup job connects as it. */
export const KUBEGRES_REPLICATION_ROLE = 'replication';

/**
 * The database side of PITR for a Kubegres-run PostgreSQL: the `Kubegres` resource (`{name}-postgres`) with the WAL
 * archive volume and the scripts in `spec.volume`, and its custom config ConfigMap (`{name}-postgres`) whose
 * `postgres.conf` keeps the settings Kubegres' base config sets and adds the archiving settings, and whose
 * `pg_hba.conf` admits the `replication` role for replication connections, as the base one does.
 *
 * If you run your own Kubegres resource, take `customConfig` (or `postgresConf` and `pgHbaConf`) and add `volumes` and
 * `volumeMounts` to its `spec.volume`.
 */
export class KubegresPostgres extends Construct {
  /** Name of the Kubegres resource. */
  public readonly resourceName: string;
  /** Name of the custom config ConfigMap. */
  public readonly customConfigName: string;
  /** Instances. */
  public readonly replicas: number;
  /** Image. */
  public readonly image: PostgresImage;
  /** Port. */
  public readonly port: number;
  /** The superuser / database name. */
  public readonly databaseUser: string;
  /** The credentials Secret. */
  public readonly credentialsSecret: kplus.ISecret;
  /** Key of the superuser password. */
  public readonly superUserPasswordKey: string;
  /** Key of the replication password. */
  public readonly replicationPasswordKey: string;
  /** The role the backup job connects as: `replication`. */
  public readonly backupRole: string;
  /** Whether Kubegres' failover is disabled. */
  public readonly failoverDisabled: boolean;
  /** The custom config's `postgres.conf` (it replaces Kubegres' base one). */
  public readonly postgresConf: string;
  /** The custom config's `pg_hba.conf`. */
  public readonly pgHbaConf: string;
  /** `spec.volume.volumes` of the Kubegres resource: the WAL archive PVC and the scripts ConfigMap. */
  public readonly volumes: kplus.k8s.Volume[];
  /** `spec.volume.volumeMounts` of the Kubegres resource. */
  public readonly volumeMounts: kplus.k8s.VolumeMount[];
  /** The custom config ConfigMap. */
  public readonly customConfig: kplus.ConfigMap;
  /** The Kubegres resource. */
  public readonly resource: Kubegres;

  constructor(scope: Construct, id: string, props: KubegresPostgresProps) {
    super(checkConstruct(scope, id, 'KubegresPostgresProps', props), id);
    const names = new Names(checkObjectName('deploymentName', props.deploymentName));
    this.replicas = checkPositiveInteger('replicas', props.replicas ?? 3);
    this.image = props.image ?? PostgresImage.debian15();
    this.port = checkPort('port', props.port ?? 5432);
    const databaseStorage = checkSize('databaseStorage', props.databaseStorage ?? Size.gibibytes(10));
    const databaseStorageClassName = checkObjectName('databaseStorageClassName', props.databaseStorageClassName ?? 'standard');
    this.databaseUser = checkRoleName('databaseUser', props.databaseUser ?? names.deployment);
    this.credentialsSecret = props.credentialsSecret ?? kplus.Secret.fromSecretName(this, 'Credentials', CREDENTIALS_SECRET);
    checkObjectName('credentialsSecret', this.credentialsSecret.name);
    this.superUserPasswordKey = checkSecretKey('superUserPasswordKey', props.superUserPasswordKey ?? SUPERUSER_PASSWORD_KEY);
    this.replicationPasswordKey = checkSecretKey('replicationPasswordKey', props.replicationPasswordKey ?? REPLICATION_PASSWORD_KEY);
    this.resourceName = checkObjectName('resourceName', props.resourceName ?? names.kubegres, 50);
    this.customConfigName = checkObjectName('customConfigName', props.customConfigName ?? names.kubegres);
    const maxConnections = checkPositiveInteger('maxConnections', props.maxConnections ?? 100);
    const sharedBuffers = checkSize('sharedBuffers', props.sharedBuffers ?? Size.mebibytes(128));
    this.failoverDisabled = props.failoverDisabled ?? false;
    if (typeof this.failoverDisabled !== 'boolean') {
      invalid('failoverDisabled', this.failoverDisabled, 'must be true or false');
    }
    this.backupRole = KUBEGRES_REPLICATION_ROLE;
    const archive = props.walArchive;

    // Kubegres promotes a replica with `su ... /usr/lib/postgresql/$PG_MAJOR/bin/pg_ctl promote` (its base config's
    // promotion script), which needs root and the Debian layout.
    if (this.image.layout !== ImageLayout.DEBIAN && !this.failoverDisabled) {
      invalid('image', this.image.reference, 'is an Alpine image, in which Kubegres cannot promote a replica: its promotion script runs '
        + '/usr/lib/postgresql/$PG_MAJOR/bin/pg_ctl as root, and Alpine images install PostgreSQL under /usr/local',
      'Use the official Debian image (postgres:15-bookworm, the default), or set failoverDisabled: true to run without failover');
    }
    if (this.failoverDisabled) {
      warn(this, 'kubegres-failover-disabled', `Kubegres failover is disabled (spec.failover.isDisabled) for '${this.resourceName}': a failed primary is not replaced by a replica. `
        + 'Use the Debian image and leave failoverDisabled unset to have failover.');
    }
    // Kubegres adds spec.volume to every instance: a ReadWriteOnce archive attaches to one node, so the other instances
    // hang on Multi-Attach, Kubegres' replica deployment times out, and it then suppresses failover.
    if (this.replicas > 1 && archive.accessMode === kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE) {
      invalid('walArchiveStorageAccessMode', 'ReadWriteOnce', `cannot serve ${this.replicas} Kubegres instances: Kubegres mounts spec.volume `
        + `(the WAL archive '${archive.claimName}') into every instance, and a ReadWriteOnce volume attaches to one node, so instances on `
        + 'other nodes hang on Multi-Attach and Kubegres then blocks failover',
      'Use walArchiveStorageAccessMode: ReadWriteMany (a storage class that supports it), or replicas: 1');
    }

    this.postgresConf = [
      '# postgres.conf of the Kubegres custom config (cdk8s-postgres-pitr): the settings of Kubegres\' base config,',
      '# then WAL archiving. Kubegres mounts this key by subPath at /etc/postgres.conf on every instance and starts',
      '# postgres with -c config_file=/etc/postgres.conf: an edit takes effect only when the instances restart.',
      'listen_addresses = \'*\'',
      'max_wal_senders = 10',
      `max_connections = ${maxConnections}`,
      `shared_buffers = ${sharedBuffers.toMebibytes()}MB`,
      '',
      archive.postgresqlConf,
    ].join('\n');
    this.pgHbaConf = [
      '# pg_hba.conf of the Kubegres custom config (cdk8s-postgres-pitr), as Kubegres\' base config has it.',
      '# TYPE  DATABASE        USER            ADDRESS                 METHOD',
      '# Replication connections by the replication role: Kubegres replicas and the base backup job.',
      `host    replication     ${KUBEGRES_REPLICATION_ROLE}     all                     md5`,
      '# As long as it is authenticated, all connections allowed.',
      'local   all             all                                     md5',
      'host    all             all             all                     md5',
      '',
    ].join('\n');

    this.customConfig = new kplus.ConfigMap(this, 'CustomConfig', {
      metadata: { name: this.customConfigName },
      data: { 'postgres.conf': this.postgresConf, 'pg_hba.conf': this.pgHbaConf },
    });

    const scripts = archive.scripts;
    this.volumes = [
      { name: 'wal-archive', persistentVolumeClaim: { claimName: archive.claimName } },
      { name: 'pitr-scripts', configMap: { name: scripts.configMapName, defaultMode: 0o555 } },
    ];
    this.volumeMounts = [
      { name: 'wal-archive', mountPath: archive.mountPath },
      { name: 'pitr-scripts', mountPath: scripts.mountPath, readOnly: true },
    ];

    const secretEnv = (envName: string, key: string): kplus.k8s.EnvVar =>
      ({ name: envName, valueFrom: { secretKeyRef: { name: this.credentialsSecret.name, key } } });
    const resources = props.resources ?? {
      cpu: { request: kplus.Cpu.millis(250), limit: kplus.Cpu.units(2) },
      memory: { request: Size.mebibytes(512), limit: Size.gibibytes(2) },
    };
    this.resource = new Kubegres(this, 'Resource', {
      metadata: { name: this.resourceName },
      spec: {
        replicas: this.replicas,
        image: this.image.reference,
        port: this.port,
        database: {
          size: databaseStorage.asString(),
          storageClassName: databaseStorageClassName,
          volumeMount: '/var/lib/postgresql/data',
        },
        customConfig: this.customConfigName,
        env: [
          { name: 'POSTGRES_USER', value: this.databaseUser },
          { name: 'POSTGRES_DB', value: this.databaseUser },
          secretEnv('POSTGRES_PASSWORD', this.superUserPasswordKey),
          secretEnv('POSTGRES_REPLICATION_PASSWORD', this.replicationPasswordKey),
        ],
        volume: { volumes: this.volumes, volumeMounts: this.volumeMounts },
        // The image's entrypoint starts as root, fixes the data directory's owner and steps down to the postgres user
        // (gosu); Kubegres' promotion hook runs `su ... pg_ctl promote` as root. So the instances cannot be forced
        // non-root: they keep only the capabilities those steps use, with no privilege escalation and the runtime's
        // default seccomp profile. The volumes are group-owned by the postgres user, which runs archive_command.
        securityContext: {
          fsGroup: this.image.uid,
          fsGroupChangePolicy: 'OnRootMismatch',
          seccompProfile: { type: 'RuntimeDefault' },
        },
        containerSecurityContext: {
          allowPrivilegeEscalation: false,
          privileged: false,
          capabilities: { drop: ['ALL'], add: [...KUBEGRES_CAPABILITIES] },
        },
        resources: resourceRequirements(resources),
        failover: this.failoverDisabled ? { isDisabled: true } : undefined,
      },
    });
  }
}

/** kplus container resources as the core `ResourceRequirements`. */
function resourceRequirements(r: kplus.ContainerResources): kplus.k8s.ResourceRequirements {
  const q = (v: string | undefined) => (v === undefined ? undefined : kplus.k8s.Quantity.fromString(v));
  const mem = (s: Size | undefined) => (s === undefined ? undefined : `${s.toMebibytes()}Mi`);
  const pick = (o: { [k: string]: kplus.k8s.Quantity | undefined }) => {
    const entries = Object.entries(o).filter(([, v]) => v !== undefined) as Array<[string, kplus.k8s.Quantity]>;
    return entries.length ? Object.fromEntries(entries) : undefined;
  };
  return {
    requests: pick({ cpu: q(r.cpu?.request?.amount), memory: q(mem(r.memory?.request)) }),
    limits: pick({ cpu: q(r.cpu?.limit?.amount), memory: q(mem(r.memory?.limit)) }),
  };
}
