import type { SessionHost } from '../../domain/sessions/session-host.js';
import type { XrdpSessionTerminator } from '../../domain/xrdp/xrdp-session-terminator.js';
import { isAlive } from './procfs.js';
import type { XrdpDisplays } from './xrdp-displays.js';

export interface XrdpSessionHostOptions {
  terminator: XrdpSessionTerminator;
  displays: XrdpDisplays;
  /** Between SIGTERM and SIGKILL of a connection process, and then the wait for it to go. @default 1000 */
  killAfterMs?: number;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // gone already
    }
  }
}

/**
 * The SessionHost of this machine: the desktops of its xrdp servers. Dropping a client ends the
 * xrdp connection process serving it; sesman keeps the session (Xvnc/Xorg and its programs), and
 * a new login with the same account is joined to it (`++ reconnected session`, same display).
 */
export function createXrdpSessionHost(options: XrdpSessionHostOptions): SessionHost {
  const killAfterMs = options.killAfterMs ?? 1000;

  async function until(pids: readonly number[], ms: number): Promise<number[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const left: number[] = [];
      for (const pid of pids) if (await isAlive(pid)) left.push(pid);
      if (left.length === 0 || Date.now() >= deadline) return left;
      await delay(25);
    }
  }

  return {
    end: (ref) => options.terminator.end({ user: ref.user, display: ref.display }),
    inspect: (ref) => options.displays.inspect(ref),
    async disconnectClient(ref) {
      const pids = await options.displays.connectionPids(ref);
      if (pids.length === 0) return false;
      signal(pids, 'SIGTERM');
      const left = await until(pids, killAfterMs);
      if (left.length > 0) {
        signal(left, 'SIGKILL');
        await until(left, killAfterMs);
      }
      return true;
    },
  };
}
