import { ValidationError } from '../shared/errors.js';
import type { XrdpLogLevel, XrdpLogLine } from './xrdp-log.js';
import type { XrdpLogReader } from './xrdp-log-reader.js';

export const MAX_LOG_LINES = 1000;
export const DEFAULT_LOG_LINES = 100;

/**
 * Reading an instance's log. The caller has already been shown the server, so seeing it is the
 * authorization: its log is as visible as the server itself.
 */
export class XrdpLogService {
  constructor(private readonly reader: XrdpLogReader) {}

  async serverLogs(serverId: string, last = DEFAULT_LOG_LINES, level: XrdpLogLevel = 'TRACE'): Promise<XrdpLogLine[]> {
    if (!Number.isInteger(last) || last < 0 || last > MAX_LOG_LINES) {
      throw new ValidationError('last', `must be between 0 and ${MAX_LOG_LINES}`);
    }
    if (last === 0) return [];
    return this.reader.readRecent(serverId, last, level);
  }
}
