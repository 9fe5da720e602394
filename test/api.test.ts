/**
 * Every public entry point checks its arguments at run time, for JavaScript callers (and `any`): each props object
 * refuses an unknown key with the closest known one and the list of known keys, refuses a value of the wrong kind with
 * the error a compiler would give, and names a missing required prop. The tables in src/private/api.ts drive the
 * checks; this file checks that every exported interface has one and that every constructor applies it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import {
  BackupCompression, BaseBackupCronJob, EmbeddedPostgresPitr, Kubegres, KubegresPostgres, PitrAlertRules, PitrScript,
  PitrScripts, PostgresImage, PrometheusRule, RecoveryConfig, RecoveryTarget, RecoveryTimeline, RestoreDrillCronJob,
  RecoveryWindowJob, RestoreHelperPod, RestorePointJob, WalArchive,
} from '../src';
import { REFERENCE } from './util';
import { API, COMPOSITE_INTERFACES, Kind, STRING } from '../src/private/api';

/** The message of the error a call throws. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    return (e as Error).message;
  }
  throw new Error('expected an error, none was thrown');
}

/** A fresh chart with the constructs the props refer to. */
function fixture() {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'tsb', disableResourceNameHashes: true });
  const scripts = new PitrScripts(chart, 'Scripts', { deploymentName: 'tsb' });
  const walArchive = new WalArchive(chart, 'Wal', { deploymentName: 'tsb', scripts, storage: Size.gibibytes(1), accessMode: kplus.PersistentVolumeAccessMode.READ_WRITE_MANY });
  const baseBackup = new BaseBackupCronJob(chart, 'Backup', { deploymentName: 'tsb', scripts, storage: Size.gibibytes(1) });
  const recoveryConfig = new RecoveryConfig(chart, 'Recovery', { deploymentName: 'tsb', scripts });
  return { chart, scripts, walArchive, baseBackup, recoveryConfig };
}

type Build = (props: any) => unknown;

