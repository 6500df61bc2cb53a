import { isOperator, type Viewer } from '../auth/viewer.js';
import type { Clock, IdGenerator } from '../shared/clock.js';
import {
  DomainError,
  ForbiddenError,
  LimitExceededError,
  NotFoundError,
  ServiceUnavailableError,
  UnauthenticatedError,
  ValidationError,
} from '../shared/errors.js';
import { decodeCursor, MAX_PAGE_SIZE, type Page, type PageRequest } from '../shared/page.js';
import {
  type AuditActor,
  type AuditDetails,
  type AuditEvent,
  type AuditResult,
  type AuditTarget,
  sanitizeDetails,
} from './audit-event.js';
import type { AuditFilter, AuditLog } from './audit-log.js';

/** One thing to record; time, id and the cleaning of details are the recorder's job. */
export interface AuditEntry {
  actor: AuditActor;
  action: string;
  target?: AuditTarget | null;
  result: AuditResult;
  details?: Record<string, unknown>;
}

/**
 * What services hold. `record` never rejects: an audit write that fails is reported through the
 * recorder's error hook and the action's own outcome stands.
 */
export interface AuditRecorder {
  record(entry: AuditEntry): Promise<void>;
}

export interface AuditServiceDeps {
  log: AuditLog;
  clock: Clock;
  newId: IdGenerator;
  /** Told about every event that could not be stored. */
  onError?: (err: unknown, event: AuditEvent) => void;
  /** How long events are kept. @default 365 */
  retentionDays?: number;
}

/** Records audit events and lets operators and admins read them (docs/DOMAIN.md, "Audit events"). */
export class AuditService implements AuditRecorder {
  constructor(private readonly deps: AuditServiceDeps) {}

  async record(entry: AuditEntry): Promise<void> {
    const event: AuditEvent = {
      id: this.deps.newId(),
      time: this.deps.clock.now().toISOString(),
      actor: entry.actor,
      action: entry.action,
      target: entry.target ?? null,
      result: entry.result,
      details: sanitizeDetails(entry.details),
    };
    try {
      await this.deps.log.append(event);
    } catch (err) {
      this.deps.onError?.(err, event);
    }
  }

  async list(viewer: Viewer, filter: AuditFilter, page: PageRequest): Promise<Page<AuditEvent>> {
    if (!isOperator(viewer)) throw new ForbiddenError('reading audit events', 'operator');
    if (!Number.isInteger(page.first) || page.first < 0 || page.first > MAX_PAGE_SIZE) {
      throw new ValidationError('first', `must be between 0 and ${MAX_PAGE_SIZE}`);
    }
    const after = page.after === undefined ? undefined : decodeCursor(page.after);
    if (after === null) throw new ValidationError('after', 'is not a cursor from this API');
    if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) {
      throw new ValidationError('filter.until', 'must be later than since');
    }
    const [{ items, hasNextPage }, totalCount] = await Promise.all([
      this.deps.log.list(filter, page.first, after),
      this.deps.log.count(filter),
    ]);
    return { items, hasNextPage, totalCount };
  }

  /** Removes events past the retention (a job on every replica runs it; deleting twice is harmless). */
  async prune(): Promise<number> {
    const days = this.deps.retentionDays ?? 365;
    const before = new Date(this.deps.clock.now().getTime() - days * 86_400_000).toISOString();
    return this.deps.log.deleteBefore(before);
  }
}

/**
 * How a failed action is recorded, or null when it is not: authentication and role refusals are
 * recorded by the API layer (as FORBIDDEN/UNAUTHENTICATED with the operation they hit).
 */
export function outcomeOf(err: unknown): { result: AuditResult; details: AuditDetails } | null {
  if (err instanceof UnauthenticatedError || err instanceof ForbiddenError) return null;
  // The audit lives in the same database: nothing was done, and there is nowhere to write it.
  if (err instanceof ServiceUnavailableError) return null;
  if (err instanceof LimitExceededError) {
    return { result: 'DENIED', details: { code: err.code, limit: err.limit, max: err.max } };
  }
  // Someone else's object: the caller was told NOT_FOUND, the audit says what it was.
  if (err instanceof NotFoundError && err.hidden) return { result: 'DENIED', details: { code: 'NOT_OWNER' } };
  if (err instanceof ValidationError) {
    const fields = [...new Set(err.problems.map((p) => p.field))];
    return { result: 'FAILURE', details: { code: err.code, field: err.field, ...(fields.length > 1 ? { fields } : {}) } };
  }
  if (err instanceof DomainError) return { result: 'FAILURE', details: { code: err.code, message: err.message } };
  return { result: 'FAILURE', details: { code: 'INTERNAL' } };
}

/**
 * Runs an action and records its outcome: SUCCESS with what `describe` says about the result, or
 * the failure as `outcomeOf` classifies it. The action's result or error is passed through.
 */
export async function audited<T>(
  audit: AuditRecorder | undefined,
  what: { actor: AuditActor; action: string; target: AuditTarget | null; details?: Record<string, unknown> },
  run: () => Promise<T>,
  describe?: (result: T) => { target?: AuditTarget; details?: Record<string, unknown> },
): Promise<T> {
  if (!audit) return run();
  let result: T;
  try {
    result = await run();
  } catch (err) {
    const outcome = outcomeOf(err);
    if (outcome) {
      await audit.record({ ...what, result: outcome.result, details: { ...what.details, ...outcome.details } });
    }
    throw err;
  }
  const extra = describe?.(result) ?? {};
  await audit.record({
    actor: what.actor,
    action: what.action,
    target: extra.target ?? what.target,
    result: 'SUCCESS',
    details: { ...what.details, ...extra.details },
  });
  return result;
}
