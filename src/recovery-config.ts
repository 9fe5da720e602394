import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PitrPaths, PitrScript, PitrScripts } from './pitr-scripts';
import { checkConstruct } from './private/api';
import { Names } from './private/names';
import { checkObjectName, checkPath, confQuote, invalid } from './private/validate';
import { RecoveryTarget, RecoveryTargetAction, RecoveryTargetType, RecoveryTimeline } from './recovery-target';

/**
 * Props of `RecoveryConfig`.
 */
export interface RecoveryConfigProps {
  /**
   * The deployment name (the ManagementPlane's `name`, e.g. `tsb`); it prefixes the ConfigMap's name.
   */
  readonly deploymentName: string;

  /**
   * The scripts ConfigMap whose `restore-wal.sh` is the `restore_command`.
   */
  readonly scripts: PitrScripts;

  /**
   * Where recovery stops.
   * @default RecoveryTarget.latest() - replay every archived segment
   */
  readonly target?: RecoveryTarget;

  /**
   * What the server does at the target (`recovery_target_action`). PostgreSQL's own default is `pause`; the library
   * promotes, so a restore ends with a writable server.
   * @default RecoveryTargetAction.PROMOTE
   */
  readonly action?: RecoveryTargetAction;

  /**
   * Whether recovery stops just after the target (`true`) or just before it (`false`). Only for time, xid and LSN
   * targets.
   * @default - not written: PostgreSQL's default, inclusive
   */
  readonly inclusive?: boolean;

  /**
   * Which timeline recovery follows (`recovery_target_timeline`).
   * @default RecoveryTimeline.latest()
   */
  readonly timeline?: RecoveryTimeline;

  /**
   * Where the WAL archive is mounted in the database pod.
   * @default '/var/lib/postgresql/wal-archive'
   */
  readonly walArchiveMountPath?: string;

  /**
   * Name of the ConfigMap.
   * @default - `{deploymentName}-postgres-recovery`
   */
  readonly configMapName?: string;

  /**
   * With `RecoveryTarget.runtime()`: the ConfigMap the operator creates at restore time with the target.
   * @default - `{deploymentName}-postgres-restore-target`
   */
  readonly targetConfigMapName?: string;
}

/**
 * The recovery settings for one target (`restore_command`, the target, `recovery_target_action`, inclusive and
 * timeline) as a ConfigMap (`{name}-postgres-recovery`, key `recovery.conf`), and the signal file to create:
 * `recovery.signal`. PITR uses `recovery.signal` alone: `standby.signal` never ends a recovery to "latest" (it waits
 * for more WAL forever), and with both files present `recovery.signal` outlives the promotion.
 */
export class RecoveryConfig extends Construct {
  /** The signal file to create in the data directory: always `recovery.signal`. */
  public static readonly SIGNAL_FILE = 'recovery.signal';

  /** The target. */
  public readonly target: RecoveryTarget;
  /** The action at the target. */
  public readonly action: RecoveryTargetAction;
  /** `recovery_target_inclusive`, when written. */
  public readonly inclusive?: boolean;
  /** The timeline. */
  public readonly timeline: RecoveryTimeline;
  /** The `restore_command`. */
  public readonly restoreCommand: string;
  /** The settings, one `name = 'value'` line each, to append to `postgresql.auto.conf` of the restored data directory. */
  public readonly settings: string;
  /** The signal file to create in the data directory (`recovery.signal`). */
  public readonly signalFile: string;
  /** Name of the ConfigMap. */
  public readonly configMapName: string;
  /** The ConfigMap that gives the target at restore time (used with `RecoveryTarget.runtime()`). */
  public readonly targetConfigMapName: string;
  /** The ConfigMap (keys `recovery.conf` and `signal-file`). */
  public readonly configMap: kplus.ConfigMap;

