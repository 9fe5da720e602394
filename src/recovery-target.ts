import { invalid, show } from './private/validate';

/**
 * The kinds of recovery target.
 */
export enum RecoveryTargetType {
  /** Replay every archived WAL segment (no `recovery_target*` setting). */
  LATEST = 'latest',
  /** `recovery_target_time`. */
  TIME = 'time',
  /** `recovery_target_xid`. */
  XID = 'xid',
  /** `recovery_target_lsn`. */
  LSN = 'lsn',
  /** `recovery_target_name`: a restore point made with `pg_create_restore_point`. */
  NAME = 'name',
  /** `recovery_target = 'immediate'`: stop as soon as the base backup is consistent. */
  IMMEDIATE = 'immediate',
  /**
   * Given at restore time, not at synth time: the restore helper reads it from the ConfigMap
   * `{name}-postgres-restore-target`, made with plain `kubectl create configmap`, and checks it with the same rules.
   */
  RUNTIME = 'runtime',
}

/**
 * Where recovery stops. Exactly one target (PostgreSQL refuses several); build it with one of the static factories.
 *
 * @see https://www.postgresql.org/docs/15/runtime-config-wal.html#RUNTIME-CONFIG-WAL-RECOVERY-TARGET
 */
export class RecoveryTarget {
  /** Recover to the end of the archived WAL (the default). */
  public static latest(): RecoveryTarget {
    return new RecoveryTarget(RecoveryTargetType.LATEST);
  }

  /**
   * Recover to a point in time. The time must carry its zone: `Z`, `UTC`, `+hh`, `+hh:mm` or `+hhmm`
   * (for example `2024-12-04T14:35:00Z` or `2024-12-04 14:35:00+02:00`). It is normalised to UTC in the form
   * PostgreSQL accepts (`2024-12-04 14:35:00+00`): PostgreSQL rejects `Z` at startup and reads a time without a zone
   * in the server's own `timezone`.
   */
  public static time(time: string): RecoveryTarget {
    if (time as unknown instanceof Date) {
      invalid('recoveryTarget.time', time, 'must be a string, not a Date', 'Pass date.toISOString(), or write the time like \'2024-12-04T14:35:00Z\'');
    }
    mustBeString('recoveryTarget.time', time, '\'2024-12-04T14:35:00Z\'');
    const parsed = parseTime('recoveryTarget.time', time);
    return new RecoveryTarget(RecoveryTargetType.TIME, parsed.normalised, parsed.epochSeconds);
  }

  /** Recover up to a transaction id (an unsigned integer, as `txid_current()` prints it). */
  public static xid(xid: string): RecoveryTarget {
    mustBeString('recoveryTarget.xid', xid, '\'12345\' (quoted: xids exceed the safe integers of JavaScript)');
    if (typeof xid !== 'string' || !/^\d{1,20}$/.test(xid) || BigInt(xid) > BigInt('18446744073709551615') || BigInt(xid) < BigInt(3)) {
      invalid('recoveryTarget.xid', xid, 'must be an unsigned decimal transaction id of at least 3 (the first normal xid)',
        'Use the number SELECT txid_current() printed, such as \'12345\'');
    }
    // PostgreSQL parses the value with base 0: a leading zero would make it octal. Write it in canonical decimal.
    return new RecoveryTarget(RecoveryTargetType.XID, BigInt(xid).toString());
  }

  /** Recover up to a write-ahead log location, `X/X` in hex (as `pg_current_wal_lsn()` prints it). */
  public static lsn(lsn: string): RecoveryTarget {
    mustBeString('recoveryTarget.lsn', lsn, '\'0/3000060\'');
    if (typeof lsn !== 'string' || !/^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/.test(lsn)) {
      invalid('recoveryTarget.lsn', lsn, 'must be a WAL location of two hex numbers separated by \'/\'', 'Use the value of SELECT pg_current_wal_lsn(), such as \'0/3000060\'');
    }
    const [hi, lo] = lsn.split('/').map(p => parseInt(p, 16).toString(16).toUpperCase());
    return new RecoveryTarget(RecoveryTargetType.LSN, `${hi}/${lo}`);
  }

