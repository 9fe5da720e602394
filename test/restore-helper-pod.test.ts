import { PitrScripts, RecoveryConfig, RecoveryTarget, RestoreHelperPod, RestoreMode } from '../src';
import { chart, envOf, find, synth } from './util';

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
    expect(spec.serviceAccountName).toBe('tsb-kubegres');
    expect(spec.securityContext).toMatchObject({ runAsUser: 70, runAsGroup: 70, fsGroup: 70, runAsNonRoot: true });
    const container = spec.containers[0];
    expect(container.image).toBe('postgres:15-alpine');
    expect(container.command).toEqual(['sleep', 'infinity']);
    expect(container.volumeMounts).toEqual([
      { mountPath: '/var/lib/postgresql/data', name: 'postgres-data' },
      { mountPath: '/var/lib/backup', name: 'backup-volume' },
      { mountPath: '/var/lib/postgresql/wal-archive', name: 'wal-archive' },
      { mountPath: '/var/lib/postgresql/data/tls', name: 'tsb-postgres-certs', readOnly: true },
      { mountPath: '/opt/pitr/scripts', name: 'pitr-scripts', readOnly: true },
      { mountPath: '/tmp', name: 'tmp' },
    ]);
    expect(spec.volumes.slice(0, 4)).toEqual([
      { name: 'postgres-data', persistentVolumeClaim: { claimName: 'postgres-db-tsb-postgres-1-0', readOnly: false } },
      { name: 'backup-volume', persistentVolumeClaim: { claimName: 'tsb-backup', readOnly: false } },
      { name: 'wal-archive', persistentVolumeClaim: { claimName: 'tsb-postgres-wal-archive', readOnly: false } },
      { name: 'tsb-postgres-certs', secret: { secretName: 'tsb-postgres-certs', defaultMode: 0o600 } },
    ]);
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
      RESTORE_DELETE_OLD_DATA: 'false',
      RESTORE_ALLOW_TRUNCATED_HISTORY: 'false',
    });
    expect(spec.containers[0].volumeMounts).toContainEqual({ mountPath: '/etc/pitr/recovery', name: 'recovery', readOnly: true });
  });

  test('throws when automatic mode has no recovery config', () => {
    expect(() => make({ mode: RestoreMode.AUTOMATIC })).toThrow(/^'recoveryConfig' is required when 'mode' is RestoreMode.AUTOMATIC/);
  });

  test('throws when automatic-only options are given in manual mode', () => {
    expect(() => make({ deleteOldData: true })).toThrow('\'deleteOldData\' applies only to RestoreMode.AUTOMATIC, got true');
  });
});
