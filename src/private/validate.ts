/**
 * Internal validation and quoting helpers. Not exported from the package: every public construct
 * calls these at the top of its constructor so that a bad input fails `cdk8s synth` with a message
 * that names the prop, shows the value, states the rule and the fix.
 */
import { Cron, Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';

/**
 * Shows a value in an error message without letting control characters garble the message. A value that is not plain
 * data says what it is (`a Date (2024-12-04T14:35:00.000Z)`, `a Size`), so a JavaScript caller sees the wrong type
 * rather than a JSON form that looks like the right one.
 */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return String(value); // JSON.stringify would print NaN and Infinity as null
  }
  if (typeof value === 'bigint') {
    return `the bigint ${value}n`;
  }
  if (typeof value === 'symbol' || typeof value === 'function') {
    return `a ${typeof value}${typeof value === 'function' && value.name ? ` (${value.name})` : ''}`;
  }
  if (value instanceof Date) {
    return `a Date (${Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()})`;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const proto = Object.getPrototypeOf(value);
    if (proto !== null && proto !== Object.prototype) {
      return `a ${proto.constructor?.name || 'class instance'}`;
    }
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The message for an unknown key: its name, the closest known one, and the known keys. */
export function unknownKey(shown: string, key: string, known: readonly string[], of?: string): string {
  const closest = [...known].sort((a, b) => distance(key, a) - distance(key, b))[0];
  const hint = closest !== undefined && distance(key, closest) <= Math.max(2, Math.floor(key.length / 3)) ? ` Did you mean '${closest}'?` : '';
  return `'${shown}' is not a known parameter${of ? ` of ${of}` : ''}.${hint} Known: ${known.join(', ')}`;
}

/** Levenshtein distance, case-insensitive. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length];
}

/** Fails with the library's error shape: which prop, which value, the rule, the fix. */
export function invalid(prop: string, value: unknown, rule: string, fix?: string): never {
  throw new Error(`'${prop}' ${rule}, got ${show(value)}${fix ? `. ${fix}` : ''}`);
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** An object name: a DNS-1123 subdomain (at most 253 characters). */
export function checkObjectName(prop: string, value: string, maxLength = 253): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength || !DNS1123_SUBDOMAIN.test(value)) {
    invalid(prop, value, `must be a DNS-1123 name of at most ${maxLength} characters (lower-case letters, digits, '-' and '.', `
      + 'starting and ending with a letter or digit)', 'Use a name such as \'tsb\' or \'my-db\'');
  }
  return value;
}

/** A DNS-1123 label (at most 63 characters): names that end up in labels, hostnames or container names. */
export function checkLabel(prop: string, value: string, maxLength = 63): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength || !DNS1123_LABEL.test(value)) {
    invalid(prop, value, `must be a DNS-1123 label of at most ${maxLength} characters (lower-case letters, digits and '-', `
      + 'starting and ending with a letter or digit)', 'Use a name such as \'tsb\'');
  }
  return value;
}

/** A Secret key or ConfigMap key. */
export function checkSecretKey(prop: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 253 || !/^[-._a-zA-Z0-9]+$/.test(value)) {
    invalid(prop, value, 'must be a Secret key of letters, digits, \'-\', \'_\' and \'.\'', 'Use the key as it appears in the Secret\'s data');
  }
  return value;
}

/** An absolute path inside a container, restricted to characters that are inert in a shell and in postgresql.conf. */
export function checkPath(prop: string, value: string): string {
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9._\/-]*$/.test(value) || value.split('/').includes('..') || value.length > 1024) {
    invalid(prop, value, 'must be an absolute path of letters, digits, \'.\', \'_\', \'-\' and \'/\' without \'..\'',
      'Use a plain path such as \'/var/lib/postgresql/wal-archive\'');
  }
  return value.length > 1 ? value.replace(/\/+$/, '') : value;
}

/** A PostgreSQL role or database name that we pass through environment variables. */
export function checkRoleName(prop: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0 || Buffer.byteLength(value, 'utf8') > 63 || !/^[A-Za-z_][A-Za-z0-9_$-]*$/.test(value)) {
    invalid(prop, value, 'must be a PostgreSQL name of at most 63 bytes (letters, digits, \'_\', \'$\', \'-\', not starting with a digit)',
      'Use a plain role name such as \'tsb\'');
  }
  return value;
}

