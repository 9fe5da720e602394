import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PitrScript, PitrScripts } from './pitr-scripts';
import { PostgresImage } from './postgres-image';
import { checkConstruct } from './private/api';
import { CREDENTIALS_SECRET, Names, SUPERUSER_PASSWORD_KEY } from './private/names';
import { addPostgresContainer, podSecurityContext } from './private/pod-security';
import { scriptEnv } from './private/script-env';
import {
  checkHost, checkObjectName, checkPort, checkPositiveInteger, checkRoleName, checkSecretKey,
} from './private/validate';
import { RecoveryTarget } from './recovery-target';

/**
 * Props of `RestorePointJob`.
 */
export interface RestorePointJobProps {
  /** The deployment name (the ManagementPlane's `name`, e.g. `tsb`). */
  readonly deploymentName: string;
  /** The scripts ConfigMap whose `create-restore-point.sh` the job runs. */
  readonly scripts: PitrScripts;
  /**
   * The restore point's name (at most 63 bytes): later `RecoveryTarget.restorePoint(<it>)`. It reaches `psql` as a variable
   * that psql quotes, never as SQL or shell text.
   */
  readonly restorePointName: string;

  /**
   * Name of the Job.
   * @default - `{deploymentName}-postgres-restore-point`
   */
  readonly jobName?: string;

  /**
   * Host of the primary.
   * @default - `{deploymentName}-postgres`
   */
  readonly host?: string;

  /**
   * Port of the primary.
   * @default 5432
   */
  readonly port?: number;

  /**
   * Role that creates the point: a superuser, or a role granted EXECUTE on `pg_create_restore_point` and
   * `pg_switch_wal`.
   * @default - `{deploymentName}`
   */
  readonly user?: string;

  /**
   * Database to connect to.
   * @default - `{deploymentName}`
   */
  readonly database?: string;

  /**
   * Secret with the role's password (read through `secretKeyRef`).
   * @default - the Secret `postgres-credentials`
   */
  readonly passwordSecret?: kplus.ISecret;

  /**
   * Key of the password in the Secret.
   * @default 'embedded-postgres-password'
   */
  readonly passwordKey?: string;

  /**
   * How long the job waits for the segment holding the point to be archived before it fails (0: no wait).
   * @default Duration.seconds(60)
   */
  readonly archiveWait?: Duration;

  /**
   * Image of the job and the user it runs as: the database's own image.
   * @default PostgresImage.debian15()
   */
  readonly image?: PostgresImage;

}

/**
 * A one-shot Job that creates a named restore point (`pg_create_restore_point`) before a risky change, switches WAL and
 * waits until the point is in the archive, so that `RecoveryTarget.restorePoint(...)` can return to it.
 */
export class RestorePointJob extends Construct {
  /** Name of the Job. */
  public readonly jobName: string;
  /** The restore point's name. */
  public readonly restorePointName: string;
  /** The recovery target that returns to this point. */
  public readonly target: RecoveryTarget;
  /** The environment of the script, without the password. */
  public readonly environment: { [name: string]: string };
  /** The Job. */
  public readonly job: kplus.Job;

  constructor(scope: Construct, id: string, props: RestorePointJobProps) {
    super(checkConstruct(scope, id, 'RestorePointJobProps', props), id);
    const names = new Names(checkObjectName('deploymentName', props.deploymentName));
    // RecoveryTarget.restorePoint validates the name (1 to 63 bytes, one line).
    this.target = RecoveryTarget.restorePoint(props.restorePointName);
    this.restorePointName = props.restorePointName;
    this.jobName = checkObjectName('jobName', props.jobName ?? names.restorePointJob, 63);
    const host = checkHost('host', props.host ?? names.primaryHost);
    const port = checkPort('port', props.port ?? 5432);
    const user = checkRoleName('user', props.user ?? names.deployment);
    const database = checkRoleName('database', props.database ?? names.deployment);
    const secret = props.passwordSecret ?? kplus.Secret.fromSecretName(this, 'PasswordSecret', CREDENTIALS_SECRET);
    checkObjectName('passwordSecret', secret.name);
    const key = checkSecretKey('passwordKey', props.passwordKey ?? SUPERUSER_PASSWORD_KEY);
    const wait = props.archiveWait ?? Duration.seconds(60);
    const image = props.image ?? PostgresImage.debian15();

    this.environment = scriptEnv('create-restore-point.sh', {
      PGHOST: host,
      PGPORT: String(port),
      PGUSER: user,
      PGDATABASE: database,
      RESTORE_POINT_NAME: this.restorePointName,
      RESTORE_POINT_ARCHIVE_WAIT_SECONDS: String(checkPositiveInteger('archiveWait', wait.toSeconds(), 0)),
    });
    this.job = new kplus.Job(this, 'Resource', {
      metadata: { name: this.jobName },
      backoffLimit: 0,
      ttlAfterFinished: Duration.days(1),
      restartPolicy: kplus.RestartPolicy.NEVER,
      automountServiceAccountToken: false,
      securityContext: podSecurityContext(image.uid),
    });
    const container = addPostgresContainer(this.job, image, {
      name: 'restore-point',
      command: props.scripts.command(PitrScript.CREATE_RESTORE_POINT),
      env: this.environment,
      secretEnv: { PGPASSWORD: kplus.EnvValue.fromSecretValue({ secret, key }) },
    });
    props.scripts.mount(container);
  }
}
