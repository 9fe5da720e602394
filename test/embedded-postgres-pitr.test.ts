import { Yaml } from 'cdk8s';
import { BackupCompression, EmbeddedPostgresPitr, RecoveryTarget, RecoveryTargetAction, RestoreMode } from '../src';
import { chart, envOf, find, inventory, REFERENCE, synth } from './util';


/** The reference design's ManagementPlane block, parsed. */
const MANAGEMENT_PLANE = {
  apiVersion: 'install.tetrate.io/v1alpha1',
  kind: 'ManagementPlane',
  metadata: { name: 'managementplane', namespace: 'tsb' },
  spec: { dataStore: { embeddedPostgres: REFERENCE } },
};

describe('EmbeddedPostgresPitr from the reference ManagementPlane', () => {
  const c = chart();
  const pitr = EmbeddedPostgresPitr.fromManagementPlane(c, 'pitr', MANAGEMENT_PLANE);
  const objects = synth(c);

  test('matches the snapshot', () => {
    expect(objects).toMatchSnapshot();
  });

  test('creates exactly the always-on objects with the reference names', () => {
    expect(inventory(objects)).toEqual([
      'ConfigMap/tsb-postgres-archiving',
      'ConfigMap/tsb-postgres-pitr-scripts',
      'CronJob/tsb-postgres-base-backup',
      'PersistentVolumeClaim/tsb-backup',
      'PersistentVolumeClaim/tsb-postgres-wal-archive',
    ]);
    expect(objects.every(o => o.metadata.namespace === 'tsb')).toBe(true);
  });

  test('maps every parameter', () => {
    const wal = find(objects, 'PersistentVolumeClaim', 'tsb-postgres-wal-archive');
    expect(wal.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } }, storageClassName: 'standard', volumeMode: 'Filesystem' });
    const backup = find(objects, 'PersistentVolumeClaim', 'tsb-backup');
    expect(backup.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '50Gi' } }, storageClassName: 'standard', volumeMode: 'Filesystem' });
    const cron = find(objects, 'CronJob', 'tsb-postgres-base-backup');
    expect(cron.spec.schedule).toBe('0 2 * * *');
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    const container = cron.spec.jobTemplate.spec.template.spec.containers[0];
    expect(envOf(container)).toEqual({
      BACKUP_COMPRESSION: 'zstd',
      BACKUP_COMPRESSION_LEVEL: '1',
      BACKUP_DIR: '/var/lib/backup',
      BACKUP_NAME_PREFIX: 'tsb-postgres-base-backup',
      BACKUP_RETENTION_SECONDS: '432000',
      WAL_ARCHIVE_DIR: '/var/lib/postgresql/wal-archive',
      WAL_ARCHIVE_CLEANUP: 'true',
      PGHOST: 'tsb-postgres',
      PGPORT: '5432',
      PGUSER: 'tsb',
      PGPASSWORD: 'secret:postgres-credentials/embedded-postgres-password',
    });
    expect(pitr.replicas).toBe(3);
    expect(pitr.postgresImage.reference).toBe('postgres:15-bookworm');
    expect(pitr.postgresImage.uid).toBe(999);
    expect(pitr.baseBackup.retention.toSeconds()).toBe(432000);
  });

  test('warns that a ReadWriteOnce archive with 3 replicas attaches to one node only', () => {
    expect(pitr.warnings).toHaveLength(1);
    expect(pitr.warnings[0]).toMatch(/replicas is 3 and walArchiveStorageAccessMode is ReadWriteOnce.*ReadWriteMany/);
  });

  test('is deterministic: the same input gives byte-identical YAML', () => {
    const again = chart();
    EmbeddedPostgresPitr.fromManagementPlane(again, 'pitr', MANAGEMENT_PLANE);
    expect(Yaml.stringify(...synth(again))).toBe(Yaml.stringify(...objects));
    expect(Yaml.stringify(...objects)).not.toMatch(/-c[0-9a-f]{8}\b/);
  });
});

