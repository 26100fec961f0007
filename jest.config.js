/** Fast pure unit specs beside the code, e2e suites that start real processes, and the container suite. */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
const moduleNameMapper = {
  '^@astral/(contracts|media|config|testing|overlay|net|transport|identity)$': '<rootDir>/libs/$1/src',
};
module.exports = {
  // e2e suites start real networks of processes; on 2 cores they run one at a time.
  maxWorkers: 1,
  projects: [
    {
      displayName: 'unit',
      rootDir: __dirname,
      testMatch: ['<rootDir>/{apps,libs,bench}/**/*.spec.ts'],
      transform: { '^.+\\.ts$': swc },
      moduleNameMapper,
      testEnvironment: 'node',
    },
    {
      displayName: 'e2e',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      transform: { '^.+\\.ts$': swc },
      moduleNameMapper,
      testEnvironment: 'node',
      testTimeout: 120000,
    },
    {
      // npm run test:containers: testcontainers on podman's Docker API; globalSetup builds the images
      // offline when missing and starts the API service, globalTeardown stops it (test/containers/).
      displayName: 'containers',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/containers/**/*.containers-spec.ts'],
      transform: { '^.+\\.ts$': swc },
      moduleNameMapper,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/containers/global-setup.ts',
      globalTeardown: '<rootDir>/test/containers/global-teardown.ts',
    },
  ],
};
