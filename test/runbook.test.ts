/**
 * The generated runbook: every step is a shell block that parses, stops at the first failure, and never waits on
 * something that passes with zero matches. Step 1 and the waits run against a stub `kubectl` that answers like a
 * cluster in a given state, so a selector that matches nothing or a failed pod makes the step fail.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EmbeddedPostgresPitr, InstallPreset, PitrAlert, RecoveryTarget, RestoreMode } from '../src';
import { chart, REFERENCE } from './util';

function runbook(props: object = {}, options: object = {}, target = RecoveryTarget.time('2024-12-04T14:35:00Z')): string {
  const pitr = new EmbeddedPostgresPitr(chart(), 'pitr', { ...REFERENCE, walArchiveStorageAccessMode: 'ReadWriteMany', kubegres: {}, ...props });
  pitr.addRestore(target, { mode: RestoreMode.AUTOMATIC });
  return pitr.runbook(options);
}

/** The step blocks: the script inside each `sh -eu <<'STEP'` heredoc. */
function steps(md: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /^## (\d+)\. [^\n]*\n[\s\S]*?```sh\nsh -eu <<'STEP'\n([\s\S]*?)\nSTEP\n```/gm;
  for (let m = re.exec(md); m; m = re.exec(md)) {
    out.set(m[1], m[2]);
  }
  return out;
}

/**
 * Runs a step with a stub kubectl on PATH. `answers` maps a regular expression over the arguments to the output; an
 * unmatched call exits 1 (like kubectl on a missing object).
 */
