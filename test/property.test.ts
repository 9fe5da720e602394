import * as fc from 'fast-check';
import { EmbeddedPostgresPitr, EmbeddedPostgresPitrProps, RecoveryTarget, RecoveryTargetAction, RecoveryTimeline, RestoreMode } from '../src';
import { SCHEMA_KUBERNETES_VERSION, validateAll } from './k8s-schema';
import { restrictedViolations } from './pss';
import { chart, envOf, synth } from './util';


const RUNS = 1000;
const HOSTILE = ['\'', '"', '$(id)', '`id`', '\n', '\r\n', ';', '\0', '\\', 'é', '☕', '\u202e', '${IFS}', '|', '&&', '#', ' ', '\t', '\ud800', '%p'];

/** A value from a list of good ones, a good one with a hostile fragment inserted, a hostile fragment alone, or arbitrary text. */
function field(good: string[], hostile = true): fc.Arbitrary<string> {
  if (!hostile) {
    return fc.constantFrom(...good);
  }
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...good) },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom(...good), fc.constantFrom(...HOSTILE), fc.nat()).map(([g, h, i]) => {
        const at = i % (g.length + 1);
        return g.slice(0, at) + h + g.slice(at);
      }),
    },
    { weight: 1, arbitrary: fc.constantFrom(...HOSTILE) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  );
}

const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 3 });

/**
 * A target factory and the one PostgreSQL setting it must write, spelled out here (never read back from the library's
 * own RecoveryTarget.setting): undefined for latest.
 */
interface GeneratedTarget {
  readonly make: () => RecoveryTarget;
  readonly setting: string | undefined;
}

const targetArb = (h: boolean): fc.Arbitrary<GeneratedTarget> => fc.oneof(
  field(['2024-12-04T14:35:00Z', '2024-12-04 14:35:00+02:00', '2024-12-04 14:35:00 UTC', '2024-12-04 14:35:00'],
    h).map(v => ({ make: () => RecoveryTarget.time(v), setting: 'recovery_target_time' })),
  field(['12345', '3', '0100'], h).map(v => ({ make: () => RecoveryTarget.xid(v), setting: 'recovery_target_xid' })),
  field(['0/3000060', '16/B374D848'], h).map(v => ({ make: () => RecoveryTarget.lsn(v), setting: 'recovery_target_lsn' })),
  field(['before_upgrade', 'it\'s a point', 'café'], h).map(v => ({ make: () => RecoveryTarget.restorePoint(v), setting: 'recovery_target_name' })),
  fc.constant({ make: () => RecoveryTarget.immediate(), setting: 'recovery_target' }),
  fc.constant({ make: () => RecoveryTarget.latest(), setting: undefined }),
);

const propsOf = (h: boolean) => fc.record({
  name: field(['tsb', 'my-db', 'a1'], h),
  replicas: optional(h ? fc.oneof(fc.integer({ min: -1, max: 5 }), fc.constantFrom(NaN, 1.5)) : fc.integer({ min: 1, max: 5 })),
  walArchiveStorageSize: field(['10Gi', '500Mi', '1.5Ti'], h),
  walArchiveStorageClassName: optional(field(['standard', 'fast-ssd', 'csi.example.com'], h)),
  walArchiveStorageAccessMode: optional(field(['ReadWriteOnce', 'ReadWriteMany', 'ReadWriteOncePod', 'ReadOnlyMany'], h)),
  backupStorageSize: field(['50Gi', '1Ti'], h),
  backupStorageClassName: optional(field(['standard', 'slow'], h)),
  backupStorageAccessMode: optional(field(['ReadWriteOnce', 'ReadWriteMany'], h)),
  backupCronSchedule: optional(field(['0 2 * * *', '*/30 * * * *', '15 3 * * SUN', '0 */6 1-15 * *'], h)),
  backupCleanupRetention: optional(field(['432000s', '3600s', '604800s'], h)),
  postgresImage: optional(field(['postgres:15-alpine', 'registry.example.com:5000/pg/postgres:15.8'], h)),
  host: optional(field(['tsb-postgres', '10.0.0.5'], h)),
  port: optional(h ? fc.oneof(fc.constantFrom(5432, 6432), fc.integer({ min: -1, max: 70000 })) : fc.constantFrom(5432, 6432)),
  user: optional(field(['tsb', 'backup_role'], h)),
  credentialsSecretName: optional(field(['postgres-credentials', 'db-secret'], h)),
  credentialsSecretKey: optional(field(['embedded-postgres-password', 'password'], h)),
  restorePodName: optional(field(['postgres-restore'], h)),
  target: optional(targetArb(h)),
  mode: fc.constantFrom(RestoreMode.MANUAL, RestoreMode.AUTOMATIC),
  action: optional(fc.constantFrom(RecoveryTargetAction.PROMOTE, RecoveryTargetAction.PAUSE, RecoveryTargetAction.SHUTDOWN)),
  inclusive: optional(fc.boolean()),
  timeline: optional(fc.oneof(fc.constant(() => RecoveryTimeline.latest()), fc.constant(() => RecoveryTimeline.current()),
    fc.integer({ min: h ? -1 : 1, max: 5 }).map(n => () => RecoveryTimeline.id(n)))),
});

/** Half the sets are made of valid values only, half carry hostile strings and out-of-range numbers. */
const propsArb = fc.oneof(propsOf(false), propsOf(true));

type Generated = typeof propsArb extends fc.Arbitrary<infer T> ? T : never;

/** A clear validation error: one line that starts with the quoted prop (`'prop' …`) and goes on to the rule. */
const CLEAR_ERROR = /^'[A-Za-z][\w.[\]']*' [a-z][^\n]*$/;

