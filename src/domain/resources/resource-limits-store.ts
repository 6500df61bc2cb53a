import type { ResourceLimits } from './resource-limits.js';

/** One stored version of the limits document. */
export interface ResourceLimitsVersion {
  /** 1 for the first stored version; 0 stands for the defaults from the environment. */
  version: number;
  limits: ResourceLimits;
  updatedBy: string;
  /** ISO-8601 UTC. */
  updatedAt: string;
}

/**
 * The limits document, versioned: a change inserts version n+1, and the insert against a unique
 * version is the compare-and-set (one of several concurrent writers wins, on every backend).
 */
export interface ResourceLimitsStore {
  latest(): Promise<ResourceLimitsVersion | null>;
  /** False when that version exists already (another writer won). */
  insert(version: ResourceLimitsVersion): Promise<boolean>;
}
