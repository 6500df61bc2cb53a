import type { Cursor } from '../shared/page.js';
import type { Alert, AlertSeverity } from './alert.js';

export interface AlertFilter {
  severity?: AlertSeverity | undefined;
  /** true: resolved only; false: open only. */
  resolved?: boolean | undefined;
  subjectId?: string | undefined;
  /** Only alerts this user may see (listed in `visibleTo`). */
  visibleTo?: string | undefined;
}

/** Persistence of alerts. Lists are newest first, by (createdAt, id) descending. */
export interface AlertStore {
  insert(alert: Alert): Promise<void>;
  findById(id: string): Promise<Alert | null>;
  /** Same contract as ServerStore.compareAndSet: one of several concurrent writers wins. */
  compareAndSet(next: Alert, expectedVersion: number): Promise<boolean>;
  list(filter: AlertFilter, first: number, after?: Cursor): Promise<{ items: Alert[]; hasNextPage: boolean }>;
  count(filter: AlertFilter): Promise<number>;
  /** Removes resolved alerts resolved before `before` (ISO); returns how many. */
  deleteResolvedBefore(before: string): Promise<number>;
}
