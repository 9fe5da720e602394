import { Cron, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { BackupCompression, BackupCompressionMethod, BaseBackupCronJob, PitrScripts, WalArchive } from '../src';
import { chart, envOf, find, inventory, synth } from './util';
import { warningsOf } from '../src/private/warnings';

function make(props: Partial<ConstructorParameters<typeof BaseBackupCronJob>[2]> = {}, walMode?: kplus.PersistentVolumeAccessMode) {
  const c = chart();
  const scripts = new PitrScripts(c, 'scripts', { deploymentName: 'tsb' });
  const walArchive = new WalArchive(c, 'wal', { deploymentName: 'tsb', scripts, storage: Size.gibibytes(10), accessMode: walMode });
  const backup = new BaseBackupCronJob(c, 'backup', { deploymentName: 'tsb', scripts, storage: Size.gibibytes(50), walArchive, ...props });
  return { c, backup };
}

describe('BaseBackupCronJob', () => {
  test('defaults: names, schedule, retention, Forbid, secretKeyRef password', () => {
    const { c, backup } = make();
    const objects = synth(c);
    expect(objects.filter(o => ['CronJob', 'PersistentVolumeClaim'].includes(o.kind) && o.metadata.name !== 'tsb-postgres-wal-archive')).toMatchSnapshot();
    expect(inventory(objects)).toContain('CronJob/tsb-postgres-base-backup');
    expect(inventory(objects)).toContain('PersistentVolumeClaim/tsb-backup');
    expect(backup.schedule.expressionString).toBe('0 2 * * *');
    expect(backup.retention.toSeconds()).toBe(432000);
    expect(backup.backupNamePrefix).toBe('tsb-postgres-base-backup');
    const cron = find(objects, 'CronJob', 'tsb-postgres-base-backup');
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    const pod = cron.spec.jobTemplate.spec.template.spec;
    const container = pod.containers[0];
    expect(container.command).toEqual(['/bin/sh', '/opt/pitr/scripts/base-backup.sh']);
    expect(container.image).toBe('postgres:15-bookworm');
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(envOf(container).PGPASSWORD).toBe('secret:postgres-credentials/embedded-postgres-password');
    expect(container.volumeMounts).toEqual([
      { mountPath: '/tmp', name: 'tmp' },
      { mountPath: '/var/lib/backup', name: 'backup' },
      { mountPath: '/opt/pitr/scripts', name: 'pitr-scripts', readOnly: true },
      { mountPath: '/var/lib/postgresql/wal-archive', name: 'wal-archive' },
    ]);
    expect(pod.restartPolicy).toBe('Never');
    expect(cron.spec.jobTemplate.spec.backoffLimit).toBe(2);
    expect(cron.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(21600);
  });

  test('a ReadWriteOnce archive puts the job on the primary\'s node', () => {
    const { c } = make();
    const pod = find(synth(c), 'CronJob', 'tsb-postgres-base-backup').spec.jobTemplate.spec.template.spec;
    expect(pod.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([{
      labelSelector: { matchLabels: { app: 'tsb-postgres', replicationRole: 'primary' } },
      topologyKey: 'kubernetes.io/hostname',
    }]);
  });

  test('a ReadWriteMany archive lets the job run anywhere', () => {
    const { c } = make({}, kplus.PersistentVolumeAccessMode.READ_WRITE_MANY);
    expect(find(synth(c), 'CronJob', 'tsb-postgres-base-backup').spec.jobTemplate.spec.template.spec.affinity).toBeUndefined();
  });

  test('props override the defaults', () => {
    const { c } = make({
      schedule: Cron.schedule({ minute: '15', hour: '*/6' }),
      retention: Duration.days(2),
      walArchiveCleanup: false,
      cronJobName: 'nightly',
      claimName: 'backups',
      host: 'db',
      port: 5433,
      user: 'replicator',
      passwordSecret: kplus.Secret.fromSecretName(chart(), 'x', 'pg'),
      passwordKey: 'replication-password',
    });
    const objects = synth(c);
    const cron = find(objects, 'CronJob', 'nightly');
    expect(cron.spec.schedule).toBe('15 */6 * * *');
    const container = cron.spec.jobTemplate.spec.template.spec.containers[0];
    expect(envOf(container)).toMatchObject({
      BACKUP_RETENTION_SECONDS: '172800',
      WAL_ARCHIVE_CLEANUP: 'false',
      PGHOST: 'db',
      PGPORT: '5433',
      PGUSER: 'replicator',
      PGPASSWORD: 'secret:pg/replication-password',
    });
    expect(container.volumeMounts.map((m: any) => m.name)).not.toContain('wal-archive');
    expect(find(objects, 'PersistentVolumeClaim', 'backups')).toBeDefined();
  });

  test('throws when the schedule is not a valid cron', () => {
    expect(() => make({ schedule: Cron.schedule({ minute: '61' }) })).toThrow(/^'schedule' has an invalid minute field '61'/);
  });

  test('throws when walArchiveCleanup is asked without an archive', () => {
    const c = chart();
    const scripts = new PitrScripts(c, 'scripts', { deploymentName: 'tsb' });
    expect(() => new BaseBackupCronJob(c, 'b', { deploymentName: 'tsb', scripts, storage: Size.gibibytes(1), walArchiveCleanup: true }))
      .toThrow('\'walArchiveCleanup\' is true but no \'walArchive\' was given');
  });

  test('compression: zstd level 1 in one thread by default, recorded in the environment', () => {
    const { c, backup } = make();
    expect(backup.compression.method).toBe(BackupCompressionMethod.ZSTD);
    expect([backup.compression.level, backup.compression.workers, backup.compression.fileSuffix]).toEqual([1, 0, '.zst']);
    expect(backup.environment).toMatchObject({ BACKUP_COMPRESSION: 'zstd', BACKUP_COMPRESSION_LEVEL: '1' });
    expect(backup.environment.BACKUP_COMPRESSION_WORKERS).toBeUndefined();
    const container = find(synth(c), 'CronJob', 'tsb-postgres-base-backup').spec.jobTemplate.spec.template.spec.containers[0];
    expect(container.resources.limits.cpu).toBe('1');
  });

  test.each([
    ['zstd with workers', BackupCompression.zstd({ level: 1, workers: 2 }), { BACKUP_COMPRESSION: 'zstd', BACKUP_COMPRESSION_LEVEL: '1', BACKUP_COMPRESSION_WORKERS: '2' }, '.zst', '2'],
    ['gzip (the reference)', BackupCompression.gzip(), { BACKUP_COMPRESSION: 'gzip', BACKUP_COMPRESSION_LEVEL: '6' }, '.gz', '1'],
    ['gzip level 1', BackupCompression.gzip(1), { BACKUP_COMPRESSION: 'gzip', BACKUP_COMPRESSION_LEVEL: '1' }, '.gz', '1'],
    ['lz4', BackupCompression.lz4(), { BACKUP_COMPRESSION: 'lz4' }, '.lz4', '1'],
    ['none', BackupCompression.none(), { BACKUP_COMPRESSION: 'none' }, '', '1'],
  ])('compression %s: its environment, file suffix and a CPU limit that fits the workers', (_, compression, env, suffix, cpu) => {
    const { c, backup } = make({ compression });
    const expected = { BACKUP_COMPRESSION_LEVEL: undefined, BACKUP_COMPRESSION_WORKERS: undefined, ...env };
    expect({
      BACKUP_COMPRESSION: backup.environment.BACKUP_COMPRESSION,
      BACKUP_COMPRESSION_LEVEL: backup.environment.BACKUP_COMPRESSION_LEVEL,
      BACKUP_COMPRESSION_WORKERS: backup.environment.BACKUP_COMPRESSION_WORKERS,
    }).toEqual(expected);
    expect(compression.fileSuffix).toBe(suffix);
    const container = find(synth(c), 'CronJob', 'tsb-postgres-base-backup').spec.jobTemplate.spec.template.spec.containers[0];
    expect(container.resources.limits.cpu).toBe(cpu);
  });

  test.each([
    [() => BackupCompression.zstd({ level: 0 }), /^'backupCompression.level' must be a whole number from 1 to 19, got 0\. Use 1 for the fastest, 19 for the smallest$/],
    [() => BackupCompression.zstd({ level: 22 }), /'backupCompression.level' must be a whole number from 1 to 19, got 22/],
    [() => BackupCompression.zstd({ workers: -1 }), /^'backupCompression.workers' must be a whole number from 0 to 64, got -1\./],
    [() => BackupCompression.zstd({ workers: 1.5 }), /'backupCompression.workers' must be a whole number from 0 to 64, got 1.5/],
    [() => BackupCompression.gzip(10), /^'backupCompression.level' must be a whole number from 1 to 9, got 10\./],
    [() => BackupCompression.gzip('6' as any), /'backupCompression.level' must be a whole number from 1 to 9, got "6"/],
  ])('invalid compression settings fail with the prop, the value and the rule (%#)', (build, message) => {
    expect(build).toThrow(message);
  });

  test('throws when compression is not a BackupCompression', () => {
    expect(() => make({ compression: 'zstd' as any })).toThrow(/^'compression' must be a BackupCompression \(BackupCompression\.zstd\(\), \.gzip\(\), \.lz4\(\) or \.none\(\)\), got "zstd"$/);
  });

  test('warns when the WAL archive clearly cannot hold the retention\'s WAL, not when it can', () => {
    const small = chart();
    const scripts = new PitrScripts(small, 'scripts', { deploymentName: 'tsb' });
    // Plain segments: one 16 MiB segment a minute is 22.5 GiB a day.
    const plain = new WalArchive(small, 'wal', { deploymentName: 'tsb', scripts, storage: Size.gibibytes(10), compressSegments: false });
    new BaseBackupCronJob(small, 'backup', { deploymentName: 'tsb', scripts, storage: Size.gibibytes(50), walArchive: plain });
    const warnings = warningsOf(small);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^the WAL archive \(10\.0Gi\) holds about 0\.4 days of WAL even for an idle database .* the backup retention keeps about 6\.0 days\..*enable compressSegments$/);
    // Compressed: the default 10Gi archive holds far more than the default 5 days of idle WAL.
    const { c } = make();
    expect(warningsOf(c)).toEqual([]);
    // Even compressed, a tiny archive with a long retention is flagged.
    const tiny = chart();
    const s2 = new PitrScripts(tiny, 'scripts', { deploymentName: 'tsb' });
    const w2 = new WalArchive(tiny, 'wal', { deploymentName: 'tsb', scripts: s2, storage: Size.mebibytes(512) });
    new BaseBackupCronJob(tiny, 'backup', { deploymentName: 'tsb', scripts: s2, storage: Size.gibibytes(50), walArchive: w2, retention: Duration.days(30) });
    expect(warningsOf(tiny)).toHaveLength(1);
  });
});
