/**
 * Validation once, under the name the user typed: every prop of the composite (and of its `kubegres` and `restore`
 * objects) given a value of the wrong kind fails with a message that starts with that prop's name; unknown keys name
 * the closest known one.
 */
import { EmbeddedPostgresPitr, EmbeddedPostgresPitrProps, RecoveryTarget } from '../src';
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
    expect(() => EmbeddedPostgresPitr.fromManagementPlane(chart(), 'p', 'spec: {}')).toThrow(/got a string: pass the parsed ManagementPlane object.*yaml.parse/);
  });

  test('JavaScript callers get the type errors a compiler would give', () => {
    const pitr = new EmbeddedPostgresPitr(chart(), 'p', REFERENCE);
    expect(() => (pitr as any).addRestore('2024-12-04T14:35:00Z')).toThrow(/^addRestore\(\) takes a RecoveryTarget as its first argument, got "2024-12-04T14:35:00Z"/);
    expect(errorOf({ ...REFERENCE, replicas: '3' })).toMatch(/^'replicas' must be an integer of at least 1, got "3"/);
    expect(RecoveryTarget.latest().type).toBe('latest');
  });
});
