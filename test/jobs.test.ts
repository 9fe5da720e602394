import { EmbeddedPostgresPitr } from '../src';
import { chart, envOf, find, synth } from './util';


const PARAMS = { name: 'tsb', walArchiveStorageSize: '10Gi', backupStorageSize: '50Gi' };

describe('RecoveryWindowJob', () => {
  test('reads the backups and the archive read-only, next to the primary', () => {
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
    expect(spec.template.spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels)
      .toEqual({ app: 'tsb-postgres', replicationRole: 'primary' });
  });
});

describe('RestorePointJob', () => {
  test('creates the named point as the database user, password from the Secret, name only in the environment', () => {
    const c = chart();
    const pitr = new EmbeddedPostgresPitr(c, 'pitr', PARAMS);
    const job = pitr.addRestorePoint('before-upgrade');
    expect(job.target.value).toBe('before-upgrade');
    const container = find(synth(c), 'Job', 'tsb-postgres-restore-point').spec.template.spec.containers[0];
    expect(container.command).toEqual(['/bin/sh', '/opt/pitr/scripts/create-restore-point.sh']);
    expect(envOf(container)).toEqual({
      PGHOST: 'tsb-postgres',
      PGPORT: '5432',
      PGUSER: 'tsb',
      PGDATABASE: 'tsb',
      RESTORE_POINT_NAME: 'before-upgrade',
      RESTORE_POINT_ARCHIVE_WAIT_SECONDS: '60',
      PGPASSWORD: 'secret:postgres-credentials/embedded-postgres-password',
    });
  });

  test('throws when the restore point name is longer than 63 bytes', () => {
    const pitr = new EmbeddedPostgresPitr(chart(), 'pitr', PARAMS);
    expect(() => pitr.addRestorePoint('é'.repeat(32))).toThrow(/^'recoveryTarget.restorePoint' must be a restore point name of 1 to 63 bytes/);
  });
});
