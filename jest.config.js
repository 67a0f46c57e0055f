// One jest set-up for the whole repo. Everything is ESM (client-node 1.x ships only ESM), so
// jest runs with --experimental-vm-modules and swc strips types without changing module format.
// Cross-package imports resolve to each package's src, so tests never need a build first.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const shared = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@metallb-ts/([a-z0-9-]+)/testing$': '<rootDir>/packages/$1/src/testing/index.ts',
    '^@metallb-ts/([a-z0-9-]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testEnvironment: 'node',
};

// e2e tests that need no lab (they start what they test on 127.0.0.1): still selected as `e2e`,
// but in a project without the global set-up, which claims the lab and starts a control plane
// (jest runs a project's global set-up only when one of its tests runs).
const labFree = [
  'e2e/tests/registry.test.ts',
  'e2e/tests/lab-images.test.ts',
  'e2e/tests/node-mode/node-config.test.ts',
  'e2e/tests/failover-probe.test.ts',
  'e2e/tests/audit/audit-log.test.ts',
  'e2e/tests/processes.test.ts',
  'e2e/tests/wire-owners.test.ts',
  'e2e/tests/bad-input/storm.test.ts',
  'e2e/tests/soak/invariants.test.ts',
];

export default {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/packages/*/tests/**/*.test.ts'] },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/e2e/tests/**/*.test.ts'],
      testPathIgnorePatterns: [
        '/node_modules/',
        ...labFree.map((f) => `<rootDir>/${f.replace(/\./g, '\\.')}$`),
      ],
      globalSetup: '<rootDir>/e2e/src/jest-global-setup.ts',
      globalTeardown: '<rootDir>/e2e/src/jest-global-teardown.ts',
    },
    { ...shared, displayName: 'e2e', testMatch: labFree.map((f) => `<rootDir>/${f}`) },
    {
      // The kubelet lab (real kubelets, containerd, registry, helm install): each file brings its
      // own lab up and down, so no global set-up. In the test command after the e2e project.
      ...shared,
      displayName: 'cluster',
      testMatch: ['<rootDir>/e2e/cluster/**/*.test.ts'],
    },
  ],
};
