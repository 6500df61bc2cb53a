import { actorOf } from '../audit/audit-event.js';
import { type AuditRecorder, audited } from '../audit/audit-service.js';
import { isOperator, type Viewer } from '../auth/viewer.js';
import { type ClaimStore, releaseOrphanClaims } from '../shared/claim-store.js';
import type { Clock, IdGenerator } from '../shared/clock.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../shared/errors.js';
import type { EventPublisher } from '../shared/event-publisher.js';
import { decodeCursor, MAX_PAGE_SIZE, type Page, type PageRequest } from '../shared/page.js';
import {
  ALERT_CLAIM_PREFIX,
  ALERT_RESOURCES,
  type Alert,
  type AlertThresholds,
  alertClaimKey,
  alertMessage,
  DEFAULT_THRESHOLDS,
  measure,
  parseAlertClaimKey,
  severityOf,
  thresholdOf,
} from './alert.js';
import type { AlertFilter, AlertStore } from './alert-store.js';
import type { ResourceSample, SubjectKind } from './resource-sample.js';

/** What an alert says about its subject, known to the collector when it samples it. */
export interface SubjectInfo {
  kind: SubjectKind;
  name: string | null;
  /** Owner and creator of the subject; empty for the host. */
  visibleTo: string[];
}

export interface AlertServiceDeps {
  store: AlertStore;
  claims: ClaimStore;
  events: EventPublisher;
  clock: Clock;
  newId: IdGenerator;
  /** The host this replica collects for; only its own alerts are settled when a subject goes. */
  host: string;
  /** @default DEFAULT_THRESHOLDS (docs/DOMAIN.md) */
  thresholds?: AlertThresholds;
  /** Resolved alerts are kept this many days. @default 30 */
  retentionDays?: number;
  /** Records operators resolving alerts (refusals included). */
  audit?: AuditRecorder;
}

/**
 * Alerts: raised when a sampled value goes strictly above its threshold, at most one unresolved
 * per (subject, resource), resolved when the value falls back or the subject stops being
 * measured. The "at most one" is a claim `alert:<subject>:<resource>` inserted before the alert
 * and released once the episode is over, so it holds on FerretDB and across replicas. An operator
 * may resolve an alert by hand; the claim then stays until the value has fallen back, so a value
 * that never dropped does not raise the same alert again at once.
 */
export class AlertService {
  constructor(private readonly deps: AlertServiceDeps) {}

  async get(viewer: Viewer, id: string): Promise<Alert> {
    const alert = await this.deps.store.findById(id);
    if (!alert || !this.visible(viewer, alert)) throw new NotFoundError('alert', id);
    return alert;
  }

  async list(viewer: Viewer, filter: Omit<AlertFilter, 'visibleTo'>, page: PageRequest): Promise<Page<Alert>> {
    if (!Number.isInteger(page.first) || page.first < 0 || page.first > MAX_PAGE_SIZE) {
      throw new ValidationError('first', `must be between 0 and ${MAX_PAGE_SIZE}`);
    }
    const after = page.after === undefined ? undefined : decodeCursor(page.after);
    if (after === null) throw new ValidationError('after', 'is not a cursor from this API');
    const scoped: AlertFilter = { ...filter, ...(isOperator(viewer) ? {} : { visibleTo: viewer.userId }) };
    const [{ items, hasNextPage }, totalCount] = await Promise.all([
      this.deps.store.list(scoped, page.first, after),
      this.deps.store.count(scoped),
    ]);
    return { items, hasNextPage, totalCount };
  }

  /** An operator or admin marks an alert resolved (audited as `alert.resolve`). */
  async resolve(viewer: Viewer, id: string): Promise<Alert> {
    return audited(
      this.deps.audit,
      { actor: actorOf(viewer), action: 'alert.resolve', target: { type: 'alert', id, name: null } },
      async () => {
        if (!isOperator(viewer)) throw new ForbiddenError('resolving alerts', 'operator');
        const alert = await this.deps.store.findById(id);
        if (!alert) throw new NotFoundError('alert', id);
        if (alert.resolvedAt !== null) throw new ConflictError('alert is already resolved');
        const resolved = await this.markResolved(alert, viewer.userId);
        if (!resolved) throw new ConflictError('alert was resolved meanwhile');
        return resolved;
      },
      (a) => ({
        target: { type: 'alert', id: a.id, name: a.subjectName },
        details: { subjectId: a.subjectId, resource: a.resource, severity: a.severity, value: a.value },
      }),
    );
  }

  /** Whether the viewer may see the alert: operators all, users those of their own subjects. */
  visible(viewer: Viewer, alert: Alert): boolean {
    return isOperator(viewer) || alert.visibleTo.includes(viewer.userId);
  }

