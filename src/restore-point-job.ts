import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PitrScript, PitrScripts } from './pitr-scripts';
import {
  addScratch, containerSecurityContext, DEFAULT_POSTGRES_IMAGE, defaultResources, literalEnv, podSecurityContext, POSTGRES_UID,
} from './pod-security';
import { RecoveryTarget } from './recovery-target';
import {
  checkHost, checkImage, checkObjectName, checkPort, checkPositiveInteger, checkRoleName, checkSecretKey,
} from './validate';

/**
 * Props of `RestorePointJob`.
 */
export interface RestorePointJobProps {
  /** The deployment name (the ManagementPlane's `name`, e.g. `tsb`). */
  readonly deploymentName: string;
  /** The scripts ConfigMap whose `create-restore-point.sh` the job runs. */
  readonly scripts: PitrScripts;
  /**
   * The restore point's name (at most 63 bytes): later `RecoveryTarget.name(<it>)`. It reaches `psql` as a variable
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
   * Image of the job.
   * @default 'postgres:15-alpine'
   */
  readonly image?: string;

  /**
   * uid and gid of the job.
   * @default 70
   */
  readonly runAsUser?: number;
}

/**
 * A one-shot Job that creates a named restore point (`pg_create_restore_point`) before a risky change, switches WAL and
 * waits until the point is in the archive, so that `RecoveryTarget.name(...)` can return to it.
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
    super(scope, id);
    const name = checkObjectName('deploymentName', props.deploymentName);
    // RecoveryTarget.name validates the name (1 to 63 bytes, one line).
    this.target = RecoveryTarget.name(props.restorePointName);
    this.restorePointName = props.restorePointName;
    this.jobName = checkObjectName('jobName', props.jobName ?? `${name}-postgres-restore-point`, 63);
    const host = checkHost('host', props.host ?? `${name}-postgres`);
    const port = checkPort('port', props.port ?? 5432);
    const user = checkRoleName('user', props.user ?? name);
    const database = checkRoleName('database', props.database ?? name);
    const secret = props.passwordSecret ?? kplus.Secret.fromSecretName(this, 'PasswordSecret', 'postgres-credentials');
    checkObjectName('passwordSecret', secret.name);
    const key = checkSecretKey('passwordKey', props.passwordKey ?? 'embedded-postgres-password');
    const wait = props.archiveWait ?? Duration.seconds(60);
    const image = checkImage('image', props.image ?? DEFAULT_POSTGRES_IMAGE);
    const uid = checkPositiveInteger('runAsUser', props.runAsUser ?? POSTGRES_UID);

    this.environment = {
      PGHOST: host,
      PGPORT: String(port),
      PGUSER: user,
      PGDATABASE: database,
      RESTORE_POINT_NAME: this.restorePointName,
      RESTORE_POINT_ARCHIVE_WAIT_SECONDS: String(checkPositiveInteger('archiveWait', wait.toSeconds(), 0)),
    };
    this.job = new kplus.Job(this, 'Resource', {
      metadata: { name: this.jobName },
      backoffLimit: 0,
      ttlAfterFinished: Duration.days(1),
      restartPolicy: kplus.RestartPolicy.NEVER,
      automountServiceAccountToken: false,
      securityContext: podSecurityContext(uid),
    });
    const container = this.job.addContainer({
      name: 'restore-point',
      image,
      command: props.scripts.command(PitrScript.CREATE_RESTORE_POINT),
      securityContext: containerSecurityContext(uid),
      resources: defaultResources(),
      envVariables: {
        ...literalEnv(this.environment),
        PGPASSWORD: kplus.EnvValue.fromSecretValue({ secret, key }),
      },
    });
    props.scripts.mount(container);
    addScratch(this.job, container);
  }
}
