import {
  ConflictError,
  ForbiddenError,
  HostUnavailableError,
  LimitExceededError,
  NotFoundError,
  PortExhaustedError,
  RuntimeFailureError,
  RuntimeUnavailableError,
  ServiceUnavailableError,
  ValidationError,
} from '../shared/errors.js';
import type { CommandError } from './host-protocol.js';

/**
 * A command failed on the agent with a code that is not one of the domain's (INTERRUPTED,
 * INTERNAL, BAD_COMMAND, UNSUPPORTED_VERSION, or a handler's own). Deliberately not a
 * DomainError: its message comes from the host and is masked from API clients like any
 * unexpected error.
 */
export class HostCommandFailedError extends Error {
  constructor(
    readonly hostId: string,
    readonly commandId: string,
    readonly code: string,
    message: string,
  ) {
    super(`host ${hostId}: command ${commandId} failed (${code}): ${message}`);
    this.name = 'HostCommandFailedError';
  }
}

/**
 * The agent accepted the command but sent no result within the caller's timeout: it may still be
 * running or have finished. Not a DomainError (the outcome is unknown, so nothing clear can be said
 * to a client); callers reconcile with what the host reports later.
 */
export class HostCommandTimeoutError extends Error {
  readonly code = 'HOST_COMMAND_TIMEOUT';
  constructor(
    readonly hostId: string,
    readonly commandId: string,
    readonly timeoutMs: number,
  ) {
    super(`host ${hostId} accepted command ${commandId} but sent no result within ${timeoutMs} ms; its outcome is unknown`);
    this.name = 'HostCommandTimeoutError';
  }
}

function str(details: CommandError['details'], key: string, fallback: string): string {
  const v = details?.[key];
  return typeof v === 'string' ? v : fallback;
}

function num(details: CommandError['details'], key: string): number {
  const v = details?.[key];
  return typeof v === 'number' ? v : 0;
}

function roleOf(value: string): 'operator' | 'admin' | null {
  return value === 'operator' || value === 'admin' ? value : null;
}

/** Keeps the agent's exact message on an error whose constructor composes its own. */
function withMessage<E extends Error>(err: E, message: string): E {
  err.message = message;
  return err;
}

/**
 * The error a FAILED command result becomes on the API side: the matching DomainError class for
 * one of the domain's codes (same code, same message, the fields that came in `details`), else a
 * HostCommandFailedError.
 */
export function errorFromCommandFailure(hostId: string, commandId: string, error: CommandError): Error {
  const { code, message, details } = error;
  switch (code) {
    case 'NOT_FOUND':
      return withMessage(new NotFoundError(str(details, 'entity', 'object'), str(details, 'id', '')), message);
    case 'CONFLICT':
      return new ConflictError(message);
    case 'LIMIT_EXCEEDED':
      return withMessage(
        new LimitExceededError(str(details, 'limit', ''), num(details, 'max'), message, str(details, 'setting', '') || null),
        message,
      );
    case 'PORT_EXHAUSTED':
      return withMessage(new PortExhaustedError(str(details, 'host', hostId), num(details, 'from'), num(details, 'to')), message);
    case 'RUNTIME_UNAVAILABLE':
      return new RuntimeUnavailableError(message);
    case 'RUNTIME_FAILURE':
      return new RuntimeFailureError(message);
    case 'BAD_USER_INPUT':
      return withMessage(new ValidationError(str(details, 'field', 'input'), message), message);
    case 'FORBIDDEN':
      return withMessage(new ForbiddenError(message, roleOf(str(details, 'requiredRole', ''))), message);
    case 'SERVICE_UNAVAILABLE':
      return new ServiceUnavailableError(message);
    case 'HOST_UNAVAILABLE':
      return withMessage(new HostUnavailableError(str(details, 'hostId', hostId)), message);
    default:
      return new HostCommandFailedError(hostId, commandId, code, message);
  }
}
