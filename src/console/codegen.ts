import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodegenConfig } from '@graphql-codegen/cli';
import { generate } from '@graphql-codegen/cli';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const repo = here('../../');

/**
 * The console's operations are typed from schema/schema.graphql (graphql-codegen's client preset,
 * documents as strings: no GraphQL parser in the bundle). `--check` regenerates in memory and
 * fails when the committed files differ (npm run schema:check runs it).
 */
export const config: CodegenConfig = {
  schema: here('../../schema/schema.graphql'),
  documents: [here('./src/**/*.{ts,tsx}'), `!${here('./src/gql/**')}`],
  ignoreNoDocuments: false,
  silent: true,
  generates: {
    [here('./src/gql/')]: {
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: {
        documentMode: 'string',
        enumsAsTypes: true,
        useTypeImports: true,
        skipTypename: true,
        scalars: { DateTime: 'string' },
      },
    },
  },
};

const check = process.argv.includes('--check');
const outputs = await generate({ ...config, cwd: repo }, !check);
if (check) {
  const stale = outputs.filter((o) => {
    try {
      return readFileSync(o.filename, 'utf8') !== o.content;
    } catch {
      return true;
    }
  });
  if (stale.length > 0) {
    process.stderr.write(
      `console types are stale: ${stale.map((o) => relative(repo, o.filename)).join(', ')}\nrun: npm run console:codegen\n`,
    );
    process.exit(1);
  }
  process.stdout.write('console types are up to date\n');
}
