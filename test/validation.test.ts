import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { BackupCompression, EmbeddedPostgresPitr, EmbeddedPostgresPitrProps, PitrScripts, RecoveryConfig, RecoveryTarget, RecoveryTargetAction, RecoveryTimeline, WalArchive } from '../src';
import { chart, find, synth, REFERENCE } from './util';


function build(extra: Partial<EmbeddedPostgresPitrProps> | Record<string, unknown>): EmbeddedPostgresPitr {
  return new EmbeddedPostgresPitr(chart(), 'pitr', { ...REFERENCE, ...extra } as EmbeddedPostgresPitrProps);
}

/** The error message of a function that must throw a plain Error. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    expect(Object.getPrototypeOf(e)).toBe(Error.prototype);
    return (e as Error).message;
  }
  throw new Error('expected an error, none was thrown');
}

/** Asserts the library's error shape: `'prop' <rule>, got <value>. <fix>`. */
function expectError(fn: () => unknown, prop: string, shown: string, rule: RegExp, fix: RegExp): void {
  const message = errorOf(fn);
  expect(message.startsWith(`'${prop}' `)).toBe(true);
  expect(message).toContain(`got ${shown}`);
  expect(message).toMatch(rule);
  expect(message).toMatch(fix);
}

describe('sizes: a Kubernetes quantity above zero', () => {
  test.each(['10', '10GB', '10G', '0Gi', '0.0Gi', '-1Gi', '1e3Gi', '10 Gi', 'ten', '', '１０Gi', '10Gi\n', '10Gi; rm -rf /'])(
    'throws when walArchiveStorageSize is %j', value => {
      if (value === '') {
        expect(errorOf(() => build({ walArchiveStorageSize: value }))).toMatch(/^'walArchiveStorageSize' is required/);
        return;
      }
      expectError(() => build({ walArchiveStorageSize: value }), 'walArchiveStorageSize', JSON.stringify(value),
        /must be a Kubernetes quantity above zero with a binary suffix/, /Write it like '10Gi'/);
    });

  test('throws when backupStorageSize is not a quantity', () => {
    expectError(() => build({ backupStorageSize: '50 gigs' }), 'backupStorageSize', '"50 gigs"', /Kubernetes quantity above zero/, /'10Gi'/);
  });

  test('throws when a size is a number rather than the ManagementPlane string', () => {
    expectError(() => build({ backupStorageSize: 50 }), 'backupStorageSize', '50', /must be a string/, /ManagementPlane YAML/);
  });

  test('throws when a size is below 1Mi, with the fix in the string form it was written in (not Size.gibibytes)', () => {
    const message = errorOf(() => build({ walArchiveStorageSize: '512Ki' }));
    expect(message).toBe('\'walArchiveStorageSize\' must be a size of at least 1Mi and at most 8Ei, got "512Ki". Write it like \'10Gi\' or \'500Mi\'');
    expect(message).not.toMatch(/Size\./);
  });

  test('throws when a construct-layer size is zero', () => {
    const c = chart();
    const scripts = new PitrScripts(c, 'scripts', { deploymentName: 'tsb' });
    expectError(() => new WalArchive(c, 'wal', { deploymentName: 'tsb', scripts, storage: Size.gibibytes(0) }), 'storage', '"0Gi"',
      /at least 1Mi/, /Size.gibibytes\(10\)/);
  });

  test('accepts sizes that are not whole gibibytes and writes them as an equal quantity', () => {
    const c = chart();
    new EmbeddedPostgresPitr(c, 'pitr', { ...REFERENCE, walArchiveStorageSize: '500Mi', backupStorageSize: '1.5Ti' });
    const objects = synth(c);
    expect(find(objects, 'PersistentVolumeClaim', 'tsb-postgres-wal-archive').spec.resources.requests.storage).toBe('0.48828125Gi');
    expect(find(objects, 'PersistentVolumeClaim', 'tsb-backup').spec.resources.requests.storage).toBe('1536Gi');
  });
});

