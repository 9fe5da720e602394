/**
 * Validation once, under the name the user typed: every prop of the composite (and of its `kubegres` and `restore`
 * objects) given a value of the wrong kind fails with a message that starts with that prop's name; unknown keys name
 * the closest known one.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EmbeddedPostgresPitr, EmbeddedPostgresPitrProps, RecoveryTarget, RestoreHelperPod } from '../src';
import { chart, REFERENCE } from './util';
import { COMPOSITE_PROPS } from '../src/private/resolve';

function errorOf(props: object): string {
  try {
    new EmbeddedPostgresPitr(chart(), 'p', props as EmbeddedPostgresPitrProps);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`no error for ${JSON.stringify(props)}`);
}

/** A value no prop accepts: an array holding a hostile string. */
const BAD = ['$(touch /tmp/x)'];

describe('every composite prop\'s error names that prop', () => {
  test.each(COMPOSITE_PROPS.top)('%s', prop => {
    expect(errorOf({ ...REFERENCE, [prop]: BAD })).toMatch(new RegExp(`^'${prop}' `));
  });
  test.each(COMPOSITE_PROPS.kubegres)('kubegres.%s', prop => {
    expect(errorOf({ ...REFERENCE, replicas: 1, kubegres: { [prop]: BAD } })).toMatch(new RegExp(`^'kubegres\\.${prop}' `));
  });
  test.each(COMPOSITE_PROPS.restore)('restore.%s', prop => {
    expect(errorOf({ ...REFERENCE, recoveryTarget: RecoveryTarget.latest(), restore: { [prop]: BAD } })).toMatch(new RegExp(`^'restore\\.${prop}' `));
  });
  test('the inner constructs\' prop names never leak (the five that did)', () => {
    for (const prop of ['walArchiveClaimName', 'backupClaimName', 'scriptsConfigMapName', 'restorePodName']) {
      expect(errorOf({ ...REFERENCE, [prop]: 'Not_A_Name' })).toMatch(new RegExp(`^'${prop}' must be a DNS-1123 name`));
    }
    expect(errorOf({ ...REFERENCE, replicas: 1, kubegres: { databaseStorageClassName: 'Bad Class' } })).toMatch(/^'kubegres.databaseStorageClassName' must be a DNS-1123/);
  });
});

