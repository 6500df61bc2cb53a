import type { Alert } from '../../domain/resources/alert.js';
import type { AlertFilter, AlertStore } from '../../domain/resources/alert-store.js';
import { type Cursor, compareByCursor } from '../../domain/shared/page.js';

function matches(a: Alert, f: AlertFilter): boolean {
  if (f.severity !== undefined && a.severity !== f.severity) return false;
  if (f.resolved !== undefined && (a.resolvedAt !== null) !== f.resolved) return false;
  if (f.subjectId !== undefined && a.subjectId !== f.subjectId) return false;
  if (f.visibleTo !== undefined && !a.visibleTo.includes(f.visibleTo)) return false;
  return true;
}

/** Alerts in a Map; copies in and out. */
export class MemoryAlertStore implements AlertStore {
  private readonly alerts = new Map<string, Alert>();

  async insert(alert: Alert): Promise<void> {
    if (this.alerts.has(alert.id)) throw new Error(`duplicate alert id ${alert.id}`);
    this.alerts.set(alert.id, structuredClone(alert));
  }

  async findById(id: string): Promise<Alert | null> {
    const a = this.alerts.get(id);
    return a ? structuredClone(a) : null;
  }

  async compareAndSet(next: Alert, expectedVersion: number): Promise<boolean> {
    const current = this.alerts.get(next.id);
    if (!current || current.version !== expectedVersion) return false;
    this.alerts.set(next.id, structuredClone(next));
    return true;
  }

  async list(filter: AlertFilter, first: number, after?: Cursor): Promise<{ items: Alert[]; hasNextPage: boolean }> {
    const sorted = [...this.alerts.values()].filter((a) => matches(a, filter)).sort((a, b) => compareByCursor(b, a));
    const start = after ? sorted.filter((a) => compareByCursor(a, after) < 0) : sorted;
    return { items: start.slice(0, first).map((a) => structuredClone(a)), hasNextPage: start.length > first };
  }

  async count(filter: AlertFilter): Promise<number> {
    let n = 0;
    for (const a of this.alerts.values()) if (matches(a, filter)) n++;
    return n;
  }

  async deleteResolvedBefore(before: string): Promise<number> {
    let n = 0;
    for (const [id, a] of this.alerts) {
      if (a.resolvedAt !== null && a.resolvedAt < before) {
        this.alerts.delete(id);
        n++;
      }
    }
    return n;
  }
}
