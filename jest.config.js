// Tests in tiers by file name (STYLE.md §10):
//   *.spec.ts      pure, fast, no I/O
//   *.int-spec.ts  real PostgreSQL, Kafka and Redis, real migrations
//   *.e2e-spec.ts  services over HTTP against the real infrastructure
const fs = require('fs');
const path = require('path');

const swc = JSON.parse(fs.readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
delete swc.$schema;
const { paths } = require('./tsconfig.base.json').compilerOptions;
const moduleNameMapper = Object.fromEntries(
  Object.entries(paths).map(([alias, [target]]) => [`^${alias}$`, `<rootDir>/${target}`]),
);

const base = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { ...swc, swcrc: false }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  roots: ['<rootDir>/libs', '<rootDir>/services', '<rootDir>/tools', '<rootDir>/e2e', '<rootDir>/bench'],
  setupFiles: ['<rootDir>/libs/testing/src/jest.setup.ts'],
};

module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['**/*.spec.ts'] },
    // int and e2e need Kafka/PostgreSQL/Redis: containers when a Docker engine answers, else the
    // local stack of deploy/local/up.sh (tools/jest.global-setup.js, @qmcb/testing infrastructure).
    { ...base, displayName: 'int', testMatch: ['**/*.int-spec.ts'], setupFilesAfterEnv: ['<rootDir>/libs/testing/src/jest.timeout-int.ts'], globalSetup: '<rootDir>/tools/jest.global-setup.js' },
    { ...base, displayName: 'e2e', testMatch: ['**/*.e2e-spec.ts'], setupFilesAfterEnv: ['<rootDir>/libs/testing/src/jest.timeout-e2e.ts'], globalSetup: '<rootDir>/tools/jest.global-setup.js' },
  ],
};
