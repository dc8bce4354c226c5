import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run check` keeps the layers: each case writes one probe file that breaks a rule, runs the
 * checker on it as CI would, and expects the named rule to fail. The probes live in the source tree
 * only for the duration of their case (the checkers resolve the `@trailsight/*` aliases there).
 */
const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const bin = (name: string) => join(repoRoot, 'node_modules/.bin', name);

function withProbe(path: string, source: string, run: () => void): void {
  const file = join(repoRoot, path);
  writeFileSync(file, source);
  try {
    run();
  } finally {
    rmSync(file, { force: true });
  }
}

function depcruise(path: string) {
  const run = spawnSync(bin('depcruise'), [path, '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  return { status: run.status, output: run.stdout + run.stderr };
}

describe('the layers npm run check enforces', () => {
  it('passes on the tree as it is', () => {
    const run = depcruise('libs');
    expect(run.output).toContain('no dependency violations');
    expect(run.status).toBe(0);
  }, 120_000);

  it.each([
    [
      'an upward import (core → cloudtrail)',
      'libs/core/src/probe.ts',
      "import '@trailsight/cloudtrail';\n",
      'layer-core',
    ],
    [
      'a peer import (cloudtrail → queue)',
      'libs/cloudtrail/src/probe.ts',
      "import '@trailsight/queue';\n",
      'layer-cloudtrail',
    ],
    [
      'a product lib importing the simulator',
      'libs/findings/src/probe.ts',
      "import '@trailsight/simulator';\n",
      'product-imports-dev-tool',
    ],
    ['an import cycle', 'libs/domain/src/probe.ts', "import './index.js';\nexport const probe = 1;\n", 'no-circular'],
    [
      'a deep import past a barrel',
      'libs/webhooks/src/probe.ts',
      "import '../../core/src/config/app-config.js';\n",
      'lib-deep-import',
    ],
  ])(
    'fails on %s',
    (_name, path, source, rule) => {
      withProbe(path, source, () => {
        // The cycle needs the barrel to import the probe back.
        const barrel = join(repoRoot, 'libs/domain/src/index.ts');
        const cycle = rule === 'no-circular';
        const original = cycle ? readFileSync(barrel, 'utf8') : '';
        if (cycle) writeFileSync(barrel, `${original}export { probe } from './probe.js';\n`);
        try {
          const run = depcruise(path);
          expect(run.status).not.toBe(0);
          expect(run.output).toContain(rule);
        } finally {
          if (cycle) writeFileSync(barrel, original);
        }
      });
    },
    120_000,
  );

  it.each([
    ['an unused file', 'libs/domain/src/probe-unused.ts', undefined],
    ['an unused export', 'libs/domain/src/time.ts', 'export const unusedProbe = 1;\n'],
  ])(
    'fails on %s (knip)',
    (_name, path, appended) => {
      const file = join(repoRoot, path);
      const original = appended === undefined ? undefined : readFileSync(file, 'utf8');
      writeFileSync(file, original === undefined ? 'export const unusedProbe = 1;\n' : original + appended);
      try {
        const run = spawnSync(bin('knip'), ['--no-progress'], { cwd: repoRoot, encoding: 'utf8' });
        expect(run.status).not.toBe(0);
        expect(run.stdout).toContain(path);
      } finally {
        if (original === undefined) rmSync(file, { force: true });
        else writeFileSync(file, original);
      }
    },
    180_000,
  );
});
