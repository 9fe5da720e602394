import * as kplus from 'cdk8s-plus-28';
import { API, checkKind, checkShape, required, STRING } from './private/api';
import { checkImage, checkPositiveInteger, invalid } from './private/validate';

/**
 * How an official-style PostgreSQL image is laid out. It decides the `postgres` user's uid and where the server's
 * programs live, which Kubegres' promotion script depends on.
 */
export enum ImageLayout {
  /**
   * The Debian images (`postgres:15`, `postgres:15-bookworm`): PostgreSQL under `/usr/lib/postgresql/$PG_MAJOR`,
   * `postgres` is uid/gid 999, the entrypoint starts as root and steps down with gosu. Kubegres' failover needs it.
   */
  DEBIAN = 'debian',
  /**
   * The Alpine images (`postgres:15-alpine`): PostgreSQL under `/usr/local`, `postgres` is uid/gid 70. Kubegres cannot
   * promote a replica in them (its promotion script runs `/usr/lib/postgresql/$PG_MAJOR/bin/pg_ctl`).
   */
  ALPINE = 'alpine',
}

/**
 * Options of `PostgresImage.of`.
 */
export interface PostgresImageOptions {
  /**
   * The image's layout.
   * @default - `ImageLayout.ALPINE` when the tag contains `alpine`, `ImageLayout.DEBIAN` otherwise
   */
  readonly layout?: ImageLayout;

  /**
   * uid and gid of the image's `postgres` user; the library's pods (backup, restore, jobs) run as it.
   * @default - 999 for `ImageLayout.DEBIAN`, 70 for `ImageLayout.ALPINE`
   */
  readonly uid?: number;

  /**
   * When the kubelet pulls the image. Pin the tag (such as `postgres:15.10-bookworm`) or a digest so that every pod
   * runs the same build.
   * @default kplus.ImagePullPolicy.IF_NOT_PRESENT
   */
  readonly pullPolicy?: kplus.ImagePullPolicy;
}

/**
 * The PostgreSQL image of the database and of the library's pods, with the user it runs as. Use the database's own
 * image everywhere, so `pg_basebackup` and the restore tools match the server's major version.
 */
export class PostgresImage {
  /** The default image: the official Debian image of PostgreSQL 15. */
  public static readonly DEFAULT_REFERENCE = 'postgres:15-bookworm';

  /** The official Debian image of PostgreSQL 15 (`postgres:15-bookworm`, uid 999). */
  public static debian15(): PostgresImage {
    return PostgresImage.of(PostgresImage.DEFAULT_REFERENCE);
  }

  /**
   * An image by reference, such as `postgres:15.10-bookworm` or `registry.example.com/postgres@sha256:<digest>`.
   *
   * @param reference the image reference
   * @param options layout, uid and pull policy (inferred from the reference by default)
   */
  public static of(reference: string, options: PostgresImageOptions = {}): PostgresImage {
    checkKind('reference', reference, required(STRING));
    checkShape('options', options, API.PostgresImageOptions, 'PostgresImageOptions');
    return new PostgresImage(reference, options);
  }

  /** The image reference. */
  public readonly reference: string;
  /** The image's layout. */
  public readonly layout: ImageLayout;
  /** uid and gid of the image's `postgres` user. */
  public readonly uid: number;
  /** When the kubelet pulls the image. */
  public readonly pullPolicy: kplus.ImagePullPolicy;

  private constructor(reference: string, options: PostgresImageOptions) {
    this.reference = checkImage('postgresImage', reference);
    const tag = reference.replace(/@.*$/, '').split('/').pop()!.split(':')[1] ?? '';
    this.layout = options.layout ?? (/alpine/.test(tag) ? ImageLayout.ALPINE : ImageLayout.DEBIAN);
    if (!Object.values(ImageLayout).includes(this.layout)) {
      invalid('layout', this.layout, 'must be debian or alpine', 'Use ImageLayout.DEBIAN or ImageLayout.ALPINE');
    }
    this.uid = checkPositiveInteger('postgresUid', options.uid ?? (this.layout === ImageLayout.ALPINE ? 70 : 999));
    this.pullPolicy = options.pullPolicy ?? kplus.ImagePullPolicy.IF_NOT_PRESENT;
  }
}
