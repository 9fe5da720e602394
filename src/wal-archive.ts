import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PitrPaths, PitrScript, PitrScripts } from './pitr-scripts';
import { checkConstruct } from './private/api';
import { Names } from './private/names';
import { checkDuration, checkObjectName, checkPath, checkSize, checkWritableAccessMode, confQuote } from './private/validate';

/** Size of a WAL segment (the server's default `wal_segment_size`). */
const WAL_SEGMENT_BYTES = 16 * 1024 * 1024;
/** An idle segment switched by archive_timeout, zstd-compressed: 30-84 KB measured in BENCHMARKS.md, rounded up. */
const IDLE_SEGMENT_BYTES_COMPRESSED = 128 * 1024;

/**
 * Props of `WalArchive`.
 */
export interface WalArchiveProps {
  /**
   * The deployment name (the ManagementPlane's `name`, e.g. `tsb`); it prefixes the object names.
   */
  readonly deploymentName: string;

  /**
   * The scripts ConfigMap whose `archive-wal.sh` is the `archive_command`.
   */
  readonly scripts: PitrScripts;

  /**
   * Size of the WAL archive volume (the ManagementPlane's `walArchiveStorageSize`).
   */
  readonly storage: Size;

  /**
   * Storage class of the WAL archive volume (`walArchiveStorageClassName`).
   * @default 'standard'
   */
  readonly storageClassName?: string;

  /**
   * Access mode of the WAL archive volume (`walArchiveStorageAccessMode`). With more than one database pod on
   * different nodes, only `ReadWriteMany` lets every pod mount it.
   * @default kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE
   */
  readonly accessMode?: kplus.PersistentVolumeAccessMode;

  /**
   * Name of the WAL archive PersistentVolumeClaim.
   * @default - `{deploymentName}-postgres-wal-archive`
   */
  readonly claimName?: string;

  /**
   * Name of the ConfigMap that holds the archiving settings as a `postgresql.conf` fragment.
   * @default - `{deploymentName}-postgres-archiving`
   */
  readonly settingsConfigMapName?: string;

  /**
   * Where the archive is mounted in the database pods.
   * @default '/var/lib/postgresql/wal-archive'
   */
  readonly mountPath?: string;

  /**
   * `archive_timeout`: the longest time a finished transaction may wait in the current WAL segment before that
   * segment is switched and archived. It bounds how much recent history a restore can lose.
   * @default Duration.seconds(60)
   * @see https://www.postgresql.org/docs/15/runtime-config-wal.html#GUC-ARCHIVE-TIMEOUT
   */
  readonly archiveTimeout?: Duration;

  /**
   * Whether `archive-wal.sh` stores segments zstd-compressed (`NAME.zst`; the image needs the `zstd` command, which
   * both official images have). A segment switched by `archive_timeout` on an idle server then takes a few KiB instead
   * of 16 MiB. Plain files already in the archive stay readable either way.
   * @default true
   */
  readonly compressSegments?: boolean;
}

/**
 * The WAL archive: its PersistentVolumeClaim (`{name}-postgres-wal-archive`), the archiving settings the server
 * needs (`wal_level`, `archive_mode`, `archive_command`, `archive_timeout`, `wal_compression`) as a `postgresql.conf`
 * fragment and a ConfigMap, and the volume and mount to add to the database pods. Segments are stored
 * zstd-compressed unless `compressSegments` is false.
 */
export class WalArchive extends Construct implements kplus.IStorage {
  /** Name of the WAL archive PVC. */
  public readonly claimName: string;
  /** Storage class of the PVC. */
  public readonly storageClassName: string;
  /** Access mode of the PVC. */
  public readonly accessMode: kplus.PersistentVolumeAccessMode;
  /** Size of the PVC. */
  public readonly storage: Size;
  /** Where the archive is mounted. */
  public readonly mountPath: string;
  /** `archive_timeout`. */
  public readonly archiveTimeout: Duration;
  /** Whether segments are stored compressed. */
  public readonly compressSegments: boolean;
  /**
   * The bytes one segment switched by `archive_timeout` on an idle server takes in the archive, rounded up from the
   * measurement in BENCHMARKS.md (16 MiB when not compressed).
   */
  public readonly minimumSegmentBytes: number;
  /** Name of the settings ConfigMap. */
  public readonly settingsConfigMapName: string;
  /** The `archive_command` the server runs for each finished segment. */
  public readonly archiveCommand: string;
  /**
   * The archiving settings, one `name = 'value'` line each, ready to append to `postgresql.conf`.
   */
  public readonly postgresqlConf: string;
  /** The PVC. */
  public readonly claim: kplus.PersistentVolumeClaim;
  /** The settings ConfigMap (key `archiving.conf`). */
  public readonly settingsConfigMap: kplus.ConfigMap;
  /** The scripts the archive command runs. */
  public readonly scripts: PitrScripts;

