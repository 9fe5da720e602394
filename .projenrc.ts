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

  github: false,
  release: false,
  depsUpgrade: false,
  pullRequestTemplate: false,

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
  tsconfigDev: {
    include: ['../examples/**/*.ts'],
    compilerOptions: {},
  },
  eslintOptions: { dirs: ['src'], devdirs: ['test', 'examples'] },
  gitignore: ['/test/.drill-*'],
});

// The shell scripts are shipped beside the compiled code: lib/scripts/*.sh.
project.compileTask.exec('mkdir -p lib/scripts && cp src/scripts/*.sh lib/scripts/');

// The example app is synthesized by the real cdk8s CLI on every build, so it cannot rot.
const synthExample = project.addTask('synth:example', {
  description: 'Synthesize examples/ with the cdk8s CLI into examples/dist/*.k8s.yaml',
  cwd: 'examples',
  exec: 'cdk8s synth',
});
project.postCompileTask.spawn(synthExample);

project.synth();
