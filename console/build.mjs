// Builds the web console (console/src) into dist/console: hashed JS and CSS under assets/ and an
// index.html that names them. Prints each file's size gzipped and fails past the budget.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'dist', 'console');
const BUDGET_BYTES = 250 * 1024;

const result = await build({
  entryPoints: [join(here, 'src', 'main.tsx')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  outdir: join(out, 'assets'),
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const files = Object.keys(result.metafile.outputs).map((path) => join(here, '..', path));
const named = (ext) => basename(files.find((file) => file.endsWith(ext)));
const html = readFileSync(join(here, 'index.html'), 'utf8')
  .replace('__SCRIPT__', `/console/assets/${named('.js')}`)
  .replace('__STYLE__', `/console/assets/${named('.css')}`);
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'index.html'), html);

const sizes = [...files, join(out, 'index.html')].map((file) => {
  const body = readFileSync(file);
  return { file: basename(file), bytes: body.length, gzipBytes: gzipSync(body, { level: 9 }).length };
});
const total = sizes.reduce((sum, size) => sum + size.gzipBytes, 0);
writeFileSync(join(out, 'sizes.json'), `${JSON.stringify({ totalGzipBytes: total, files: sizes }, null, 2)}\n`);
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
console.log(
  `console: ${sizes.map((s) => `${s.file} ${kb(s.bytes)} (${kb(s.gzipBytes)} gzipped)`).join(', ')}; ` +
    `total ${kb(total)} gzipped of ${kb(BUDGET_BYTES)}`,
);
if (total > BUDGET_BYTES) {
  console.error(`console: ${kb(total)} gzipped is over the ${kb(BUDGET_BYTES)} budget`);
  process.exit(1);
}