/** What the recovery settings must be, line by line: exactly these settings, in this order. */
function expectedSettings(target: GeneratedTarget, inclusive: boolean | undefined): string[] {
  return ['restore_command', ...(target.setting ? [target.setting] : []), ...(inclusive !== undefined ? ['recovery_target_inclusive'] : []),
    'recovery_target_timeline', 'recovery_target_action'];
}

function settingNames(conf: string): string[] {
  return conf.split('\n').filter(l => l !== '' && !l.startsWith('#')).map(l => {
    const m = /^([a-z_]+) = '((?:[^'\\\n]|''|\\\\)*)'$/.exec(l);
    if (!m) {
      throw new Error(`injected or malformed line in recovery.conf: ${JSON.stringify(l)}`);
    }
    return m[1];
  });
}

describe(`property: generated props either fail clearly or give valid Kubernetes ${SCHEMA_KUBERNETES_VERSION} objects`, () => {
  test('the schema is Kubernetes 1.28, and the validator rejects what the API server would', () => {
    expect(SCHEMA_KUBERNETES_VERSION).toBe('1.28');
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } };
    expect(validateAll([pod])).toEqual([]);
    expect(validateAll([{ ...pod, spec: { containers: [{ name: 'c', image: 'x', imagePullPolicy: 1 }] } }]).join()).toMatch(/expected a string/);
    expect(validateAll([{ ...pod, spec: { containers: [{ image: 'x' }] } }]).join()).toMatch(/name: required field missing/);
    expect(validateAll([{ ...pod, spec: { containers: [{ name: 'c', image: 'x', sidecar: true }] } }]).join()).toMatch(/unknown field/);
    expect(validateAll([{ ...pod, metadata: { name: 'Bad_Name' } }]).join()).toMatch(/DNS-1123/);
    expect(validateAll([{
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j' },
      spec: { podReplacementPolicy: 'Failed', template: { spec: { containers: [{ name: 'c', image: 'x' }] } } },
    }])).toEqual([]); // 1.28 field
    expect(validateAll([{
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'c' },
      spec: { volumeAttributesClassName: 'x', resources: { requests: { storage: '1Gi' } } },
    }]).join()).toMatch(/unknown field/); // 1.29 field
  });

  test(`${RUNS} generated prop sets`, () => {
    let thrown = 0;
    let synthesized = 0;
    let objectsChecked = 0;
    let withRestore = 0;
    fc.assert(fc.property(propsArb, (g: Generated) => {
      const c = chart();
      let pitr: EmbeddedPostgresPitr;
      let target: RecoveryTarget | undefined;
      let objects: any[];
      try {
        target = g.target?.make();
        const timeline = g.timeline?.();
        const props: Record<string, unknown> = { ...g };
        delete props.target; delete props.mode; delete props.action; delete props.inclusive; delete props.timeline;
        for (const k of Object.keys(props)) {
          if (props[k] === undefined) {
            delete props[k];
          }
        }
        pitr = new EmbeddedPostgresPitr(c, 'pitr', {
          ...props as unknown as EmbeddedPostgresPitrProps,
          recoveryTarget: target,
          restore: target ? { mode: g.mode, action: g.action, inclusive: g.inclusive, timeline } : undefined,
        });
        objects = synth(c);
      } catch (e) {
        thrown++;
        expect(e).toBeInstanceOf(Error);
        if (!CLEAR_ERROR.test((e as Error).message)) {
          throw new Error(`unclear error for ${JSON.stringify(g)}: ${(e as Error).message}`);
        }
        return;
      }
      synthesized++;
      objectsChecked += objects.length;
      expect(validateAll(objects)).toEqual([]);
      expect(restrictedViolations(objects, { uid: pitr!.postgresImage.uid })).toEqual([]);
      // The backup environment carries exactly the validated inputs.
      const cron = objects.find(o => o.kind === 'CronJob');
      const env = envOf(cron.spec.jobTemplate.spec.template.spec.containers[0]);
      expect(env.PGHOST).toBe(g.host ?? `${g.name}-postgres`);
      expect(env.PGPORT).toBe(String(g.port ?? 5432));
      expect(env.PGUSER).toBe(g.user ?? g.name);
      const secretKey = g.credentialsSecretKey ?? 'embedded-postgres-password';
      expect(env.PGPASSWORD).toBe(`secret:${g.credentialsSecretName ?? 'postgres-credentials'}/${secretKey}`);
      expect(cron.spec.jobTemplate.spec.template.spec.containers[0].image).toBe(g.postgresImage ?? 'postgres:15-bookworm');
      // postgresql.conf fragments: only the expected settings, each one quoted value on its own line.
      expect(settingNames(pitr.walArchive.postgresqlConf)).toEqual(['wal_level', 'archive_mode', 'archive_command', 'archive_timeout', 'wal_compression']);
      if (target) {
        withRestore++;
        const cm = objects.find(o => o.kind === 'ConfigMap' && o.data['recovery.conf'] !== undefined);
        expect(settingNames(cm.data['recovery.conf'])).toEqual(expectedSettings(g.target!, g.inclusive));
        expect(objects.filter(o => o.kind === 'Pod')).toHaveLength(1);
      }
    }), { numRuns: RUNS, seed: Number(process.env.PITR_PROPERTY_SEED ?? 20241204) });
    // eslint-disable-next-line no-console
    console.log(`property test: ${thrown + synthesized} generated prop sets: ${thrown} refused with a clear error, ${synthesized} synthesized `
      + `(${withRestore} with a restore), ${objectsChecked} objects valid against the Kubernetes ${SCHEMA_KUBERNETES_VERSION} schema`);
    expect(thrown + synthesized).toBeGreaterThanOrEqual(RUNS);
    expect(synthesized).toBeGreaterThan(RUNS / 20);
    expect(withRestore).toBeGreaterThan(0);
  });
});