describe('names: DNS-1123', () => {
  test.each(['TSB', 'tsb_1', '-tsb', 'tsb-', 'a'.repeat(37), 'tsb;reboot', 'tsb\n', 'tsbé', 'ts b', '$(id)'])('throws when name is %j', value => {
    expectError(() => build({ name: value }), 'name', JSON.stringify(value), /must be a DNS-1123 name of at most 36 characters/,
      /Use a name such as 'tsb'/);
  });

  test.each(['walArchiveStorageClassName', 'backupStorageClassName'] as const)('throws when %s is not a DNS-1123 name', prop => {
    expectError(() => build({ [prop]: 'Fast SSD' }), prop, '"Fast SSD"', /must be a DNS-1123 name/, /Use a name such as/);
  });

  test.each(['walArchiveClaimName', 'backupClaimName', 'backupCronJobName', 'scriptsConfigMapName', 'credentialsSecretName'] as const)(
    'throws when %s is not a DNS-1123 name', prop => {
      const message = errorOf(() => build({ [prop]: 'Bad Name' }));
      expect(message).toMatch(/^'\w+' must be a DNS-1123 name of at most \d+ characters .*got "Bad Name"\. Use a name such as/);
    });

  test('throws when the CronJob name is longer than 52 characters', () => {
    expectError(() => build({ backupCronJobName: 'b'.repeat(53) }), 'backupCronJobName', JSON.stringify('b'.repeat(53)), /at most 52 characters/,
      /Use a name/);
  });
});

describe('access modes: the four Kubernetes values', () => {
  test.each(['readwriteonce', 'RWO', 'ReadWriteAll', '', 'constructor', '__proto__'])('throws when walArchiveStorageAccessMode is %j', value => {
    expectError(() => build({ walArchiveStorageAccessMode: value }), 'walArchiveStorageAccessMode', JSON.stringify(value),
      /must be one of the Kubernetes access modes ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod/, /case-sensitive/);
  });

  test('throws when backupStorageAccessMode is read-only', () => {
    expectError(() => build({ backupStorageAccessMode: 'ReadOnlyMany' }), 'backupStorageAccessMode', '"ReadOnlyMany"', /must allow writes/,
      /Use ReadWriteOnce or ReadWriteMany/);
  });

  test.each(['ReadWriteOnce', 'ReadWriteMany'])('accepts %s', mode => {
    expect(() => build({ walArchiveStorageAccessMode: mode, backupStorageAccessMode: mode })).not.toThrow();
  });
});

describe('cron schedules: five fields in range, or a macro Kubernetes accepts', () => {
  test.each(['0 2 * *', '0 2 * * * *', '', '   ', 'TZ=UTC 0 2 * * *'])('throws when backupCronSchedule %j has not five fields', value => {
    // '' is a given value, not a missing one: it fails the five-field rule like the others, never falls back to the default.
    expect(errorOf(() => build({ backupCronSchedule: value }))).toMatch(/^'backupCronSchedule' must have five fields \(minute hour day month weekday\) or be a macro such as @daily, got .*\. Write it like '0 2 \* \* \*'/);
  });

  // The descriptors of robfig/cron's ParseStandard, which the API server validates a CronJob's schedule with.
  test.each(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly', '@every 6h', '@every 1h30m', ' @daily '])(
    'accepts the macro %j and writes it as given', value => {
      const c = chart();
      new EmbeddedPostgresPitr(c, 'pitr', { ...REFERENCE, backupCronSchedule: value, replicas: 1 });
      expect(find(synth(c), 'CronJob', 'tsb-postgres-base-backup').spec.schedule).toBe(value.trim());
    });

  test.each(['@Daily', '@reboot', '@every', '@every 6', '@every 1d', '@every 500ms', '@daily 0', '@every  6h'])('throws when the macro %j is not one Kubernetes accepts',
    value => {
      expect(errorOf(() => build({ backupCronSchedule: value }))).toMatch(/^'backupCronSchedule' (is not a schedule macro Kubernetes accepts \(@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, or @every with a duration such as '@every 6h'\)|must repeat at most once a second)/);
    });

  test.each([
    ['@hourly', '1800s', 3600], ['@daily', '3600s', 86400], ['@midnight', '3600s', 86400], ['@weekly', '432000s', 604800],
    ['@monthly', '432000s', 2419200], ['@yearly', '432000s', 31536000], ['@every 12h', '3600s', 43200], ['0 3 1 * *', '432000s', 2419200],
  ])('the retention warning knows the interval of %j', (schedule, retention, interval) => {
    expect(build({ backupCronSchedule: schedule, backupCleanupRetention: retention }).warnings.join('\n'))
      .toMatch(new RegExp(`is shorter than the interval between backups \\(${interval}s\\)`));
  });

  test('no retention warning when the retention covers the macro\'s interval', () => {
    expect(build({ replicas: 1, backupCronSchedule: '@hourly', backupCleanupRetention: '7200s' }).warnings).toEqual([]);
    expect(build({ replicas: 1, backupCronSchedule: '@every 30m' }).warnings).toEqual([]);
  });

  test.each([
    ['60 2 * * *', 'minute', '60'], ['0 24 * * *', 'hour', '24'], ['0 2 0 * *', 'day of month', '0'], ['0 2 32 * *', 'day of month', '32'],
    ['0 2 * 13 *', 'month', '13'], ['0 2 * * 7', 'day of week', '7'], ['0 2 * * MON-FOO', 'day of week', 'MON-FOO'], ['*/0 * * * *', 'minute',
      '*/0'],
    ['5-1 * * * *', 'minute', '5-1'], ['0 2 * * $(id)', 'day of week', '$(id)'], ['0 2 * * `id`', 'day of week', '`id`'], ['1-2-3 * * * *',
      'minute', '1-2-3'],
  ])('throws when backupCronSchedule is %j', (value, field, bad) => {
    expectError(() => build({ backupCronSchedule: value }), 'backupCronSchedule', JSON.stringify(value),
      new RegExp(`has an invalid ${field} field '${bad.replace(/[$()*`/]/g, '\\$&')}'`), /Each field is '\*', a value, a range 'a-b'/);
  });

  test.each(['*/15 * * * *', '0 */6 * * *', '30 3 * * SUN', '0 2 1,15 * *', '0 2 * JAN-MAR 1-5', '0 2 ? * *'])('accepts %j', value => {
    expect(() => build({ backupCronSchedule: value })).not.toThrow();
  });
});

