import type { Cursor } from '../shared/page.js';
import type { AuditEvent, AuditResult } from './audit-event.js';

export interface AuditFilter {
  action?: string | undefined;
  actorId?: string | undefined;
  targetId?: string | undefined;
  result?: AuditResult | undefined;
  /** ISO time, inclusive. */
  since?: string | undefined;
  /** ISO time, exclusive. */
  until?: string | undefined;
}

/**
 * Where audit events are kept. Lists are newest first, ordered by (time, id) descending; the
 * cursor's `createdAt` is the event time.
 */
export interface AuditLog {
  append(event: AuditEvent): Promise<void>;
  list(filter: AuditFilter, first: number, after?: Cursor): Promise<{ items: AuditEvent[]; hasNextPage: boolean }>;
  count(filter: AuditFilter): Promise<number>;
  /** Removes events older than `before` (ISO); returns how many. */
  deleteBefore(before: string): Promise<number>;
}