  constructor(scope: Construct, id: string, props: RecoveryConfigProps) {
    super(checkConstruct(scope, id, 'RecoveryConfigProps', props), id);
    const names = new Names(checkObjectName('deploymentName', props.deploymentName));
    this.target = props.target ?? RecoveryTarget.latest();
    this.action = props.action ?? RecoveryTargetAction.PROMOTE;
    if (!Object.values(RecoveryTargetAction).includes(this.action)) {
      invalid('action', this.action, 'must be promote, pause or shutdown', 'Use RecoveryTargetAction.PROMOTE, PAUSE or SHUTDOWN');
    }
    if (props.inclusive !== undefined && typeof props.inclusive !== 'boolean') {
      invalid('inclusive', props.inclusive, 'must be true or false', 'Pass a boolean, or leave it out for PostgreSQL\'s default (inclusive)');
    }
    if (props.inclusive !== undefined && !this.target.acceptsInclusive) {
      invalid('inclusive', props.inclusive, `applies only to time, xid and LSN targets, and the target is ${this.target.type}`,
        'Remove \'inclusive\' for this target');
    }
    this.inclusive = props.inclusive;
    this.timeline = props.timeline ?? RecoveryTimeline.latest();
    this.configMapName = checkObjectName('configMapName', props.configMapName ?? names.recoveryConfigMap);
    this.targetConfigMapName = checkObjectName('targetConfigMapName', props.targetConfigMapName ?? names.restoreTargetConfigMap);
    const walDir = checkPath('walArchiveMountPath', props.walArchiveMountPath ?? PitrPaths.WAL_ARCHIVE);
    this.signalFile = RecoveryConfig.SIGNAL_FILE;

    const env = walDir === PitrPaths.WAL_ARCHIVE ? '' : `WAL_ARCHIVE_DIR=${walDir} `;
    this.restoreCommand = `${env}/bin/sh ${props.scripts.pathOf(PitrScript.RESTORE_WAL)} "%f" "%p"`;

    const lines = [
      this.target.type === RecoveryTargetType.RUNTIME
        ? `# Recovery settings (cdk8s-postgres-pitr): the target comes from ConfigMap ${this.targetConfigMapName} at restore time; `
          + `start with ${this.signalFile} in the data directory`
        : `# Recovery settings (cdk8s-postgres-pitr): target ${this.target.type}; start with ${this.signalFile} in the data directory`,
      `restore_command = ${confQuote('restoreCommand', this.restoreCommand)}`,
    ];
    if (this.target.setting && this.target.value !== undefined) {
      lines.push(`${this.target.setting} = ${confQuote(`recoveryTarget.${this.target.type}`, this.target.value)}`);
    }
    if (this.inclusive !== undefined) {
      lines.push(`recovery_target_inclusive = '${this.inclusive ? 'on' : 'off'}'`);
    }
    lines.push(`recovery_target_timeline = ${confQuote('timeline', this.timeline.value)}`);
    lines.push(`recovery_target_action = '${this.action}'`);
    this.settings = lines.join('\n') + '\n';

    this.configMap = new kplus.ConfigMap(this, 'Resource', {
      metadata: { name: this.configMapName },
      data: {
        'recovery.conf': this.settings,
        'signal-file': this.signalFile,
      },
    });
  }

  /**
   * The environment the automatic restore (`restore-data.sh`) needs to pick a base backup for this target.
   */
  public get restoreEnvironment(): { [name: string]: string } {
    const env: { [name: string]: string } = {
      RECOVERY_TARGET_TYPE: this.target.type,
      RECOVERY_SIGNAL_FILE: this.signalFile,
      RECOVERY_SETTINGS_FILE: `${PitrPaths.RECOVERY}/recovery.conf`,
      RECOVERY_TARGET_TIMELINE: this.timeline.value,
    };
    if (this.target.type === RecoveryTargetType.RUNTIME) {
      env.RESTORE_TARGET_DIR = PitrPaths.RESTORE_TARGET;
      env.RESTORE_TARGET_CONFIGMAP = this.targetConfigMapName;
    }
    if (this.target.type === RecoveryTargetType.TIME && this.target.epochSeconds !== undefined) {
      env.RECOVERY_TARGET_EPOCH = String(this.target.epochSeconds);
    }
    if (this.target.type === RecoveryTargetType.LSN && this.target.value) {
      env.RECOVERY_TARGET_LSN = this.target.value;
    }
    return env;
  }
}
