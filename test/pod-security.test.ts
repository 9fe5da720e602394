import { EmbeddedPostgresPitr, EmbeddedPostgresPitrProps, RecoveryTarget, RestoreMode } from '../src';
import { podSpecCount, podSpecViolations, restrictedViolations } from './pss';
import { chart, synth, REFERENCE } from './util';


const SCENARIOS: Array<[string, Partial<EmbeddedPostgresPitrProps>, number]> = [
  ['the reference configuration', {}, 1],
  ['a manual restore to a time', { recoveryTarget: RecoveryTarget.time('2024-12-04T14:35:00Z') }, 2],
  ['an automatic restore to a restore point', {
    recoveryTarget: RecoveryTarget.restorePoint('before_upgrade'),
    restore: { mode: RestoreMode.AUTOMATIC },
  }, 2],
  ['an automatic restore to the end of the archive', { recoveryTarget: RecoveryTarget.latest(), restore: { mode: RestoreMode.AUTOMATIC } }, 2],
];

describe.each(SCENARIOS)('restricted Pod Security Standard: %s', (_name, extra, pods) => {
  const c = chart();
  new EmbeddedPostgresPitr(c, 'pitr', { ...REFERENCE, ...extra });
  const objects = synth(c);

  test('every pod spec is checked', () => {
    expect(podSpecCount(objects)).toBe(pods);
  });

  test('every pod spec meets the restricted profile and the library defaults', () => {
    expect(restrictedViolations(objects)).toEqual([]);
  });

  test('no pod mounts the service account token or uses the host', () => {
    for (const o of objects.filter(x => x.kind === 'Pod' || x.kind === 'CronJob')) {
      const spec = o.kind === 'Pod' ? o.spec : o.spec.jobTemplate.spec.template.spec;
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(spec.hostNetwork ?? false).toBe(false);
      expect(JSON.stringify(spec)).not.toMatch(/hostPath/);
    }
  });
});

describe('the restricted checker', () => {
  const good = () => ({
    securityContext: { runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, seccompProfile: { type: 'RuntimeDefault' } },
    volumes: [{ name: 'tmp', emptyDir: {} }],
    containers: [{
      name: 'c',
      image: 'postgres:15-alpine',
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
    }],
  });

  test('passes a compliant pod spec', () => {
    expect(podSpecViolations(good())).toEqual([]);
  });

  test.each<[string, (s: any) => void, RegExp]>([
    ['privileged', s => { s.containers[0].securityContext.privileged = true; }, /privileged must not be true/],
    ['privilege escalation', s => { delete s.containers[0].securityContext.allowPrivilegeEscalation; }, /allowPrivilegeEscalation must be false/],
    ['root', s => { s.securityContext.runAsNonRoot = false; }, /runAsNonRoot must not be false/],
    ['uid 0', s => { s.containers[0].securityContext.runAsUser = 0; }, /runAsUser must not be 0/],
    ['other uid', s => { s.securityContext.runAsUser = 70; }, /runAsUser must be 999/],
    ['capabilities kept', s => { s.containers[0].securityContext.capabilities = {}; }, /drop must include ALL/],
    ['added capability', s => { s.containers[0].securityContext.capabilities.add = ['SYS_ADMIN']; }, /may only hold NET_BIND_SERVICE/],
    ['unconfined seccomp', s => { s.securityContext.seccompProfile.type = 'Unconfined'; }, /seccompProfile/],
    ['hostPath', s => { s.volumes.push({ name: 'h', hostPath: { path: '/' } }); }, /volume type hostPath is not allowed/],
    ['hostNetwork', s => { s.hostNetwork = true; }, /hostNetwork must not be true/],
    ['hostPID', s => { s.hostPID = true; }, /hostPID must not be true/],
    ['hostIPC', s => { s.hostIPC = true; }, /hostIPC must not be true/],
    ['hostPort', s => { s.containers[0].ports = [{ containerPort: 5432, hostPort: 5432 }]; }, /hostPort/],
    ['writable root', s => { s.containers[0].securityContext.readOnlyRootFilesystem = false; }, /readOnlyRootFilesystem must be true/],
    ['no /tmp', s => { s.containers[0].volumeMounts = []; }, /\/tmp must be a writable emptyDir/],
    ['no limits', s => { delete s.containers[0].resources.limits; }, /resources.limits.cpu is missing/],
  ])('flags %s', (_name, mutate, message) => {
    const spec = good();
    mutate(spec);
    expect(podSpecViolations(spec).join('\n')).toMatch(message);
  });
});
