import { Cron, Duration } from 'cdk8s';
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
   * A fixed restore point name (at most 63 bytes), the same at every run. It reaches `psql` as a variable that psql
   * quotes, never as SQL or shell text.
   * @default - the name of the Job each run creates: `kubectl create job --from=cronjob/{cronJobName} before-upgrade-42`
   *   creates the restore point `before-upgrade-42`
   */
  readonly restorePointName?: string;

  /**
   * Name of the CronJob (suspended: it only serves as the template of `kubectl create job --from=cronjob/...`).
   * @default - `{deploymentName}-postgres-restore-point`
   */
  readonly cronJobName?: string;

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
 * Named restore points before risky changes, as often as needed: a suspended CronJob that never runs on its own and
 * serves as the template of `kubectl create job --from=cronjob/{name}-postgres-restore-point <point-name>`. Each run
 * creates the restore point named after its Job (or `restorePointName`), switches WAL and waits until the point is
 * archived; `RecoveryTarget.restorePoint('<point-name>')`, or `name=<point-name>` in the restore target ConfigMap,
 * returns to it. Applying it is harmless, so it belongs with the always-applied objects.
 */
export class RestorePointJob extends Construct {
  /** Name of the CronJob. */
  public readonly cronJobName: string;
  /** The fixed restore point name, when set; otherwise each Job's name is its restore point's name. */
  public readonly restorePointName?: string;
  /** The recovery target that returns to the fixed restore point, when set. */
  public readonly target?: RecoveryTarget;
  /** The literal environment of the script, without the password (and without the name taken from the Job). */
  public readonly environment: { [name: string]: string };
  /** The CronJob. */
  public readonly cronJob: kplus.CronJob;

  constructor(scope: Construct, id: string, props: RestorePointJobProps) {
    super(checkConstruct(scope, id, 'RestorePointJobProps', props), id);
    const names = new Names(checkObjectName('deploymentName', props.deploymentName));
    // RecoveryTarget.restorePoint validates the name (1 to 63 bytes, one line).
    this.target = props.restorePointName === undefined ? undefined : RecoveryTarget.restorePoint(props.restorePointName);
    this.restorePointName = props.restorePointName;
    // A Job made from it is named <point-name>; the CronJob's own name must leave room for the scheduler's suffix.
    this.cronJobName = checkObjectName('cronJobName', props.cronJobName ?? names.restorePointJob, 52);
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
      ...(this.restorePointName === undefined ? {} : { RESTORE_POINT_NAME: this.restorePointName }),
      RESTORE_POINT_ARCHIVE_WAIT_SECONDS: String(checkPositiveInteger('archiveWait', wait.toSeconds(), 0)),
    });
    this.cronJob = new kplus.CronJob(this, 'Resource', {
      metadata: { name: this.cronJobName },
      // Never on a schedule: suspended, it is a template for kubectl create job --from=cronjob/...
      schedule: Cron.schedule({ minute: '0', hour: '0', day: '1', month: '1' }),
      suspend: true,
      backoffLimit: 0,
      ttlAfterFinished: Duration.days(1),
      restartPolicy: kplus.RestartPolicy.NEVER,
      automountServiceAccountToken: false,
      securityContext: podSecurityContext(image.uid),
    });
    const container = addPostgresContainer(this.cronJob, image, {
      name: 'restore-point',
      command: props.scripts.command(PitrScript.CREATE_RESTORE_POINT),
      env: this.environment,
      secretEnv: {
        PGPASSWORD: kplus.EnvValue.fromSecretValue({ secret, key }),
        // The Job controller labels its pods with the Job's name: that name is the restore point's.
        ...(this.restorePointName === undefined ? { RESTORE_POINT_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_LABEL, { key: 'job-name' }) } : {}),
      },
    });
    props.scripts.mount(container);
  }
}
