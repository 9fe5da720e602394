import { Cron, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { EmbeddedPostgresPitr, RestoreDrillCheck, RestoreDrillOptions } from '../src';
import { podSpecCount, restrictedViolations } from './pss';
import { chart, envOf, find, inventory, synth } from './util';

const PARAMS = { name: 'tsb', walArchiveStorageSize: '10Gi', backupStorageSize: '50Gi' };

function drill(options: RestoreDrillOptions = {}, params: any = PARAMS) {
  const c = chart();
  const pitr = new EmbeddedPostgresPitr(c, 'pitr', params);
  const construct = pitr.addRestoreDrill(options);
  const objects = synth(c);
  const cronJob = find(objects, 'CronJob', 'tsb-postgres-restore-drill');
  const pod = cronJob.spec.jobTemplate.spec.template.spec;
  return { c, pitr, construct, objects, cronJob, pod, container: pod.containers[0] };
}

describe('RestoreDrillCronJob', () => {
  test('defaults: weekly, one try, never two at once, the database image as postgres, read-only archive and backups, a scratch emptyDir', () => {
    const d = drill();
    expect(d.cronJob.spec).toMatchSnapshot();
    expect(d.construct.cronJobName).toBe('tsb-postgres-restore-drill');
    expect(d.cronJob.spec.schedule).toBe('0 4 * * 0');
    expect(d.cronJob.spec.concurrencyPolicy).toBe('Forbid');
    expect(d.cronJob.spec.jobTemplate.spec.backoffLimit).toBe(0);
    expect(d.cronJob.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(21600);
    expect(d.container.command).toEqual(['/bin/sh', '/opt/pitr/scripts/restore-drill.sh']);
    expect(d.container.image).toBe(d.pitr.postgresImage.reference);
    expect(d.container.securityContext).toMatchObject({
      runAsUser: 999, runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
    });
    expect(d.pod.securityContext).toMatchObject({ runAsUser: 999, fsGroup: 999 });
    expect(d.pod.automountServiceAccountToken).toBe(false);
    expect(envOf(d.container)).toEqual({
      BACKUP_DIR: '/var/lib/backup',
      WAL_ARCHIVE_DIR: '/var/lib/postgresql/wal-archive',
      BACKUP_NAME_PREFIX: 'tsb-postgres-base-backup',
      RESTORE_DRILL_DIR: '/var/lib/postgresql/restore-drill',
      RESTORE_DRILL_SCRATCH_LIMIT_MB: String(50 * 1024),
      RESTORE_DRILL_PORT: '5433',
      RESTORE_DRILL_TIMEOUT_SECONDS: '7200',
      RESTORE_DRILL_AMCHECK: 'true',
      RESTORE_DRILL_CHECK_TIMEOUT_SECONDS: '600',
      PGUSER: 'tsb',
    });
    expect(d.container.resources).toEqual({ limits: { cpu: '2', memory: '2048Mi' }, requests: { cpu: '250m', memory: '512Mi' } });
    const mounts = Object.fromEntries(d.container.volumeMounts.map((m: any) => [m.mountPath, m]));
    expect(mounts['/var/lib/backup']).toEqual({ mountPath: '/var/lib/backup', name: 'backup', readOnly: true });
    expect(mounts['/var/lib/postgresql/wal-archive']).toEqual({ mountPath: '/var/lib/postgresql/wal-archive', name: 'wal-archive', readOnly: true });
    expect(mounts['/opt/pitr/scripts'].readOnly).toBe(true);
    expect(mounts['/var/lib/postgresql/restore-drill'].readOnly).toBeUndefined();
    const volumes = Object.fromEntries(d.pod.volumes.map((v: any) => [v.name, v]));
    expect(volumes.backup.persistentVolumeClaim).toEqual({ claimName: 'tsb-backup', readOnly: true });
    expect(volumes['wal-archive'].persistentVolumeClaim).toEqual({ claimName: 'tsb-postgres-wal-archive', readOnly: true });
    // The scratch emptyDir is as large as the backup volume by default.
    expect(volumes['restore-drill']).toEqual({ name: 'restore-drill', emptyDir: { sizeLimit: '51200Mi' } });
    // The database's own data is never mounted: only the five volumes above and /tmp.
    expect(Object.keys(volumes).sort()).toEqual(['backup', 'pitr-scripts', 'restore-drill', 'tmp', 'wal-archive']);
    // No Service and no checks ConfigMap without checks.
    expect(inventory(d.objects).filter(n => /drill/.test(n))).toEqual(['CronJob/tsb-postgres-restore-drill']);
  });

  test('meets the restricted Pod Security Standard, with an emptyDir or a claim and with checks', () => {
    const d = drill({ checks: [{ name: 'one', sql: 'SELECT 1', expected: '1' }] });
    expect(podSpecCount(d.objects)).toBe(2);
    expect(restrictedViolations(d.objects)).toEqual([]);
    const c = chart();
    new EmbeddedPostgresPitr(c, 'pitr', PARAMS).addRestoreDrill({ scratchClaim: kplus.PersistentVolumeClaim.fromClaimName(c, 'Scratch', 'drill-scratch') });
    expect(restrictedViolations(synth(c))).toEqual([]);
  });

  test('is scheduled next to the primary with a ReadWriteOnce archive, as the backup job', () => {
    const d = drill();
    const backup = find(d.objects, 'CronJob', 'tsb-postgres-base-backup').spec.jobTemplate.spec.template.spec;
    expect(d.pod.affinity).toEqual(backup.affinity);
    expect(d.pod.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    const rwx = drill({}, { ...PARAMS, walArchiveStorageAccessMode: 'ReadWriteMany' });
    expect(rwx.pod.affinity).toBeUndefined();
  });

  test('options: schedule, scratch size, amcheck, user, port, timeouts, resources', () => {
    const d = drill({
      schedule: Cron.schedule({ minute: '30', hour: '3', weekDay: '6' }),
      scratchSize: Size.gibibytes(20),
      amcheck: false,
      user: 'admin',
      port: 6543,
      recoveryTimeout: Duration.minutes(30),
      checkTimeout: Duration.seconds(90),
      timeout: Duration.hours(1),
      resources: { memory: { request: Size.gibibytes(1), limit: Size.gibibytes(4) } },
    });
    expect(d.cronJob.spec.schedule).toBe('30 3 * * 6');
    expect(d.cronJob.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(3600);
    expect(envOf(d.container)).toMatchObject({
      RESTORE_DRILL_SCRATCH_LIMIT_MB: '20480',
      RESTORE_DRILL_AMCHECK: 'false',
      PGUSER: 'admin',
      RESTORE_DRILL_PORT: '6543',
      RESTORE_DRILL_TIMEOUT_SECONDS: '1800',
      RESTORE_DRILL_CHECK_TIMEOUT_SECONDS: '90',
    });
    expect(d.container.resources).toEqual({ limits: { memory: '4096Mi' }, requests: { memory: '1024Mi' } });
    expect(d.pod.volumes.find((v: any) => v.name === 'restore-drill').emptyDir).toEqual({ sizeLimit: '20480Mi' });
  });

  test('a scratch claim replaces the emptyDir and its size limit', () => {
    const c = chart();
    const pitr = new EmbeddedPostgresPitr(c, 'pitr', PARAMS);
    pitr.addRestoreDrill({ scratchClaim: kplus.PersistentVolumeClaim.fromClaimName(c, 'Scratch', 'drill-scratch') });
    const pod = find(synth(c), 'CronJob', 'tsb-postgres-restore-drill').spec.jobTemplate.spec.template.spec;
    expect(pod.volumes.find((v: any) => v.name === 'restore-drill')).toEqual({ name: 'restore-drill', persistentVolumeClaim: { claimName: 'drill-scratch', readOnly: false } });
    expect(envOf(pod.containers[0]).RESTORE_DRILL_SCRATCH_LIMIT_MB).toBeUndefined();
  });

  test('SQL checks go into a ConfigMap, one tab-separated line each, mounted read-only and named in the environment', () => {
    const checks: RestoreDrillCheck[] = [
      { name: 'orders', database: 'tsb', sql: 'SELECT count(*) > 0 FROM orders', expected: 't' },
      { name: 'one-row', sql: 'SELECT 1, \'a\'', expected: '1|a' },
    ];
    const d = drill({ checks });
    const cm = find(d.objects, 'ConfigMap', 'tsb-postgres-restore-drill-checks');
    expect(cm.data).toEqual({ 'checks.tsv': 'orders\ttsb\tSELECT count(*) > 0 FROM orders\tt\none-row\tpostgres\tSELECT 1, \'a\'\t1|a\n' });
    expect(envOf(d.container).RESTORE_DRILL_CHECKS).toBe('/etc/pitr/drill/checks.tsv');
    expect(d.container.volumeMounts).toContainEqual({ mountPath: '/etc/pitr/drill', name: 'restore-drill-checks', readOnly: true });
    expect(d.pod.volumes).toContainEqual({ name: 'restore-drill-checks', configMap: { name: 'tsb-postgres-restore-drill-checks' } });
  });

  test('one drill per scope', () => {
    const c = chart();
    const pitr = new EmbeddedPostgresPitr(c, 'pitr', PARAMS);
    pitr.addRestoreDrill();
    expect(() => pitr.addRestoreDrill()).toThrow(/addRestoreDrill\(\) was already called for this scope/);
  });

  describe('validation', () => {
    const check = (c: Partial<RestoreDrillCheck>) => ({ name: 'ok', sql: 'SELECT 1', expected: '1', ...c }) as RestoreDrillCheck;
    test.each<[string, RestoreDrillOptions, RegExp]>([
      ['a bad schedule', { schedule: Cron.schedule({ minute: '61' }) }, /^'schedule' /],
      ['scratchSize with scratchClaim', { scratchSize: Size.gibibytes(1), scratchClaim: { name: 'scratch' } as any },
        /^'scratchSize' cannot be given with 'scratchClaim' \(the claim has its own size\), got "1Gi"\. Give one of the two$/],
      ['a scratch size below 1Mi', { scratchSize: Size.kibibytes(10) }, /^'scratchSize' must be a size of at least 1Mi/],
      ['a port out of range', { port: 70000 }, /^'port' /],
      ['a recovery timeout under a minute', { recoveryTimeout: Duration.seconds(30) }, /^'recoveryTimeout' must be a whole number of seconds, at least 60, got "30s"/],
      ['a bad role name', { user: 'a b' }, /^'user' /],
      ['a check name with a space', { checks: [check({ name: 'a b' })] }, /^'checks\[0\]\.name' must be 1 to 63 of A-Z a-z 0-9 _ \. -, got "a b"/],
      ['a duplicate check name', { checks: [check({}), check({})] }, /^'checks\[1\]\.name' is used by an earlier check, got "ok"\. Give each check its own name$/],
      ['SQL with a backslash', { checks: [check({ sql: '\\! touch /tmp/x' })] }, /^'checks\[0\]\.sql' must be SQL on one line without tabs, control characters or backslashes/],
      ['SQL with a tab', { checks: [check({ sql: 'SELECT\t1' })] }, /^'checks\[0\]\.sql' /],
      ['SQL on two lines', { checks: [check({ sql: 'SELECT 1;\nSELECT 2' })] }, /^'checks\[0\]\.sql' /],
      ['empty SQL', { checks: [check({ sql: ' ' })] }, /^'checks\[0\]\.sql' /],
      ['an expected value on two lines', { checks: [check({ expected: '1\n2' })] }, /^'checks\[0\]\.expected' must be text without tabs, line breaks/],
      ['an empty database', { checks: [check({ database: '' })] }, /^'checks\[0\]\.database' must be a database name of 1 to 63 characters/],
    ])('throws on %s', (_what, options, message) => {
      const c = chart();
      const pitr = new EmbeddedPostgresPitr(c, 'pitr', PARAMS);
      expect(() => pitr.addRestoreDrill(options)).toThrow(message);
    });

    test('throws when the deployment name makes the CronJob name longer than 52 characters', () => {
      const c = chart();
      const pitr = new EmbeddedPostgresPitr(c, 'pitr', { ...PARAMS, name: 'a'.repeat(30) });
      expect(() => pitr.addRestoreDrill()).toThrow(/^'deploymentName' makes the restore drill CronJob name 'a{30}-postgres-restore-drill' longer than 52 characters/);
    });
  });
});
