/**
 * The npm package, as a user gets it.
 *
 * 1. `npm pack` holds exactly lib/ (with lib/scripts/*.sh), the jsii manifest, README.md, API.md, LICENSE and
 *    package.json, and nothing in it refers to a file it does not ship.
 * 2. A consumer app, laid out as `cdk8s init typescript-app` lays it out (its template files, read from the cdk8s CLI;
 *    `init` itself needs the network for its schema import), with the README's three Usage blocks as its
 *    managementplane.yaml, main.ts and main.test.ts, installs the packed tarball with the README's Install command
 *    from the npm registry, compiles under the template's strict tsconfig, runs its snapshot test and synthesizes.
 *
 * SLOW: about a minute, most of it `npm install` in the consumer app (from the npm registry, so it needs the registry).
 * The library is compiled first (`npx projen compile`, a few seconds), so the test never packs a stale lib/.
 */
import { execFileSync, spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yaml from 'yaml';

const ROOT = path.join(__dirname, '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The environment of child processes: without the npm variables of an enclosing `npm test`. */
function env(extra: { [name: string]: string } = {}): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return { ...clean, CDK8S_CHECK_UPGRADE: 'false', ...extra };
}

function run(cmd: string, args: string[], cwd: string, extra: { [name: string]: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env: env(extra), encoding: 'utf8', timeout: 480_000 });
}

/** Runs a command and fails the test with its output when it fails. */
function runOk(cmd: string, args: string[], cwd: string, extra: { [name: string]: string } = {}): SpawnSyncReturns<string> {
  const r = run(cmd, args, cwd, extra);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

/** The README block that follows `<!-- consumer-app: <file> -->`. */
function readmeBlock(file: string): string {
  const m = new RegExp(`<!-- consumer-app: ${file.replace('.', '\\.')} -->\\n\`\`\`\\w+\\n([^]*?)\`\`\`\\n`).exec(README);
  if (!m) {
    throw new Error(`README.md has no block marked <!-- consumer-app: ${file} -->`);
  }
  return m[1];
}

beforeAll(() => {
  execFileSync('npx', ['projen', 'compile'], { cwd: ROOT, env: env(), stdio: 'pipe', timeout: 300_000 });
});

describe('npm pack', () => {
  const files = (): string[] => {
    const out = runOk('npm', ['pack', '--dry-run', '--json'], ROOT).stdout;
    return (JSON.parse(out)[0].files as Array<{ path: string }>).map(f => f.path).sort();
  };

  test('holds exactly lib/ with the scripts, the jsii manifest, the docs and package.json', () => {
    const list = files();
    const src = (dir: string) => fs.readdirSync(path.join(ROOT, dir)).filter(f => f.endsWith('.ts')).map(f => f.replace(/\.ts$/, ''));
    const expected = [
      '.jsii', 'API.md', 'LICENSE', 'README.md', 'package.json',
      ...src('src').flatMap(m => [`lib/${m}.d.ts`, `lib/${m}.js`]),
      ...src('src/private').flatMap(m => [`lib/private/${m}.d.ts`, `lib/private/${m}.js`]),
      ...fs.readdirSync(path.join(ROOT, 'src', 'scripts')).map(f => `lib/scripts/${f}`),
    ].sort();
    expect(list).toEqual(expected);
    for (const file of list) {
      expect(file).toMatch(/^(\.jsii|API\.md|LICENSE|README\.md|package\.json|lib\/(private\/)?[a-z-]+\.(js|d\.ts)|lib\/scripts\/[a-z-]+\.sh)$/);
    }
  });

  test('nothing in it refers to a file it does not ship', () => {
    const list = new Set(files());
    for (const file of [...list].filter(f => /\.(js|d\.ts)$/.test(f))) {
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
      expect(`${file}: ${text.includes('sourceMappingURL')}`).toBe(`${file}: false`);
      // every relative require / import resolves to a shipped file
      for (const m of text.matchAll(/(?:require\(|from )["'](\.[^"']+)["']/g)) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]));
        const candidates = [`${target}.js`, `${target}.d.ts`, `${target}/index.js`, target];
        expect(`${file} -> ${m[1]}: ${candidates.some(c => list.has(c))}`).toBe(`${file} -> ${m[1]}: true`);
      }
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(list.has(pkg.main)).toBe(true);
    expect(list.has(pkg.types)).toBe(true);
  });

  test('package.json: experimental, peer dependencies declared, no runtime dependency to bundle', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.stability).toBe('experimental');
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['cdk8s', 'cdk8s-plus-28', 'constructs']);
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.bundledDependencies ?? []).toEqual([]);
    // projen keeps 0.0.0 in the repository; `npx projen release` (RELEASE=true) builds with the released version: 0.x
    // from 0.1.0 on, while the API is experimental.
    if (process.env.RELEASE === 'true') {
      expect(pkg.version).toMatch(/^0\.\d+\.\d+$/);
      expect(pkg.version).not.toBe('0.0.0');
    } else {
      expect(pkg.version).toBe('0.0.0');
    }
  });
});

