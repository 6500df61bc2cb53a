import type { ResourceLimitsStore, ResourceLimitsVersion } from '../../domain/resources/resource-limits-store.js';

/** Versions of the limits document in a Map keyed by number; copies in and out. */
export class MemoryLimitsStore implements ResourceLimitsStore {
  private readonly versions = new Map<number, ResourceLimitsVersion>();

  async latest(): Promise<ResourceLimitsVersion | null> {
    let newest: ResourceLimitsVersion | null = null;
    for (const v of this.versions.values()) if (!newest || v.version > newest.version) newest = v;
    return newest ? structuredClone(newest) : null;
  }

  async insert(version: ResourceLimitsVersion): Promise<boolean> {
    if (this.versions.has(version.version)) return false;
    this.versions.set(version.version, structuredClone(version));
    return true;
  }
}