/** A host name (DNS-1123 subdomain, or an IPv4 address). */
export function checkHost(prop: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 253
    || !(DNS1123_SUBDOMAIN.test(value) || /^\d{1,3}(\.\d{1,3}){3}$/.test(value))) {
    invalid(prop, value, 'must be a DNS name or an IPv4 address', 'Use the Service name of the primary, such as \'tsb-postgres\'');
  }
  return value;
}

/** A TCP port. */
export function checkPort(prop: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    invalid(prop, value, 'must be an integer port between 1 and 65535', 'PostgreSQL listens on 5432 by default');
  }
  return value;
}

/**
 * A container image reference: `[registry[:port]/]path[:tag][@digest]`, as the distribution reference grammar allows.
 */
export function checkImage(prop: string, value: string): string {
  const component = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
  const domain = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?';
  const re = new RegExp(`^${domain}${component}(?:/${component})*(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`);
  if (typeof value !== 'string' || value.length === 0 || value.length > 512 || !re.test(value)) {
    invalid(prop, value, 'must be a container image reference such as \'postgres:15-alpine\' or \'registry.example.com/postgres@sha256:<digest>\'',
      'Use the same image as the database pods');
  }
  return value;
}

/** A positive integer (a number, not a numeric string). */
export function checkPositiveInteger(prop: string, value: number, min = 1): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    invalid(prop, value, `must be an integer of at least ${min}`, `Write it as a whole number without quotes, such as ${Math.max(min, 1)}`);
  }
  return value;
}

const SIZE_UNITS: Record<string, (n: number) => Size> = {
  Ki: Size.kibibytes,
  Mi: Size.mebibytes,
  Gi: Size.gibibytes,
  Ti: Size.tebibytes,
  Pi: Size.pebibyte,
};

/** A storage size given as a ManagementPlane string such as `10Gi`. */
export function parseSize(prop: string, value: string): Size {
  const m = typeof value === 'string' ? /^(\d{1,15}(?:\.\d{1,15})?)(Ki|Mi|Gi|Ti|Pi)$/.exec(value) : null;
  if (!m || !(Number(m[1]) > 0)) {
    invalid(prop, value, 'must be a Kubernetes quantity above zero with a binary suffix (Ki, Mi, Gi, Ti, Pi)',
      'Write it like \'10Gi\' or \'500Mi\'');
  }
  const size = SIZE_UNITS[m[2]](Number(m[1]));
  const kib = size.toKibibytes({ rounding: SizeRoundingBehavior.NONE });
  if (!(kib >= KIB_PER_MIB) || !(kib <= Number.MAX_SAFE_INTEGER)) {
    // The string form's own message: the value came from YAML or a string prop, not from cdk8s' Size.
    invalid(prop, value, 'must be a size of at least 1Mi and at most 8Ei', 'Write it like \'10Gi\' or \'500Mi\'');
  }
  return checkSize(prop, size);
}

const KIB_PER_MIB = 1024;
const KIB_PER_GIB = 1024 * 1024;

/**
 * Checks a Size from the construct layer: at least 1Mi and at most 8Ei. cdk8s-plus writes a claim's size in gibibytes
 * and fails on a size that is not a whole number of them, so such a size is returned as the equal fraction of a
 * gibibyte (`500Mi` becomes `0.48828125Gi`, the same quantity to Kubernetes).
 */
export function checkSize(prop: string, value: Size): Size {
  const kib = value.toKibibytes({ rounding: SizeRoundingBehavior.NONE });
  if (!(kib >= KIB_PER_MIB) || !(kib <= Number.MAX_SAFE_INTEGER)) {
    invalid(prop, value.asString(), 'must be a size of at least 1Mi and at most 8Ei', 'Use a size such as Size.gibibytes(10)');
  }
  if (Number.isInteger(kib / KIB_PER_GIB)) {
    return value;
  }
  return Size.gibibytes(kib / KIB_PER_GIB);
}