describe('unknown keys', () => {
  test('a typo in the options names the key and the closest known one', () => {
    expect(errorOf({ ...REFERENCE, kubegress: {} })).toBe(`'kubegress' is not a known parameter. Did you mean 'kubegres'? Known: ${COMPOSITE_PROPS.top.join(', ')}`);
    expect(errorOf({ ...REFERENCE, replicas: 1, kubegres: { failoverDisable: true } })).toMatch(/^'kubegres.failoverDisable' is not a known parameter. Did you mean 'failoverDisabled'\?/);
  });

  test('a typo in the ManagementPlane is refused with the closest key', () => {
    const mp = (ep: object) => ({ spec: { dataStore: { embeddedPostgres: { ...REFERENCE, ...ep } } } });
    expect(() => EmbeddedPostgresPitr.fromManagementPlane(chart(), 'p', mp({ backupCronSchedulle: '0 */6 * * *' })))
      .toThrow(/^'spec.dataStore.embeddedPostgres.backupCronSchedulle' is not a known parameter. Did you mean 'backupCronSchedule'\?/);
    expect(() => EmbeddedPostgresPitr.fromManagementPlane(chart(), 'p', mp({ walArchiveStorageClass: 'fast-rwx' })))
      .toThrow(/Did you mean 'walArchiveStorageClassName'\?/);
    expect(() => EmbeddedPostgresPitr.fromManagementPlane(chart(), 'p', 'spec: {}'))
      .toThrow(/got a string: pass the parsed ManagementPlane object.*yaml.parse.*or use EmbeddedPostgresPitr.fromManagementPlaneFile/);
  });

  test('a typo in a construct\'s props from JavaScript is refused with the closest key', () => {
    const c = chart();
    const pitr = new EmbeddedPostgresPitr(c, 'p', REFERENCE);
    expect(() => new RestoreHelperPod(c, 'r', { deploymentName: 'tsb', scripts: pitr.scripts, moed: 'automatic' } as any))
      .toThrow(/^'moed' is not a known parameter of RestoreHelperPodProps. Did you mean 'mode'\? Known: deploymentName, scripts, /);
    expect(() => pitr.addRestore(RecoveryTarget.latest(), { mod: 'automatic' } as any)).toThrow(/^'options.mod' is not a known parameter. Did you mean 'mode'\?/);
  });

  test('JavaScript callers get the type errors a compiler would give', () => {
    const pitr = new EmbeddedPostgresPitr(chart(), 'p', REFERENCE);
    expect(() => (pitr as any).addRestore('2024-12-04T14:35:00Z')).toThrow(/^addRestore\(\) takes a RecoveryTarget as its first argument, got "2024-12-04T14:35:00Z"/);
    expect(errorOf({ ...REFERENCE, replicas: '3' })).toMatch(/^'replicas' must be an integer of at least 1, got "3"/);
    expect(() => RecoveryTarget.time(new Date() as any)).toThrow(/^'recoveryTarget.time' must be a string, not a Date, got a Date \(/);
    expect(RecoveryTarget.latest().type).toBe('latest');
  });
});

describe('messages for the YAML user', () => {
  const mp = (ep: object) => ({ spec: { dataStore: { embeddedPostgres: { ...REFERENCE, ...ep } } } });

  test('an error about a ManagementPlane value names its key in the YAML and gives the fix in YAML terms', () => {
    expect(() => EmbeddedPostgresPitr.fromManagementPlane(chart(), 'p', mp({ walArchiveStorageSize: '512Ki' })))
      .toThrow(/^'spec.dataStore.embeddedPostgres.walArchiveStorageSize' must be a size of at least 1Mi and at most 8Ei, got "512Ki". Write it like '10Gi' or '500Mi'$/);
    expect(() => EmbeddedPostgresPitr.fromManagementPlane(chart(), 'p', mp({ replicas: '3' })))
      .toThrow(/^'spec.dataStore.embeddedPostgres.replicas' must be an integer of at least 1, got "3". Write it as a whole number without quotes/);
    // a rule checked in a construct further down is rewritten too
    expect(() => EmbeddedPostgresPitr.fromManagementPlane(chart(), 'p', mp({}), { kubegres: {} }))
      .toThrow(/^'spec.dataStore.embeddedPostgres.walArchiveStorageAccessMode' cannot serve 3 Kubegres instances/);
  });

  describe('fromManagementPlaneFile reads the YAML itself (no YAML package) and names the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitr-mp-'));
    const write = (name: string, text: string) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      return file;
    };
    const yamlOf = (extra: string) => ['apiVersion: install.tetrate.io/v1alpha1', 'kind: ManagementPlane', 'metadata: { name: mp, namespace: tsb }',
      'spec:', '  dataStore:', '    embeddedPostgres:', '      name: tsb', '      replicas: 1', '      walArchiveStorageSize: 10Gi',
      '      backupStorageSize: 50Gi', ...extra ? [`      ${extra}`] : [], ''].join('\n');
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test('the same objects as the parsed block', () => {
      const fromFile = EmbeddedPostgresPitr.fromManagementPlaneFile(chart(), 'p', write('ok.yaml', `---\n# other documents are skipped\nkind: ConfigMap\n---\n${yamlOf('backupCronSchedule: "@daily"')}`));
      expect(fromFile.baseBackup.schedule.expressionString).toBe('@daily');
      expect(fromFile.replicas).toBe(1);
    });

    test('a typo, a bad value and a missing file are named with the file', () => {
      const typo = write('typo.yaml', yamlOf('backupCronSchedulle: "0 */6 * * *"'));
      expect(() => EmbeddedPostgresPitr.fromManagementPlaneFile(chart(), 'p', typo))
        .toThrow(`${typo}: 'spec.dataStore.embeddedPostgres.backupCronSchedulle' is not a known parameter. Did you mean 'backupCronSchedule'?`);
      const bad = write('bad.yaml', yamlOf('backupCleanupRetention: 5d'));
      expect(() => EmbeddedPostgresPitr.fromManagementPlaneFile(chart(), 'p', bad))
        .toThrow(`${bad}: 'spec.dataStore.embeddedPostgres.backupCleanupRetention' must be a number of seconds above zero with an 's' suffix, got "5d"`);
      expect(() => EmbeddedPostgresPitr.fromManagementPlaneFile(chart(), 'p', path.join(dir, 'missing.yaml')))
        .toThrow(/^'file' must be a ManagementPlane YAML file, and there is no such file, got ".*missing.yaml"/);
      expect(() => EmbeddedPostgresPitr.fromManagementPlaneFile(chart(), 'p', write('none.yaml', 'kind: ConfigMap\n')))
        .toThrow(/none.yaml: holds 0 ManagementPlane documents/);
    });
  });
});