describe('retention: <n>s above zero', () => {
  test.each(['0s', '-5s', '5d', '432000', '432000 s', '1.5s', 'PT5D', '99999999999999999999s'])('throws when backupCleanupRetention is %j',
    value => {
      expectError(() => build({ backupCleanupRetention: value }), 'backupCleanupRetention', JSON.stringify(value),
        /must be a number of seconds above zero with an 's' suffix/, /Write it like '432000s' \(5 days\)/);
    });

  test('throws when a construct-layer retention is not whole seconds', () => {
    const c = chart();
    const scripts = new PitrScripts(c, 'scripts', { deploymentName: 'tsb' });
    expect(errorOf(() => new WalArchive(c, 'wal', {
      deploymentName: 'tsb',
      scripts,
      storage: Size.gibibytes(1),
      archiveTimeout: Duration.millis(1500),
    })))
      .toBe('\'archiveTimeout\' must be a whole number of seconds, at least 1, got "1.5s". Use a Duration such as Duration.seconds(60)');
  });

  test('warns when the retention is shorter than the backup interval', () => {
    const pitr = build({ backupCleanupRetention: '3600s' });
    const warning = pitr.warnings.find(w => w.startsWith('backupCleanupRetention'));
    expect(warning).toMatch(/backupCleanupRetention \(3600s\) is shorter than the interval between backups \(86400s\).*at most one backup is kept/);
    expect(warning).toMatch(/Use a retention of at least 86400s/);
  });

  test('warns for a weekly schedule with the default 5-day retention', () => {
    expect(build({ backupCronSchedule: '0 2 * * 0' }).warnings.join('\n'))
      .toMatch(/\(432000s\) is shorter than the interval between backups \(604800s\)/);
  });

  test('does not warn when the retention covers several intervals', () => {
    expect(build({ replicas: 1 }).warnings).toEqual([]);
  });
});

describe('replicas: at least 1', () => {
  test.each([0, -1, 1.5, NaN, Infinity, '3'])('throws when replicas is %p', value => {
    expectError(() => build({ replicas: value }), 'replicas', typeof value === 'string' ? '"3"' : String(value),
      /must be an integer of at least 1/, /Write it as a whole number without quotes/);
  });

  test('the reference configuration (3 replicas, ReadWriteOnce archive) synthesizes with a warning that names the fix', () => {
    const c = chart();
    const pitr = new EmbeddedPostgresPitr(c, 'pitr', REFERENCE);
    expect(synth(c).length).toBeGreaterThan(0);
    expect(pitr.warnings).toHaveLength(1);
    expect(pitr.warnings[0]).toMatch(/replicas is 3 and walArchiveStorageAccessMode is ReadWriteOnce: only the primary archives WAL/);
    expect(pitr.warnings[0])
      .toMatch(/attaches to one node only.*Use walArchiveStorageAccessMode: ReadWriteMany, or keep all database pods on one node/);
  });

  test('no replica warning with ReadWriteMany or a single replica', () => {
    expect(build({ walArchiveStorageAccessMode: 'ReadWriteMany' }).warnings).toEqual([]);
    expect(build({ replicas: 1 }).warnings).toEqual([]);
  });
});