/** Retention given as the ManagementPlane's `<n>s` string, for example `432000s`. */
export function parseSeconds(prop: string, value: string): Duration {
  const m = typeof value === 'string' ? /^(\d+)s$/.exec(value.trim()) : null;
  if (!m || Number(m[1]) <= 0 || !Number.isSafeInteger(Number(m[1]))) {
    invalid(prop, value, 'must be a number of seconds above zero with an \'s\' suffix', 'Write it like \'432000s\' (5 days)');
  }
  return Duration.seconds(Number(m[1]));
}

/** Checks a Duration from the construct layer: whole seconds above zero. */
export function checkDuration(prop: string, value: Duration, minSeconds = 1): Duration {
  // integral: false, so a fraction of a second is reported with the prop's name rather than by cdk8s' own conversion error.
  const seconds = value.toSeconds({ integral: false });
  if (!Number.isSafeInteger(seconds) || seconds < minSeconds) {
    invalid(prop, `${seconds}s`, `must be a whole number of seconds, at least ${minSeconds}`,
      `Use a Duration such as Duration.seconds(${Math.max(minSeconds, 60)})`);
  }
  return value;
}

const CRON_FIELDS: Array<[string, number, number]> = [
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day of month', 1, 31],
  ['month', 1, 12],
  ['day of week', 0, 6],
];

const CRON_NAMES: Record<number, string[]> = {
  3: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  4: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
};

/**
 * The macros a Kubernetes CronJob accepts in `schedule` (robfig/cron's descriptors, which the API server parses with
 * `cron.ParseStandard`), each with its five-field equivalent. They are case-sensitive and stand alone.
 */
export const CRON_MACROS: { readonly [macro: string]: string } = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** Go's duration units (`time.ParseDuration`), in seconds. */
const GO_DURATION_UNITS: { [unit: string]: number } = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6, ns: 1e-9 };

/**
 * The seconds of `@every <duration>` (robfig/cron's fixed-interval descriptor, which the API server accepts too; the
 * CronJob controller schedules it relative to the last run since Kubernetes 1.24), or undefined for another form.
 * Go's duration syntax: `6h`, `90m`, `1h30m`. Kubernetes rounds a sub-second interval up to a second; it is refused here.
 */
