/**
 * The example app synthesizes the reference ManagementPlane into the full deployment, and its committed output in
 * examples/dist is current.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yaml from 'yaml';
import { buildApp } from '../examples/main';


const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitr-example-'));
buildApp(outdir).synth();
const files = fs.readdirSync(outdir).filter(f => f.endsWith('.k8s.yaml')).sort();
const parse = (f: string) => yaml.parseAllDocuments(fs.readFileSync(path.join(outdir, f), 'utf8')).map(d => d.toJS());
const names = (f: string) => parse(f).map((o: any) => `${o.kind}/${o.metadata.name}`).sort();

afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

test('one manifest per chart', () => {
  expect(files).toEqual(['pitr.k8s.yaml', 'restore-point.k8s.yaml', 'restore.k8s.yaml', 'window.k8s.yaml']);
});

test('the always-on chart holds both PVCs, the CronJob, the scripts and the Kubegres database with the reference names', () => {
  expect(names('pitr.k8s.yaml')).toEqual([
    'ConfigMap/tsb-postgres',
    'ConfigMap/tsb-postgres-archiving',
    'ConfigMap/tsb-postgres-pitr-scripts',
    'CronJob/tsb-postgres-base-backup',
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
  expect(objects.find((o: any) => o.kind === 'CronJob').spec.schedule).toBe('0 2 * * *');
});

test('the restore chart holds only the restore pod and the recovery ConfigMap', () => {
  expect(names('restore.k8s.yaml')).toEqual(['ConfigMap/tsb-postgres-recovery', 'Pod/postgres-restore']);
  expect(names('window.k8s.yaml')).toEqual(['Job/tsb-postgres-recovery-window']);
  expect(names('restore-point.k8s.yaml')).toEqual(['Job/tsb-postgres-restore-point']);
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
  expect(fs.readdirSync(out).sort()).toEqual(['RUNBOOK.md', ...files]);
  fs.rmSync(out, { recursive: true, force: true });
});
