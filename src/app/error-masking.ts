import { GraphQLError } from 'graphql';
import { DomainError, RateLimitedError, ValidationError } from '../domain/shared/errors.js';

const HTTP_STATUS: Record<string, number> = { UNAUTHENTICATED: 401, RATE_LIMITED: 429 };

/**
 * Domain errors become GraphQL errors with `extensions.code` (and the field for bad input);
 * GraphQL's own errors (parse, validation) pass; anything else is masked to
 * INTERNAL_SERVER_ERROR with no stack, driver message, address or path.
 */
export function createMaskError(onUnexpected: (error: unknown) => void) {
  return (error: unknown): Error => {
    const gqlError = error instanceof GraphQLError ? error : undefined;
    const original = gqlError?.originalError ?? error;
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
    if (original instanceof GraphQLError) {
      if (original.extensions.code || !original.originalError) return original;
    }
    if (gqlError && !gqlError.originalError) return gqlError;
    onUnexpected(original);
    return new GraphQLError('Internal server error', { ...location, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  };
}
