import { Size } from 'cdk8s';
import {
  EmbeddedPostgresPitr, EmbeddedPostgresPitrProps, PitrScripts, RecoveryConfig, RecoveryTarget, RestoreMode, WalArchive,
} from '../src';
import { chart, envOf, find, synth } from './util';


const REFERENCE: EmbeddedPostgresPitrProps = { name: 'tsb', replicas: 3, walArchiveStorageSize: '10Gi', backupStorageSize: '50Gi' };

/** Hostile fragments: quotes, command substitution, backticks, line breaks, `;`, NUL, backslash, non-ASCII. */
export const HOSTILE = ['\'', '"', '$(id)', '`id`', '\n', '\r', ';', '\0', '\\', 'é', '\u202e', '${HOME}', '|', '&', '>', '#', ' ', '\t'];

/** The settings lines (not comments) of a postgresql.conf fragment, as `name = value`. */
function settingLines(conf: string): string[] {
  return conf.split('\n').filter(l => l.trim() !== '' && !l.startsWith('#'));
}

/** Parses one `name = 'value'` line as PostgreSQL does: `''` is a quote, `\\` a backslash; nothing may follow. */
function parseSetting(line: string): [string, string] {
  const m = /^([a-z_]+) = '((?:[^'\\]|''|\\\\)*)'$/.exec(line);
  if (!m) {
    throw new Error(`not a single quoted setting: ${JSON.stringify(line)}`);
  }
  return [m[1], m[2].replace(/''/g, '\'').replace(/\\\\/g, '\\')];
}

describe('restore point names reach postgresql.conf quoted and inert', () => {
  test.each([
    'before\'upgrade', 'a\'; recovery_target_action = \'shutdown', '$(reboot)', '`reboot`', 'x;y', 'back\\slash', 'x\\\'y', 'café ☕',
    '#not a comment',
    '\u202egnp.exe', '\' #',
  ])('%j is written doubled inside single quotes, alone on its line', name => {
    const c = chart();
    const scripts = new PitrScripts(c, 'scripts', { deploymentName: 'tsb' });
    const recovery = new RecoveryConfig(c, 'recovery', { deploymentName: 'tsb', scripts, target: RecoveryTarget.restorePoint(name) });
    const lines = settingLines(recovery.settings);
    expect(lines.map(l => parseSetting(l)[0])).toEqual(['restore_command', 'recovery_target_name', 'recovery_target_timeline',
      'recovery_target_action']);
    expect(parseSetting(lines[1])[1]).toBe(name);
    expect(Object.fromEntries(lines.map(parseSetting)).recovery_target_action).toBe('promote');
    // The ConfigMap carries exactly the same text.
    const cm = find(synth(c), 'ConfigMap', 'tsb-postgres-recovery');
    expect(cm.data['recovery.conf']).toBe(recovery.settings);
  });

  test.each(['a\nrecovery_target_action = \'shutdown\'', 'a\rb', 'a\0b', 'a\u001bb'])('throws when the restore point name is %j', name => {
    expect(() => RecoveryTarget.restorePoint(name))
      .toThrow(/^'recoveryTarget.restorePoint' must be a restore point name of 1 to 63 bytes \(UTF-8\) without control characters/);
  });
});

describe('other recovery targets refuse anything but their own syntax', () => {
  test.each(HOSTILE)('time, xid and LSN with %j appended throw (surrounding whitespace of a time is trimmed)', bad => {
    if (/^\s$/.test(bad)) {
      expect(RecoveryTarget.time(`2024-12-04T14:35:00Z${bad}`).value).toBe('2024-12-04 14:35:00+00');
    } else {
      expect(() => RecoveryTarget.time(`2024-12-04T14:35:00Z${bad}`)).toThrow(/^'recoveryTarget.time' /);
    }
    expect(() => RecoveryTarget.xid(`100${bad}`)).toThrow(/^'recoveryTarget.xid' /);
    expect(() => RecoveryTarget.lsn(`0/1${bad}`)).toThrow(/^'recoveryTarget.lsn' /);
  });
});

