import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigTable, renderEnvExample, TABLE_BEGIN, TABLE_END, withConfigTable } from './config-docs.js';
import { loadConfig } from './config.loader.js';
import { CONFIG_SCHEMA } from './config-schema.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const FIX = 'run `npm run docs:config` after changing libs/core/src/config/config-schema.ts';

describe('the configuration schema, the README table and .env.example', () => {
  it("the README's configuration table is the one generated from the schema", () => {
    const readme = readFileSync(`${ROOT}README.md`, 'utf8');
    const begin = readme.indexOf(TABLE_BEGIN);
    const end = readme.indexOf(TABLE_END);
    expect([begin >= 0 && end > begin, FIX]).toEqual([true, FIX]);
    const table = readme.slice(begin + TABLE_BEGIN.length, end).trim();
    expect([table, FIX]).toEqual([renderConfigTable(), FIX]);
    // What `npm run docs:config` writes changes nothing around the table either.
    expect(withConfigTable(readme) === readme).toBe(true);
  });

  it('.env.example is the one generated from the schema', () => {
    expect([readFileSync(`${ROOT}.env.example`, 'utf8'), FIX]).toEqual([renderEnvExample(), FIX]);
  });

  it('names each variable once, and every variable the boot validation reads has a row', () => {
    const names = Object.values(CONFIG_SCHEMA).map((variable) => variable.name);
    expect(new Set(names).size).toBe(names.length);
    // A variable read but missing from the schema would be read through another path: every
    // name in config.loader.ts and its parsers must be a schema row.
    const sources = ['config.loader.ts', 'config-parsers.ts', 'config-schema.ts'].map((file) =>
      readFileSync(fileURLToPath(new URL(file, import.meta.url)), 'utf8'),
    );
    const mentioned = new Set(
      sources.flatMap((text) => [...text.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1])),
    );
    for (const name of mentioned) expect([name, names.includes(name ?? '')]).toEqual([name, true]);
  });

  it('documents the default the boot validation takes: each documented default, set, changes nothing', () => {
    const defaults = loadConfig({});
    for (const variable of Object.values(CONFIG_SCHEMA)) {
      if (variable.fallback === '') continue;
      expect([variable.name, loadConfig({ [variable.name]: variable.fallback })]).toEqual([variable.name, defaults]);
    }
  });

  it('.env.example, uncommented whole, boots to the defaults', () => {
    const env: Record<string, string> = {};
    for (const line of renderEnvExample().split('\n')) {
      const match = /^# ([A-Z][A-Z0-9_]+)=(.*)$/.exec(line);
      if (match?.[1] !== undefined) env[match[1]] = match[2] ?? '';
    }
    expect(Object.keys(env)).toEqual(expect.arrayContaining(Object.values(CONFIG_SCHEMA).map((v) => v.name)));
    expect(loadConfig(env)).toEqual(loadConfig({}));
  });

  it('lists what the README missed before: the s3 and sqs sources and their settings', () => {
    const table = renderConfigTable();
    for (const name of [
      'S3_BUCKET',
      'S3_PREFIX',
      'S3_ENDPOINT',
      'S3_REGION',
      'SQS_QUEUE_URL',
      'SQS_ENDPOINT',
      'SQS_ALLOWED_BUCKETS',
      'FILE_WORKERS',
      'TRAIL_FILE_LATENESS_MINUTES',
      'SIMULATOR_SEED',
    ]) {
      expect(table).toContain(`| \`${name}\` |`);
    }
    expect(table).toMatch(/`CLOUDTRAIL_SOURCE` \| `simulator` \| `simulator`, `aws`, `files`, `s3`, `sqs`/);
  });
});
