import type { z } from 'zod';
import { ValidationError } from './errors.js';

/** GraphQL passes explicit nulls for omitted optional input fields; treat them as absent. */
export function stripNulls(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== null && x !== undefined)
      .map(([k, x]) => [k, stripNulls(x)]),
  );
}

/** Parses input with nulls dropped; the first problem becomes a ValidationError naming its path. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(stripNulls(input));
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : 'input';
  throw new ValidationError(field, issue?.message ?? 'is invalid');
}
