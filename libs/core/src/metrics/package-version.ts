import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The version in the trailsight package.json above this file, wherever it was built or installed. */
export function packageVersion(): string {
  cached ??= find();
  return cached;
}

function find(): string {
  for (let dir = new URL('.', import.meta.url); dir.pathname !== '/'; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'trailsight' && pkg.version) return pkg.version;
    } catch {
      // not here: one level up
    }
  }
  return 'unknown';
}
