import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { EmbeddedPostgresPitr, KubegresPostgres, PitrScripts, PostgresImage, WalArchive } from '../src';
import { chart, envOf, find, inventory, synth } from './util';


const PARAMS = { name: 'tsb', replicas: 3, walArchiveStorageSize: '10Gi', walArchiveStorageAccessMode: 'ReadWriteMany', backupStorageSize: '50Gi' };

describe('KubegresPostgres through the composite', () => {
  const c = chart();
  const pitr = new EmbeddedPostgresPitr(c, 'pitr', { ...PARAMS, kubegres: {} });
  const objects = synth(c);

  test('matches the snapshot', () => {
    expect(objects.filter(o => o.kind === 'Kubegres' || o.metadata.name === 'tsb-postgres')).toMatchSnapshot();
  });

  test('emits the Kubegres resource and its custom config, both {name}-postgres', () => {
    expect(inventory(objects)).toEqual([
      'ConfigMap/tsb-postgres',
      'ConfigMap/tsb-postgres-archiving',
      'ConfigMap/tsb-postgres-pitr-scripts',
      'CronJob/tsb-postgres-base-backup',
      'Kubegres/tsb-postgres',
      'PersistentVolumeClaim/tsb-backup',
      'PersistentVolumeClaim/tsb-postgres-wal-archive',
    ]);
    const kg = find(objects, 'Kubegres', 'tsb-postgres');
    expect(kg.apiVersion).toBe('kubegres.reactive-tech.io/v1');
    expect(kg.spec.replicas).toBe(3);
    expect(kg.spec.image).toBe('postgres:15-bookworm');
    expect(kg.spec.port).toBe(5432);
    expect(kg.spec.customConfig).toBe('tsb-postgres');
    expect(kg.spec.database).toEqual({ size: '10Gi', storageClassName: 'standard', volumeMount: '/var/lib/postgresql/data' });
    expect(kg.spec.env).toEqual([
      { name: 'POSTGRES_USER', value: 'tsb' },
      { name: 'POSTGRES_DB', value: 'tsb' },
      { name: 'POSTGRES_PASSWORD', valueFrom: { secretKeyRef: { name: 'postgres-credentials', key: 'embedded-postgres-password' } } },
      { name: 'POSTGRES_REPLICATION_PASSWORD', valueFrom: { secretKeyRef: { name: 'postgres-credentials', key: 'embedded-postgres-replication-password' } } },
    ]);
    expect(kg.spec.volume).toEqual({
      volumes: [
        { name: 'wal-archive', persistentVolumeClaim: { claimName: 'tsb-postgres-wal-archive' } },
        { name: 'pitr-scripts', configMap: { name: 'tsb-postgres-pitr-scripts', defaultMode: 0o555 } },
      ],
      volumeMounts: [
        { name: 'wal-archive', mountPath: '/var/lib/postgresql/wal-archive' },
        { name: 'pitr-scripts', mountPath: '/opt/pitr/scripts', readOnly: true },
      ],
    });
    // The Debian entrypoint and Kubegres' promotion need root (chown, gosu, su): no runAsNonRoot, only what they use.
    expect(kg.spec.securityContext).toEqual({ fsGroup: 999, fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: { type: 'RuntimeDefault' } });
    expect(kg.spec.containerSecurityContext).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'], add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID'] },
    });
    expect(kg.spec.resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '2', memory: '2048Mi' } });
    expect(kg.spec.failover).toBeUndefined();
  });

  test('the custom postgres.conf keeps the base settings and enables archiving into the archive volume', () => {
    const conf: string = find(objects, 'ConfigMap', 'tsb-postgres').data['postgres.conf'];
    const settings = conf.split('\n').filter(l => l && !l.startsWith('#'));
    expect(settings).toEqual([
      'listen_addresses = \'*\'',
      'max_wal_senders = 10',
      'max_connections = 100',
      'shared_buffers = 128MB',
      'wal_level = \'replica\'',
      'archive_mode = \'on\'',
      'archive_command = \'/bin/sh /opt/pitr/scripts/archive-wal.sh "%p" "%f"\'',
      'archive_timeout = \'60s\'',
      'wal_compression = \'lz4\'',
    ]);
  });

  test('pg_hba.conf admits the replication role for replication connections', () => {
    const hba: string = find(objects, 'ConfigMap', 'tsb-postgres').data['pg_hba.conf'];
    expect(hba.split('\n').filter(l => l && !l.startsWith('#')).map(l => l.split(/\s+/).join(' '))).toEqual([
      'host replication replication all md5',
      'local all all md5',
      'host all all all md5',
    ]);
  });

  test('the backup job connects as the replication role with its password from the Secret', () => {
    const container = find(objects, 'CronJob', 'tsb-postgres-base-backup').spec.jobTemplate.spec.template.spec.containers[0];
    expect(envOf(container)).toMatchObject({ PGUSER: 'replication', PGHOST: 'tsb-postgres', PGPASSWORD: 'secret:postgres-credentials/embedded-postgres-replication-password' });
    expect(pitr.kubegres!.backupRole).toBe('replication');
  });

  test('refuses a ReadWriteOnce archive with several instances: Kubegres mounts spec.volume into every one', () => {
    expect(() => new EmbeddedPostgresPitr(chart(), 'p', { ...PARAMS, kubegres: {}, walArchiveStorageAccessMode: 'ReadWriteOnce' }))
      .toThrow(/^'walArchiveStorageAccessMode' cannot serve 3 Kubegres instances: Kubegres mounts spec.volume .*Multi-Attach.*got "ReadWriteOnce". Use walArchiveStorageAccessMode: ReadWriteMany .*or replicas: 1$/);
    expect(new EmbeddedPostgresPitr(chart(), 'p', { ...PARAMS, kubegres: {}, walArchiveStorageAccessMode: 'ReadWriteOnce', replicas: 1 }).warnings).toEqual([]);
  });

  test('no warning with the defaults', () => {
    expect(pitr.warnings).toEqual([]);
  });

  test('refuses an Alpine image, in which Kubegres cannot promote a replica, unless failover is disabled (with a warning)', () => {
    expect(() => new EmbeddedPostgresPitr(chart(), 'p', { ...PARAMS, kubegres: {}, postgresImage: 'postgres:15-alpine' }))
      .toThrow(/^'image' is an Alpine image, in which Kubegres cannot promote a replica: .*\/usr\/lib\/postgresql\/\$PG_MAJOR\/bin\/pg_ctl.*got "postgres:15-alpine". Use the official Debian image .*or set failoverDisabled: true/);
    const alpine = chart();
    const p = new EmbeddedPostgresPitr(alpine, 'p', { ...PARAMS, kubegres: { failoverDisabled: true }, postgresImage: 'postgres:15-alpine' });
    expect(p.warnings).toEqual([expect.stringMatching(/^Kubegres failover is disabled/)]);
    const kg = find(synth(alpine), 'Kubegres', 'tsb-postgres');
    expect(kg.spec.failover).toEqual({ isDisabled: true });
    expect(kg.spec.securityContext.fsGroup).toBe(70);
  });
});

