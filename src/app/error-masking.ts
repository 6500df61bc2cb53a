import { GraphQLError } from 'graphql';
import { DomainError, ForbiddenError, LimitExceededError, RateLimitedError, ValidationError } from '../domain/shared/errors.js';

const HTTP_STATUS: Record<string, number> = { UNAUTHENTICATED: 401, RATE_LIMITED: 429, SERVICE_UNAVAILABLE: 503 };

/**
 * Duck-typed: graphql ships CommonJS and ESM builds, and an error made by a library that loaded
 * the other one fails `instanceof GraphQLError`.
 */
export function isGraphQLError(e: unknown): e is GraphQLError {
  return e instanceof Error && e.name === 'GraphQLError' && 'extensions' in e;
}

export function unwrap(error: unknown): unknown {
  let e = error;
  while (isGraphQLError(e) && e.originalError) e = e.originalError;
  return e;
}

/** Errors logged once already (by the request plugin, which knows the request id). */
const reported = new WeakSet<object>();

/** Calls `log` for an error the first time only. */
export function reportOnce(error: unknown, log: (error: unknown) => void): void {
  if (typeof error === 'object' && error !== null) {
    if (reported.has(error)) return;
    reported.add(error);
  }
  log(error);
}

/** Whether an error reaches clients masked as INTERNAL_SERVER_ERROR (and so is worth a log line). */
export function isUnexpected(error: unknown, isUnavailable: (error: unknown) => boolean): boolean {
  const original = unwrap(error);
  return !(original instanceof DomainError) && !isGraphQLError(original) && !isUnavailable(original);
}

/**
 * Domain errors become GraphQL errors with `extensions.code` (for bad input also `field`, the
 * first problem, and `fields`, every problem as `{field, message}`);
 * GraphQL's own errors (parse, validation) pass; a database or broker that cannot be reached is
 * SERVICE_UNAVAILABLE; anything else is masked to INTERNAL_SERVER_ERROR. Neither carries a
 * stack, driver message, address or path.
 */
export function createMaskError(
  onUnexpected: (error: unknown) => void,
  isUnavailable: (error: unknown) => boolean = () => false,
) {
  return (error: unknown): Error => {
    const gqlError = isGraphQLError(error) ? error : undefined;
    const original = unwrap(error);
    const location = { nodes: gqlError?.nodes ?? null, path: gqlError?.path ?? null };
    const httpStatus = (code: string, headers?: Record<string, string>) => {
      const status = HTTP_STATUS[code];
      return status && !gqlError?.path ? { http: { status, ...(headers ? { headers } : {}) } } : {};
    };
    if (original instanceof DomainError) {
      return new GraphQLError(original.message, {
        ...location,
        extensions: {
          code: original.code,
          ...(original instanceof ValidationError ? { field: original.field, fields: original.problems } : {}),
          ...(original instanceof LimitExceededError
            ? { limit: original.limit, max: original.max, setting: original.setting }
            : {}),
          ...(original instanceof ForbiddenError && original.requiredRole ? { requiredRole: original.requiredRole } : {}),
          ...(original instanceof RateLimitedError ? { retryAfter: original.retryAfterSeconds } : {}),
          ...httpStatus(
            original.code,
            original instanceof RateLimitedError ? { 'Retry-After': String(original.retryAfterSeconds) } : undefined,
          ),
        },
      });
    }
    // GraphQL's own errors (syntax, validation, variables) carry no original error.
    if (isGraphQLError(original)) return original;
    if (isUnavailable(original)) {
      return new GraphQLError('service temporarily unavailable; retry shortly', {
        ...location,
        extensions: { code: 'SERVICE_UNAVAILABLE', ...httpStatus('SERVICE_UNAVAILABLE') },
      });
    }
    reportOnce(original, onUnexpected);
    return new GraphQLError('Internal server error', { ...location, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  };
}