  /** Recover to a named restore point created with `pg_create_restore_point(name)` (at most 63 bytes). */
  public static restorePoint(restorePoint: string): RecoveryTarget {
    mustBeString('recoveryTarget.restorePoint', restorePoint, '\'before_critical_operation\'');
    // PostgreSQL keeps restore point names to 63 bytes (MAXFNAMELEN - 1) and compares them byte for byte, so a longer
    // name could never be found. Control characters (line breaks, NUL, escapes) cannot be written into postgresql.conf.
    if (typeof restorePoint !== 'string' || restorePoint.length === 0 || Buffer.byteLength(restorePoint, 'utf8') > 63
      || /[\u0000-\u001f\u007f]/.test(restorePoint) || LONE_SURROGATE.test(restorePoint)) {
      invalid('recoveryTarget.restorePoint', restorePoint, 'must be a restore point name of 1 to 63 bytes (UTF-8) without control characters',
        'Use the name given to pg_create_restore_point(), such as \'before_critical_operation\'');
    }
    return new RecoveryTarget(RecoveryTargetType.NAME, restorePoint);
  }

  /**
   * The target is given at restore time, with `kubectl` only: the restore helper reads it from the ConfigMap
   * `{name}-postgres-restore-target` and checks it with the same rules as the synth-time targets, and against the
   * recoverable window, before it changes anything. For example:
   * `kubectl create configmap tsb-postgres-restore-target --from-literal=time='2024-12-04 14:35:00+00'`; the keys are
   * `time`, `xid`, `lsn`, `name`, `immediate` or `latest` (one of them), and optionally `inclusive`, `timeline`,
   * `action`, `backup`, `old-data` and `allow-truncated-history`.
   */
  public static runtime(): RecoveryTarget {
    return new RecoveryTarget(RecoveryTargetType.RUNTIME);
  }

  /** Stop as soon as the base backup is consistent (`recovery_target = 'immediate'`). */
  public static immediate(): RecoveryTarget {
    return new RecoveryTarget(RecoveryTargetType.IMMEDIATE, 'immediate');
  }

  /** The kind of target. */
  public readonly type: RecoveryTargetType;
  /** The normalised value written to the setting; undefined for `LATEST`. */
  public readonly value?: string;
  /** For time targets, the target as Unix seconds (fractions dropped), used to pick a base backup. */
  public readonly epochSeconds?: number;

  private constructor(type: RecoveryTargetType, value?: string, epochSeconds?: number) {
    this.type = type;
    this.value = value;
    this.epochSeconds = epochSeconds;
  }

  /** The PostgreSQL setting this target writes, or undefined for `LATEST`. */
  public get setting(): string | undefined {
    switch (this.type) {
      case RecoveryTargetType.LATEST: return undefined;
      case RecoveryTargetType.RUNTIME: return undefined;
      case RecoveryTargetType.IMMEDIATE: return 'recovery_target';
      default: return `recovery_target_${this.type}`;
    }
  }

  /** Whether `recovery_target_inclusive` applies (time, xid and LSN targets). */
  public get acceptsInclusive(): boolean {
    return [RecoveryTargetType.TIME, RecoveryTargetType.XID, RecoveryTargetType.LSN].includes(this.type);
  }

  /** A short description, such as `time 2024-12-04 14:35:00+00`. */
  public toString(): string {
    return this.value === undefined || this.type === RecoveryTargetType.IMMEDIATE ? this.type : `${this.type} ${this.value}`;
  }
}

/**
 * Which timeline recovery follows.
 * @see https://www.postgresql.org/docs/15/runtime-config-wal.html#GUC-RECOVERY-TARGET-TIMELINE
 */
