import type { XrdpConfigVersion } from './xrdp-config.js';

/**
 * Versions of the host-wide xrdp configuration. A version is written once and never changed;
 * the version number is the unique key, so of two writers of the same number exactly one wins.
 */
export interface XrdpConfigStore {
  /** The highest version, or null when none was ever written. */
  latest(): Promise<XrdpConfigVersion | null>;
  /** Writes a new version; false when that version number already exists. */
  insert(version: XrdpConfigVersion): Promise<boolean>;
  /** Up to `limit` versions, newest first. */
  list(limit: number): Promise<XrdpConfigVersion[]>;
}
