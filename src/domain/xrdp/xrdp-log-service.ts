import { ValidationError } from '../shared/errors.js';
import type { EventBus } from '../shared/event-publisher.js';
import { isAtLeast, type XrdpLogLevel, type XrdpLogLine } from './xrdp-log.js';
import type { XrdpLogFollowItem, XrdpLogReader } from './xrdp-log-reader.js';

export const MAX_LOG_LINES = 1000;
export const DEFAULT_LOG_LINES = 100;

/** What following a server's log hands out: the recent lines (SNAPSHOT), then each batch of new ones (LINES). */
export interface XrdpLogBatch {
  kind: 'SNAPSHOT' | 'LINES';
  lines: XrdpLogLine[];
  at: string;
}

const sameLine = (a: XrdpLogLine, b: XrdpLogLine) =>
  a.time === b.time && a.level === b.level && a.message === b.message && a.pid === b.pid;

/**
 * The lines of `followed` (received since following began) that `snapshot` (read after that)
 * does not end with: the longest run at the start of `followed` that is also the end of
 * `snapshot` was read twice.
 */
export function notInSnapshot(snapshot: XrdpLogLine[], followed: XrdpLogLine[]): XrdpLogLine[] {
  for (let k = Math.min(snapshot.length, followed.length); k > 0; k--) {
    const tail = snapshot.slice(snapshot.length - k);
    if (tail.every((line, i) => sameLine(line, followed[i] as XrdpLogLine))) return followed.slice(k);
  }
  return followed;
}

/**
 * Reading an instance's log. The caller has already been shown the server, so seeing it is the
 * authorization: its log is as visible as the server itself.
 */
export class XrdpLogService {
  constructor(
    private readonly reader: XrdpLogReader,
    /** Where a server's deletion is heard (ends a follow). */
    private readonly events?: Pick<EventBus, 'subscribe'>,
  ) {}

  async serverLogs(serverId: string, last = DEFAULT_LOG_LINES, level: XrdpLogLevel = 'TRACE'): Promise<XrdpLogLine[]> {
    checkLast(last);
    if (last === 0) return [];
    return this.reader.readRecent(serverId, last, level);
  }

  /**
   * The last `last` lines at `level` or above (SNAPSHOT), then each batch of new lines at that
   * level as they are written (LINES), a new SNAPSHOT when lines may have been missed (the bus
   * was away), until the server is deleted (`exists` answers false at the start, or DELETED is
   * published). Following is shared: one tail per server in this process, whatever the number
   * of followers. The caller has been shown the server (see serverLogs).
   */
  follow(
    serverId: string,
    last: number,
    level: XrdpLogLevel,
    exists: () => Promise<boolean>,
  ): AsyncIterableIterator<XrdpLogBatch> {
    checkLast(last);
    const control = { ended: false, wake: null as (() => void) | null };
    const generator = this.followChecked(serverId, last, level, exists, control);
    // A generator waiting for lines takes a return() only at its next yield: the subscriber's
    // leaving wakes it first, so the tail stops at once and not with the next line.
    const close = () => {
      control.ended = true;
      const wake = control.wake;
      control.wake = null;
      wake?.();
    };
    return {
      next: () => generator.next(),
      return: (value?: unknown) => {
        close();
        return generator.return(value as undefined);
      },
      throw: (err?: unknown) => {
        close();
        return generator.throw(err);
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  private async *followChecked(
    serverId: string,
    last: number,
    level: XrdpLogLevel,
    exists: () => Promise<boolean>,
    control: { ended: boolean; wake: (() => void) | null },
  ): AsyncGenerator<XrdpLogBatch> {
    const queue: XrdpLogFollowItem[] = [];
    const signal = () => {
      const w = control.wake;
      control.wake = null;
      w?.();
    };
    const deletions = this.events?.subscribe('server:changed', serverId)[Symbol.asyncIterator]();
    void (async () => {
      while (deletions) {
        const next = await deletions.next();
        if (next.done || next.value.kind === 'DELETED') break;
      }
      if (deletions) {
        control.ended = true;
        signal();
      }
    })();
    const following = this.reader.follow(serverId, (item) => {
      queue.push(item);
      signal();
    });
    const atLevel = (lines: XrdpLogLine[]) => lines.filter((l) => isAtLeast(l.level, level));
    const snapshot = async (): Promise<XrdpLogBatch> => {
      const before = queue.length;
      const lines = await this.serverLogs(serverId, last, level);
      // What arrived before the read ended may be in the snapshot already: the longest run of it
      // the snapshot ends with is dropped. A resync that came during the read still counts.
      const items = queue.splice(0);
      const resyncDuring = items.slice(before).some((i) => i.kind === 'resync');
      const rest = notInSnapshot(lines, atLevel(items.flatMap((i) => (i.kind === 'lines' ? i.lines : []))));
      if (resyncDuring) queue.push({ kind: 'resync' });
      else if (rest.length > 0) queue.push({ kind: 'lines', lines: rest });
      return { kind: 'SNAPSHOT', lines, at: new Date().toISOString() };
    };
    try {
      if (!(await exists())) return;
      // The snapshot is read once the tail is positioned, so no line falls between the two.
      await following.ready;
      yield await snapshot();
      while (!control.ended) {
        if (queue.length === 0) {
          await new Promise<void>((resolve) => {
            control.wake = resolve;
          });
          continue;
        }
        if (queue.some((i) => i.kind === 'resync')) {
          queue.length = 0;
          yield await snapshot();
          continue;
        }
        const lines = atLevel(queue.splice(0).flatMap((i) => (i.kind === 'lines' ? i.lines : [])));
        if (lines.length > 0) yield { kind: 'LINES', lines, at: new Date().toISOString() };
      }
    } finally {
      control.ended = true;
      following.stop();
      await deletions?.return?.();
    }
  }
}

function checkLast(last: number): void {
  if (!Number.isInteger(last) || last < 0 || last > MAX_LOG_LINES) {
    throw new ValidationError('last', `must be between 0 and ${MAX_LOG_LINES}`);
  }
}
