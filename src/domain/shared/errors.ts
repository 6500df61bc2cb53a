/**
 * Expected failures. Each has a stable `code` that reaches clients either as a member of a
 * mutation's result union or as `extensions.code` on a GraphQL error.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
}

/** The object does not exist, or the caller may not see it (the two answer alike). */
export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
  constructor(
    readonly entity: string,
    readonly id: string,
    /** It exists but belongs to someone else: answered as missing, audited as DENIED. Never sent. */
    readonly hidden = false,
  ) {
    super(`${entity} ${id} not found`);
    this.name = 'NotFoundError';
  }
}

/** The request contradicts the object's current state. */
export class ConflictError extends DomainError {
  readonly code = 'CONFLICT';
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** A configured cap (servers, sessions, ...) would be exceeded. */
export class LimitExceededError extends DomainError {
  readonly code = 'LIMIT_EXCEEDED';
  constructor(
    readonly limit: string,
    readonly max: number,
    message: string,
  ) {
    super(message);
    this.name = 'LimitExceededError';
  }
}

/** Every RDP port of the configured range is taken. */
export class PortExhaustedError extends DomainError {
  readonly code = 'PORT_EXHAUSTED';
  constructor(
    readonly host: string,
    readonly from: number,
    readonly to: number,
  ) {
    super(`no free RDP port on ${host} in ${from}-${to}`);
    this.name = 'PortExhaustedError';
  }
}

/** The runtime that runs RDP servers cannot act on this host. */
export class RuntimeUnavailableError extends DomainError {
  readonly code = 'RUNTIME_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeUnavailableError';
  }
}

/** The runtime tried and failed (the process exited, the port is taken, ...). */
export class RuntimeFailureError extends DomainError {
  readonly code = 'RUNTIME_FAILURE';
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeFailureError';
  }
}

/** Input broke a rule; `field` is the input path, e.g. `configuration.resolution`. */
export class ValidationError extends DomainError {
  readonly code = 'BAD_USER_INPUT';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ValidationError';
  }
}

/** No valid credentials were presented. */
export class UnauthenticatedError extends DomainError {
  readonly code = 'UNAUTHENTICATED';
  constructor(message = 'authentication required') {
    super(message);
    this.name = 'UnauthenticatedError';
  }
}

/** The caller is known but lacks the role for this operation. */
export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN';
  constructor(message = 'not allowed') {
    super(message);
    this.name = 'ForbiddenError';
  }
}

/** Too many calls in the current window. */
export class RateLimitedError extends DomainError {
  readonly code = 'RATE_LIMITED';
  constructor(readonly retryAfterSeconds: number) {
    super(`rate limit exceeded; retry after ${retryAfterSeconds}s`);
    this.name = 'RateLimitedError';
  }
}

/** A store or broker the request needs cannot be reached right now; retrying later may work. */
export class ServiceUnavailableError extends DomainError {
  readonly code = 'SERVICE_UNAVAILABLE';
  constructor(message = 'service temporarily unavailable; retry shortly') {
    super(message);
    this.name = 'ServiceUnavailableError';
  }
}

/**
 * The host's agent did not start the command in time (the host is offline, its agent stopped, or
 * it is too busy to take it within the command's deadline): nothing was done on the host.
 */
export class HostUnavailableError extends DomainError {
  readonly code = 'HOST_UNAVAILABLE';
  constructor(
    readonly hostId: string,
    reason = 'did not answer in time',
  ) {
    super(`host ${hostId} is unavailable (${reason}); nothing was done there`);
    this.name = 'HostUnavailableError';
  }
}
