/**
 * The example app synthesizes the reference ManagementPlane into the full deployment, and its committed output in
 * examples/dist is current.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yaml from 'yaml';
import { buildApps, ON_DEMAND_DIR } from '../examples/main';


const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitr-example-'));
const apps = buildApps(outdir);
apps.always.synth();
apps.onDemand.synth();
const manifests = (dir: string) => fs.readdirSync(path.join(outdir, dir)).filter(f => f.endsWith('.k8s.yaml')).sort().map(f => path.join(dir, f));
const files = [...manifests('.'), ...manifests(ON_DEMAND_DIR)];
const parse = (f: string) => yaml.parseAllDocuments(fs.readFileSync(path.join(outdir, f), 'utf8')).map(d => d.toJS());
const names = (f: string) => parse(f).map((o: any) => `${o.kind}/${o.metadata.name}`).sort();

afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

test('one manifest per chart: the always-applied one at the top, the restore kit below it (kubectl apply -f dist/ never reaches it)', () => {
  expect(files).toEqual(['alerts.k8s.yaml', 'pitr.k8s.yaml', 'restore-drill.k8s.yaml', 'on-demand/restore.k8s.yaml', 'on-demand/window.k8s.yaml']);
  expect(names('alerts.k8s.yaml')).toEqual(['PrometheusRule/tsb-postgres-pitr-alerts']);
  expect(names('restore-drill.k8s.yaml')).toEqual(['CronJob/tsb-postgres-restore-drill']);
});

test('the always-applied output holds no restore object: no pod, no recovery settings, nothing that mounts a data volume', () => {
  const objects = parse('pitr.k8s.yaml');
  expect(objects.filter((o: any) => o.kind === 'Pod' || o.kind === 'Job')).toEqual([]);
  expect(objects.map((o: any) => o.metadata.name)).not.toContain('tsb-postgres-recovery');
  // CronJobs: the base backup, and the restore point template, suspended.
  const cronJobs = objects.filter((o: any) => o.kind === 'CronJob');
  expect(cronJobs.map((o: any) => [o.metadata.name, o.spec.suspend ?? false])).toEqual([
    ['tsb-postgres-base-backup', false], ['tsb-postgres-restore-point', true],
  ]);
  const containers = objects.flatMap((o: any) => (o.spec?.jobTemplate?.spec?.template?.spec ?? o.spec?.template?.spec)?.containers ?? []);
  expect(containers.map((c: any) => c.command[1])).toEqual(['/opt/pitr/scripts/base-backup.sh', '/opt/pitr/scripts/create-restore-point.sh']);
  expect(JSON.stringify(objects)).not.toMatch(/postgres-db-tsb-postgres/);
});

test('the always-on chart holds both PVCs, the CronJob, the scripts and the Kubegres database with the reference names', () => {
  expect(names('pitr.k8s.yaml')).toEqual([
    'ConfigMap/tsb-postgres',
    'ConfigMap/tsb-postgres-archiving',
    'ConfigMap/tsb-postgres-pitr-scripts',
    'CronJob/tsb-postgres-base-backup',
    'CronJob/tsb-postgres-restore-point',
    'Kubegres/tsb-postgres',
    'PersistentVolumeClaim/tsb-backup',
    'PersistentVolumeClaim/tsb-postgres-wal-archive',
  ]);
  const objects = parse('pitr.k8s.yaml');
  expect(objects.every((o: any) => o.metadata.namespace === 'tsb')).toBe(true);
  const pvc = (n: string) => objects.find((o: any) => o.metadata.name === n).spec;
  // ReadWriteMany: Kubegres mounts the archive into all 3 instances (a ReadWriteOnce archive is refused).
  expect(pvc('tsb-postgres-wal-archive')).toMatchObject({ resources: { requests: { storage: '10Gi' } }, storageClassName: 'standard', accessModes: ['ReadWriteMany'] });
  expect(pvc('tsb-backup')).toMatchObject({ resources: { requests: { storage: '50Gi' } }, storageClassName: 'standard', accessModes: ['ReadWriteOnce'] });
  expect(objects.find((o: any) => o.metadata.name === 'tsb-postgres-base-backup').spec.schedule).toBe('0 2 * * *');
});

test('the restore drill CronJob runs weekly and the alert rules watch it', () => {
  const drill = parse('restore-drill.k8s.yaml')[0];
  expect(drill.spec.schedule).toBe('0 4 * * 0');
  expect(drill.spec.jobTemplate.spec.template.spec.containers[0].command).toEqual(['/bin/sh', '/opt/pitr/scripts/restore-drill.sh']);
  const rules = parse('alerts.k8s.yaml')[0].spec.groups[0].rules;
  const drillRules = rules.filter((r: any) => /RestoreDrill/.test(r.alert));
  expect(drillRules.map((r: any) => r.alert)).toEqual(['PitrRestoreDrillFailed', 'PitrRestoreDrillTooOld']);
  expect(drillRules.every((r: any) => r.expr.includes('tsb-postgres-restore-drill'))).toBe(true);
});

test('the restore kit holds the restore pod, the recovery ConfigMap and the window report; the target comes at restore time', () => {
  expect(names('on-demand/restore.k8s.yaml')).toEqual(['ConfigMap/tsb-postgres-recovery', 'Pod/postgres-restore']);
  expect(names('on-demand/window.k8s.yaml')).toEqual(['Job/tsb-postgres-recovery-window']);
  const pod = parse('on-demand/restore.k8s.yaml').find((o: any) => o.kind === 'Pod');
  expect(pod.spec.volumes.find((v: any) => v.name === 'restore-target')).toEqual({
    name: 'restore-target', configMap: { name: 'tsb-postgres-restore-target', optional: true },
  });
  expect(pod.spec.containers[0].env).toEqual(expect.arrayContaining([
    { name: 'RECOVERY_TARGET_TYPE', value: 'runtime' },
    { name: 'RESTORE_TARGET_DIR', value: '/etc/pitr/target' },
    { name: 'RESTORE_TARGET_CONFIGMAP', value: 'tsb-postgres-restore-target' },
    { name: 'PRIMARY_HOST', value: 'tsb-postgres' },
    { name: 'PRIMARY_PORT', value: '5432' },
  ]));
});

test('examples/dist is the current output (run `npx projen synth:example` after a change)', () => {
  const dist = path.join(__dirname, '..', 'examples', 'dist');
  for (const f of files) {
    expect(fs.readFileSync(path.join(dist, f), 'utf8')).toBe(fs.readFileSync(path.join(outdir, f), 'utf8'));
  }
  expect(fs.readFileSync(path.join(dist, 'RUNBOOK.md'), 'utf8')).toMatch(/^# Point-in-time restore runbook: tsb \(namespace tsb\)/);
});

test('the synth:example task runs the cdk8s CLI quietly: no upgrade check (it prints a stack trace offline), no warning', () => {
  const tasks = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '.projen', 'tasks.json'), 'utf8')).tasks;
  expect(tasks['synth:example'].steps).toEqual([{ exec: 'cdk8s synth --no-check-upgrade' }]);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pitr-example-cli-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const r = spawnSync('npx', ['cdk8s', 'synth', '--no-check-upgrade', '--output', out], {
    cwd: path.join(__dirname, '..', 'examples'), env: { ...env, CDK8S_POSTGRES_PITR_QUIET: '' }, encoding: 'utf8', timeout: 300_000,
  });
  expect(r.status).toBe(0);
  expect(r.stderr.split('\n').filter(l => l && !/^npm warn Unknown (user|env) config/.test(l))).toEqual([]);
  expect(r.stdout).toMatch(/^Synthesizing application\n/);
  expect(fs.readdirSync(out).sort()).toEqual(['RUNBOOK.md', ...files.filter(f => !f.includes('/')), 'on-demand'].sort());
  expect(fs.readdirSync(path.join(out, 'on-demand')).sort()).toEqual(files.filter(f => f.startsWith('on-demand/')).map(f => f.slice('on-demand/'.length)));
  fs.rmSync(out, { recursive: true, force: true });
});
