import type { SessionActivityReport } from '../../domain/sessions/session-host.js';
import type { XrdpDisplays } from './xrdp-displays.js';

export interface DisplayActivityWatcherOptions {
  displays: XrdpDisplays;
  /** Gets each round's reports with the time they were measured. */
  onReports: (reports: SessionActivityReport[], measuredAt: Date) => Promise<unknown> | undefined;
  /** Told when a round fails (it is tried again at the next interval). */
  onError?: (err: unknown) => void;
  /** @default 10000 */
  intervalMs?: number;
}

export interface DisplayActivityWatcher {
  /** One round: what every live desktop of this host's servers shows now. */
  poll(): Promise<SessionActivityReport[]>;
  stop(): Promise<void>;
}

/**
 * Measures every live desktop of the host at an interval: its input idle time and whether a
 * client is connected. The all-in-one process hands the reports to the sessions service; a host
 * agent ships the same reports as events.
 */
export function createDisplayActivityWatcher(options: DisplayActivityWatcherOptions): DisplayActivityWatcher {
  let stopped = false;
  let running: Promise<void> | null = null;

  async function poll(): Promise<SessionActivityReport[]> {
    const reports: SessionActivityReport[] = [];
    for (const d of await options.displays.list()) {
      reports.push({
        serverId: d.serverId,
        user: d.user,
        display: d.display,
        idleMs: await options.displays.idleMs(d.xServerPid, d.display),
        clientConnected: d.connectionPids.length > 0,
      });
    }
    return reports;
  }

  const timer = setInterval(() => {
    if (stopped || running) return;
    running = (async () => {
      try {
        const measuredAt = new Date();
        const reports = await poll();
        if (!stopped && reports.length > 0) await options.onReports(reports, measuredAt);
      } catch (err) {
        options.onError?.(err);
      } finally {
        running = null;
      }
    })();
  }, options.intervalMs ?? 10_000);
  timer.unref();

  return {
    poll,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
