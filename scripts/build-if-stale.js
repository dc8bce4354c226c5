// `npm run cli` builds only when a source is newer than the build: the CLI answers in a fraction
// of a second instead of waiting for a whole rebuild on every call.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = join(root, 'dist/apps/cli/src/main.js');

function newestUnder(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestUnder(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

let builtAt = 0;
try {
  builtAt = statSync(built).mtimeMs;
} catch {
  // never built
}
const sources = Math.max(
  ...['apps', 'libs'].map((dir) => newestUnder(join(root, dir))),
  statSync(join(root, 'package-lock.json')).mtimeMs,
);
if (sources > builtAt) {
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  process.exit(build.status ?? 1);
}