describe('KubegresPostgres on its own', () => {
  test('props override the defaults, and users of their own Kubegres can take the volume entries', () => {
    const c = chart();
    const scripts = new PitrScripts(c, 'scripts', { deploymentName: 'db' });
    const walArchive = new WalArchive(c, 'wal', { deploymentName: 'db', scripts, storage: Size.gibibytes(5), accessMode: kplus.PersistentVolumeAccessMode.READ_WRITE_MANY });
    const kg = new KubegresPostgres(c, 'kg', {
      deploymentName: 'db',
      walArchive,
      replicas: 2,
      image: PostgresImage.of('postgres:15.10-bookworm'),
      resources: { cpu: { request: kplus.Cpu.units(1) }, memory: { limit: Size.gibibytes(4) } },
      databaseStorage: Size.gibibytes(20),
      databaseStorageClassName: 'ssd',
      databaseUser: 'app',
      credentialsSecret: kplus.Secret.fromSecretName(c, 's', 'db-secret'),
      superUserPasswordKey: 'superUserPassword',
      replicationPasswordKey: 'replicationUserPassword',
      maxConnections: 200,
      sharedBuffers: Size.mebibytes(512),
    });
    const objects = synth(c);
    const res = find(objects, 'Kubegres', 'db-postgres');
    expect(res.spec).toMatchObject({ replicas: 2, image: 'postgres:15.10-bookworm', database: { size: '20Gi', storageClassName: 'ssd' } });
    expect(res.spec.resources).toEqual({ requests: { cpu: '1' }, limits: { memory: '4096Mi' } });
    expect(envOf({ env: res.spec.env })).toEqual({
      POSTGRES_USER: 'app',
      POSTGRES_DB: 'app',
      POSTGRES_PASSWORD: 'secret:db-secret/superUserPassword',
      POSTGRES_REPLICATION_PASSWORD: 'secret:db-secret/replicationUserPassword',
    });
    expect(kg.postgresConf).toContain('max_connections = 200\nshared_buffers = 512MB\n');
    expect(kg.volumes.map(v => v.name)).toEqual(['wal-archive', 'pitr-scripts']);
    expect(kg.volumeMounts.map(v => v.mountPath)).toEqual(['/var/lib/postgresql/wal-archive', '/opt/pitr/scripts']);
  });
});
