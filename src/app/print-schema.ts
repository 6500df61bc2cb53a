import { readFileSync, writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { schema } from '../../resolvers/index.js';

const target = new URL('../../schema/schema.graphql', import.meta.url);
const sdl = `${printSchema(schema)}\n`;

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (current !== sdl) {
    process.stderr.write('schema/schema.graphql is stale: run npm run schema:emit and commit it\n');
    process.exit(1);
  }
  process.stdout.write('schema/schema.graphql is up to date\n');
} else {
  writeFileSync(target, sdl);
  process.stdout.write('wrote schema/schema.graphql\n');
}
