import { actorOf, SYSTEM_ACTOR } from '../audit/audit-event.js';
import { type AuditRecorder, audited } from '../audit/audit-service.js';
import { isAdmin, isOperator, type Viewer } from '../auth/viewer.js';
import type { Clock } from '../shared/clock.js';
import { ConflictError, ForbiddenError, ValidationError } from '../shared/errors.js';
import type { ResourceLimits, ResourceLimitsProvider } from './resource-limits.js';
import { applyLimitsUpdate, changedLimits } from './resource-limits-input.js';
import type { ResourceLimitsStore, ResourceLimitsVersion } from './resource-limits-store.js';

export interface ResourceLimitsServiceDeps {
  store: ResourceLimitsStore;
  /** In force until an admin stores a version (from the environment: MAX_CONCURRENT_*, ...). */
  defaults: ResourceLimits;
  clock: Clock;
  /**
   * How long admission reuses a read before asking the store again: another replica's change
   * applies here within this time, this replica's own at once. @default 1000
   */
  cacheMs?: number;
  audit?: AuditRecorder;
}

const TARGET = { type: 'resource_limits', id: 'global', name: null };

/**
 * The admin-editable limits document (docs/DOMAIN.md, "Resource limits"), stored in versions. It is
 * the ResourceLimitsProvider the servers and sessions areas read at admission.
 */
export class ResourceLimitsService implements ResourceLimitsProvider {
  private cached: { value: ResourceLimitsVersion; at: number } | null = null;
  private reading: Promise<ResourceLimitsVersion> | null = null;

  constructor(private readonly deps: ResourceLimitsServiceDeps) {}

  /** The limits in force (for admission). */
  async get(): Promise<ResourceLimits> {
    return (await this.current()).limits;
  }

  /** Operators and admins read the document with its version. */
  async read(viewer: Viewer): Promise<ResourceLimitsVersion> {
    if (!isOperator(viewer)) throw new ForbiddenError('reading resource limits', 'operator');
    return this.fresh();
  }

  /**
   * Admins change any subset of the fields. With `expectedVersion`, a document changed since is
   * a CONFLICT; without, the change applies to the latest version.
   */
  async update(viewer: Viewer, input: unknown, expectedVersion?: number): Promise<ResourceLimitsVersion> {
    return audited(
      this.deps.audit,
      { actor: actorOf(viewer), action: 'limits.update', target: TARGET, details: { expectedVersion: expectedVersion ?? null } },
      async () => {
        if (!isAdmin(viewer)) throw new ForbiddenError('changing resource limits', 'admin');
        if (expectedVersion !== undefined && (!Number.isInteger(expectedVersion) || expectedVersion < 0)) {
          throw new ValidationError('expectedVersion', 'must be a version number');
        }
        return this.write(viewer.userId, (latest) => {
          if (expectedVersion !== undefined && latest.version !== expectedVersion) {
            throw new ConflictError(`resource limits are at version ${latest.version}, not ${expectedVersion}; reload and retry`);
          }
          return applyLimitsUpdate(latest.limits, input);
        });
      },
      (w) => ({ details: { version: w.version, changes: w.changes } }),
    ).then(({ changes: _changes, ...version }) => version);
  }

  /**
   * Replaces the whole document as the service itself (embedding and tests). This replica uses
   * the new limits at once; the promise says whether they were stored, and never rejects, so a
   * caller that does not wait is safe.
   */
  set(limits: ResourceLimits): Promise<boolean> {
    const previous = this.cached?.value;
    this.cached = {
      value: { version: previous?.version ?? 0, limits, updatedBy: SYSTEM_ACTOR.name ?? 'system', updatedAt: this.now() },
      at: Number.POSITIVE_INFINITY,
    };
    // Until stored, reads keep answering with the new limits (the pinned cache never expires);
    // a write that fails unpins them, so the stored document applies again within cacheMs.
    return this.write('system', () => limits).then(
      () => true,
      () => {
        if (this.cached?.value.limits === limits) this.cached.at = Date.now();
        return false;
      },
    );
  }

  private async write(
    by: string,
    next: (latest: ResourceLimitsVersion) => ResourceLimits,
  ): Promise<ResourceLimitsVersion & { changes: { field: string; from: number; to: number }[] }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const latest = await this.stored();
      const limits = next(latest);
      const version: ResourceLimitsVersion = { version: latest.version + 1, limits, updatedBy: by, updatedAt: this.now() };
      if (await this.deps.store.insert(version)) {
        this.cached = { value: version, at: Date.now() };
        return { ...version, changes: changedLimits(latest.limits, limits) };
      }
    }
    throw new ConflictError('resource limits kept changing; retry');
  }

  private async current(): Promise<ResourceLimitsVersion> {
    const cached = this.cached;
    if (cached && Date.now() - cached.at < (this.deps.cacheMs ?? 1000)) return cached.value;
    return this.fresh();
  }

  /** The limits in force now: a pending set() first, else the store. */
  private async fresh(): Promise<ResourceLimitsVersion> {
    const value = await this.stored();
    const cached = this.cached;
    return cached && cached.at === Number.POSITIVE_INFINITY ? cached.value : value;
  }

  /** The latest stored version (or the defaults), one read at a time. */
  private stored(): Promise<ResourceLimitsVersion> {
    this.reading ??= this.deps.store
      .latest()
      .then((stored) => {
        const value = stored ?? {
          version: 0,
          limits: this.deps.defaults,
          updatedBy: 'system',
          updatedAt: new Date(0).toISOString(),
        };
        // A pending set() keeps its limits until they are stored.
        if (this.cached?.at !== Number.POSITIVE_INFINITY) this.cached = { value, at: Date.now() };
        return value;
      })
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}
