import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { BaseBackupCronJob } from './base-backup-cron-job';
import { PitrScript, PitrScripts } from './pitr-scripts';
import { PostgresImage } from './postgres-image';
import { checkConstruct } from './private/api';
import { kubegresPrimaryLabels, Names } from './private/names';
import { addPostgresContainer, podSecurityContext } from './private/pod-security';
import { colocateWithArchive } from './private/scheduling';
import { scriptEnv } from './private/script-env';
import { checkObjectName, invalid } from './private/validate';
import { WalArchive } from './wal-archive';

/**
 * Output of the recoverable-window report.
 */
export enum ReportFormat {
  /** Plain text. */
  TEXT = 'text',
  /** One JSON document. */
  JSON = 'json',
  /** The text, then the JSON document (starting at a line that is exactly `{`). */
  BOTH = 'both',
}

/**
 * Props of `RecoveryWindowJob`.
 */
export interface RecoveryWindowJobProps {
  /** The deployment name (the ManagementPlane's `name`, e.g. `tsb`). */
  readonly deploymentName: string;
  /** The scripts ConfigMap whose `recovery-window.sh` the job runs. */
  readonly scripts: PitrScripts;
  /** The WAL archive to read (mounted read-only). */
  readonly walArchive: WalArchive;
  /** The base backups to read (their volume is mounted read-only). */
  readonly baseBackup: BaseBackupCronJob;

  /**
   * Name of the Job.
   * @default - `{deploymentName}-postgres-recovery-window`
   */
  readonly jobName?: string;

  /**
   * Report format.
   * @default ReportFormat.BOTH
   */
  readonly format?: ReportFormat;

  /**
   * Image of the job and the user it runs as: the database's own image.
   * @default PostgresImage.debian15()
   */
  readonly image?: PostgresImage;

  /**
   * Labels of the primary pod, for the preferred pod affinity a `ReadWriteOnce` WAL archive needs while the database
   * runs (preferred, not required: the report must also run while the database is down, as during a restore).
   * @default - `{ app: '{deploymentName}-postgres', replicationRole: 'primary' }`
   */
  readonly primaryPodLabels?: { [key: string]: string };

  /**
   * How long the finished Job (and its log) is kept.
   * @default Duration.days(1)
   */
  readonly ttlAfterFinished?: Duration;

}

/**
 * A one-shot Job that prints the recoverable window: each complete backup's start and end time and LSN, the earliest
 * and latest recoverable time, and any gap in the WAL archive, as text and JSON (`kubectl logs job/<name>`). It only
 * reads.
 */
export class RecoveryWindowJob extends Construct {
  /** Name of the Job. */
  public readonly jobName: string;
  /** The report format. */
  public readonly format: ReportFormat;
  /** The environment of the report script. */
  public readonly environment: { [name: string]: string };
  /** The Job. */
  public readonly job: kplus.Job;

  constructor(scope: Construct, id: string, props: RecoveryWindowJobProps) {
    super(checkConstruct(scope, id, 'RecoveryWindowJobProps', props), id);
    const names = new Names(checkObjectName('deploymentName', props.deploymentName));
    this.jobName = checkObjectName('jobName', props.jobName ?? names.recoveryWindowJob, 63);
    this.format = props.format ?? ReportFormat.BOTH;
    if (!Object.values(ReportFormat).includes(this.format)) {
      invalid('format', this.format, 'must be text, json or both');
    }
    const image = props.image ?? PostgresImage.debian15();
    this.environment = scriptEnv('recovery-window.sh', {
      BACKUP_DIR: props.baseBackup.mountPath,
      WAL_ARCHIVE_DIR: props.walArchive.mountPath,
      BACKUP_NAME_PREFIX: props.baseBackup.backupNamePrefix,
      REPORT_FORMAT: this.format,
    });
    this.job = new kplus.Job(this, 'Resource', {
      metadata: { name: this.jobName },
      backoffLimit: 0,
      ttlAfterFinished: props.ttlAfterFinished ?? Duration.days(1),
      restartPolicy: kplus.RestartPolicy.NEVER,
      automountServiceAccountToken: false,
      securityContext: podSecurityContext(image.uid),
    });
    const container = addPostgresContainer(this.job, image, {
      name: 'recovery-window',
      command: props.scripts.command(PitrScript.RECOVERY_WINDOW),
      env: this.environment,
    });
    container.mount(props.baseBackup.mountPath, kplus.Volume.fromPersistentVolumeClaim(this, 'Backup', props.baseBackup.claim, { name: 'backup', readOnly: true }),
      { readOnly: true });
    container.mount(props.walArchive.mountPath, kplus.Volume.fromPersistentVolumeClaim(this, 'WalArchive', props.walArchive.claim,
      { name: 'wal-archive', readOnly: true }), { readOnly: true });
    props.scripts.mount(container);
    colocateWithArchive(this, this.job, props.walArchive, props.primaryPodLabels ?? kubegresPrimaryLabels(names.kubegres), 'the recovery window report',
      false);
  }
}
