import type { XrdpLogLevel, XrdpLogLine } from './xrdp-log.js';

/** What following a log hands out: new lines, or word that some may have been missed. */
export type XrdpLogFollowItem = { kind: 'lines'; lines: XrdpLogLine[] } | { kind: 'resync' };

/** One listener's follow of a log. */
export interface XrdpLogFollow {
  /** Settles once the source is positioned: every line written after it reaches the listener. */
  ready: Promise<void>;
  /** Removes the listener (the source stops with the last one). */
  stop(): void;
}

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
   * server in this process, shared by every listener; it stops with the last one.
   */
  follow(serverId: string, listener: (item: XrdpLogFollowItem) => void): XrdpLogFollow;
}

/**
 * One source per key shared by all its listeners: started for the first listener, stopped
 * when the last one leaves.
 */
export function sharedFollows<T>(start: (key: string, emit: (item: T) => void) => XrdpLogFollow) {
  const sources = new Map<string, { listeners: Set<(item: T) => void>; source: XrdpLogFollow }>();
  return (key: string, listener: (item: T) => void): XrdpLogFollow => {
    let entry = sources.get(key);
    if (!entry) {
      const listeners = new Set<(item: T) => void>();
      const emit = (item: T) => {
        for (const l of [...listeners]) l(item);
      };
      entry = { listeners, source: { ready: Promise.resolve(), stop: () => undefined } };
      sources.set(key, entry);
      entry.source = start(key, emit);
    }
    const shared = entry;
    shared.listeners.add(listener);
    return {
      ready: shared.source.ready,
      stop: () => {
        if (!shared.listeners.delete(listener) || shared.listeners.size > 0) return;
        if (sources.get(key) === shared) sources.delete(key);
        shared.source.stop();
      },
    };
  };
}