export function everySeconds(expression: string): number | undefined {
  const m = /^@every (.+)$/.exec(expression);
  if (!m || !/^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/.test(m[1])) {
    return undefined;
  }
  let seconds = 0;
  for (const [, n, , unit] of m[1].matchAll(/(\d+(\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) {
    seconds += Number(n) * GO_DURATION_UNITS[unit];
  }
  return Math.floor(seconds);
}

/**
 * Parses and validates a cron schedule as Kubernetes accepts it: five fields, one of the macros (`@daily`, ...), or
 * `@every <duration>`. A macro is kept as written.
 */
export function parseCron(prop: string, value: string): Cron {
  const trimmed = typeof value === 'string' ? value.trim() : '';
  if (trimmed.startsWith('@')) {
    const every = everySeconds(trimmed);
    if (!(trimmed in CRON_MACROS) && every === undefined) {
      invalid(prop, value, `is not a schedule macro Kubernetes accepts (${Object.keys(CRON_MACROS).join(', ')}, or @every with a duration such as '@every 6h')`,
        'Macros are lower-case; or write five fields like \'0 2 * * *\' (daily at 02:00)');
    }
    if (every !== undefined && every < 1) {
      invalid(prop, value, 'must repeat at most once a second', 'Write a longer interval, such as \'@every 6h\'');
    }
    // cdk8s' Cron builds five fields; the macro is kept as the expression the CronJob gets.
    const cron = Cron.schedule({});
    Object.defineProperty(cron, 'expressionString', { value: trimmed, enumerable: true });
    return cron;
  }
  const fields = typeof value === 'string' ? trimmed.split(/\s+/) : [];
  if (fields.length !== 5) {
    invalid(prop, value, 'must have five fields (minute hour day month weekday) or be a macro such as @daily', 'Write it like \'0 2 * * *\' (daily at 02:00)');
  }
  fields.forEach((field, i) => checkCronField(prop, value, field, i));
  return Cron.schedule({ minute: fields[0], hour: fields[1], day: fields[2], month: fields[3], weekDay: fields[4] });
}

/** Validates a Cron from the construct layer. */
export function checkCron(prop: string, value: Cron): Cron {
  parseCron(prop, value.expressionString);
  return value;
}

function checkCronField(prop: string, whole: string, field: string, index: number): void {
  const [name, min, max] = CRON_FIELDS[index];
  const names = CRON_NAMES[index] ?? [];
  const num = (s: string): number => {
    const upper = s.toUpperCase();
    if (names.includes(upper)) {
      return names.indexOf(upper) + (index === 3 ? 1 : 0);
    }
    if (!/^\d+$/.test(s)) {
      return NaN;
    }
    return Number(s);
  };
  const bad = (why: string): never => invalid(prop, whole, `has an invalid ${name} field '${field}' (${why})`,
    `Each field is '*', a value, a range 'a-b', a list 'a,b' or a step '*/n'; ${name} runs from ${min} to ${max}`);
  if (field === '?' && (index === 2 || index === 4)) {
    return;
  }
  for (const part of field.split(',')) {
    const [range, step, ...rest] = part.split('/');
    if (rest.length > 0 || range === '') {
      bad('malformed');
    }
    if (step !== undefined && (!/^\d+$/.test(step) || Number(step) < 1)) {
      bad('the step must be a positive integer');
    }
    if (range === '*') {
      continue;
    }
    const bounds = range.split('-');
    if (bounds.length > 2) {
      bad('malformed range');
    }
    const values = bounds.map(num);
    for (const v of values) {
      if (Number.isNaN(v) || v < min || v > max) {
        bad(`values must lie between ${min} and ${max}`);
      }
    }
    if (values.length === 2 && values[0] > values[1]) {
      bad('a range must go from low to high');
    }
  }
}

const ACCESS_MODES: Record<string, kplus.PersistentVolumeAccessMode> = {
  ReadWriteOnce: kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE,
  ReadOnlyMany: kplus.PersistentVolumeAccessMode.READ_ONLY_MANY,
  ReadWriteMany: kplus.PersistentVolumeAccessMode.READ_WRITE_MANY,
  ReadWriteOncePod: kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE_POD,
};

/**
 * An access mode given as the ManagementPlane's string: one of the four Kubernetes access modes, and writable, since
 * the library writes to every volume it creates.
 */
export function parseAccessMode(prop: string, value: string): kplus.PersistentVolumeAccessMode {
  const mode = typeof value === 'string' && Object.prototype.hasOwnProperty.call(ACCESS_MODES, value) ? ACCESS_MODES[value] : undefined;
  if (!mode) {
    invalid(prop, value, `must be one of the Kubernetes access modes ${Object.keys(ACCESS_MODES).join(', ')}`,
      'Access modes are case-sensitive; use ReadWriteOnce, or ReadWriteMany for a volume that pods on several nodes mount');
  }
  if (mode === kplus.PersistentVolumeAccessMode.READ_ONLY_MANY) {
    invalid(prop, value, 'must allow writes (the volume is written to)', 'Use ReadWriteOnce or ReadWriteMany');
  }
  return mode;
}

/** Checks a kplus access mode (the construct layer); a volume that backups or WAL are written to cannot be read-only. */
export function checkWritableAccessMode(prop: string, value: kplus.PersistentVolumeAccessMode): kplus.PersistentVolumeAccessMode {
  if (!Object.values(ACCESS_MODES).includes(value)) {
    invalid(prop, value, `must be one of ${Object.keys(ACCESS_MODES).join(', ')}`);
  }
  if (value === kplus.PersistentVolumeAccessMode.READ_ONLY_MANY) {
    invalid(prop, value, 'must allow writes (the volume is written to)', 'Use ReadWriteOnce or ReadWriteMany');
  }
  return value;
}

/**
 * Quotes a value for postgresql.conf: single quotes, with embedded quotes doubled and backslashes escaped.
 * Values that contain a line break or NUL are refused, since they cannot be represented on one line.
 */
export function confQuote(prop: string, value: string): string {
  if (/[\n\r\0]/.test(value)) {
    invalid(prop, value, 'must not contain line breaks or NUL characters', 'Pass a single-line value');
  }
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, '\'\'')}'`;
}
