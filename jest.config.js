import { readFileSync } from 'node:fs';

// One SWC setup for build and tests: ES modules with legacy decorators and their metadata.
const swc = JSON.parse(readFileSync(new URL('./.swcrc', import.meta.url), 'utf8'));
delete swc.$schema;
delete swc.jsc.baseUrl;
delete swc.jsc.paths;

const shared = {
  testEnvironment: 'node',
  // Private build outputs (benchmarks build there so they never race `npm run build`).
  modulePathIgnorePatterns: ['<rootDir>/.bench-out/', '<rootDir>/dist/'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { ...swc, module: { type: 'es6' } }],
    // @fastify/static (the Swagger console's assets under Fastify) requires content-disposition,
    // which is ES-module only: Node 20 loads it with require(esm), Jest only after this compiles it.
    '/node_modules/.*content-disposition/.+\\.js$': ['@swc/jest', { module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(.*/)?content-disposition/)'],
  moduleNameMapper: {
    '^@trailsight/(.*)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
};

export default {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,bench}/**/*.spec.ts'] },
    { ...shared, displayName: 'int', testMatch: ['<rootDir>/{apps,libs}/**/*.int-spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};