  /**
   * One collection round: raises and resolves alerts for the samples. Subjects with an open
   * alert of this host that the round did not sample (stopped server, ended session) resolve.
   */
  async evaluate(
    samples: readonly ResourceSample[],
    info: ReadonlyMap<string, SubjectInfo>,
  ): Promise<{ raised: number; resolved: number }> {
    const thresholds = this.deps.thresholds ?? DEFAULT_THRESHOLDS;
    const open = new Map((await this.deps.claims.list(ALERT_CLAIM_PREFIX)).map((c) => [c.key, c.owner]));
    let raised = 0;
    let resolved = 0;
    for (const sample of samples) {
      for (const resource of ALERT_RESOURCES) {
        const value = measure(resource, sample);
        if (value === null) continue;
        const key = alertClaimKey(sample.subjectId, resource);
        const threshold = thresholdOf(resource, thresholds);
        const owner = open.get(key);
        if (value > threshold) {
          if (owner === undefined && (await this.raise(key, sample, resource, value, threshold, info.get(sample.subjectId)))) {
            raised++;
          }
        } else if (owner !== undefined && (await this.settle(key, owner))) {
          resolved++;
        }
      }
    }
    const sampled = new Set(samples.map((s) => s.subjectId));
    for (const [key, owner] of open) {
      const parsed = parseAlertClaimKey(key);
      if (!parsed || sampled.has(parsed.subjectId)) continue;
      const alert = await this.deps.store.findById(owner);
      if (alert?.host === this.deps.host && (await this.settle(key, owner))) resolved++;
    }
    return { raised, resolved };
  }

  /** Deletes resolved alerts past retention and frees claims whose alert was never written. */
  async prune(): Promise<{ deleted: number; freedClaims: number }> {
    const now = this.deps.clock.now();
    const before = new Date(now.getTime() - (this.deps.retentionDays ?? 30) * 86_400_000).toISOString();
    const deleted = await this.deps.store.deleteResolvedBefore(before);
    const freedClaims = await releaseOrphanClaims(this.deps.claims, [ALERT_CLAIM_PREFIX], now, async (owners) => {
      const found = await Promise.all(owners.map((id) => this.deps.store.findById(id)));
      return new Set(found.filter((a): a is Alert => a !== null).map((a) => a.id));
    });
    return { deleted, freedClaims };
  }

  private async raise(
    key: string,
    sample: ResourceSample,
    resource: Alert['resource'],
    value: number,
    threshold: number,
    info: SubjectInfo | undefined,
  ): Promise<boolean> {
    const id = this.deps.newId();
    if (!(await this.deps.claims.tryClaim(key, id))) return false;
    const name = info?.name ?? null;
    const alert: Alert = {
      id,
      severity: severityOf(resource, value),
      resource,
      subjectKind: sample.subjectKind,
      subjectId: sample.subjectId,
      subjectName: name,
      host: this.deps.host,
      threshold,
      value: Math.round(value * 100) / 100,
      message: alertMessage(resource, sample.subjectKind, name, value, threshold),
      createdAt: this.deps.clock.now().toISOString(),
      resolvedAt: null,
      resolvedBy: null,
      visibleTo: info?.visibleTo ?? [],
      version: 1,
    };
    try {
      await this.deps.store.insert(alert);
    } catch (err) {
      await this.deps.claims.release(key, id);
      throw err;
    }
    this.publish('RAISED', alert);
    return true;
  }

  /** Ends an episode: resolves the alert if it is still open, then frees its claim. */
  private async settle(key: string, alertId: string): Promise<boolean> {
    const alert = await this.deps.store.findById(alertId);
    let resolvedNow = false;
    if (alert && alert.resolvedAt === null) resolvedNow = (await this.markResolved(alert, null)) !== null;
    await this.deps.claims.release(key, alertId);
    return resolvedNow;
  }

  private async markResolved(alert: Alert, by: string | null): Promise<Alert | null> {
    const next: Alert = { ...alert, resolvedAt: this.deps.clock.now().toISOString(), resolvedBy: by, version: alert.version + 1 };
    if (!(await this.deps.store.compareAndSet(next, alert.version))) return null;
    this.publish('RESOLVED', next);
    return next;
  }

  private publish(kind: 'RAISED' | 'RESOLVED', alert: Alert): void {
    this.deps.events.publish('alert:changed', 'all', { kind, alert, at: this.deps.clock.now().toISOString() });
  }
}

/** Users who may see alerts and samples of an owned subject. */
export const ownersOf = (o: { owner: string; createdBy: string }): string[] => [...new Set([o.owner, o.createdBy])];
