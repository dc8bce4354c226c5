import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/**
 * The floor of `npm run bench:files`: one process doing bare gunzipSync + JSON.parse of every
 * file, nothing else. Run as a child so it can be measured with and without V8 flags.
 * Env: BENCH_FILE_LIST (a file of paths, one per line). Prints `{"events": n, "seconds": s}`.
 */
const files = readFileSync(process.env.BENCH_FILE_LIST ?? '', 'utf8')
  .split('\n')
  .filter(Boolean);
let events = 0;
const start = performance.now();
for (const file of files) {
  const parsed = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as { Records: unknown[] };
  events += parsed.Records.length;
}
const seconds = (performance.now() - start) / 1000;
process.stdout.write(`${JSON.stringify({ events, seconds })}\n`);
