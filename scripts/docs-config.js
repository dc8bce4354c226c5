// `npm run docs:config`: rewrites the README's configuration table and .env.example from the one
// definition of the environment (libs/core/src/config/config-schema.ts), as built into dist/.
// libs/core/src/config/config-docs.spec.ts fails when either disagrees with the schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { renderEnvExample, withConfigTable } = await import(`${root}dist/libs/core/src/config/config-docs.js`);

const readme = `${root}README.md`;
writeFileSync(readme, withConfigTable(readFileSync(readme, 'utf8')));
writeFileSync(`${root}.env.example`, renderEnvExample());
console.log('README.md configuration table and .env.example written');