  constructor(scope: Construct, id: string, props: WalArchiveProps) {
    super(checkConstruct(scope, id, 'WalArchiveProps', props), id);
    const names = new Names(checkObjectName('deploymentName', props.deploymentName));
    this.scripts = props.scripts;
    this.storage = checkSize('storage', props.storage);
    this.storageClassName = checkObjectName('storageClassName', props.storageClassName ?? 'standard');
    this.accessMode = checkWritableAccessMode('accessMode', props.accessMode ?? kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE);
    this.claimName = checkObjectName('claimName', props.claimName ?? names.walArchiveClaim);
    this.settingsConfigMapName = checkObjectName('settingsConfigMapName', props.settingsConfigMapName ?? names.archivingConfigMap);
    this.mountPath = checkPath('mountPath', props.mountPath ?? PitrPaths.WAL_ARCHIVE);
    this.archiveTimeout = checkDuration('archiveTimeout', props.archiveTimeout ?? Duration.seconds(60));
    this.compressSegments = props.compressSegments ?? true;
    if (typeof this.compressSegments !== 'boolean') {
      throw new Error(`'compressSegments' must be true or false, got ${JSON.stringify(this.compressSegments)}`);
    }
    this.minimumSegmentBytes = this.compressSegments ? IDLE_SEGMENT_BYTES_COMPRESSED : WAL_SEGMENT_BYTES;

    // The archive folder reaches the script through WAL_ARCHIVE_DIR; it is spelled out only when it differs from the
    // script's in-cluster default, so a test can map it to a temporary folder through the server's environment.
    const env = (this.mountPath === PitrPaths.WAL_ARCHIVE ? '' : `WAL_ARCHIVE_DIR=${this.mountPath} `)
      + (this.compressSegments ? '' : 'WAL_ARCHIVE_COMPRESSION=none ');
    this.archiveCommand = `${env}/bin/sh ${this.scripts.pathOf(PitrScript.ARCHIVE_WAL)} "%p" "%f"`;
    this.postgresqlConf = [
      '# WAL archiving for point-in-time recovery (cdk8s-postgres-pitr)',
      'wal_level = \'replica\'',
      'archive_mode = \'on\'',
      `archive_command = ${confQuote('archiveCommand', this.archiveCommand)}`,
      `archive_timeout = '${this.archiveTimeout.toSeconds()}s'`,
      '# full-page images compressed in the WAL itself: fewer bytes to write, archive and replay',
      'wal_compression = \'lz4\'',
      '',
    ].join('\n');

    this.claim = new kplus.PersistentVolumeClaim(this, 'Resource', {
      metadata: { name: this.claimName },
      storage: this.storage,
      storageClassName: this.storageClassName,
      accessModes: [this.accessMode],
    });
    this.settingsConfigMap = new kplus.ConfigMap(this, 'Settings', {
      metadata: { name: this.settingsConfigMapName },
      data: { 'archiving.conf': this.postgresqlConf },
    });
  }

  /**
   * The fewest bytes a day of WAL takes in the archive: one segment per `archive_timeout` (an idle server that writes
   * anything each interval), at `minimumSegmentBytes` each. Real workloads write more; see README, "WAL archive size".
   */
  public minimumBytesPerDay(): number {
    return (86400 / this.archiveTimeout.toSeconds()) * this.minimumSegmentBytes;
  }

  /** The archive PVC as a pod volume named `wal-archive` (kplus `IStorage`): `container.mount(archive.mountPath, archive)`. */
  public asVolume(): kplus.Volume {
    const existing = this.node.tryFindChild('Volume') as kplus.Volume | undefined;
    return existing ?? kplus.Volume.fromPersistentVolumeClaim(this, 'Volume', this.claim, { name: 'wal-archive' });
  }
}
