import { EmbeddedPostgresPitr, RestorePointJob } from '../src';
import { chart, envOf, find, synth } from './util';


const PARAMS = { name: 'tsb', walArchiveStorageSize: '10Gi', backupStorageSize: '50Gi' };

describe('RecoveryWindowJob', () => {
  test('reads the backups and the archive read-only, next to the primary when it runs, anywhere when it does not', () => {
    const c = chart();
    const pitr = new EmbeddedPostgresPitr(c, 'pitr', PARAMS);
    const job = pitr.addRecoveryWindowReport();
    const spec = find(synth(c), 'Job', 'tsb-postgres-recovery-window').spec;
    expect(spec).toMatchSnapshot();
    expect(job.format).toBe('both');
    const container = spec.template.spec.containers[0];
    expect(container.command).toEqual(['/bin/sh', '/opt/pitr/scripts/recovery-window.sh']);
    expect(envOf(container)).toEqual({
      BACKUP_DIR: '/var/lib/backup',
      WAL_ARCHIVE_DIR: '/var/lib/postgresql/wal-archive',
      BACKUP_NAME_PREFIX: 'tsb-postgres-base-backup',
      REPORT_FORMAT: 'both',
    });
    expect(container.volumeMounts.filter((m: any) => m.name !== 'tmp').every((m: any) => m.readOnly)).toBe(true);
    // Preferred, not required: the report must schedule while the database is down (during a restore).
    const affinity = spec.template.spec.affinity.podAffinity;
    expect(affinity.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    expect(affinity.preferredDuringSchedulingIgnoredDuringExecution).toEqual([{
      weight: 100,
      podAffinityTerm: { labelSelector: { matchLabels: { app: 'tsb-postgres', replicationRole: 'primary' } }, topologyKey: 'kubernetes.io/hostname' },
    }]);
  });
});

describe('RestorePointJob', () => {
  test('a suspended CronJob, the template of kubectl create job --from: each Job\'s name is its restore point\'s name', () => {
    const c = chart();
    const pitr = new EmbeddedPostgresPitr(c, 'pitr', PARAMS);
    const job = pitr.addRestorePoint();
    expect(job.target).toBeUndefined();
    expect(job.cronJobName).toBe('tsb-postgres-restore-point');
    const cronJob = find(synth(c), 'CronJob', 'tsb-postgres-restore-point');
    expect(cronJob.spec.suspend).toBe(true);
    const container = cronJob.spec.jobTemplate.spec.template.spec.containers[0];
    expect(container.command).toEqual(['/bin/sh', '/opt/pitr/scripts/create-restore-point.sh']);
    expect(container.env.find((e: any) => e.name === 'RESTORE_POINT_NAME')).toEqual({
      name: 'RESTORE_POINT_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.labels[\'job-name\']' } },
    });
    expect(envOf(container)).toEqual({
      RESTORE_POINT_NAME: 'field:metadata.labels[\'job-name\']',
      PGHOST: 'tsb-postgres',
      PGPORT: '5432',
      PGUSER: 'tsb',
      PGDATABASE: 'tsb',
      RESTORE_POINT_ARCHIVE_WAIT_SECONDS: '60',
      PGPASSWORD: 'secret:postgres-credentials/embedded-postgres-password',
    });
    expect(() => pitr.addRestorePoint()).toThrow(/^addRestorePoint\(\) was already called for this scope/);
    expect(() => (pitr as any).addRestorePoint('before-upgrade')).toThrow(/^addRestorePoint\(\) takes an optional scope \(a Construct\), got "before-upgrade"/);
  });

  test('a fixed name is checked like a recovery target and written literally', () => {
    const c = chart();
    const pitr = new EmbeddedPostgresPitr(c, 'pitr', PARAMS);
    const job = new RestorePointJob(c, 'fixed', { deploymentName: 'tsb', scripts: pitr.scripts, restorePointName: 'before-upgrade', cronJobName: 'fixed-point' });
    expect(job.target!.value).toBe('before-upgrade');
    expect(envOf(find(synth(c), 'CronJob', 'fixed-point').spec.jobTemplate.spec.template.spec.containers[0]).RESTORE_POINT_NAME).toBe('before-upgrade');
    expect(() => new RestorePointJob(chart(), 'long', { deploymentName: 'tsb', scripts: pitr.scripts, restorePointName: 'é'.repeat(32) }))
      .toThrow(/^'recoveryTarget.restorePoint' must be a restore point name of 1 to 63 bytes/);
  });
});
