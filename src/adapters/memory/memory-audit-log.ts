import type { AuditEvent } from '../../domain/audit/audit-event.js';
import type { AuditFilter, AuditLog } from '../../domain/audit/audit-log.js';
import { type Cursor, compareByCursor } from '../../domain/shared/page.js';

const cursorOf = (e: AuditEvent): Cursor => ({ createdAt: e.time, id: e.id });

function matches(e: AuditEvent, f: AuditFilter): boolean {
  if (f.action !== undefined && e.action !== f.action) return false;
  if (f.actorId !== undefined && e.actor.userId !== f.actorId) return false;
  if (f.targetId !== undefined && e.target?.id !== f.targetId) return false;
  if (f.result !== undefined && e.result !== f.result) return false;
  if (f.since !== undefined && e.time < f.since) return false;
  if (f.until !== undefined && e.time >= f.until) return false;
  return true;
}

/**
 * Audit events in memory, for the embedded default. Keeps at most `maxEvents` (the oldest go
 * first), so a long-running process without a database does not grow without bound.
 */
export class MemoryAuditLog implements AuditLog {
  private readonly events: AuditEvent[] = [];

  constructor(private readonly maxEvents = 100_000) {}

  async append(event: AuditEvent): Promise<void> {
    this.events.push(structuredClone(event));
    if (this.events.length > this.maxEvents) this.events.splice(0, this.events.length - this.maxEvents);
  }

  async list(filter: AuditFilter, first: number, after?: Cursor): Promise<{ items: AuditEvent[]; hasNextPage: boolean }> {
    const newestFirst = this.events
      .filter((e) => matches(e, filter) && (!after || compareByCursor(cursorOf(e), after) < 0))
      .sort((a, b) => compareByCursor(cursorOf(b), cursorOf(a)));
    return { items: newestFirst.slice(0, first).map((e) => structuredClone(e)), hasNextPage: newestFirst.length > first };
  }

  async count(filter: AuditFilter): Promise<number> {
    return this.events.filter((e) => matches(e, filter)).length;
  }

  async deleteBefore(before: string): Promise<number> {
    const kept = this.events.filter((e) => e.time >= before);
    const removed = this.events.length - kept.length;
    this.events.splice(0, this.events.length, ...kept);
    return removed;
  }
}
