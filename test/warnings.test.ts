/**
 * Warnings are printed when the app is synthesized, once per construct, not when it is built; each has an id that
 * `CDK8S_POSTGRES_PITR_QUIET` silences (test/setup.ts silences them all for the other tests).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import { EmbeddedPostgresPitr } from '../src';
import { REFERENCE } from './util';
import { isQuiet, QUIET_VARIABLE, WARNING_IDS } from '../src/private/warnings';

describe('synth-time warnings', () => {
  let printed: string[];
  let quiet: string | undefined;
  beforeEach(() => {
    quiet = process.env[QUIET_VARIABLE];
    delete process.env[QUIET_VARIABLE];
    printed = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => {
      printed.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    jest.restoreAllMocks();
    if (quiet !== undefined) {
      process.env[QUIET_VARIABLE] = quiet;
    }
  });

  const build = () => {
    const app = Testing.app();
    const chart = new Chart(app, 'pitr', { namespace: 'tsb' });
    const pitr = new EmbeddedPostgresPitr(chart, 'pitr', { ...REFERENCE, backupCleanupRetention: '3600s' });
    return { app, chart, pitr };
  };

  test('nothing is printed while the app is built, or when a later construct fails', () => {
    const { chart } = build();
    expect(() => new EmbeddedPostgresPitr(chart, 'other', { ...REFERENCE, name: 'Bad_Name' })).toThrow(/^'name' must be a DNS-1123 name/);
    expect(printed).toEqual([]);
  });

  test('each warning is printed once, at synth, with its id and how to silence it', () => {
    const { app, chart, pitr } = build();
    expect(pitr.warnings).toHaveLength(2);
    app.synthYaml();
    Testing.synth(chart);
    app.synthYaml();
    expect(printed).toHaveLength(2);
    expect(printed[0]).toMatch(/^\[cdk8s-postgres-pitr\] WARNING \(archive-read-write-once\) pitr\/pitr: replicas is 3 .* \(silence it with CDK8S_POSTGRES_PITR_QUIET=archive-read-write-once\)\n$/);
    expect(printed[1]).toMatch(/^\[cdk8s-postgres-pitr\] WARNING \(retention-below-interval\) pitr\/pitr: backupCleanupRetention \(3600s\)/);
  });

  test('CDK8S_POSTGRES_PITR_QUIET silences one warning by id, or all of them', () => {
    process.env[QUIET_VARIABLE] = 'retention-below-interval';
    build().app.synthYaml();
    expect(printed).toEqual([expect.stringMatching(/\(archive-read-write-once\)/)]);
    printed.length = 0;
    process.env[QUIET_VARIABLE] = '1';
    build().app.synthYaml();
    expect(printed).toEqual([]);
  });

  test('the quiet values', () => {
    expect(WARNING_IDS.map(id => isQuiet(id, ''))).toEqual([false, false, false, false]);
    expect(WARNING_IDS.map(id => isQuiet(id, '0'))).toEqual([false, false, false, false]);
    expect(WARNING_IDS.map(id => isQuiet(id, 'true'))).toEqual([true, true, true, true]);
    expect(WARNING_IDS.map(id => isQuiet(id, 'kubegres-failover-disabled, archive-read-write-once'))).toEqual([true, false, true, false]);
  });

  test('a real App.synth() prints them too', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitr-warn-'));
    const app = new App({ outdir });
    new EmbeddedPostgresPitr(new Chart(app, 'c'), 'p', REFERENCE);
    app.synth();
    expect(printed).toEqual([expect.stringMatching(/WARNING \(archive-read-write-once\) c\/p:/)]);
    fs.rmSync(outdir, { recursive: true, force: true });
  });
});
