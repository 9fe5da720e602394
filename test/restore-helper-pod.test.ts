import { EmbeddedPostgresPitr, InstallPreset, PitrScripts, RecoveryConfig, RecoveryTarget, RestoreHelperPod, RestoreMode } from '../src';
import { chart, envOf, find, REFERENCE, synth } from './util';

function make(props: Partial<ConstructorParameters<typeof RestoreHelperPod>[2]> = {}) {
  const c = chart();
  const scripts = new PitrScripts(c, 'scripts', { deploymentName: 'tsb' });
  const pod = new RestoreHelperPod(c, 'restore', { deploymentName: 'tsb', scripts, ...props });
  return { c, pod, scripts };
}

describe('RestoreHelperPod', () => {
  test('manual mode is the reference design\'s pod', () => {
    const { c } = make();
    const pod = find(synth(c), 'Pod', 'postgres-restore');
    expect(pod).toMatchSnapshot();
    const spec = pod.spec;
    expect(spec.serviceAccountName).toBeUndefined();
    expect(spec.securityContext).toMatchObject({ runAsUser: 999, runAsGroup: 999, fsGroup: 999, runAsNonRoot: true });
    const container = spec.containers[0];
    expect(container.image).toBe('postgres:15-bookworm');
    expect(container.command).toEqual(['sleep', 'infinity']);
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    // Upstream Kubegres has neither TSB's TLS Secret nor its ServiceAccount: the pod needs neither.
    expect(container.volumeMounts).toEqual([
      { mountPath: '/tmp', name: 'tmp' },
      { mountPath: '/var/lib/postgresql/data', name: 'postgres-data' },
      { mountPath: '/var/lib/backup', name: 'backup-volume' },
      { mountPath: '/var/lib/postgresql/wal-archive', name: 'wal-archive' },
      { mountPath: '/opt/pitr/scripts', name: 'pitr-scripts', readOnly: true },
    ]);
    expect(spec.volumes.filter((v: any) => v.persistentVolumeClaim || v.secret)).toEqual([
      { name: 'postgres-data', persistentVolumeClaim: { claimName: 'postgres-db-tsb-postgres-1-0', readOnly: false } },
      { name: 'backup-volume', persistentVolumeClaim: { claimName: 'tsb-backup', readOnly: false } },
      { name: 'wal-archive', persistentVolumeClaim: { claimName: 'tsb-postgres-wal-archive', readOnly: false } },
    ]);
  });

  test('the TSB preset adds the TLS Secret (read-only, 0600) and the kubegres ServiceAccount', () => {
    const c = chart();
    new EmbeddedPostgresPitr(c, 'pitr', { ...REFERENCE, preset: InstallPreset.TSB, recoveryTarget: RecoveryTarget.latest() });
    const spec = find(synth(c), 'Pod', 'postgres-restore').spec;
    expect(spec.serviceAccountName).toBe('tsb-kubegres');
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.containers[0].volumeMounts).toContainEqual({ mountPath: '/var/lib/postgresql/data/tls', name: 'tls', readOnly: true });
    expect(spec.volumes).toContainEqual({ name: 'tls', secret: { secretName: 'tsb-postgres-certs', defaultMode: 0o600 } });
  });

  test('an Alpine image runs the pod as uid/gid 70, and postgresUid overrides the uid', () => {
    const uidOf = (props: object) => {
      const c = chart();
      new EmbeddedPostgresPitr(c, 'pitr', { ...REFERENCE, ...props, recoveryTarget: RecoveryTarget.latest() });
      return find(synth(c), 'Pod', 'postgres-restore').spec.securityContext.runAsUser;
    };
    expect(uidOf({})).toBe(999);
    expect(uidOf({ postgresImage: 'postgres:15.10-alpine3.20' })).toBe(70);
    expect(uidOf({ postgresImage: 'registry.example.com/pg:15', postgresUid: 26 })).toBe(26);
  });

  test('throws when the pod would take the name of a Kubegres instance\'s pod', () => {
    expect(() => make({ podName: 'tsb-postgres-2-0' })).toThrow(/^'podName' is the name of a Kubegres instance's pod, got "tsb-postgres-2-0"/);
  });

  test('automatic mode runs the restore script with the target\'s settings', () => {
    const c = chart();
    const scripts = new PitrScripts(c, 'scripts', { deploymentName: 'tsb' });
    const recoveryConfig = new RecoveryConfig(c, 'rc', { deploymentName: 'tsb', scripts, target: RecoveryTarget.time('2024-12-04T14:35:00Z') });
    new RestoreHelperPod(c, 'restore', { deploymentName: 'tsb', scripts, recoveryConfig, mode: RestoreMode.AUTOMATIC, backupName: 'tsb-postgres-base-backup-04_12_2024_02_00_00' });
    const spec = find(synth(c), 'Pod', 'postgres-restore').spec;
    expect(spec.restartPolicy).toBe('Never');
    expect(spec.containers[0].command).toEqual(['/bin/sh', '/opt/pitr/scripts/restore-data.sh']);
    expect(envOf(spec.containers[0])).toEqual({
      PGDATA: '/var/lib/postgresql/data/pgdata',
      BACKUP_DIR: '/var/lib/backup',
      WAL_ARCHIVE_DIR: '/var/lib/postgresql/wal-archive',
      BACKUP_NAME_PREFIX: 'tsb-postgres-base-backup',
      RECOVERY_TARGET_TYPE: 'time',
      RECOVERY_TARGET_EPOCH: '1733322900',
      RECOVERY_SIGNAL_FILE: 'recovery.signal',
      RECOVERY_SETTINGS_FILE: '/etc/pitr/recovery/recovery.conf',
      RESTORE_BACKUP: 'tsb-postgres-base-backup-04_12_2024_02_00_00',
      RECOVERY_TARGET_TIMELINE: 'latest',
      RESTORE_OLD_DATA: 'keep',
      RESTORE_ALLOW_TRUNCATED_HISTORY: 'false',
      PRIMARY_HOST: 'tsb-postgres',
      PRIMARY_PORT: '5432',
    });
    expect(spec.containers[0].volumeMounts).toContainEqual({ mountPath: '/etc/pitr/recovery', name: 'recovery', readOnly: true });
    // The extract is a decompressor piped into tar: two CPUs.
    expect(spec.containers[0].resources).toEqual({ limits: { cpu: '2', memory: '1024Mi' }, requests: { cpu: '100m', memory: '256Mi' } });
  });

  test('throws when automatic mode has no recovery config', () => {
    expect(() => make({ mode: RestoreMode.AUTOMATIC })).toThrow(/^'recoveryConfig' is required when 'mode' is RestoreMode.AUTOMATIC/);
  });

  test('throws when automatic-only options are given in manual mode', () => {
    expect(() => make({ deleteOldData: true })).toThrow('\'deleteOldData\' applies only to RestoreMode.AUTOMATIC, got true');
  });
});