export class RecoveryTimeline {
  /** The newest timeline found in the archive (PostgreSQL's default). */
  public static latest(): RecoveryTimeline {
    return new RecoveryTimeline('latest');
  }

  /** The timeline the base backup was taken on. */
  public static current(): RecoveryTimeline {
    return new RecoveryTimeline('current');
  }

  /** A given timeline id (a positive integer). */
  public static id(timeline: number): RecoveryTimeline {
    if (typeof timeline !== 'number') {
      invalid('timeline', timeline, 'must be a number', 'Write the timeline id without quotes, such as RecoveryTimeline.id(2)');
    }
    if (!Number.isInteger(timeline) || timeline < 1 || timeline > 0xFFFFFFFF) {
      invalid('timeline', timeline, 'must be \'latest\', \'current\' or a positive integer timeline id',
        'Use RecoveryTimeline.latest(), RecoveryTimeline.current() or the id SELECT timeline_id FROM pg_control_checkpoint() printed');
    }
    return new RecoveryTimeline(String(timeline));
  }

  /** The value written to `recovery_target_timeline`. */
  public readonly value: string;

  private constructor(value: string) {
    this.value = value;
  }
}

/**
 * What the server does when it reaches the target.
 * @see https://www.postgresql.org/docs/15/runtime-config-wal.html#GUC-RECOVERY-TARGET-ACTION
 */
export enum RecoveryTargetAction {
  /** End recovery and accept writes on a new timeline (the library's default). */
  PROMOTE = 'promote',
  /** Pause replay so the state can be inspected; `pg_wal_replay_resume()` continues (PostgreSQL's own default). */
  PAUSE = 'pause',
  /** Stop the server; `recovery.signal` stays, so every later start replays and stops again until it is removed. */
  SHUTDOWN = 'shutdown',
}

/** The type check a compiler would make, for JavaScript callers. */
function mustBeString(prop: string, value: unknown, example: string): void {
  if (typeof value !== 'string') {
    throw new Error(`'${prop}' must be a string, got ${show(value)}. Write it like ${example}`);
  }
}

interface ParsedTime {
  readonly normalised: string;
  readonly epochSeconds: number;
}

/** Half of a UTF-16 surrogate pair on its own: not a character, so it cannot be written as UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$/i;

/** Parses a time with an explicit zone and normalises it to UTC (`YYYY-MM-DD HH:MM:SS[.ffffff]+00`). */
function parseTime(prop: string, value: string): ParsedTime {
  const m = typeof value === 'string' ? TIME_RE.exec(value.trim()) : null;
  const fix = 'Write it with its zone, like \'2024-12-04T14:35:00Z\' or \'2024-12-04 14:35:00+00\'';
  if (!m) {
    invalid(prop, value, 'must be a date and time with an explicit zone (Z, UTC, +hh, +hh:mm or +hhmm); '
      + 'zone abbreviations such as PDT are rejected by PostgreSQL and a time without a zone is read in the server\'s zone', fix);
  }
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map(i => Number(m[i]));
  const second = Number(m[6] ?? '0');
  const fraction = m[7] ?? '';
  const zone = m[8].toUpperCase();
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'UTC' && zone !== 'GMT') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2) || '0');
    if (oh > 15 || om > 59) {
      invalid(prop, value, 'has a zone offset out of range (at most ±15:59)', fix);
    }
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(local);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59 || year < 1970
    || check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    invalid(prop, value, 'is not a valid calendar date and time (from 1970 on)', fix);
  }
  const utc = new Date(local - offsetMinutes * 60_000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const normalised = `${pad(utc.getUTCFullYear(), 4)}-${pad(utc.getUTCMonth() + 1)}-${pad(utc.getUTCDate())} `
    + `${pad(utc.getUTCHours())}:${pad(utc.getUTCMinutes())}:${pad(utc.getUTCSeconds())}${fraction}+00`;
  return { normalised, epochSeconds: Math.floor(utc.getTime() / 1000) };
}