describe('defaults when the ManagementPlane gives only the required parameters', () => {
  test('uses the documented defaults', () => {
    const c = chart();
    const pitr = new EmbeddedPostgresPitr(c, 'pitr', { name: 'tsb', walArchiveStorageSize: '10Gi', backupStorageSize: '50Gi' });
    expect(pitr.replicas).toBe(3);
    expect(pitr.walArchive.storageClassName).toBe('standard');
    expect(pitr.walArchive.accessMode).toBe('ReadWriteOnce');
    expect(pitr.walArchive.archiveTimeout.toSeconds()).toBe(60);
    expect(pitr.baseBackup.storageClassName).toBe('standard');
    expect(pitr.baseBackup.accessMode).toBe('ReadWriteOnce');
    expect(pitr.baseBackup.schedule.expressionString).toBe('0 2 * * *');
    expect(pitr.baseBackup.retention.toSeconds()).toBe(432000);
    // identical output to the fully spelled-out reference
    const ref = chart();
    EmbeddedPostgresPitr.fromManagementPlane(ref, 'pitr', MANAGEMENT_PLANE);
    expect(synth(c)).toEqual(synth(ref));
  });

  test.each(['name', 'walArchiveStorageSize', 'backupStorageSize'])('throws when the required %s is missing', (key) => {
    const ep: any = { ...REFERENCE };
    delete ep[key];
    expect(() => EmbeddedPostgresPitr.fromManagementPlane(chart(), 'pitr', { spec: { dataStore: { embeddedPostgres: ep } } }))
      .toThrow(new RegExp(`^'spec.dataStore.embeddedPostgres.${key}' is required and has no default`));
  });

  test('throws when the WAL archive is ReadWriteOncePod, which the backup job and the restore helper cannot mount', () => {
    expect(() => new EmbeddedPostgresPitr(chart(), 'pitr', { ...REFERENCE, walArchiveStorageAccessMode: 'ReadWriteOncePod' }))
      .toThrow(/^'walArchiveStorageAccessMode' must not be ReadWriteOncePod: .*, got "ReadWriteOncePod". Use ReadWriteOnce or ReadWriteMany$/);
  });

  test('throws when the ManagementPlane has no embeddedPostgres block', () => {
    expect(() => EmbeddedPostgresPitr.fromManagementPlane(chart(), 'pitr', { spec: { dataStore: {} } }))
      .toThrow('The ManagementPlane has no \'spec.dataStore.embeddedPostgres\' object (got undefined)');
  });
});

describe('overrides', () => {
  test('every created and consumed name can be overridden', () => {
    const c = chart();
    new EmbeddedPostgresPitr(c, 'pitr', {
      name: 'acme',
      walArchiveStorageSize: '1Gi',
      backupStorageSize: '2Gi',
      walArchiveStorageClassName: 'fast',
      walArchiveStorageAccessMode: 'ReadWriteMany',
      backupStorageClassName: 'slow',
      backupStorageAccessMode: 'ReadWriteMany',
      backupCronSchedule: '*/30 * * * *',
      backupCleanupRetention: '86400s',
      replicas: 1,
      postgresImage: 'registry.example.com/postgres:15.10-alpine',
      walArchiveClaimName: 'wal',
      backupClaimName: 'bk',
      backupCronJobName: 'nightly',
      backupCompression: BackupCompression.gzip(),
      scriptsConfigMapName: 'scripts',
      recoveryConfigMapName: 'recovery',
      restorePodName: 'restore',
      dataClaimName: 'data',
      tlsSecretName: 'certs',
      serviceAccountName: 'sa',
      credentialsSecretName: 'creds',
      credentialsSecretKey: 'pw',
      host: 'db.example',
      port: 6543,
      user: 'backup',
      recoveryTarget: RecoveryTarget.latest(),
    });
    const objects = synth(c);
    expect(inventory(objects)).toEqual([
      'ConfigMap/acme-postgres-archiving',
      'ConfigMap/recovery',
      'ConfigMap/scripts',
      'CronJob/nightly',
      'PersistentVolumeClaim/bk',
      'PersistentVolumeClaim/wal',
      'Pod/restore',
    ]);
    const cron = find(objects, 'CronJob', 'nightly');
    expect(cron.spec.schedule).toBe('*/30 * * * *');
    const job = cron.spec.jobTemplate.spec.template.spec;
    expect(job.affinity).toBeUndefined(); // ReadWriteMany archive: the job may run on any node
    expect(job.containers[0].image).toBe('registry.example.com/postgres:15.10-alpine');
    expect(envOf(job.containers[0])).toMatchObject({
      BACKUP_COMPRESSION: 'gzip',
      BACKUP_COMPRESSION_LEVEL: '6',
      PGHOST: 'db.example',
      PGPORT: '6543',
      PGUSER: 'backup',
      PGPASSWORD: 'secret:creds/pw',
      BACKUP_RETENTION_SECONDS: '86400',
      BACKUP_NAME_PREFIX: 'acme-postgres-base-backup',
    });
    const pod = find(objects, 'Pod', 'restore').spec;
    expect(pod.serviceAccountName).toBe('sa');
    expect(pod.volumes.map((v: any) => v.persistentVolumeClaim?.claimName ?? v.secret?.secretName ?? v.configMap?.name ?? (v.emptyDir && 'emptyDir')))
      .toEqual(['emptyDir', 'data', 'bk', 'wal', 'certs', 'scripts', 'recovery']);
    expect(find(objects, 'PersistentVolumeClaim', 'wal').spec).toMatchObject({ storageClassName: 'fast', accessModes: ['ReadWriteMany'] });
    expect(find(objects, 'PersistentVolumeClaim', 'bk').spec).toMatchObject({ storageClassName: 'slow', accessModes: ['ReadWriteMany'] });
  });
});

