import { type FSWatcher, watch } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventPublisher } from '../../domain/shared/event-publisher.js';
import { parseXrdpLogLine } from '../../domain/xrdp/xrdp-log.js';
import { type XrdpSessionEvent, XrdpSessionEventTracker } from '../../domain/xrdp/xrdp-session-events.js';
import { instancePaths } from './instance-paths.js';
import { createLogTailer, type LogTailer } from './log-tailer.js';
import { isAlive } from './procfs.js';

export interface XrdpSessionWatcherOptions {
  /** sesman's log (the host's one sesman). */
  sesmanLog: string;
  events: EventPublisher;
  /**
   * XRDP_CONFIG_PATH: every `servers/<id>/xrdp.log` under it is followed, found by a scan. Leave
   * it out to follow only what watchServer is given.
   */
  configPath?: string;
  /** @default 1000 */
  scanIntervalMs?: number;
  /** How often the xrdp process of each logged-in connection is checked. @default 1000 */
  livenessIntervalMs?: number;
  /** Poll interval of the tailers (they also watch). @default 250 */
  pollIntervalMs?: number;
  /** Told about every event as it is published (logging, metrics). */
  onEvent?: (event: XrdpSessionEvent) => void;
}

export interface XrdpSessionWatcher {
  /** Resolves once the sesman log and the instance logs found at start are being followed. */
  readonly ready: Promise<void>;
  /** Follows a server's xrdp log from its current end (the path defaults to the instance layout). */
  watchServer(serverId: string, logPath?: string, from?: number | 'end'): Promise<void>;
  unwatchServer(serverId: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Follows the sesman log and each instance's xrdp log, turns their lines into session events
 * (XrdpSessionEventTracker) and publishes them on `xrdp:session-event`. A client that goes
 * without a log line (the session was ended under it) is noticed when its xrdp process exits.
 */
export function createXrdpSessionWatcher(options: XrdpSessionWatcherOptions): XrdpSessionWatcher {
  const tracker = new XrdpSessionEventTracker();
  const instances = new Map<string, LogTailer>();
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  let stopped = false;
  let dirWatcher: FSWatcher | null = null;

  function publish(events: XrdpSessionEvent[]): void {
    for (const event of events) {
      options.events.publish('xrdp:session-event', event.serverId, event);
      options.onEvent?.(event);
    }
  }

  const sesman = createLogTailer({
    path: options.sesmanLog,
    pollIntervalMs,
    onLine: (raw) => {
      const line = parseXrdpLogLine(raw);
      if (line) publish(tracker.sesmanLine(line));
    },
  });

  async function watchServer(serverId: string, logPath?: string, from: number | 'end' = 'end'): Promise<void> {
    if (stopped || instances.has(serverId)) return;
    const tailer = createLogTailer({
      path: logPath ?? instancePaths(options.configPath ?? '/', serverId).log,
      from,
      pollIntervalMs,
      onLine: (raw) => {
        const line = parseXrdpLogLine(raw);
        if (line) publish(tracker.instanceLine(serverId, line));
      },
    });
    instances.set(serverId, tailer);
    await tailer.ready;
  }

  async function unwatchServer(serverId: string): Promise<void> {
    const tailer = instances.get(serverId);
    instances.delete(serverId);
    tracker.forgetServer(serverId);
    await tailer?.stop();
  }

  let scanning: Promise<void> | null = null;
  let firstScan = true;
  function scan(): Promise<void> {
    const configPath = options.configPath;
    if (!configPath || stopped) return Promise.resolve();
    scanning ??= (async () => {
      try {
        const ids = await readdir(join(configPath, 'servers')).catch(() => [] as string[]);
        const valid = ids.filter((id) => /^[A-Za-z0-9_-]{1,128}$/.test(id));
        // A server that appears after the start is new: its log is read from the beginning.
        await Promise.all(valid.map((id) => watchServer(id, undefined, firstScan ? 'end' : 0)));
        for (const id of instances.keys()) if (!valid.includes(id)) await unwatchServer(id);
        firstScan = false;
        if (!dirWatcher && !stopped) {
          try {
            dirWatcher = watch(join(configPath, 'servers'), { persistent: false }, () => void scan());
            dirWatcher.on('error', () => {
              dirWatcher?.close();
              dirWatcher = null;
            });
          } catch {
            dirWatcher = null;
          }
        }
      } finally {
        scanning = null;
      }
    })();
    return scanning;
  }

  let checking = false;
  async function checkLiveness(): Promise<void> {
    if (checking) return;
    checking = true;
    try {
      tracker.expire(Date.now());
      for (const { serverId, pid } of tracker.liveConnections()) {
        if (!(await isAlive(pid))) publish(tracker.connectionGone(serverId, pid, new Date().toISOString()));
      }
    } finally {
      checking = false;
    }
  }

  const scanTimer = setInterval(() => void scan(), options.scanIntervalMs ?? 1000);
  const livenessTimer = setInterval(() => void checkLiveness(), options.livenessIntervalMs ?? 1000);
  scanTimer.unref();
  livenessTimer.unref();
  const ready = Promise.all([sesman.ready, scan()]).then(() => undefined);

  return {
    ready,
    watchServer,
    unwatchServer,
    async stop() {
      stopped = true;
      clearInterval(scanTimer);
      clearInterval(livenessTimer);
      dirWatcher?.close();
      await scanning;
      await Promise.all([sesman.stop(), ...[...instances.values()].map((t) => t.stop())]);
      instances.clear();
    },
  };
}
