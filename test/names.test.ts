/**
 * One module owns the object names: the names of SPEC section 2 for the reference deployment, no object name built
 * anywhere else in src/, and no synthesized object taking a name the Kubegres operator creates or manages.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { kubegresOwnedNames } from './kubegres-model';
import { buildApps } from '../examples/main';
import { EmbeddedPostgresPitr, InstallPreset, RecoveryTarget, RestoreMode } from '../src';
import { chart, REFERENCE, synth } from './util';
import { kubegresInstance, kubegresOwned, Names } from '../src/private/names';

describe('names', () => {
  test('the reference deployment\'s names (SPEC section 2)', () => {
    const n = new Names('tsb');
    expect({ ...n }).toEqual({
      deployment: 'tsb',
      kubegres: 'tsb-postgres',
      walArchiveClaim: 'tsb-postgres-wal-archive',
      archivingConfigMap: 'tsb-postgres-archiving',
      backupClaim: 'tsb-backup',
      backupCronJob: 'tsb-postgres-base-backup',
      backupNamePrefix: 'tsb-postgres-base-backup',
      scriptsConfigMap: 'tsb-postgres-pitr-scripts',
      recoveryConfigMap: 'tsb-postgres-recovery',
      restorePod: 'postgres-restore',
      recoveryWindowJob: 'tsb-postgres-recovery-window',
      restorePointJob: 'tsb-postgres-restore-point',
      restoreTargetConfigMap: 'tsb-postgres-restore-target',
      tlsSecret: 'tsb-postgres-certs',
      pitrAlertRules: 'tsb-postgres-pitr-alerts',
      pitrAlertGroup: 'tsb-postgres-pitr',
      restoreDrillCronJob: 'tsb-postgres-restore-drill',
      restoreDrillChecksConfigMap: 'tsb-postgres-restore-drill-checks',
      serviceAccount: 'tsb-kubegres',
      primaryHost: 'tsb-postgres',
    });
    expect(kubegresInstance('tsb-postgres', 4)).toEqual({ statefulSet: 'tsb-postgres-4', pod: 'tsb-postgres-4-0', dataClaim: 'postgres-db-tsb-postgres-4-0' });
  });

  test('no object name is built outside the names module', () => {
    const offenders: string[] = [];
    const walk = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true })
      .flatMap(e => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
    for (const file of walk(path.join(__dirname, '..', 'src'))) {
      if (file.endsWith(path.join('private', 'names.ts'))) {
        continue;
      }
      fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        // A template that appends a name part to a variable, or a Kubegres data claim spelled out.
        if (/`[^`]*\$\{[^}]*\}-(postgres|backup|kubegres|base-backup|pitr|recovery|restore|wal)[a-z-]*`/.test(line) || /postgres-db-\$\{/.test(line)) {
          offenders.push(`${path.relative(path.join(__dirname, '..'), file)}:${i + 1}: ${line.trim()}`);
        }
      });
    }
    expect(offenders).toEqual([]);
  });

  test.each([
    ['CronJob', 'backup-tsb-postgres', true],
    ['CronJob', 'tsb-postgres-base-backup', false],
    ['StatefulSet', 'tsb-postgres-7', true],
    ['Pod', 'tsb-postgres-12-0', true],
    ['Pod', 'postgres-restore', false],
    ['PersistentVolumeClaim', 'postgres-db-tsb-postgres-3-0', true],
    ['PersistentVolumeClaim', 'tsb-postgres-wal-archive', false],
    ['Service', 'tsb-postgres-replica', true],
    ['ConfigMap', 'base-kubegres-config', true],
    ['ConfigMap', 'tsb-postgres', false],
  ])('kubegresOwned(%s/%s) is %s, as the Kubegres model says', (kind, name, owned) => {
    expect(kubegresOwned('tsb-postgres', kind as string, name as string) !== undefined).toBe(owned);
    expect(kubegresOwnedNames('tsb-postgres', 20).some(o => o.kind === kind && o.name === name)).toBe(owned);
  });

  test('no synthesized object takes a name Kubegres creates or manages (the example, every chart, and a TSB restore)', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitr-names-'));
    const apps = buildApps(outdir);
    const objects = [...apps.always.charts, ...apps.onDemand.charts].flatMap(c => Testing.synth(c));
    const c = chart();
    const pitr = new EmbeddedPostgresPitr(c, 'pitr', { ...REFERENCE, walArchiveStorageAccessMode: 'ReadWriteMany', kubegres: {}, preset: InstallPreset.TSB });
    pitr.addRestore(RecoveryTarget.latest(), { mode: RestoreMode.AUTOMATIC });
    pitr.addRecoveryWindowReport();
    pitr.addRestorePoint();
    objects.push(...synth(c));
    const owned = kubegresOwnedNames('tsb-postgres', 50);
    const clashes = objects.filter(o => o.kind !== 'Kubegres' && owned.some(k => k.kind === o.kind && k.name === o.metadata.name));
    expect(clashes.map(o => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    expect(objects.filter(o => kubegresOwned('tsb-postgres', o.kind, o.metadata.name)).map(o => o.metadata.name)).toEqual([]);
    // A deliberate clash is caught: the name the reference design used for its CronJob.
    expect(() => new EmbeddedPostgresPitr(chart(), 'p', { ...REFERENCE, backupCronJobName: 'backup-tsb-postgres' }))
      .toThrow(/^'backupCronJobName' is the CronJob Kubegres makes from its own spec.backup, and Kubegres deletes any other CronJob of that name/);
    fs.rmSync(outdir, { recursive: true, force: true });
  });
});
