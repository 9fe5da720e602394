/**
 * pitr-lib.sh, the shell library every script sources: its functions run under dash (the Debian images' /bin/sh) and
 * under busybox sh with busybox's own awk, sed and date (the Alpine image), and give exactly the same answers.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const LIB = path.join(__dirname, '..', 'src', 'scripts', 'pitr-lib.sh');

interface Shell {
  readonly name: string;
  readonly argv: string[];
  readonly path: string;
}

/** Whether a command runs. */
function runs(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

/** A folder of busybox applet links (awk, sed, date, ...) to put first on PATH, as on Alpine. */
function busyboxBin(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitr-busybox-'));
  const busybox = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();
  const applets = spawnSync(busybox, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(a => /^[a-z0-9_.-]+$/.test(a));
  for (const applet of applets) {
    fs.symlinkSync(busybox, path.join(dir, applet));
  }
  return dir;
}

function shells(): Shell[] {
  if (!runs('busybox', ['true'])) {
    throw new Error('busybox is not installed: apt-get install -y busybox (the Alpine check is never skipped)');
  }
  const sysPath = '/usr/local/bin:/usr/bin:/bin';
  const posix = runs('dash', ['-c', 'true']) ? 'dash' : 'sh';
  return [
    { name: posix, argv: [posix], path: sysPath },
    { name: 'busybox sh', argv: ['busybox', 'sh'], path: `${busyboxBin()}:${sysPath}` },
  ];
}

const SHELLS = shells();

afterAll(() => {
  for (const s of SHELLS) {
    const dir = s.path.split(':')[0];
    if (dir.includes('pitr-busybox-')) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});

interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly raw: Buffer;
}

/**
 * Runs `code` after sourcing the library, under `set -eu` as the scripts do. The values under test are passed as
 * positional parameters ($1, $2, ...), never pasted into the code.
 */
function lib(shell: Shell, code: string, ...args: string[]): Result {
  return run(shell, `. "$PITR_LIB"\n${code}`, ...args);
}

/** Runs `code` under `set -eu`, with the library's path in $PITR_LIB. */
function run(shell: Shell, code: string, ...args: string[]): Result {
  const [cmd, ...pre] = shell.argv;
  const r = spawnSync(cmd, [...pre, '-c', `set -eu\n${code}`, 'pitr-lib-test', ...args], {
    env: { PATH: shell.path, PITR_LIB: LIB, LANG: 'C.UTF-8', TZ: 'UTC' },
  });
  if (r.error) {
    throw r.error;
  }
  return { status: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), raw: r.stdout };
}

/** Whether a function of the library succeeds with the given arguments. */
function ok(shell: Shell, fn: string, ...args: string[]): boolean {
  return lib(shell, `if ${fn} "$@"; then echo yes; else echo no; fi`, ...args).stdout === 'yes\n';
}

describe.each(SHELLS)('pitr-lib.sh under $name', (shell) => {
  test('sourcing it defines functions and pitr_awk_lsn only: no output, no trap, same shell options', () => {
    const r = run(shell, [
      'o=$-',
      'before=$(set | sed -n "s/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p" | sort)',
      '. "$PITR_LIB"',
      'n=$-',
      'after=$(set | sed -n "s/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p" | sort)',
      'printf "new:%s\\n" $(printf "%s\\n" "$after" | grep -vxF -e "$before" -e before -e n || true)',
      'if [ "$o" = "$n" ]; then echo options:same; else echo "options:$o/$n"; fi',
      'echo traps:',
      'trap', // in this shell, not in a $(...) subshell: dash prints nothing there
      'for f in log warn fail is_uint is_wal_name flush json_string lsn_le; do command -v "$f" >/dev/null || echo "missing $f"; done',
    ].join('\n'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('new:pitr_awk_lsn\noptions:same\ntraps:\n');
    expect(r.status).toBe(0);
  });

  describe('json_string', () => {
    test.each([
      ['plain text', '"plain text"'],
      ['a "quoted" word', '"a \\"quoted\\" word"'],
      ['back\\slash', '"back\\\\slash"'],
      ['line\nbreak', '"line\\nbreak"'],
      ['tab\there', '"tab\\there"'],
      ['carriage\rreturn', '"carriage\\rreturn"'],
      ['bell\u0007 and unit separator\u001f', '"bell\\u0007 and unit separator\\u001f"'],
      ['\u0001', '"\\u0001"'],
      ['', '""'],
      ['ünïcødé 日本 🙂', '"ünïcødé 日本 🙂"'],
      ['ünïcødé "with" a quote\n', '"ünïcødé \\"with\\" a quote\\n"'],
      ['$(touch /tmp/pitr-pwned) `id` %s %d \\n', '"$(touch /tmp/pitr-pwned) `id` %s %d \\\\n"'],
    ])('%j', (input, expected) => {
      const r = lib(shell, 'json_string "$1"', input);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(expected);
      expect(JSON.parse(r.stdout)).toBe(input);
      // Non-ASCII passes through byte for byte.
      expect(r.raw.equals(Buffer.from(expected, 'utf8'))).toBe(true);
    });

    test('every control character round-trips through JSON.parse', () => {
      const all = Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('') + '\u007f"\\';
      const r = lib(shell, 'json_string "$1"', all);
      expect(r.status).toBe(0);
      expect(r.stdout).not.toMatch(/[\u0000-\u001f]/);
      expect(JSON.parse(r.stdout)).toBe(all);
    });
  });

  test('json_string_or_null, json_uint and json_bool', () => {
    expect(lib(shell, 'json_string_or_null ""; echo; json_string_or_null "x"').stdout).toBe('null\n"x"');
    const uints = ['0', '7', '42', '1733322900', '007', '', '-1', '1.5', '1e3', '12a', '1 2'];
    const r = lib(shell, 'for v in "$@"; do json_uint "$v"; echo; done', ...uints);
    expect(r.stdout.split('\n').slice(0, -1)).toEqual(['0', '7', '42', '1733322900', 'null', 'null', 'null', 'null', 'null', 'null', 'null']);
    expect(lib(shell, 'json_bool true; json_bool false; json_bool yes; json_bool ""').stdout).toBe('truefalsefalsefalse');
  });

  test('json_object, json_array and json_object_pretty write the report layout', () => {
    const r = lib(shell, [
      'items() { json_object name "$(json_string "$1")" n "$(json_uint 3)"; echo; json_object k "$(json_string "$2")"; echo; }',
      'json_object_pretty dir "$(json_string "$1")" items "$(items "$1" "$2" | json_array "  ")" none "$(printf "" | json_array "  ")" ok "$(json_bool true)"',
    ].join('\n'), 'a "dir"\n', 'tab\tvalue');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe([
      '{',
      '  "dir": "a \\"dir\\"\\n",',
      '  "items": [',
      '    {"name": "a \\"dir\\"\\n", "n": 3},',
      '    {"k": "tab\\tvalue"}',
      '  ],',
      '  "none": [],',
      '  "ok": true',
      '}',
    ].join('\n'));
    expect(JSON.parse(r.stdout)).toEqual({ dir: 'a "dir"\n', items: [{ name: 'a "dir"\n', n: 3 }, { k: 'tab\tvalue' }], none: [], ok: true });
  });

  test('is_uint', () => {
    for (const v of ['0', '7', '007', '432000', '18446744073709551616']) {
      expect([v, ok(shell, 'is_uint', v)]).toEqual([v, true]);
    }
    for (const v of ['', '-1', '+1', '1.0', '1a', ' 1', '1 ', '١', '0x10', '*']) {
      expect([v, ok(shell, 'is_uint', v)]).toEqual([v, false]);
    }
  });

  test('is_wal_name', () => {
    for (const v of ['000000010000000000000003', '0000000A00000001000000FF', 'FFFFFFFFFFFFFFFFFFFFFFFF']) {
      expect([v, ok(shell, 'is_wal_name', v)]).toEqual([v, true]);
    }
    for (const v of ['', '00000001000000000000000', '0000000100000000000000030', '0000000a0000000000000003',
      '00000002.history', '000000010000000000000003.partial', '00000001000000000000000G', '????????????????????????']) {
      expect([v, ok(shell, 'is_wal_name', v)]).toEqual([v, false]);
    }
  });

  test('is_lsn', () => {
    for (const v of ['0/3000060', '16/B374D848', 'ff/0', 'FFFFFFFF/FFFFFFFF']) {
      expect([v, ok(shell, 'is_lsn', v)]).toEqual([v, true]);
    }
    for (const v of ['', '0', '/1', '1/', '1/2/3', 'g/1', '0/30 0', '0x1/2', '*/*']) {
      expect([v, ok(shell, 'is_lsn', v)]).toEqual([v, false]);
    }
  });

  test('the awk LSN routine compares exactly above 2^32 and 2^53', () => {
    const pairs: [string, string, number][] = [
      ['1/0', '0/FFFFFFFF', 1],
      ['0/FFFFFFFF', '1/0', -1],
      ['10/0', 'F/FFFFFFFF', 1],
      ['F/FFFFFFFF', '10/0', -1],
      ['0/3000060', '0/3000060', 0],
      ['a/b', 'A/B', 0],
      ['0/10', '0/F', 1],
      ['FFFFFFFF/FFFFFFFF', 'FFFFFFFF/FFFFFFFE', 1],
      ['FFFFFFFE/FFFFFFFF', 'FFFFFFFF/0', -1],
    ];
    const r = lib(shell, 'while [ "$#" -ge 2 ]; do awk -v a="$1" -v b="$2" "$pitr_awk_lsn"\'BEGIN { print lsn_cmp(a, b) }\'; shift 2; done',
      ...pairs.flatMap(([a, b]) => [a, b]));
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').slice(0, -1).map(Number)).toEqual(pairs.map(p => p[2]));
    for (const [a, b, cmp] of pairs) {
      expect([a, b, ok(shell, 'lsn_le', a, b)]).toEqual([a, b, cmp <= 0]);
    }
    const hex = lib(shell, 'for h in "$@"; do awk -v h="$h" "$pitr_awk_lsn"\'BEGIN { printf "%.0f\\n", hex(h) }\'; done',
      'FFFFFFFF', '100000000', 'ff', '0');
    expect(hex.stdout).toBe('4294967295\n4294967296\n255\n0\n');
  });

  test('log, log_stderr, log_lines, warn and fail: the prefix, the stream, the exit code', () => {
    const out = lib(shell, 'me=x.sh; log_stream=stdout; log "hello" "world"; log_stderr "to err"; printf "a\\nb" | log_lines "p: "; warn "careful"');
    expect(out.stdout).toBe('x.sh: hello world\nx.sh: p: a\nx.sh: p: b\n');
    expect(out.stderr).toBe('x.sh: to err\nx.sh: WARNING: careful\n');
    const err = lib(shell, 'me=archive-wal.sh; log_stream=stderr; log "archived"');
    expect([err.stdout, err.stderr]).toEqual(['', 'archive-wal.sh: archived\n']);
    const failed = lib(shell, 'me=y.sh; fail "broken $1"; echo "not reached"', '$(id)');
    expect([failed.status, failed.stdout, failed.stderr]).toEqual([1, '', 'y.sh: ERROR: broken $(id)\n']);
    const bool = lib(shell, 'me=z.sh; check_bool SOME_FLAG true; check_bool SOME_FLAG yes; echo "not reached"');
    expect([bool.status, bool.stdout, bool.stderr]).toEqual([1, '', 'z.sh: ERROR: SOME_FLAG must be true or false, got \'yes\'\n']);
  });

  test('has_stamp takes the prefix literally', () => {
    expect(ok(shell, 'has_stamp', 'p-01_02_2024_03_04_05', 'p-')).toBe(true);
    expect(ok(shell, 'has_stamp', '.incomplete-p-01_02_2024_03_04_05', '.incomplete-p-')).toBe(true);
    expect(ok(shell, 'has_stamp', 'p-01_02_2024_03_04_5', 'p-')).toBe(false);
    expect(ok(shell, 'has_stamp', 'q-01_02_2024_03_04_05', '?-')).toBe(false);
    expect(ok(shell, 'has_stamp', 'q-01_02_2024_03_04_05', '*')).toBe(false);
  });

  test('flush and iso', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitr-lib-'));
    try {
      fs.writeFileSync(path.join(dir, 'f'), 'x');
      const r = lib(shell, 'flush "$1/f"; flush "$1"; iso 0; iso 1733322900', dir);
      expect([r.status, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toBe('1970-01-01T00:00:00Z\n2024-12-04T14:35:00Z\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(SHELLS)('pitr-identity.sh under $name', (shell) => {
  const IDENTITY = path.join(__dirname, '..', 'src', 'scripts', 'pitr-identity.sh');
  /** A WAL segment's first page header: magic 0xD110 (PostgreSQL 15), long header, then the system identifier at 24. */
  function segment(magic: number, sysid: bigint): string {
    const b = Buffer.alloc(8192);
    b.writeUInt16LE(magic, 0);
    b.writeUInt16LE(0x0006, 2);
    b.writeUInt32LE(1, 4);
    b.writeBigUInt64LE(sysid, 24);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pitr-identity-')), '000000010000000000000001');
    fs.writeFileSync(file, b);
    return file;
  }

  test.each([
    [0xD110, BigInt('7710816384619790642'), '7710816384619790642'],
    [0xD110, BigInt('18446744073709551615'), '18446744073709551615'],
    [0xD106, BigInt(1), '1'],
    [0x0707, BigInt(5), ''],
  ])('wal_system_identifier of a header with magic %s reads %s', (magic, sysid, expected) => {
    const file = segment(magic, sysid);
    const r = lib(shell, `. "${IDENTITY}"\nwal_system_identifier "$1"`, file);
    expect([r.status, r.stdout.trim()]).toEqual([0, expected]);
    fs.rmSync(path.dirname(file), { recursive: true });
  });

  test('identity_value reads one key of an identity file, and nothing for a missing key or file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitr-identity-'));
    fs.writeFileSync(path.join(dir, 'pitr_identity'), 'system_identifier=42\npg_major=15\n');
    const r = lib(shell, `. "${IDENTITY}"\nprintf '[%s][%s][%s]' "$(identity_value "$1/pitr_identity" pg_major)" `
      + '"$(identity_value "$1/pitr_identity" timeline)" "$(identity_value "$1/none" pg_major)"', dir);
    expect(r.stdout).toBe('[15][][]');
    fs.rmSync(dir, { recursive: true });
  });
});
