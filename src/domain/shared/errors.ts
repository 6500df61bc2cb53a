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

/** A configured cap (servers, sessions, host load, ...) would be exceeded. */
export class LimitExceededError extends DomainError {
  readonly code = 'LIMIT_EXCEEDED';
  constructor(
    readonly limit: string,
    readonly max: number,
    message: string,
    /** What changes the cap, for the person refused: a mutation field and/or a setting. */
    readonly setting: string | null = null,
  ) {
    super(setting ? `${message}; ${setting}` : message);
    this.name = 'LimitExceededError';
    // A refusal is an answer, not a fault: 900 of them in a burst against a full cap, each read
    // by the GraphQL error union (which copies the error's properties, formatting a captured
    // stack, source-mapped where maps are on). Its stack is its name and message.
    Object.defineProperty(this, 'stack', {
      value: `${this.name}: ${this.message}`,
      writable: true,
      configurable: true,
      enumerable: false,
    });
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

/** One problem of an input: `field` is its path, e.g. `configuration.resolution`. */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * Input broke one or more rules. Every problem of the input is listed in `problems`, so a person
 * fixes them in one round; `field` is the first one's path (what clients read before lists).
 */
export class ValidationError extends DomainError {
  readonly code = 'BAD_USER_INPUT';
  readonly problems: readonly FieldProblem[];
  /** The first problem's path; an own field, so it travels with the error to and from host agents. */
  readonly field: string;
  constructor(field: string, message: string);
  constructor(problems: readonly FieldProblem[]);
  constructor(fieldOrProblems: string | readonly FieldProblem[], message?: string) {
    const problems =
      typeof fieldOrProblems === 'string' ? [{ field: fieldOrProblems, message: message ?? 'is invalid' }] : fieldOrProblems;
    const all = problems.length > 0 ? problems : [{ field: 'input', message: 'is invalid' }];
    super(all.map((p) => `${p.field}: ${p.message}`).join('; '));
    this.problems = all;
    this.field = all[0]?.field ?? 'input';
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
  /**
   * With a role, `what` is the operation, e.g. "changing the xrdp configuration", and the message
   * says which role it needs (operators include admins); without, `what` is the whole message.
   */
  constructor(
    what: string,
    readonly requiredRole: 'operator' | 'admin' | null = null,
  ) {
    super(
      requiredRole === 'admin'
        ? `${what} requires the admin role`
        : requiredRole === 'operator'
          ? `${what} requires the operator or admin role`
          : what,
    );
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
