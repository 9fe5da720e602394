import { ApiObject, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PitrScripts } from './pitr-scripts';
import { DEFAULT_POSTGRES_IMAGE, POSTGRES_UID } from './pod-security';
import {
  checkImage, checkObjectName, checkPort, checkPositiveInteger, checkRoleName, checkSecretKey, checkSize,
} from './validate';
import { WalArchive } from './wal-archive';
import { warn } from './warnings';

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
   * The PostgreSQL image.
   * @default 'postgres:15-alpine'
   */
  readonly image?: string;

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
   * uid and gid of the instances (the image's `postgres` user).
   * @default 70
   */
  readonly runAsUser?: number;

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
  public readonly image: string;
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
  /** The custom config's `postgres.conf` (it replaces Kubegres' base one). */
  public readonly postgresConf: string;
  /** The custom config's `pg_hba.conf`. */
  public readonly pgHbaConf: string;
  /** `spec.volume.volumes` of the Kubegres resource: the WAL archive PVC and the scripts ConfigMap. */
  public readonly volumes: any[];
  /** `spec.volume.volumeMounts` of the Kubegres resource. */
  public readonly volumeMounts: any[];
  /** The custom config ConfigMap. */
  public readonly customConfig: kplus.ConfigMap;
  /** The Kubegres resource. */
  public readonly resource: ApiObject;

  constructor(scope: Construct, id: string, props: KubegresPostgresProps) {
    super(scope, id);
    const name = checkObjectName('deploymentName', props.deploymentName);
    this.replicas = checkPositiveInteger('replicas', props.replicas ?? 3);
    this.image = checkImage('image', props.image ?? DEFAULT_POSTGRES_IMAGE);
    this.port = checkPort('port', props.port ?? 5432);
    const databaseStorage = checkSize('databaseStorage', props.databaseStorage ?? Size.gibibytes(10));
    const databaseStorageClassName = checkObjectName('databaseStorageClassName', props.databaseStorageClassName ?? 'standard');
    this.databaseUser = checkRoleName('databaseUser', props.databaseUser ?? name);
    this.credentialsSecret = props.credentialsSecret ?? kplus.Secret.fromSecretName(this, 'Credentials', 'postgres-credentials');
    checkObjectName('credentialsSecret', this.credentialsSecret.name);
    this.superUserPasswordKey = checkSecretKey('superUserPasswordKey', props.superUserPasswordKey ?? 'embedded-postgres-password');
    this.replicationPasswordKey = checkSecretKey('replicationPasswordKey', props.replicationPasswordKey ?? 'embedded-postgres-replication-password');
    this.resourceName = checkObjectName('resourceName', props.resourceName ?? `${name}-postgres`, 50);
    this.customConfigName = checkObjectName('customConfigName', props.customConfigName ?? `${name}-postgres`);
    const uid = checkPositiveInteger('runAsUser', props.runAsUser ?? POSTGRES_UID);
    const maxConnections = checkPositiveInteger('maxConnections', props.maxConnections ?? 100);
    const sharedBuffers = checkSize('sharedBuffers', props.sharedBuffers ?? Size.mebibytes(128));
    this.backupRole = KUBEGRES_REPLICATION_ROLE;

    const archive = props.walArchive;
    this.postgresConf = [
      '# postgres.conf of the Kubegres custom config (cdk8s-postgres-pitr): the settings of Kubegres\' base config,',
      '# then WAL archiving. Kubegres copies this file to the data directory as postgresql.conf on every instance.',
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

    const scripts: PitrScripts = archive.scripts;
    this.volumes = [
      { name: 'wal-archive', persistentVolumeClaim: { claimName: archive.claimName } },
      { name: 'pitr-scripts', configMap: { name: scripts.configMapName, defaultMode: 0o555 } },
    ];
    this.volumeMounts = [
      { name: 'wal-archive', mountPath: archive.mountPath },
      { name: 'pitr-scripts', mountPath: scripts.mountPath, readOnly: true },
    ];

    const secretEnv = (envName: string, key: string) => ({ name: envName, valueFrom: { secretKeyRef: { name: this.credentialsSecret.name, key } } });
    this.resource = new ApiObject(this, 'Resource', {
      apiVersion: 'kubegres.reactive-tech.io/v1',
      kind: 'Kubegres',
      metadata: { name: this.resourceName },
      spec: {
        replicas: this.replicas,
        image: this.image,
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
        securityContext: {
          runAsNonRoot: true,
          runAsUser: uid,
          runAsGroup: uid,
          fsGroup: uid,
          seccompProfile: { type: 'RuntimeDefault' },
        },
      },
    });

    if (this.replicas > 1 && archive.accessMode === kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE) {
      warn(this, `Kubegres mounts spec.volume into all ${this.replicas} instances, and the WAL archive '${archive.claimName}' is ReadWriteOnce, `
        + 'so it attaches to one node only: instances scheduled on other nodes stay Pending. Only the primary archives (replicas do not '
        + 'run archive_command with archive_mode = on). Use a ReadWriteMany archive, or keep the instances on one node.');
    }
  }
}
