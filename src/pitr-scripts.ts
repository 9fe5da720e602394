import * as fs from 'fs';
import * as path from 'path';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkConstruct, checkKind, CONTAINER, required, SCRIPT } from './private/api';
import { Names } from './private/names';
import { checkObjectName, checkPath } from './private/validate';

/**
 * The shell scripts the library ships. Each is a real `.sh` file in the package (`lib/scripts/`), read from
 * environment variables that default to the in-cluster paths.
 */
export enum PitrScript {
  /** `archive_command`: copies a WAL segment into the archive (temporary name, fsync, rename; never overwrites). */
  ARCHIVE_WAL = 'archive-wal.sh',
  /** `restore_command`: copies a segment back from the archive; non-zero when it is not there. */
  RESTORE_WAL = 'restore-wal.sh',
  /** The base backup CronJob: `pg_basebackup`, verification, retention. */
  BASE_BACKUP = 'base-backup.sh',
  /** The automatic data-directory restore of the restore helper. */
  RESTORE_DATA = 'restore-data.sh',
  /** The recoverable-window report. */
  RECOVERY_WINDOW = 'recovery-window.sh',
  /** Creates a named restore point. */
  CREATE_RESTORE_POINT = 'create-restore-point.sh',
  /** The scheduled restore drill: restores the newest backup and the archive into scratch space and checks the result. */
  RESTORE_DRILL = 'restore-drill.sh',
}

/**
 * Paths inside the containers (SPEC section 3). They are the defaults of every construct's path props.
 */
export class PitrPaths {
  /** Where the WAL archive volume is mounted. */
  public static readonly WAL_ARCHIVE = '/var/lib/postgresql/wal-archive';
  /** Where the backup volume is mounted. */
  public static readonly BACKUP = '/var/lib/backup';
  /** Where the data volume is mounted. */
  public static readonly DATA = '/var/lib/postgresql/data';
  /** PGDATA inside the data volume. */
  public static readonly PGDATA = '/var/lib/postgresql/data/pgdata';
  /** Where the TLS Secret is mounted (read-only, mode 0600). */
  public static readonly TLS = '/var/lib/postgresql/data/tls';
  /** Where the scripts ConfigMap is mounted. */
  public static readonly SCRIPTS = '/opt/pitr/scripts';
  /** Where the recovery ConfigMap is mounted in the restore helper. */
  public static readonly RECOVERY = '/etc/pitr/recovery';
  /** Where the restore target ConfigMap (`RecoveryTarget.runtime()`) is mounted in the restore helper. */
  public static readonly RESTORE_TARGET = '/etc/pitr/target';
  /** Where the restore drill's scratch volume is mounted. */
  public static readonly RESTORE_DRILL_SCRATCH = '/var/lib/postgresql/restore-drill';
  /** Where the restore drill's checks ConfigMap is mounted. */
  public static readonly RESTORE_DRILL_CHECKS = '/etc/pitr/drill';

  private constructor() {
  }
}

/**
 * Props of `PitrScripts`.
 */
export interface PitrScriptsProps {
  /**
   * The deployment name (the ManagementPlane's `name`, e.g. `tsb`); it prefixes the ConfigMap's name.
   */
  readonly deploymentName: string;

  /**
   * Name of the scripts ConfigMap.
   * @default - `{deploymentName}-postgres-pitr-scripts`
   */
  readonly configMapName?: string;

  /**
   * Where the scripts are mounted in the containers that run them.
   * @default '/opt/pitr/scripts'
   */
  readonly mountPath?: string;
}

/**
 * The scripts ConfigMap (`{name}-postgres-pitr-scripts`): every `.sh` of the library, mounted read-only into the
 * database pods (for `archive_command` and `restore_command`), the backup CronJob and the restore helper.
 */
export class PitrScripts extends Construct implements kplus.IStorage {
  /** The ConfigMap key (a file beside the scripts) holding the library's version. */
  public static readonly VERSION_FILE = 'pitr-version';

  /**
   * The exact text of one of the shipped scripts.
   */
  public static source(script: PitrScript): string {
    checkKind('script', script, required(SCRIPT));
    return fs.readFileSync(path.join(__dirname, 'scripts', script), 'utf8');
  }

  /** The version of this library, from its package.json. */
  public static libraryVersion(): string {
    return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version;
  }

  /** The file names of every shipped script, sorted. */
  public static files(): string[] {
    return fs.readdirSync(path.join(__dirname, 'scripts')).filter(f => f.endsWith('.sh')).sort();
  }

  /** Name of the ConfigMap. */
  public readonly configMapName: string;
  /** Where the scripts are mounted. */
  public readonly mountPath: string;
  /** The ConfigMap. */
  public readonly configMap: kplus.ConfigMap;

  constructor(scope: Construct, id: string, props: PitrScriptsProps) {
    super(checkConstruct(scope, id, 'PitrScriptsProps', props), id);
    checkObjectName('deploymentName', props.deploymentName);
    this.configMapName = checkObjectName('configMapName', props.configMapName ?? new Names(props.deploymentName).scriptsConfigMap);
    this.mountPath = checkPath('mountPath', props.mountPath ?? PitrPaths.SCRIPTS);

    // Every .sh of the package, including the helpers the scripts source (such as pitr-catalog.sh), in name order.
    const data: Record<string, string> = {};
    for (const file of PitrScripts.files()) {
      data[file] = fs.readFileSync(path.join(__dirname, 'scripts', file), 'utf8');
    }
    // The library's version, which the identity files of the archive and the backups record.
    data[PitrScripts.VERSION_FILE] = PitrScripts.libraryVersion();
    this.configMap = new kplus.ConfigMap(this, 'Resource', {
      metadata: { name: this.configMapName },
      data,
    });
  }

  /** The command that runs a script: `['/bin/sh', '<mountPath>/<script>']`. */
  public command(script: PitrScript): string[] {
    checkKind('script', script, required(SCRIPT));
    return ['/bin/sh', this.pathOf(script)];
  }

  /** The path of a script inside the containers. */
  public pathOf(script: PitrScript): string {
    checkKind('script', script, required(SCRIPT));
    return `${this.mountPath}/${script}`;
  }

  /** Mounts the scripts read-only into a container (volume name `pitr-scripts`). */
  public mount(container: kplus.Container): void {
    checkKind('container', container, required(CONTAINER));
    container.mount(this.mountPath, this, { readOnly: true });
  }

  /** The scripts ConfigMap as a pod volume named `pitr-scripts`, files mode 0555 (kplus `IStorage`). */
  public asVolume(): kplus.Volume {
    const existing = this.node.tryFindChild('Volume') as kplus.Volume | undefined;
    return existing ?? kplus.Volume.fromConfigMap(this, 'Volume', this.configMap, { name: 'pitr-scripts', defaultMode: 0o555 });
  }
}