/** For each props interface: a call that builds with the given props, and props that are valid. */
const CASES: { [name in keyof typeof API]: () => { build: Build; valid: object } } = {
  PitrScriptsProps: () => {
    const f = fixture();
    return { build: p => new PitrScripts(f.chart, 'X', p), valid: { deploymentName: 'tsb' } };
  },
  WalArchiveProps: () => {
    const f = fixture();
    return { build: p => new WalArchive(f.chart, 'X', p), valid: { deploymentName: 'x', scripts: f.scripts, storage: Size.gibibytes(1) } };
  },
  BaseBackupCronJobProps: () => {
    const f = fixture();
    return { build: p => new BaseBackupCronJob(f.chart, 'X', p), valid: { deploymentName: 'x', scripts: f.scripts, storage: Size.gibibytes(1) } };
  },
  RecoveryConfigProps: () => {
    const f = fixture();
    return { build: p => new RecoveryConfig(f.chart, 'X', p), valid: { deploymentName: 'x', scripts: f.scripts } };
  },
  RestoreHelperPodProps: () => {
    const f = fixture();
    return { build: p => new RestoreHelperPod(f.chart, 'X', p), valid: { deploymentName: 'x', scripts: f.scripts } };
  },
  RecoveryWindowJobProps: () => {
    const f = fixture();
    return {
      build: p => new RecoveryWindowJob(f.chart, 'X', p),
      valid: { deploymentName: 'x', scripts: f.scripts, walArchive: f.walArchive, baseBackup: f.baseBackup },
    };
  },
  RestorePointJobProps: () => {
    const f = fixture();
    return { build: p => new RestorePointJob(f.chart, 'X', p), valid: { deploymentName: 'x', scripts: f.scripts, restorePointName: 'p' } };
  },
  KubegresPostgresProps: () => {
    const f = fixture();
    return { build: p => new KubegresPostgres(f.chart, 'X', p), valid: { deploymentName: 'x', walArchive: f.walArchive } };
  },
  KubegresProps: () => {
    const f = fixture();
    return { build: p => new Kubegres(f.chart, 'X', p), valid: { spec: SPEC } };
  },
  KubegresSpec: () => {
    const f = fixture();
    return { build: p => new Kubegres(f.chart, 'X', { spec: p }), valid: SPEC };
  },
  KubegresSpecDatabase: () => {
    const f = fixture();
    return { build: p => new Kubegres(f.chart, 'X', { spec: { ...SPEC, database: p } }), valid: SPEC.database };
  },
  KubegresSpecVolume: () => {
    const f = fixture();
    return { build: p => new Kubegres(f.chart, 'X', { spec: { ...SPEC, volume: p } }), valid: {} };
  },
  KubegresSpecFailover: () => {
    const f = fixture();
    return { build: p => new Kubegres(f.chart, 'X', { spec: { ...SPEC, failover: p } }), valid: {} };
  },
  PrometheusRuleProps: () => {
    const f = fixture();
    return { build: p => new PrometheusRule(f.chart, 'X', p), valid: { spec: RULE_SPEC } };
  },
  PrometheusRuleSpec: () => {
    const f = fixture();
    return { build: p => new PrometheusRule(f.chart, 'X', { spec: p }), valid: RULE_SPEC };
  },
  PrometheusRuleGroup: () => {
    const f = fixture();
    return { build: p => new PrometheusRule(f.chart, 'X', { spec: { groups: [p] } }), valid: RULE_SPEC.groups[0] };
  },
  PrometheusAlertRule: () => {
    const f = fixture();
    return { build: p => new PrometheusRule(f.chart, 'X', { spec: { groups: [{ name: 'g', rules: [p] }] } }), valid: RULE_SPEC.groups[0].rules[0] };
  },
  PitrAlertRulesOptions: () => {
    const pitr = new EmbeddedPostgresPitr(fixture().chart, 'pitr', REFERENCE);
    return { build: p => pitr.addAlertRules(p), valid: {} };
  },
  PitrAlertRulesProps: () => {
    const f = fixture();
    return { build: p => new PitrAlertRules(f.chart, 'X', p), valid: { deploymentName: 'x', walArchive: f.walArchive, baseBackup: f.baseBackup } };
  },
  RestoreDrillCheck: () => {
    const pitr = new EmbeddedPostgresPitr(fixture().chart, 'pitr', REFERENCE);
    return { build: p => pitr.addRestoreDrill({ checks: [p] }), valid: { name: 'rows', sql: 'SELECT 1', expected: '1' } };
  },
  RestoreDrillOptions: () => {
    const pitr = new EmbeddedPostgresPitr(fixture().chart, 'pitr', REFERENCE);
    return { build: p => pitr.addRestoreDrill(p), valid: {} };
  },
  RestoreDrillCronJobProps: () => {
    const f = fixture();
    return {
      build: p => new RestoreDrillCronJob(f.chart, 'X', p),
      valid: { deploymentName: 'x', scripts: f.scripts, walArchive: f.walArchive, baseBackup: f.baseBackup },
    };
  },
  PostgresImageOptions: () => ({ build: p => PostgresImage.of('postgres:15', p), valid: {} }),
  ZstdCompressionOptions: () => ({ build: p => BackupCompression.zstd(p), valid: {} }),
  RunbookOptions: () => {
    const pitr = new EmbeddedPostgresPitr(fixture().chart, 'pitr', REFERENCE);
    return { build: p => pitr.runbook(p), valid: {} };
  },
};