describe('recovery targets', () => {
  const fixTime = /Write it with its zone, like '2024-12-04T14:35:00Z' or '2024-12-04 14:35:00\+00'/;

  test.each(['2024-12-04 14:35:00', '2024-12-04T14:35:00 PDT', '2024-12-04T14:35:00 Europe/Paris', 'yesterday', '2024-12-04', '',
    '2024-12-04T14:35:00Z\nrecovery_target_action = shutdown'])('throws when the time %j has no valid zone', value => {
    expectError(() => RecoveryTarget.time(value), 'recoveryTarget.time', JSON.stringify(value), /must be a date and time with an explicit zone/,
      fixTime);
  });

  test.each(['2024-02-30T10:00:00Z', '2024-12-04T24:00:00Z', '1969-12-31T23:59:59Z'])('throws when the time %j is not a valid date', value => {
    expectError(() => RecoveryTarget.time(value), 'recoveryTarget.time', JSON.stringify(value), /is not a valid calendar date and time/, fixTime);
  });

  test('throws when the zone offset is out of range', () => {
    expectError(() => RecoveryTarget.time('2024-12-04T14:35:00+16:00'), 'recoveryTarget.time', '"2024-12-04T14:35:00+16:00"',
      /zone offset out of range/, fixTime);
  });

  test.each([
    ['2024-12-04T14:35:00Z', '2024-12-04 14:35:00+00'],
    ['2024-12-04 14:35:00+02:00', '2024-12-04 12:35:00+00'],
    ['2024-12-04T00:15:00-0130', '2024-12-04 01:45:00+00'],
    ['2024-12-04 14:35:00.123456 UTC', '2024-12-04 14:35:00.123456+00'],
    ['2024-12-04T14:35:00+00', '2024-12-04 14:35:00+00'],
  ])('normalises %j to %j', (input, normalised) => {
    expect(RecoveryTarget.time(input).value).toBe(normalised);
  });

  test.each(['-1', '1.5', '0x10', '', 'abc', '18446744073709551616', '2', ' 5'])('throws when the xid is %j', value => {
    expectError(() => RecoveryTarget.xid(value), 'recoveryTarget.xid', JSON.stringify(value), /must be an unsigned decimal transaction id/,
      /SELECT txid_current\(\)/);
  });

  test('writes a leading-zero xid in canonical decimal', () => {
    expect(RecoveryTarget.xid('0100').value).toBe('100');
  });

  test.each(['0/G', '0-3000060', '3000060', '0/3000060/1', '123456789/0', '', '0/ 1'])('throws when the LSN is %j', value => {
    expectError(() => RecoveryTarget.lsn(value), 'recoveryTarget.lsn', JSON.stringify(value), /must be a WAL location of two hex numbers/,
      /SELECT pg_current_wal_lsn\(\)/);
  });

  test('normalises the LSN to upper-case hex without leading zeros', () => {
    expect(RecoveryTarget.lsn('00/0300006a').value).toBe('0/300006A');
  });

  test.each(['', 'a'.repeat(64), 'é'.repeat(32), 'x\ny', 'x\0y', 'x\ty', 'x\u001by', '\ud800'])('throws when the restore point name is %j',
    value => {
      expectError(() => RecoveryTarget.restorePoint(value), 'recoveryTarget.restorePoint', JSON.stringify(value),
        /must be a restore point name of 1 to 63 bytes \(UTF-8\) without control characters/, /pg_create_restore_point\(\)/);
    });

  test('accepts a 63-byte name, multi-byte characters included', () => {
    expect(RecoveryTarget.restorePoint('a'.repeat(63)).value).toHaveLength(63);
    expect(RecoveryTarget.restorePoint('é'.repeat(31) + 'a').value).toBe('é'.repeat(31) + 'a');
  });

  test.each([0, -1, 1.5, NaN, 2 ** 32])('throws when the timeline is %p', value => {
    expectError(() => RecoveryTimeline.id(value), 'timeline', String(value), /must be 'latest', 'current' or a positive integer timeline id/,
      /RecoveryTimeline.latest\(\)/);
  });

  test('timeline values', () => {
    expect([RecoveryTimeline.latest().value, RecoveryTimeline.current().value, RecoveryTimeline.id(2).value]).toEqual(['latest', 'current', '2']);
  });

  const recovery = (props: Record<string, unknown>) => {
    const c = chart();
    const scripts = new PitrScripts(c, 'scripts', { deploymentName: 'tsb' });
    return new RecoveryConfig(c, 'recovery', { deploymentName: 'tsb', scripts, ...props });
  };

  test.each(['resume', 'PROMOTE', ''])('throws when the action is %j', value => {
    expect(errorOf(() => recovery({ action: value })))
      .toBe(`'action' must be a RecoveryTargetAction (RecoveryTargetAction.PROMOTE, RecoveryTargetAction.PAUSE, RecoveryTargetAction.SHUTDOWN), got ${JSON.stringify(value)}`);
  });

  test.each([
    ['name', RecoveryTarget.restorePoint('p')], ['immediate', RecoveryTarget.immediate()], ['latest', RecoveryTarget.latest()],
  ])('throws when inclusive is given with a %s target', (type, target) => {
    expectError(() => recovery({ target, inclusive: false }), 'inclusive', 'false',
      new RegExp(`applies only to time, xid and LSN targets, and the target is ${type}`), /Remove 'inclusive' for this target/);
  });

  test('throws when inclusive is not a boolean', () => {
    expect(errorOf(() => recovery({ target: RecoveryTarget.xid('100'), inclusive: 'no' }))).toBe('\'inclusive\' must be true or false, got "no"');
  });

  test.each([RecoveryTarget.time('2024-12-04T14:35:00Z'), RecoveryTarget.xid('100'), RecoveryTarget.lsn('0/1')])('inclusive applies to %s',
    target => {
      expect(recovery({ target, inclusive: false, action: RecoveryTargetAction.PAUSE }).settings).toMatch(/^recovery_target_inclusive = 'off'$/m);
    });
});

