import { PitrScripts, RecoveryConfig, RecoveryTarget, RecoveryTargetAction, RecoveryTimeline } from '../src';
import { chart, find, synth } from './util';

function make(props: Partial<ConstructorParameters<typeof RecoveryConfig>[2]> = {}) {
  const c = chart();
  const scripts = new PitrScripts(c, 'scripts', { deploymentName: 'tsb' });
  const config = new RecoveryConfig(c, 'recovery', { deploymentName: 'tsb', scripts, ...props });
  return { c, config };
}

const RESTORE = 'restore_command = \'/bin/sh /opt/pitr/scripts/restore-wal.sh "%f" "%p"\'';

describe('RecoveryConfig', () => {
  test('defaults: latest, promote, timeline latest, recovery.signal', () => {
    const { c, config } = make();
    const objects = synth(c);
    expect(objects.filter(o => o.metadata.name === 'tsb-postgres-recovery')).toMatchSnapshot();
    expect(config.signalFile).toBe('recovery.signal');
    expect(config.action).toBe(RecoveryTargetAction.PROMOTE);
    expect(config.settings).toBe([
      '# Recovery settings (cdk8s-postgres-pitr): target latest; start with recovery.signal in the data directory',
      RESTORE,
      'recovery_target_timeline = \'latest\'',
      'recovery_target_action = \'promote\'',
      '',
    ].join('\n'));
    expect(find(objects, 'ConfigMap', 'tsb-postgres-recovery').data).toEqual({ 'recovery.conf': config.settings, 'signal-file': 'recovery.signal' });
    expect(config.restoreEnvironment).toEqual({
      RECOVERY_TARGET_TYPE: 'latest',
      RECOVERY_SIGNAL_FILE: 'recovery.signal',
      RECOVERY_SETTINGS_FILE: '/etc/pitr/recovery/recovery.conf',
      RECOVERY_TARGET_TIMELINE: 'latest',
    });
  });

  test('a target given at restore time: no target line, the ConfigMap the restore helper reads, and its mount', () => {
    const c = chart();
    const scripts = new PitrScripts(c, 'scripts', { deploymentName: 'tsb' });
    const config = new RecoveryConfig(c, 'recovery', { deploymentName: 'tsb', scripts, target: RecoveryTarget.runtime(), timeline: RecoveryTimeline.current() });
    expect(config.settings).not.toMatch(/^recovery_target(_time|_xid|_lsn|_name)? /m);
    expect(config.settings).toContain('the target comes from ConfigMap tsb-postgres-restore-target at restore time');
    expect(config.targetConfigMapName).toBe('tsb-postgres-restore-target');
    expect(config.restoreEnvironment).toEqual({
      RECOVERY_TARGET_TYPE: 'runtime',
      RECOVERY_SIGNAL_FILE: 'recovery.signal',
      RECOVERY_SETTINGS_FILE: '/etc/pitr/recovery/recovery.conf',
      RECOVERY_TARGET_TIMELINE: 'current',
      RESTORE_TARGET_DIR: '/etc/pitr/target',
      RESTORE_TARGET_CONFIGMAP: 'tsb-postgres-restore-target',
    });
    expect(() => new RecoveryConfig(chart(), 'r', { deploymentName: 'tsb', scripts, target: RecoveryTarget.runtime(), inclusive: true }))
      .toThrow(/^'inclusive' applies only to time, xid and LSN targets, and the target is runtime/);
  });

  test.each([
    [RecoveryTarget.time('2024-12-04T14:35:00Z'), 'recovery_target_time = \'2024-12-04 14:35:00+00\''],
    [RecoveryTarget.time('2024-12-04 16:35:00.25+02:00'), 'recovery_target_time = \'2024-12-04 14:35:00.25+00\''],
    [RecoveryTarget.time('2024-12-04 09:35:00-0500'), 'recovery_target_time = \'2024-12-04 14:35:00+00\''],
    [RecoveryTarget.time('2024-12-04 14:35 UTC'), 'recovery_target_time = \'2024-12-04 14:35:00+00\''],
    [RecoveryTarget.xid('12345'), 'recovery_target_xid = \'12345\''],
    [RecoveryTarget.xid('00077'), 'recovery_target_xid = \'77\''],
    [RecoveryTarget.lsn('0/3000060'), 'recovery_target_lsn = \'0/3000060\''],
    [RecoveryTarget.lsn('a/00ff'), 'recovery_target_lsn = \'A/FF\''],
    [RecoveryTarget.restorePoint('before_critical_operation'), 'recovery_target_name = \'before_critical_operation\''],
    [RecoveryTarget.restorePoint('it\'s'), 'recovery_target_name = \'it\'\'s\''],
    [RecoveryTarget.immediate(), 'recovery_target = \'immediate\''],
  ])('target %s writes exactly one target line', (target, line) => {
    const { config } = make({ target });
    expect(config.settings.split('\n').filter(l => l.startsWith('recovery_target') && !/_(action|timeline|inclusive) =/.test(l))).toEqual([line]);
  });

  test('time targets carry their epoch for backup selection', () => {
    const { config } = make({ target: RecoveryTarget.time('2024-12-04T14:35:00Z') });
    expect(config.restoreEnvironment.RECOVERY_TARGET_EPOCH).toBe('1733322900');
    expect(config.restoreEnvironment.RECOVERY_TARGET_TYPE).toBe('time');
  });

  test('inclusive, timeline and action are written', () => {
    const { config } = make({
      target: RecoveryTarget.lsn('0/3000060'),
      inclusive: false,
      timeline: RecoveryTimeline.id(2),
      action: RecoveryTargetAction.SHUTDOWN,
    });
    expect(config.settings).toContain('recovery_target_inclusive = \'off\'\nrecovery_target_timeline = \'2\'\nrecovery_target_action = \'shutdown\'\n');
    expect(config.restoreEnvironment.RECOVERY_TARGET_LSN).toBe('0/3000060');
    expect(make({ timeline: RecoveryTimeline.current() }).config.settings).toContain('recovery_target_timeline = \'current\'');
  });

  test('throws when inclusive is given for a target without it', () => {
    expect(() => make({ target: RecoveryTarget.restorePoint('x'), inclusive: true }))
      .toThrow('\'inclusive\' applies only to time, xid and LSN targets, and the target is name, got true. Remove \'inclusive\' for this target');
  });

  test.each([
    [() => RecoveryTarget.time('2024-12-04 14:35:00'), /^'recoveryTarget.time' must be a date and time with an explicit zone/],
    [() => RecoveryTarget.time('2024-12-04 14:35:00 PDT'), /zone abbreviations such as PDT are rejected/],
    [() => RecoveryTarget.time('2024-02-30T00:00:00Z'), /is not a valid calendar date/],
    [() => RecoveryTarget.xid('-1'), /^'recoveryTarget.xid' must be an unsigned decimal transaction id/],
    [() => RecoveryTarget.xid('0x10'), /^'recoveryTarget.xid'/],
    [() => RecoveryTarget.lsn('0-3000060'), /^'recoveryTarget.lsn' must be a WAL location/],
    [() => RecoveryTarget.restorePoint('x'.repeat(64)), /^'recoveryTarget.restorePoint' must be a restore point name of 1 to 63 bytes/],
    [() => RecoveryTarget.restorePoint('a\nrestore_command = \'evil\''), /^'recoveryTarget.restorePoint' must be a restore point name/],
    [() => RecoveryTimeline.id(0), /^'timeline' must be 'latest', 'current' or a positive integer/],
  ])('throws when a target is invalid (%#)', (fn, message) => {
    expect(fn).toThrow(message);
  });
});
