import { CONFIG_SCHEMA } from './config-schema.js';

/** The README's configuration table sits between these lines; `npm run docs:config` rewrites it. */
export const TABLE_BEGIN =
  '<!-- config-table:begin (generated from libs/core/src/config/config-schema.ts by npm run docs:config) -->';
export const TABLE_END = '<!-- config-table:end -->';

const variables = () => Object.values(CONFIG_SCHEMA);

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The configuration table, one row per variable, in schema order. */
export function renderConfigTable(): string {
  const rows = variables().map((v) =>
    [`\`${v.name}\``, v.defaultText, v.values, v.processes.join(', '), v.description].map(cell).join(' | '),
  );
  return [
    '| variable | default | values | read by | meaning |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}

/** `readme` with the text between the table's markers replaced by the generated table. */
export function withConfigTable(readme: string): string {
  const begin = readme.indexOf(TABLE_BEGIN);
  const end = readme.indexOf(TABLE_END);
  if (begin === -1 || end < begin) throw new Error(`README.md has no "${TABLE_BEGIN}" ... "${TABLE_END}" section`);
  return `${readme.slice(0, begin + TABLE_BEGIN.length)}\n${renderConfigTable()}\n${readme.slice(end)}`;
}

/** `.env.example`: every variable, commented out at its default, with what it does. */
export function renderEnvExample(): string {
  const header = [
    '# Trailsight configuration: every variable, commented out at its default.',
    '# Generated from libs/core/src/config/config-schema.ts by `npm run docs:config`; do not edit by hand.',
    '# Copy to .env (docker compose reads it beside docker-compose.yml) and uncomment what you change.',
    '',
    '# docker-compose.yml only: the Redis password (required there), e.g. `openssl rand -hex 24`,',
    '# and the host ports of the API and of Redis (on 127.0.0.1).',
    '# REDIS_PASSWORD=',
    '# API_PORT=3000',
    '# REDIS_PORT=6379',
  ];
  const blocks = variables().map((v) =>
    [
      `# ${plain(v.description)} (${plain(v.values)}; read by ${v.processes.join(', ')})`,
      `# ${v.name}=${v.fallback}`,
    ].join('\n'),
  );
  return `${[...header, '', ...blocks.flatMap((block) => [block, ''])].join('\n').trimEnd()}\n`;
}

/** Markdown links and code marks dropped: .env.example is read as plain text. */
function plain(text: string): string {
  return text.replace(/\[([^\]]+)\]\([^)]+\)/g, '$1').replace(/`/g, '');
}
