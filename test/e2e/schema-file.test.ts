import { readFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../resolvers/index.js';

describe('schema/schema.graphql', () => {
  it('matches the schema the code builds (run npm run schema:emit when this fails)', () => {
    const onDisk = readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8');
    expect(onDisk).toBe(`${printSchema(schema)}\n`);
  });

  it('describes every type and every field', () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      if (!type.description) missing.push(type.name);
      if ('getFields' in type) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
