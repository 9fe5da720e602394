import { API, checkShape } from './private/api';
import { invalid } from './private/validate';

/**
 * The compression methods of base backups.
 */
export enum BackupCompressionMethod {
  /** zstd: `base.tar.zst` and `pg_wal.tar.zst`. Needs the `zstd` command in the image (both official images have it). */
  ZSTD = 'zstd',
  /** gzip: `base.tar.gz` and `pg_wal.tar.gz`, the reference design's files (`pg_basebackup -Ft -z`). */
  GZIP = 'gzip',
  /** lz4: `base.tar.lz4` and `pg_wal.tar.lz4`. Needs the `lz4` command in the image (the official images lack it). */
  LZ4 = 'lz4',
  /** No compression: `base.tar` and `pg_wal.tar`. */
  NONE = 'none',
}

/**
 * Options of `BackupCompression.zstd`.
 */
export interface ZstdCompressionOptions {
  /**
   * zstd level, 1 (fastest) to 19 (smallest). Level 1 was twice as fast as level 3 at the same size in BENCHMARKS.md.
   * @default 1
   */
  readonly level?: number;

  /**
   * Compression threads besides the one reading the stream; 0 compresses in one thread. Each worker wants a CPU of the
   * backup container's limit (`BaseBackupCronJobProps.resources`).
   * @default 0
   */
  readonly workers?: number;
}

/**
 * How base backups are compressed. `pg_basebackup` compresses on the client side, in the backup job's container, so
 * the database's CPU is not spent on it. The backup's files say the method, and restore, the window report and
 * retention read every method, so changing it leaves older backups usable.
 *
 * Measured on 2 cores (BENCHMARKS.md): zstd level 1 in one thread is several times faster than gzip level 6
 * (`pg_basebackup -z`) at a smaller size, which is why it is the default; workers gained little there, since
 * `pg_basebackup` itself was the bottleneck.
 */
export class BackupCompression {
  /** zstd (the default: level 1, one thread). */
  public static zstd(options: ZstdCompressionOptions = {}): BackupCompression {
    checkShape('options', options, API.ZstdCompressionOptions, 'ZstdCompressionOptions');
    const level = checkLevel('backupCompression.level', options.level ?? 1, 1, 19);
    const workers = options.workers ?? 0;
    if (typeof workers !== 'number' || !Number.isSafeInteger(workers) || workers < 0 || workers > 64) {
      invalid('backupCompression.workers', workers, 'must be a whole number from 0 to 64', 'Use 0 for one thread, or the CPUs the backup container may use');
    }
    return new BackupCompression(BackupCompressionMethod.ZSTD, level, workers);
  }

  /**
   * gzip, as the reference design's `pg_basebackup -Ft -z` (`base.tar.gz`, `pg_wal.tar.gz`).
   * @param level 1 (fastest) to 9 (smallest); `-z` uses 6
   */
  public static gzip(level?: number): BackupCompression {
    return new BackupCompression(BackupCompressionMethod.GZIP, checkLevel('backupCompression.level', level ?? 6, 1, 9), 0);
  }

  /** lz4: fast, but larger than zstd; the image needs the `lz4` command. */
  public static lz4(): BackupCompression {
    return new BackupCompression(BackupCompressionMethod.LZ4, undefined, 0);
  }

  /** No compression (plain tar files). */
  public static none(): BackupCompression {
    return new BackupCompression(BackupCompressionMethod.NONE, undefined, 0);
  }

  /**
   * The method.
   */
  public readonly method: BackupCompressionMethod;

  /**
   * The level; undefined for lz4 and none (their defaults).
   */
  public readonly level?: number;

  /**
   * zstd worker threads (0 for one thread and for the other methods).
   */
  public readonly workers: number;

  private constructor(method: BackupCompressionMethod, level: number | undefined, workers: number) {
    this.method = method;
    this.level = level;
    this.workers = workers;
  }

  /** The suffix of the backup's tar files: `.zst`, `.gz`, `.lz4`, or empty for none. */
  public get fileSuffix(): string {
    return { zstd: '.zst', gzip: '.gz', lz4: '.lz4', none: '' }[this.method];
  }

  /** The CPUs the compression keeps busy: the workers, at least one. */
  public get cpus(): number {
    return Math.max(1, this.workers);
  }

  /** The settings of `base-backup.sh`: BACKUP_COMPRESSION, and BACKUP_COMPRESSION_LEVEL / _WORKERS when they apply. */
  public environment(): { [name: string]: string } {
    return {
      BACKUP_COMPRESSION: this.method,
      ...(this.level !== undefined ? { BACKUP_COMPRESSION_LEVEL: String(this.level) } : {}),
      ...(this.workers > 0 ? { BACKUP_COMPRESSION_WORKERS: String(this.workers) } : {}),
    };
  }
}

function checkLevel(prop: string, level: number, min: number, max: number): number {
  if (typeof level !== 'number' || !Number.isSafeInteger(level) || level < min || level > max) {
    invalid(prop, level, `must be a whole number from ${min} to ${max}`, `Use ${min} for the fastest, ${max} for the smallest`);
  }
  return level;
}
