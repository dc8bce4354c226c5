// The architecture `npm run check` enforces (`npm run lint:deps`). Libraries are layered and
// import downward only:
//
//   domain ← core ← (cloudtrail, queue, findings) ← (detection, webhooks) ← aws-api ← apps
//
// plus two development tools: simulator (the simulated AWS account) and evaluation (the
// accuracy harness). Product libraries never import them. Tests and benchmarks may import
// any library (cloudtrail's int-specs drive the simulator, for one); no non-test code has an
// import cycle, barrels included.

/** Test and benchmark code: exempt from the layering (never from alias-only imports). */
const TEST = ['\\.(spec|int-spec|e2e-spec)\\.ts$', '^test/', '^bench/'];

const PRODUCT = ['domain', 'core', 'cloudtrail', 'queue', 'findings', 'detection', 'webhooks', 'aws-api'];
const DEV_TOOLS = ['simulator', 'evaluation'];

/** What each library's non-test code may import, besides itself. */
const MAY_IMPORT = {
  domain: [],
  core: ['domain'],
  cloudtrail: ['domain', 'core'],
  queue: ['domain', 'core'],
  findings: ['domain', 'core'],
  detection: ['domain', 'core', 'cloudtrail', 'queue', 'findings'],
  webhooks: ['domain', 'core', 'cloudtrail', 'queue', 'findings'],
  // The CloudTrail API for Insights at /aws: findings (and detection's series history) in AWS's shapes.
  'aws-api': ['domain', 'core', 'cloudtrail', 'queue', 'findings', 'detection'],
  simulator: ['domain', 'core', 'cloudtrail'],
  evaluation: ['domain', 'core', 'cloudtrail', 'detection', 'findings', 'simulator'],
};

const libs = (names) => `^libs/(${names.join('|')})/`;

/** One rule per library: its imports of other libraries stay within MAY_IMPORT. */
const layerRules = Object.entries(MAY_IMPORT).map(([lib, allowed]) => ({
  name: `layer-${lib}`,
  severity: 'error',
  comment:
    `libs/${lib} may import ` +
    (allowed.length ? allowed.map((l) => `@trailsight/${l}`).join(', ') : 'no other library') +
    ' (imports point down the layers only, never to a peer).',
  from: { path: `^libs/${lib}/`, pathNot: TEST },
  // A product library's imports of the development tools get their own, clearer rule below.
  to: { path: '^libs/', pathNot: libs([lib, ...allowed, ...(PRODUCT.includes(lib) ? DEV_TOOLS : [])]) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Non-test code has no import cycles, through barrels or otherwise.',
      from: { pathNot: TEST },
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'product-imports-dev-tool',
      severity: 'error',
      comment:
        'Product libraries never import the simulator or the evaluation harness (development tools); ' +
        'only their tests may.',
      from: { path: libs(PRODUCT), pathNot: TEST },
      to: { path: libs(DEV_TOOLS) },
    },
    {
      name: 'lib-imports-app',
      severity: 'error',
      comment: 'Libraries never import an app.',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'product-imports-test-code',
      severity: 'error',
      comment: 'Apps and libraries never import test support or benchmarks outside their tests.',
      from: { path: '^(apps|libs)/', pathNot: TEST },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'lib-deep-import',
      severity: 'error',
      comment: 'Another library is imported through its @trailsight/<name> alias (its barrel), never by path.',
      from: { path: '^libs/([^/]+)/' },
      to: { path: '^libs/[^/]+/', pathNot: ['^libs/$1/', '^libs/[^/]+/src/index\\.ts$'] },
    },
    {
      name: 'app-deep-import',
      severity: 'error',
      comment: 'Apps import a library through its @trailsight/<name> alias (its barrel), never by path.',
      from: { path: '^apps/' },
      to: { path: '^libs/[^/]+/', pathNot: '^libs/[^/]+/src/index\\.ts$' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves (to a file, a package or a Node built-in).',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    exclude: { path: '(^|/)(dist|node_modules|\\.bench-out)/' },
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: they are edges of the design even if erased at run time.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