describe('restore on request', () => {
  test('a recovery target adds the recovery ConfigMap and the restore pod', () => {
    const c = chart();
    const pitr = EmbeddedPostgresPitr.fromManagementPlane(c, 'pitr', MANAGEMENT_PLANE, {
      recoveryTarget: RecoveryTarget.time('2024-12-04T14:35:00Z'),
    });
    const objects = synth(c);
    expect(objects).toMatchSnapshot();
    expect(inventory(objects)).toContain('ConfigMap/tsb-postgres-recovery');
    expect(inventory(objects)).toContain('Pod/postgres-restore');
    expect(pitr.recoveryConfig!.signalFile).toBe('recovery.signal');
    expect(find(objects, 'ConfigMap', 'tsb-postgres-recovery').data['recovery.conf']).toContain('recovery_target_time = \'2024-12-04 14:35:00+00\'');
  });

  test('addRestore with options sets up an automatic restore', () => {
    const c = chart();
    const pitr = EmbeddedPostgresPitr.fromManagementPlane(c, 'pitr', MANAGEMENT_PLANE);
    pitr.addRestore(RecoveryTarget.restorePoint('before_upgrade'), { mode: RestoreMode.AUTOMATIC, action: RecoveryTargetAction.PAUSE });
    const pod = find(synth(c), 'Pod', 'postgres-restore').spec;
    expect(pod.containers[0].command).toEqual(['/bin/sh', '/opt/pitr/scripts/restore-data.sh']);
    expect(pod.restartPolicy).toBe('Never');
    expect(envOf(pod.containers[0])).toMatchObject({ RECOVERY_TARGET_TYPE: 'name', BACKUP_NAME_PREFIX: 'tsb-postgres-base-backup' });
  });

  test('throws when a second restore is added', () => {
    const pitr = EmbeddedPostgresPitr.fromManagementPlane(chart(), 'pitr', MANAGEMENT_PLANE, { recoveryTarget: RecoveryTarget.latest() });
    expect(() => pitr.addRestore(RecoveryTarget.immediate())).toThrow(/A restore is already set up \(target latest\)/);
  });

  test('throws when restore options come without a target', () => {
    expect(() => EmbeddedPostgresPitr.fromManagementPlane(chart(), 'pitr', MANAGEMENT_PLANE, { restore: { mode: RestoreMode.AUTOMATIC } }))
      .toThrow('\'restore\' was given without \'recoveryTarget\'');
  });
});
