import { Cron, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { BaseBackupCronJob, PitrScripts, WalArchive } from '../src';
import { chart, envOf, find, inventory, synth } from './util';

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
});
