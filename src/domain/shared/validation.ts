import type { z } from 'zod';
import { type FieldProblem, ValidationError } from './errors.js';

/** GraphQL passes explicit nulls for omitted optional input fields; treat them as absent. */
export function stripNulls(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== null && x !== undefined)
      .map(([k, x]) => [k, stripNulls(x)]),
  );
}

/** Every issue zod found, as input paths (zod checks every field, it does not stop at the first). */
export function problemsOf(error: z.ZodError): FieldProblem[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: path ? `${path}.${key}` : key, message: 'is not a known field' }));
    }
    return [{ field: path || 'input', message: issue.message }];
  });
}

/** The parsed input, or every problem of it. */
export function check<S extends z.ZodType>(
  schema: S,
  input: unknown,
): { ok: true; data: z.output<S> } | { ok: false; problems: FieldProblem[] } {
  const r = schema.safeParse(stripNulls(input));
  return r.success ? { ok: true, data: r.data } : { ok: false, problems: problemsOf(r.error) };
}

/**
 * Parses input with nulls dropped, or throws one ValidationError listing every problem. `more`
 * adds the rules the schema cannot see (one field against another, limits in force); it runs even
 * when other parts of the input are bad, so its problems are listed with the schema's.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, more?: () => FieldProblem[]): z.output<S> {
  const r = check(schema, input);
  const problems = [...(r.ok ? [] : r.problems), ...(more?.() ?? [])];
  if (problems.length > 0) throw new ValidationError(problems);
  if (!r.ok) throw new ValidationError(r.problems);
  return r.data;
}