describe('strings that reach a shell, an env var or a script are refused when hostile', () => {
  const PROPS = ['name', 'walArchiveStorageClassName', 'backupStorageClassName', 'walArchiveStorageSize', 'backupStorageSize', 'backupCronSchedule',
    'backupCleanupRetention', 'walArchiveStorageAccessMode', 'backupStorageAccessMode', 'postgresImage', 'walArchiveClaimName', 'backupClaimName',
    'backupCronJobName', 'scriptsConfigMapName', 'recoveryConfigMapName', 'restorePodName', 'dataClaimName', 'tlsSecretName', 'serviceAccountName',
    'credentialsSecretName', 'credentialsSecretKey', 'host', 'user'] as const;
  const VALID: Record<string, string> = {
    walArchiveStorageSize: '10Gi',
    backupStorageSize: '50Gi',
    backupCronSchedule: '0 2 * * *',
    backupCleanupRetention: '432000s',
    walArchiveStorageAccessMode: 'ReadWriteOnce',
    backupStorageAccessMode: 'ReadWriteOnce',
    postgresImage: 'postgres:15-alpine',
  };
  const cases = PROPS.flatMap(prop => HOSTILE.filter(h => !(prop === 'backupCronSchedule' && /^\s$/.test(h)))
    .map(h => [prop, `${VALID[prop] ?? 'tsb'}${h}`] as const));

  const synthWith = (prop: string, value: string) => {
    const c = chart();
    new EmbeddedPostgresPitr(c, 'pitr', {
      ...REFERENCE, [prop]: value, recoveryTarget: RecoveryTarget.latest(), restore: { mode: RestoreMode.AUTOMATIC },
    });
    return synth(c);
  };

  test.each(cases)('throws when %s is %j (or, for whitespace around a trimmed value, gives the output of the trimmed value)', (prop, value) => {
    let objects: any[];
    try {
      objects = synthWith(prop, value);
    } catch (e) {
      expect((e as Error).message).toMatch(/^'\w+(\.\w+)?' .*, got /s);
      return;
    }
    expect(value.trim()).not.toBe(value);
    expect(objects).toEqual(synthWith(prop, value.trim()));
  });

  test.each(HOSTILE)('throws when the automatic restore\'s backupName ends in %j', bad => {
    expect(() => new EmbeddedPostgresPitr(chart(), 'pitr', {
      ...REFERENCE, recoveryTarget: RecoveryTarget.latest(), restore: { mode: RestoreMode.AUTOMATIC, backupName: `tsb-postgres-base-backup${bad}` },
    })).toThrow(/^'restore.backupName' must be a backup folder name of letters, digits, '.', '_' and '-', got /);
  });

  test.each(HOSTILE)('throws when the WAL archive mount path ends in %j', bad => {
    const c = chart();
    const scripts = new PitrScripts(c, 'scripts', { deploymentName: 'tsb' });
    expect(() => new WalArchive(c, 'wal', { deploymentName: 'tsb', scripts, storage: Size.gibibytes(1), mountPath: `/var/wal${bad}` }))
      .toThrow(/^'mountPath' must be an absolute path/);
  });

  test('a cron schedule with odd whitespace is normalised to single spaces', () => {
    const c = chart();
    new EmbeddedPostgresPitr(c, 'pitr', { ...REFERENCE, backupCronSchedule: ' 0\t2  *\n* * ' });
    expect(find(synth(c), 'CronJob', 'tsb-postgres-base-backup').spec.schedule).toBe('0 2 * * *');
  });
});

describe('what does reach postgresql.conf and the environment is exactly the validated input', () => {
  const c = chart();
  const pitr = new EmbeddedPostgresPitr(c, 'pitr', {
    ...REFERENCE,
    host: 'db.example.internal',
    port: 6432,
    user: 'backup_role',
    credentialsSecretKey: 'pg.pass_word',
    recoveryTarget: RecoveryTarget.lsn('0/3000060'),
    restore: { mode: RestoreMode.AUTOMATIC },
  });
  const objects = synth(c);

  test('the archiving fragment has exactly its five settings, each a single quoted value', () => {
    const lines = settingLines(pitr.walArchive.postgresqlConf).map(parseSetting);
    expect(lines.map(([k]) => k)).toEqual(['wal_level', 'archive_mode', 'archive_command', 'archive_timeout', 'wal_compression']);
    expect(lines[2][1]).toBe('/bin/sh /opt/pitr/scripts/archive-wal.sh "%p" "%f"');
  });

  test('the backup environment is the validated inputs and nothing else', () => {
    const env = envOf(find(objects, 'CronJob', 'tsb-postgres-base-backup').spec.jobTemplate.spec.template.spec.containers[0]);
    expect(env).toMatchObject({
      PGHOST: 'db.example.internal',
      PGPORT: '6432',
      PGUSER: 'backup_role',
      PGPASSWORD: 'secret:postgres-credentials/pg.pass_word',
    });
  });

  test('the restore environment carries the normalised target', () => {
    const env = envOf(find(objects, 'Pod', 'postgres-restore').spec.containers[0]);
    expect(env.RECOVERY_TARGET_LSN).toBe('0/3000060');
    expect(env.RECOVERY_TARGET_TYPE).toBe('lsn');
  });

  test('commands are fixed script paths, never built from user strings', () => {
    for (const o of objects.filter(x => x.kind === 'Pod' || x.kind === 'CronJob')) {
      const spec = o.kind === 'Pod' ? o.spec : o.spec.jobTemplate.spec.template.spec;
      for (const container of spec.containers) {
        for (const word of container.command) {
          expect(word).toMatch(/^(\/bin\/sh|\/opt\/pitr\/scripts\/[a-z-]+\.sh|sleep|infinity)$/);
        }
        expect(container.args ?? []).toEqual([]);
      }
    }
  });
});
