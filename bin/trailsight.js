#!/usr/bin/env node
// The `trailsight` command (package.json "bin"; `npm link` in a checkout puts it on the PATH).
// It runs the built CLI, which `npm run build` (or `npm ci && npm start`) makes.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/apps/cli/src/main.js', import.meta.url);
if (!existsSync(entry)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(`trailsight: not built yet: run \`npm run build\` in ${root}\n`);
  process.exit(1);
}
await import(entry.href);