describe('a consumer app as `cdk8s init typescript-app` lays it out (SLOW: npm install from the registry)', () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'pitr-consumer-'));
  const app = path.join(base, 'pitr-app');
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  test('installs the packed library, compiles strictly, passes its snapshot test and synthesizes the README\'s usage', () => {
    // The library, packed.
    const packed = JSON.parse(runOk('npm', ['pack', '--json', '--pack-destination', base], ROOT).stdout)[0].filename;
    const tarball = path.join(base, packed);

    // The template's files, with the values `cdk8s init` fills in (the CLI's own dependency versions).
    const cli = path.dirname(require.resolve('cdk8s-cli/package.json', { paths: [ROOT] }));
    const versionOf = (name: string) => JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`, { paths: [cli] }), 'utf8')).version;
    const cliPkg = JSON.parse(fs.readFileSync(path.join(cli, 'package.json'), 'utf8'));
    const values: { [key: string]: string } = {
      $base: 'pitr-app',
      cdk8s_core_version: versionOf('cdk8s'),
      cdk8s_plus_version: versionOf('cdk8s-plus-33'),
      constructs_version: cliPkg.dependencies.constructs.replace('^', ''),
      cdk8s_cli_spec: `^${cliPkg.version}`,
    };
    const template = path.join(cli, 'templates', 'typescript-app');
    fs.mkdirSync(app);
    for (const file of ['package.json', 'tsconfig.json', 'cdk8s.yaml', 'jest.config.js', '{{}}.gitignore']) {
      const text = fs.readFileSync(path.join(template, file), 'utf8').replace(/\{\{ *([$\w]+) *\}\}/g, (_, key) => {
        if (!(key in values)) {
          throw new Error(`the template uses {{ ${key} }}, which this test does not fill in`);
        }
        return values[key];
      });
      fs.writeFileSync(path.join(app, file.replace('{{}}', '')), text);
    }
    const tsconfig = JSON.parse(fs.readFileSync(path.join(app, 'tsconfig.json'), 'utf8'));
    expect(tsconfig.compilerOptions).toMatchObject({ strict: true, noImplicitAny: true, noUnusedLocals: true, noUnusedParameters: true });
    expect(tsconfig.compilerOptions.skipLibCheck).toBeUndefined(); // our .d.ts files are checked too

    // The README's usage.
    for (const file of ['managementplane.yaml', 'main.ts', 'main.test.ts']) {
      fs.writeFileSync(path.join(app, file), readmeBlock(file));
    }

    // The README's Install command, with the packed tarball for the package name (one install: the template's
    // dependencies and these).
    const install = /^npm install cdk8s-postgres-pitr .*$/m.exec(README)?.[0];
    expect(install).toBe('npm install cdk8s-postgres-pitr cdk8s cdk8s-plus-28 constructs');
    const args = install!.split(' ').slice(1).map(a => (a === 'cdk8s-postgres-pitr' ? tarball : a));
    runOk('npm', [...args, '--no-audit', '--no-fund'], app);

    // As the template's scripts run them: compile (tsc --build, strict), test (jest; -u writes the snapshot, as
    // `cdk8s init` does), then the same test again in CI mode, and synth (cdk8s synth, through ts-node).
    runOk('npm', ['run', 'compile'], app);
    runOk('npm', ['test', '--', '-u'], app);
    expect(fs.readdirSync(path.join(app, '__snapshots__'))).toEqual(['main.test.ts.snap']);
    runOk('npm', ['test', '--', '--ci'], app);
    const synth = runOk('npm', ['run', 'synth'], app);
    expect(synth.stderr).not.toMatch(/Error|WARNING/);
    expect(fs.readdirSync(path.join(app, 'dist')).sort()).toEqual(['on-demand', 'pitr.k8s.yaml']);
    const objects = yaml.parseAllDocuments(fs.readFileSync(path.join(app, 'dist', 'pitr.k8s.yaml'), 'utf8')).map(d => d.toJSON());
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/tsb-postgres', 'ConfigMap/tsb-postgres-archiving', 'ConfigMap/tsb-postgres-pitr-scripts', 'CronJob/tsb-postgres-base-backup',
      'CronJob/tsb-postgres-restore-point', 'Kubegres/tsb-postgres', 'PersistentVolumeClaim/tsb-backup', 'PersistentVolumeClaim/tsb-postgres-wal-archive',
    ]);
    expect(objects.every(o => o.metadata.namespace === 'tsb')).toBe(true);

    // The restore kit, in its own folder: the recovery settings, the restore pod reading its target at restore time,
    // and the window report.
    expect(fs.readdirSync(path.join(app, 'dist', 'on-demand'))).toEqual(['restore.k8s.yaml']);
    const restore = yaml.parseAllDocuments(fs.readFileSync(path.join(app, 'dist', 'on-demand', 'restore.k8s.yaml'), 'utf8')).map(d => d.toJSON());
    expect(restore.map(o => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/tsb-postgres-recovery', 'Job/tsb-postgres-recovery-window', 'Pod/postgres-restore',
    ]);
    expect(restore.find(o => o.kind === 'ConfigMap').data['recovery.conf']).toContain('the target comes from ConfigMap tsb-postgres-restore-target at restore time');

    // Plain JavaScript against the installed package: a typo and a wrong type are errors, as in TypeScript.
    const js = run('node', ['-e', `
      const { App, Chart } = require('cdk8s');
      const { EmbeddedPostgresPitr, RecoveryTarget } = require('cdk8s-postgres-pitr');
      const chart = new Chart(new App(), 'c');
      for (const f of [
        () => EmbeddedPostgresPitr.fromManagementPlaneFile(chart, 'a', 'managementplane.yaml', { kubegress: {} }),
        () => RecoveryTarget.time(new Date(0)),
      ]) { try { f(); console.log('no error'); } catch (e) { console.log(e.message); } }`], app);
    expect(js.stdout).toBe('\'kubegress\' is not a known parameter. Did you mean \'kubegres\'? Known: name, replicas, walArchiveStorageSize, '
      + 'walArchiveStorageClassName, walArchiveStorageAccessMode, backupStorageSize, backupStorageClassName, backupStorageAccessMode, '
      + 'backupCronSchedule, backupCleanupRetention, postgresImage, postgresUid, preset, kubegres, recoveryTarget, restore, walArchiveClaimName, '
      + 'backupClaimName, backupCronJobName, backupCompression, scriptsConfigMapName, recoveryConfigMapName, restorePodName, dataClaimName, tlsSecretName, '
      + 'serviceAccountName, credentialsSecretName, credentialsSecretKey, host, port, user\n'
      + '\'recoveryTarget.time\' must be a string, not a Date, got a Date (1970-01-01T00:00:00.000Z). Pass date.toISOString(), or write the time like \'2024-12-04T14:35:00Z\'\n');
  });
});