const SPEC = { replicas: 1, image: 'postgres:15', database: { size: '1Gi' }, env: [] };
const RULE_SPEC = { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up == 0' }] }] };

/** Where a nested table's keys appear in messages. */
const PREFIX: { [name: string]: string } = {
  KubegresSpec: 'spec.',
  KubegresSpecDatabase: 'spec.database.',
  KubegresSpecVolume: 'spec.volume.',
  KubegresSpecFailover: 'spec.failover.',
  PostgresImageOptions: 'options.',
  ZstdCompressionOptions: 'options.',
  RunbookOptions: 'options.',
  PrometheusRuleSpec: 'spec.',
  PrometheusRuleGroup: 'spec.groups[0].',
  PrometheusAlertRule: 'spec.groups[0].rules[0].',
  PitrAlertRulesOptions: 'options.',
  RestoreDrillOptions: 'options.',
  RestoreDrillCheck: 'options.checks[0].',
};

/** A value of the wrong kind for a key: a number where a string is expected, a string otherwise. */
const wrong = (k: Kind) => (k.expected() === STRING.expected() ? 42 : 'not-this-kind');

describe('every exported interface has a runtime table', () => {
  test('src/*.ts exports no props or options interface without one', () => {
    const src = path.join(__dirname, '..', 'src');
    const exported = fs.readdirSync(src).filter(f => f.endsWith('.ts'))
      .flatMap(f => [...fs.readFileSync(path.join(src, f), 'utf8').matchAll(/^export interface (\w+)/gm)].map(m => m[1]));
    expect(exported.filter(name => !(name in API) && !COMPOSITE_INTERFACES.includes(name))).toEqual([]);
  });
});

describe.each(Object.keys(CASES) as Array<keyof typeof API>)('%s', name => {
  const table = API[name] as { [key: string]: Kind };
  const keys = Object.keys(table);
  const prefix = PREFIX[name] ?? '';

  test('the valid props build', () => {
    const { build, valid } = CASES[name]();
    expect(() => build(valid)).not.toThrow();
  });

  test.each(keys)('a typo of %s names it, the closest key and the known keys', key => {
    const { build, valid } = CASES[name]();
    const typo = `${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`;
    expect(errorOf(() => build({ ...valid, [typo]: (valid as any)[key] ?? 'x' })))
      .toBe(`'${prefix}${typo}' is not a known parameter of ${name}. Did you mean '${key}'? Known: ${keys.join(', ')}`);
  });

  test.each(keys)('a value of the wrong kind for %s gets the compiler\'s error', key => {
    const { build, valid } = CASES[name]();
    const value = wrong(table[key]);
    expect(errorOf(() => build({ ...valid, [key]: value }))).toBe(`'${prefix}${key}' must be ${table[key].expected()}, got ${JSON.stringify(value)}`);
  });

  const requiredKeys = keys.filter(k => table[k].required);
  if (requiredKeys.length > 0) {
    test.each(requiredKeys)('a missing %s is named', key => {
      const { build, valid } = CASES[name]();
      const props: any = { ...valid };
      delete props[key];
      expect(errorOf(() => build(props))).toBe(`'${prefix}${key}' is required by ${name}: pass ${table[key].expected()}`);
    });
  }
});

describe('arguments of methods and factories, as a JavaScript caller passes them', () => {
  const any = (x: unknown) => x as any;

  test('RecoveryTarget factories say that the value is not a string', () => {
    expect(errorOf(() => RecoveryTarget.time(any(new Date('2024-12-04T14:35:00Z')))))
      .toBe('\'recoveryTarget.time\' must be a string, not a Date, got a Date (2024-12-04T14:35:00.000Z). Pass date.toISOString(), or write the time like \'2024-12-04T14:35:00Z\'');
    expect(errorOf(() => RecoveryTarget.time(any(1733322900)))).toBe('\'recoveryTarget.time\' must be a string, got 1733322900. Write it like \'2024-12-04T14:35:00Z\'');
    expect(errorOf(() => RecoveryTarget.xid(any(12345)))).toMatch(/^'recoveryTarget.xid' must be a string, got 12345\. Write it like '12345'/);
    expect(errorOf(() => RecoveryTarget.lsn(any(undefined)))).toBe('\'recoveryTarget.lsn\' must be a string, got undefined. Write it like \'0/3000060\'');
    expect(errorOf(() => RecoveryTarget.restorePoint(any(['a'])))).toMatch(/^'recoveryTarget.restorePoint' must be a string, got \["a"\]/);
    expect(errorOf(() => RecoveryTimeline.id(any('2')))).toMatch(/^'timeline' must be a number, got "2"\. Write the timeline id without quotes/);
  });

  test('addRestore checks its target, its options (no typo silently drops the automatic mode) and its scope', () => {
    const pitr = new EmbeddedPostgresPitr(fixture().chart, 'pitr', REFERENCE);
    expect(errorOf(() => pitr.addRestore(any('2024-12-04T14:35:00Z'))))
      .toMatch(/^addRestore\(\) takes a RecoveryTarget as its first argument, got "2024-12-04T14:35:00Z"/);
    expect(errorOf(() => pitr.addRestore(RecoveryTarget.latest(), any({ mod: 'automatic' }))))
      .toMatch(/^'options.mod' is not a known parameter. Did you mean 'mode'\? Known: action, inclusive, timeline, mode/);
    expect(errorOf(() => pitr.addRestore(RecoveryTarget.latest(), any({ mode: 'auto' }))))
      .toMatch(/^'options.mode' must be one of manual, automatic, got "auto"/);
    expect(errorOf(() => pitr.addRestore(RecoveryTarget.latest(), {}, any('restore'))))
      .toBe('\'scope\' must be a Construct (a Chart, or a construct inside one), got "restore"');
  });

  test('addRestorePoint, addRecoveryWindowReport and the constructors check their arguments', () => {
    const f = fixture();
    const pitr = new EmbeddedPostgresPitr(f.chart, 'pitr', REFERENCE);
    expect(errorOf(() => pitr.addRestorePoint(any(7)))).toMatch(/^addRestorePoint\(\) takes an optional scope \(a Construct\), got 7/);
    expect(errorOf(() => pitr.addAlertRules({ restoreDril: true } as any))).toMatch(/^'options\.restoreDril' is not a known parameter of PitrAlertRulesOptions\. Did you mean 'restoreDrill'\?/);
    expect(errorOf(() => pitr.addRecoveryWindowReport(any({})))).toBe('\'scope\' must be a Construct (a Chart, or a construct inside one), got {}');
    expect(errorOf(() => new EmbeddedPostgresPitr(any('chart'), 'pitr', REFERENCE))).toMatch(/^'scope' must be a Construct/);
    expect(errorOf(() => new WalArchive(f.chart, any(undefined), any({})))).toMatch(/^'id' must be a non-empty string, got undefined/);
    expect(errorOf(() => new WalArchive(f.chart, 'W', any(undefined)))).toMatch(/^'WalArchiveProps' must be a WalArchiveProps object, got undefined/);
    expect(errorOf(() => new WalArchive(f.chart, 'W', any({ deploymentName: 'x', scripts: f.scripts, storage: '10Gi' }))))
      .toBe('\'storage\' must be a Size (such as Size.gibibytes(10)), got "10Gi"');
  });

  test('PitrScripts\' methods check the script and the container', () => {
    const { scripts } = fixture();
    expect(errorOf(() => PitrScripts.source(any('archive.sh')))).toMatch(/^'script' must be a PitrScript \(PitrScript.ARCHIVE_WAL, .*\), got "archive.sh"/);
    expect(errorOf(() => scripts.command(any(undefined)))).toMatch(/^'script' is required: pass a PitrScript/);
    expect(errorOf(() => scripts.pathOf(any(1)))).toMatch(/^'script' must be a PitrScript/);
    expect(errorOf(() => scripts.mount(any({ name: 'c' })))).toBe('\'container\' must be a kplus Container, got {"name":"c"}');
    expect(scripts.pathOf(PitrScript.ARCHIVE_WAL)).toBe('/opt/pitr/scripts/archive-wal.sh');
  });
});
