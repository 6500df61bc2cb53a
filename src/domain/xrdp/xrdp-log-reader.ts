import type { XrdpLogLevel, XrdpLogLine } from './xrdp-log.js';

/** Reads the xrdp log of one server's instance. The file-based one is in adapters/xrdp. */
export interface XrdpLogReader {
  /**
   * The last `last` parsed lines at `minLevel` or more severe, oldest first. A missing log (the
   * server never ran) reads as empty.
   */
  readRecent(serverId: string, last: number, minLevel: XrdpLogLevel): Promise<XrdpLogLine[]>;
}
