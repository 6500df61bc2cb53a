import type { XrdpConfigVersion } from '../../domain/xrdp/xrdp-config.js';
import type { XrdpConfigStore } from '../../domain/xrdp/xrdp-config-store.js';

/** Versions in a Map keyed by number; copies in and out. */
export class MemoryXrdpConfigStore implements XrdpConfigStore {
  private readonly versions = new Map<number, XrdpConfigVersion>();

  async latest(): Promise<XrdpConfigVersion | null> {
    return (await this.list(1))[0] ?? null;
  }

  async insert(version: XrdpConfigVersion): Promise<boolean> {
    if (this.versions.has(version.version)) return false;
    this.versions.set(version.version, structuredClone(version));
    return true;
  }

  async list(limit: number): Promise<XrdpConfigVersion[]> {
    return [...this.versions.values()]
      .sort((a, b) => b.version - a.version)
      .slice(0, Math.max(0, limit))
      .map((v) => structuredClone(v));
  }
}