describe('image references', () => {
  test.each(['Postgres:15', 'postgres:15 alpine', 'postgres:15;id', 'postgres:$(id)', 'postgres@sha256:abc', ':15', 'postgres:', 'a//b', ''])(
    'throws when postgresImage is %j', value => {
      expectError(() => build({ postgresImage: value }), 'postgresImage', JSON.stringify(value), /must be a container image reference/,
        /Use the same image as the database pods/);
    });

  test.each(['postgres:15-alpine', 'docker.io/library/postgres:15.8-alpine3.20', 'registry.example.com:5000/team/postgres:15',
    `postgres@sha256:${'a'.repeat(64)}`])('accepts %j', value => {
    expect(build({ postgresImage: value }).postgresImage.reference).toBe(value);
  });
});

describe('other options', () => {
  test.each([
    ['host', 'tsb-postgres;id', /must be a DNS name or an IPv4 address/],
    ['port', 0, /must be an integer port between 1 and 65535/],
    ['port', 70000, /must be an integer port between 1 and 65535/],
    ['user', 'tsb user', /must be a PostgreSQL name of at most 63 bytes/],
    ['user', '$(id)', /must be a PostgreSQL name of at most 63 bytes/],
    ['credentialsSecretKey', 'pass word', /must be a Secret key of letters, digits/],
  ] as const)('throws when %s is %j', (prop, value, rule) => {
    const message = errorOf(() => build({ [prop]: value }));
    expect(message.startsWith(`'${prop}' `)).toBe(true);
    expect(message).toMatch(rule);
    expect(message).toContain(`got ${JSON.stringify(value)}`);
  });

  test('throws when a construct-layer access mode is read-only', () => {
    const c = chart();
    const scripts = new PitrScripts(c, 'scripts', { deploymentName: 'tsb' });
    expect(errorOf(() => new WalArchive(c, 'wal', {
      deploymentName: 'tsb', scripts, storage: Size.gibibytes(1), accessMode: kplus.PersistentVolumeAccessMode.READ_ONLY_MANY,
    }))).toMatch(/^'accessMode' must allow writes \(the volume is written to\), got "ReadOnlyMany"\. Use ReadWriteOnce or ReadWriteMany/);
  });
  test('backupCompression must be a BackupCompression, named in the error with the fix', () => {
    expectError(() => build({ backupCompression: 'zstd' as any }), 'backupCompression', '"zstd"', /must be a BackupCompression/,
      /BackupCompression\.zstd\(\{ level, workers \}\), \.gzip\(level\), \.lz4\(\) or \.none\(\)/);
    expect(build({ backupCompression: BackupCompression.lz4() }).baseBackup.compression.method).toBe('lz4');
    expect(build({}).baseBackup.compression.method).toBe('zstd');
  });
});
