import { cdk8s, javascript } from 'projen';

const project = new cdk8s.ConstructLibraryCdk8s({
  name: 'cdk8s-postgres-pitr',
  description: 'cdk8s constructs for Point-in-Time Recovery of an embedded PostgreSQL: WAL archive, base backups, restore and recovery targets.',
  author: 'cdk8s-postgres-pitr maintainers',
  authorAddress: 'maintainers@cdk8s-postgres-pitr.invalid',
  repositoryUrl: 'https://github.com/cdk8s-postgres-pitr/cdk8s-postgres-pitr.git',
  keywords: ['cdk8s', 'postgresql', 'pitr', 'backup', 'wal', 'kubernetes'],
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,

  // cdk8s 2.x, constructs 10.x, cdk8s-plus-28 as a peer dependency.
  cdk8sVersion: '2.70.0',
  constructsVersion: '10.3.0',
  jsiiVersion: '~5.9.0',
  integrationTestAutoDiscover: false,

  // Experimental until 1.0: the API may still change in a minor release.
  stability: 'experimental',

  // Releases: `npx projen release` bumps the version from the commits since the last tag (the first release is 0.1.0,
  // releases stay on 0.x), writes dist/changelog.md, builds, tests and packs into dist/js, and leaves every tracked file
  // as it was; `npx projen publish:npm` (publib, with NPM_TOKEN) publishes dist/js. No GitHub workflows are generated
  // (github: false): the tasks run locally or from any CI.
  github: false,
  release: true,
  releaseToNpm: true,
  majorVersion: 0,
  nextVersionCommand: 'git rev-parse --verify --quiet "refs/tags/$LATEST_TAG" >/dev/null || echo 0.1.0',
  depsUpgrade: false,
  pullRequestTemplate: false,

  // Runtime: cdk8s, constructs and cdk8s-plus-28 are peer dependencies (the app's own copies); nothing else is needed at
  // run time: a ManagementPlane file is read with cdk8s' own YAML loader (fromManagementPlaneFile). `yaml` is a
  // development dependency only (tests and the example).
  peerDeps: ['cdk8s-plus-28@^2.5.6'],
  devDeps: ['cdk8s-cli@^2.200.0', 'yaml@^2.4.0', 'fast-check@^4', '@kubernetes/client-node@0.20.0'],

  jestOptions: {
    // Snapshots never change silently: `npx projen test:update` rewrites them on purpose.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testTimeout: 600_000,
      // Name every test in the output, so CI shows each drill target and failure case as passed.
      verbose: true,
      // One set-up for every test file (synth-time warnings are asserted through metadata, not printed).
      setupFiles: ['<rootDir>/test/setup.ts'],
      // Script bodies stand in snapshots as a hash: test/scripts.test.ts checks their bytes.
      snapshotSerializers: ['<rootDir>/test/script-serializer.ts'],
    },
  },
  // No source maps in lib/: they would point at src/*.ts, which the package does not ship. Stack traces name lib/*.js.
  tsconfig: {
    compilerOptions: { inlineSourceMap: false, inlineSources: false },
  },
  tsconfigDev: {
    include: ['../examples/**/*.ts'],
    compilerOptions: {},
  },
  eslintOptions: { dirs: ['src'], devdirs: ['test', 'examples'] },
  gitignore: ['/test/.drill-*'],
  // The package holds lib/ (with lib/scripts/*.sh), .jsii, README.md, API.md, LICENSE and package.json
  // (test/package.test.ts asserts the exact list).
  npmignoreEnabled: true,
});

// Nothing but lib/, the jsii manifest and the docs goes into the tarball.
for (const pattern of ['/.ci/', '/examples/', '/CHANGELOG.md', '/scripts/', '/bench/', '/BENCHMARKS.md', '/test-reports/', 'tsconfig.tsbuildinfo', '/.eslintrc.json']) {
  project.addPackageIgnore(pattern);
}

// The test task provisions the system tools the tests need (PostgreSQL 15, shellcheck, busybox, ...) when they are
// missing: with apt as root it installs them and says so, otherwise it fails with the exact command. Never a skip.
project.testTask.prependExec('sh test/provision.sh');

// The shell scripts are shipped beside the compiled code: lib/scripts/*.sh.
project.compileTask.exec('mkdir -p lib/scripts && cp src/scripts/*.sh lib/scripts/');

// The example app is synthesized by the real cdk8s CLI on every build, so it cannot rot.
const synthExample = project.addTask('synth:example', {
  description: 'Synthesize examples/ with the cdk8s CLI into examples/dist/*.k8s.yaml',
  cwd: 'examples',
  // --no-check-upgrade: the CLI's upgrade check asks the npm registry and prints a stack trace when it cannot.
  exec: 'cdk8s synth --no-check-upgrade',
});
project.postCompileTask.spawn(synthExample);

// projen renders publishing only into GitHub workflows, which this project does not generate (github: false), so the
// npm step is a task of its own: after `npx projen release`, it publishes the tarball the release packed.
project.addTask('publish:npm', {
  description: 'Publish the tarball `npx projen release` packed into dist/js to npm (needs npm credentials)',
  exec: 'npm publish --access public dist/js/*.tgz',
});

project.synth();
