import { GraphQLError } from 'graphql';
import { DomainError, RateLimitedError, ValidationError } from '../domain/shared/errors.js';

const HTTP_STATUS: Record<string, number> = { UNAUTHENTICATED: 401, RATE_LIMITED: 429 };

/**
 * Duck-typed: graphql ships CommonJS and ESM builds, and an error made by a library that loaded
 * the other one fails `instanceof GraphQLError`.
 */
function isGraphQLError(e: unknown): e is GraphQLError {
  return e instanceof Error && e.name === 'GraphQLError' && 'extensions' in e;
}

function unwrap(error: unknown): unknown {
  let e = error;
  while (isGraphQLError(e) && e.originalError) e = e.originalError;
  return e;
}

/**
 * Domain errors become GraphQL errors with `extensions.code` (and the field for bad input);
 * GraphQL's own errors (parse, validation) pass; anything else is masked to
 * INTERNAL_SERVER_ERROR with no stack, driver message, address or path.
 */
export function createMaskError(onUnexpected: (error: unknown) => void) {
  return (error: unknown): Error => {
    const gqlError = isGraphQLError(error) ? error : undefined;
    const original = unwrap(error);
    const location = { nodes: gqlError?.nodes ?? null, path: gqlError?.path ?? null };
    if (original instanceof DomainError) {
      const status = HTTP_STATUS[original.code];
      return new GraphQLError(original.message, {
        ...location,
        extensions: {
          code: original.code,
          ...(original instanceof ValidationError ? { field: original.field } : {}),
          ...(original instanceof RateLimitedError ? { retryAfter: original.retryAfterSeconds } : {}),
          ...(status && !gqlError?.path ? { http: { status } } : {}),
        },
      });
    }
    // GraphQL's own errors (syntax, validation, variables) carry no original error.
    if (isGraphQLError(original)) return original;
    onUnexpected(original);
    return new GraphQLError('Internal server error', { ...location, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  };
}
