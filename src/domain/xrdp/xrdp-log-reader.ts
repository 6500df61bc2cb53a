import type { XrdpLogLevel, XrdpLogLine } from './xrdp-log.js';

/** What following a log hands out: new lines, or word that some may have been missed. */
export type XrdpLogFollowItem = { kind: 'lines'; lines: XrdpLogLine[] } | { kind: 'resync' };

/** Reads the xrdp log of one server's instance. The file-based one is in adapters/xrdp. */
export interface XrdpLogReader {
  /**
   * The last `last` parsed lines at `minLevel` or more severe, oldest first. A missing log (the
   * server never ran) reads as empty.
   */
  readRecent(serverId: string, last: number, minLevel: XrdpLogLevel): Promise<XrdpLogLine[]>;
  /**
   * Every line written to the server's log from now on, all levels, in batches as they are
   * written (a log that does not exist yet is followed from its first line). One source per
   * server in this process, shared by every listener; it stops with the last one. Returns the
   * function that removes the listener.
   */
  follow(serverId: string, listener: (item: XrdpLogFollowItem) => void): () => void;
}

/**
 * One source per key shared by all its listeners: started for the first listener, stopped
 * when the last one leaves.
 */
export function sharedFollows<T>(start: (key: string, emit: (item: T) => void) => () => void) {
  const sources = new Map<string, { listeners: Set<(item: T) => void>; stop: () => void }>();
  return (key: string, listener: (item: T) => void): (() => void) => {
    let source = sources.get(key);
    if (!source) {
      const listeners = new Set<(item: T) => void>();
      const emit = (item: T) => {
        for (const l of [...listeners]) l(item);
      };
      source = { listeners, stop: () => undefined };
      sources.set(key, source);
      source.stop = start(key, emit);
    }
    const entry = source;
    entry.listeners.add(listener);
    return () => {
      if (!entry.listeners.delete(listener) || entry.listeners.size > 0) return;
      if (sources.get(key) === entry) sources.delete(key);
      entry.stop();
    };
  };
}
