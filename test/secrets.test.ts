import { EmbeddedPostgresPitr, EmbeddedPostgresPitrProps, RecoveryTarget, RestoreMode } from '../src';
import { chart, synth } from './util';


const REFERENCE: EmbeddedPostgresPitrProps = {
  name: 'tsb', replicas: 3, walArchiveStorageSize: '10Gi', backupStorageSize: '50Gi',
};

/** A password as a user might have it; it must never appear in the output. */
const PASSWORD = 'Tr0ub4dor-and-3-PITR';

/** Every container of every pod spec in the output. */
function containersOf(objects: any[]): any[] {
  return objects.flatMap(o => {
    const spec = o.kind === 'Pod' ? o.spec : o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : undefined;
    return spec ? [...(spec.initContainers ?? []), ...spec.containers] : [];
  });
}

/** Password-looking assignments with a literal value: `PGPASSWORD=x`, `password: x`, `--password x`, `postgres://u:x@`. */
const PASSWORD_LITERAL = /(passw(or)?d|pwd)\s*[=:]\s*['"]?[^\s'"$]|--password[= ]\s*[^\s$]|:\/\/[^/\s:@]+:[^@\s$]+@/i;

const SCENARIOS: Array<[string, Partial<EmbeddedPostgresPitrProps>]> = [
  ['the reference configuration', {}],
  ['custom credentials', { credentialsSecretName: 'db-credentials', credentialsSecretKey: 'password' }],
  ['a manual restore', { recoveryTarget: RecoveryTarget.time('2024-12-04T14:35:00Z') }],
  ['an automatic restore', { recoveryTarget: RecoveryTarget.restorePoint('before_upgrade'), restore: { mode: RestoreMode.AUTOMATIC } }],
];

describe.each(SCENARIOS)('secrets: %s', (_name, extra) => {
  const c = chart();
  new EmbeddedPostgresPitr(c, 'pitr', { ...REFERENCE, ...extra });
  const objects = synth(c);

  test('no Secret object is created: the password stays in the user\'s Secret', () => {
    expect(objects.filter(o => o.kind === 'Secret')).toEqual([]);
  });

  test('the password reaches containers only through secretKeyRef', () => {
    for (const container of containersOf(objects)) {
      for (const env of container.env ?? []) {
        if (/pass|pwd|secret|token/i.test(env.name)) {
          expect(env.value).toBeUndefined();
          expect(env.valueFrom?.secretKeyRef).toBeDefined();
        }
      }
      expect(container.envFrom ?? []).toEqual([]);
    }
  });

  test('the backup container gets PGPASSWORD from the credentials Secret', () => {
    const cron = objects.find(o => o.kind === 'CronJob');
    const env = cron.spec.jobTemplate.spec.template.spec.containers[0].env.find((e: any) => e.name === 'PGPASSWORD');
    expect(env).toEqual({
      name: 'PGPASSWORD',
      valueFrom: {
        secretKeyRef: {
          name: extra.credentialsSecretName ?? 'postgres-credentials',
          key: extra.credentialsSecretKey ?? 'embedded-postgres-password',
        },
      },
    });
  });

  test('no command, argument, env value or ConfigMap holds a password literal', () => {
    const texts: string[] = [];
    for (const container of containersOf(objects)) {
      texts.push(...(container.command ?? []), ...(container.args ?? []));
      texts.push(...(container.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => `${e.name}=${e.value}`));
    }
    for (const cm of objects.filter(o => o.kind === 'ConfigMap')) {
      texts.push(...Object.values<string>(cm.data ?? {}));
    }
    const offending = texts.flatMap(t => t.split('\n')).filter(line => !/^\s*#/.test(line) && PASSWORD_LITERAL.test(line));
    expect(offending).toEqual([]);
  });
});

describe('a known password passed wherever the API takes a string', () => {
  const PROPS = ['name', 'walArchiveStorageClassName', 'backupStorageClassName', 'walArchiveClaimName', 'backupClaimName', 'backupCronJobName',
    'scriptsConfigMapName', 'recoveryConfigMapName', 'restorePodName', 'dataClaimName', 'tlsSecretName', 'serviceAccountName',
    'credentialsSecretName',
    'credentialsSecretKey', 'host', 'user', 'postgresImage'] as const;

  test.each(PROPS)('%s: refused, or never written as a password', prop => {
    const c = chart();
    let objects: any[];
    try {
      new EmbeddedPostgresPitr(c, 'pitr', {
        ...REFERENCE, [prop]: PASSWORD, recoveryTarget: RecoveryTarget.latest(), restore: { mode: RestoreMode.AUTOMATIC },
      });
      objects = synth(c);
    } catch (e) {
      // Refused with a clear validation error that names the prop (the value is echoed to the user who gave it, at synth time only).
      expect((e as Error).message).toMatch(/^'\w+(\.\w+)?' /);
      return;
    }
    // Accepted only where it is a name, never a credential: it must not be in any env value that feeds libpq's password.
    for (const container of containersOf(objects)) {
      for (const env of container.env ?? []) {
        if (env.name === 'PGPASSWORD') {
          expect(env.value).toBeUndefined();
        }
      }
    }
  });

  test('a password passed as the restore point name of a manual restore is written only as recovery_target_name', () => {
    // A restore point name is not a secret, but nothing the library writes may turn it into a credential: the text may
    // stand only in the recovery settings, as the target's value, and nowhere else (no env, command or other key).
    const c = chart();
    new EmbeddedPostgresPitr(c, 'pitr', { ...REFERENCE, recoveryTarget: RecoveryTarget.restorePoint(PASSWORD) });
    const objects = synth(c);
    const places: string[] = [];
    const walk = (value: unknown, at: string): void => {
      if (typeof value === 'string') {
        if (value.includes(PASSWORD)) {
          places.push(at);
        }
      } else if (value && typeof value === 'object') {
        for (const [k, v] of Object.entries(value)) {
          walk(v, `${at}.${k}`);
        }
      }
    };
    objects.forEach(o => walk(o, `${o.kind}/${o.metadata.name}`));
    expect(places).toEqual(['ConfigMap/tsb-postgres-recovery.data.recovery.conf']);
    const conf = objects.find(o => o.kind === 'ConfigMap' && o.metadata.name === 'tsb-postgres-recovery').data['recovery.conf'];
    expect(conf.split('\n').filter((l: string) => l.includes(PASSWORD))).toEqual([`recovery_target_name = '${PASSWORD}'`]);
  });
});
