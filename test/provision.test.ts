/**
 * test/provision.sh, which the test task runs first, is checked here against stand-ins: PATH holds only stub programs
 * (`id`, `apt-get` that records its arguments and "installs" by creating stubs) and PG_BIN a folder of stubs, so every
 * branch runs without touching the machine's packages.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const SCRIPT = path.join(__dirname, 'provision.sh');
const PG_PROGRAMS = ['postgres', 'initdb', 'pg_ctl', 'pg_basebackup', 'pg_waldump', 'pg_archivecleanup', 'psql'];
const TOOLS: { [pkg: string]: string } = {
  'shellcheck': 'shellcheck',
  'busybox': 'busybox',
  'zstd': 'zstd',
  'lz4': 'lz4',
  'prometheus': 'promtool',
  'prometheus-postgres-exporter': 'prometheus-postgres-exporter',
};

interface Machine {
  readonly uid: number;
  readonly apt: boolean;
  /** Programs not there at the start (tool names, or PostgreSQL program names). */
  readonly missing: string[];
  /** Whether the stub apt-get provides what it installs. */
  readonly aptWorks?: boolean;
}

function run(machine: Machine) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitr-provision-'));
  const bin = path.join(dir, 'bin');
  const pg = path.join(dir, 'pg');
  fs.mkdirSync(bin);
  fs.mkdirSync(pg);
  const stub = (file: string, body = 'exit 0') => fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  stub(path.join(bin, 'id'), `echo ${machine.uid}`);
  for (const program of Object.values(TOOLS).filter(p => !machine.missing.includes(p))) {
    stub(path.join(bin, program));
  }
  for (const program of PG_PROGRAMS.filter(p => !machine.missing.includes(p))) {
    stub(path.join(pg, program));
  }
  const log = path.join(dir, 'apt.log');
  if (machine.apt) {
    // Records each call; `install` creates the programs of the packages named (when aptWorks).
    const provides = Object.entries(TOOLS).map(([pkg, program]) => `${pkg}) /usr/bin/touch "${bin}/${program}"; /bin/chmod +x "${bin}/${program}" ;;`)
      .concat(`postgresql-15) for p in ${PG_PROGRAMS.filter(p => p !== 'psql').join(' ')}; do /usr/bin/touch "${pg}/$p"; /bin/chmod +x "${pg}/$p"; done ;;`,
        `postgresql-client-15) /usr/bin/touch "${pg}/psql"; /bin/chmod +x "${pg}/psql" ;;`).join('\n      ');
    stub(path.join(bin, 'apt-get'), `echo "apt-get $*" >> "${log}"
[ "${machine.aptWorks ?? true}" = true ] || exit 0
for arg in "$@"; do
  case $arg in
      ${provides}
  esac
done`);
  }
  const r = spawnSync('/bin/sh', [SCRIPT], { env: { PATH: bin, PG_BIN: pg }, encoding: 'utf8' });
  const apt = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, apt };
}

describe('test/provision.sh', () => {
  test('does nothing when every tool is there', () => {
    const r = run({ uid: 0, apt: true, missing: [] });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^provision: the test tools are installed/);
    expect(r.apt).toEqual([]);
  });

  test('as root with apt: installs exactly the missing packages and says so', () => {
    const r = run({ uid: 0, apt: true, missing: ['shellcheck', 'pg_waldump', 'psql', 'promtool'] });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.apt).toEqual(['apt-get update -qq', 'apt-get install -y -qq --no-install-recommends postgresql-15 postgresql-client-15 shellcheck prometheus']);
    expect(r.stdout).toBe('provision: installing postgresql-15 postgresql-client-15 shellcheck prometheus with apt-get (missing for the tests)\n'
      + 'provision: installed postgresql-15 postgresql-client-15 shellcheck prometheus\n');
  });

  test('fails when apt-get leaves a tool missing', () => {
    const r = run({ uid: 0, apt: true, missing: ['busybox'], aptWorks: false });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('provision: FAILED: still missing after apt-get install: busybox\n');
  });

  test.each([
    ['not root', { uid: 1000, apt: true }],
    ['root without apt-get', { uid: 0, apt: false }],
  ])('%s: fails with the exact command, installs nothing', (_, machine) => {
    const r = run({ ...machine, missing: ['zstd', 'lz4', 'postgres'] });
    expect(r.status).toBe(1);
    expect(r.apt).toEqual([]);
    expect(r.stderr).toContain('provision: FAILED: the tests need postgresql-15 zstd lz4, which is not installed, and this is not root with apt-get.\n'
      + 'provision: install it with: sudo sh -c \'apt-get update && apt-get install -y --no-install-recommends postgresql-15 zstd lz4\'\n');
  });

  test('is clean under shellcheck', () => {
    const r = spawnSync('shellcheck', ['--shell=sh', '--severity=style', SCRIPT], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