function runStep(script: string, answers: Array<[RegExp, string]>): { status: number | null; out: string; dir: string; calls: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitr-runbook-'));
  const table = answers.map(([re, out], i) => `if printf '%s' "$*" | grep -Eq -- ${JSON.stringify(re.source)}; then printf '%s' ${JSON.stringify(out)}; exit 0; fi # ${i}`);
  fs.writeFileSync(path.join(dir, 'kubectl'), ['#!/bin/sh', `printf '%s\\n' "$*" >>${JSON.stringify(path.join(dir, 'calls'))}`, ...table,
    'echo "Error from server (NotFound)" >&2', 'exit 1', ''].join('\n'), { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'sleep'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const r = spawnSync('sh', ['-eu'], { input: script, cwd: dir, encoding: 'utf8', env: { PATH: `${dir}:/usr/bin:/bin` }, timeout: 20_000 });
  const calls = fs.existsSync(path.join(dir, 'calls')) ? fs.readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n') : [];
  return { status: r.status, out: r.stdout + r.stderr, dir, calls };
}

const HEALTHY: Array<[RegExp, string]> = [
  [/get pod -l app=tsb-postgres,replicationRole=primary/, 'tsb-postgres-4-0'],
  [/get pod tsb-postgres-4-0 -o jsonpath=\{\.spec\.volumes/, 'postgres-db-tsb-postgres-4-0'],
  [/get pod -l app=tsb-postgres,replicationRole=replica/, 'tsb-postgres-5-0 tsb-postgres-6-0'],
  [/get pod tsb-postgres-5-0 -o jsonpath/, 'postgres-db-tsb-postgres-5-0'],
  [/get pod tsb-postgres-6-0 -o jsonpath/, 'postgres-db-tsb-postgres-6-0'],
  [/get deployment tsb -o/, '2'],
  [/get deployment iam -o/, '1'],
  [/get cronjob tsb-postgres-base-backup -o/, ''],
  [/-n kubegres-system get pod -l control-plane=controller-manager/, 'kubegres-controller-manager-abc'],
];

describe('runbook', () => {
  const md = runbook();
  const blocks = steps(md);

  test('has nine steps, each a block that parses as POSIX sh', () => {
    expect([...blocks.keys()]).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9']);
    for (const [n, script] of blocks) {
      const r = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
      expect(`${n}: ${r.stderr}`).toBe(`${n}: `);
    }
  });

  test('no step hides a failure or waits on a selector', () => {
    expect(md).not.toContain('|| true');
    expect(md).not.toMatch(/kubectl[^\n]* wait [^\n]*-l /);
    expect(md).not.toMatch(/logs [^\n]*-f /);
    // Every delete wait names a pod recorded in step 1.
    for (const line of md.split('\n').filter(l => /wait --for=delete/.test(l))) {
      expect(line).toMatch(/"pod\/\$p"/);
    }
  });

  test('the Kubegres controller is upstream\'s by default and TSB\'s with the preset', () => {
    expect(md).toContain('kubectl -n kubegres-system get pod -l control-plane=controller-manager');
    expect(md).toContain('kubectl -n kubegres-system scale deployment kubegres-controller-manager --replicas=0');
    const tsb = runbook({ preset: InstallPreset.TSB }, { namespace: 'tsb' });
    expect(tsb).toContain('kubectl -n tsb get pod -l app=kubegres-controller-manager');
    expect(runbook({}, { kubegresControllerNamespace: 'ops', kubegresControllerSelector: 'app=kg' })).toContain('kubectl -n ops get pod -l app=kg');
  });

  test('step 1 records the current primary (instance 4 after failovers), its volume, the replicas and the writers\' counts', () => {
    const r = runStep(blocks.get('1')!, HEALTHY);
    expect(r.out).toContain('PRIMARY_POD=tsb-postgres-4-0');
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(r.dir, 'pitr-restore.env'), 'utf8')).toBe([
      'PRIMARY_POD=tsb-postgres-4-0',
      'PRIMARY_STATEFULSET=tsb-postgres-4',
      'DATA_CLAIM=postgres-db-tsb-postgres-4-0',
      'REPLICA_PODS="tsb-postgres-5-0 tsb-postgres-6-0"',
      'REPLICA_CLAIMS="postgres-db-tsb-postgres-5-0 postgres-db-tsb-postgres-6-0"',
      'WRITERS="tsb=2 iam=1"',
      'BACKUP_SUSPENDED=false',
      'CONTROLLER_PODS="kubegres-controller-manager-abc"',
      '',
    ].join('\n'));
  });

  test.each([
    ['no primary pod', /replicationRole=primary/, '', /expected one primary pod of tsb-postgres, found ''/],
    ['two primary pods', /replicationRole=primary/, 'tsb-postgres-1-0 tsb-postgres-4-0', /expected one primary pod/],
    ['a missing replica', /replicationRole=replica/, 'tsb-postgres-5-0', /expected 2 replica pods/],
    ['a controller selector that matches nothing', /control-plane=controller-manager/, '', /no Kubegres controller pod in namespace kubegres-system/],
  ])('step 1 fails on %s', (_what, re, answer, message) => {
    const r = runStep(blocks.get('1')!, [[re, answer as string], ...HEALTHY]);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(message as RegExp);
  });

  test('step 5 restores into the recorded primary\'s volume, and stops at once when the restore pod fails', () => {
    const state = 'PRIMARY_POD=tsb-postgres-4-0\nDATA_CLAIM=postgres-db-tsb-postgres-4-0\n';
    const script = blocks.get('5')!;
    const failed = runStep(`cat >pitr-restore.env <<'E'\n${state}E\ncp ${JSON.stringify(path.join(__dirname, '..', 'examples', 'dist', 'on-demand', 'restore.k8s.yaml'))} restore.k8s.yaml\n${script}`, [
      [/apply -f -/, 'pod/postgres-restore created'],
      [/delete pod postgres-restore --ignore-not-found/, ''],
      [/get pod postgres-restore -o jsonpath=\{\.spec\.volumes/, 'postgres-db-tsb-postgres-4-0'],
      [/get pod postgres-restore -o jsonpath=\{\.status\.phase/, 'Failed'],
      [/logs postgres-restore/, 'restore-data.sh: ERROR: no backup ends before the target'],
    ]);
    expect(failed.status).not.toBe(0);
    expect(failed.out).toContain('FAILED: pod postgres-restore failed');
    expect(failed.calls.filter(c => /status\.phase/.test(c))).toHaveLength(1);
    // The manifest sent to the cluster names the primary's volume, not instance 1's.
    const sed = /^sed "([^"]+)" restore.k8s.yaml/m.exec(script)![1].replace(/\$DATA_CLAIM/g, 'postgres-db-tsb-postgres-4-0').replace(/\\\$/g, '$');
    const yaml = fs.readFileSync(path.join(__dirname, '..', 'examples', 'dist', 'on-demand', 'restore.k8s.yaml'), 'utf8');
    const out = spawnSync('sed', [sed], { input: yaml, encoding: 'utf8' }).stdout;
    expect(out.match(/claimName: postgres-db-tsb-postgres-\d+-0/g)).toEqual(['claimName: postgres-db-tsb-postgres-4-0']);
    expect(out.split('\n').filter((l, i) => l !== yaml.split('\n')[i])).toHaveLength(1);
  });

  test('with a target given at restore time, step 5 makes the target ConfigMap with kubectl from $TARGET, or stops when it is unset', () => {
    const runtimeMd = runbook({}, {}, RecoveryTarget.runtime());
    expect(runtimeMd).toContain('Target: given at restore time in the ConfigMap `tsb-postgres-restore-target` (step 5).');
    const script = steps(runtimeMd).get('5')!;
    const state = 'PRIMARY_POD=tsb-postgres-4-0\nDATA_CLAIM=postgres-db-tsb-postgres-4-0\n';
    const unset = runStep(`printf '${state}' >pitr-restore.env\n${script}`, []);
    expect(unset.status).not.toBe(0);
    expect(unset.out).toContain('FAILED: set TARGET first');
    expect(unset.calls).toEqual([]);
    const given = runStep(`printf '${state}' >pitr-restore.env\nexport TARGET='time=2024-12-04 14:35:00+00' OPTIONS='--from-literal=old-data=delete-first'\n`
      + `printf 'x' >restore.k8s.yaml\n${script}`, [
      [/get pod postgres-restore -o jsonpath=\{\.spec\.volumes/, 'postgres-db-tsb-postgres-4-0'],
      [/get pod postgres-restore -o jsonpath=\{\.status\.phase/, 'Succeeded'],
      [/configmap|delete pod|apply -f -|logs postgres-restore/, ''],
    ]);
    expect(given.out).toBe('');
    expect(given.status).toBe(0);
    expect(given.calls.slice(0, 3)).toEqual([
      '-n tsb delete configmap tsb-postgres-restore-target --ignore-not-found',
      '-n tsb create configmap tsb-postgres-restore-target --from-literal=time=2024-12-04 14:35:00+00 --from-literal=old-data=delete-first',
      '-n tsb delete pod postgres-restore --ignore-not-found --wait',
    ]);
  });

  test('step 6 stops at once when the primary crashes instead of sitting out the timeout', () => {
    const r = runStep(`printf 'PRIMARY_POD=tsb-postgres-4-0\\nPRIMARY_STATEFULSET=tsb-postgres-4\\n' >pitr-restore.env\n${blocks.get('6')!}`, [
      [/scale statefulset/, 'scaled'],
      [/get pod tsb-postgres-4-0 -o jsonpath/, 'Running false 1'],
      [/logs tsb-postgres-4-0 --previous/, 'FATAL:  recovery ended before configured recovery target was reached'],
    ]);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('FAILED: pod tsb-postgres-4-0 crashed or failed (Running false 1)');
    expect(r.out).toContain('recovery ended before configured recovery target was reached');
  });

  test('the backup CronJob is suspended during the restore and put back as it was; the writers get their counts back', () => {
    expect(blocks.get('3')).toContain('kubectl -n tsb patch cronjob tsb-postgres-base-backup --type=merge -p \'{"spec":{"suspend":true}}\'');
    expect(blocks.get('7')).toContain('"{\\"spec\\":{\\"suspend\\":$BACKUP_SUSPENDED}}"');
    expect(blocks.get('7')).toContain('kubectl -n tsb scale deployment "${w%%=*}" --replicas="${w#*=}"');
    expect(blocks.get('9')).toContain('kubectl -n tsb delete pvc "$c"');
    expect(md).toContain('kubectl -n tsb create job --from=cronjob/tsb-postgres-base-backup');
    expect(md).not.toContain('backup-tsb-postgres');
  });
});

describe('runbook sections of the alerts', () => {
  test('every alert of addAlertRules() links to a section the runbook has (GitHub anchors: the heading in lower case)', () => {
    const md = runbook();
    const anchors = [...md.matchAll(/^#{2,3} (.+)$/gm)].map(m => m[1].toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-'));
    for (const alert of Object.values(PitrAlert)) {
      expect(anchors).toContain(alert.toLowerCase());
    }
    expect(anchors).not.toContain('pitrnosuchalert');
  });
});
