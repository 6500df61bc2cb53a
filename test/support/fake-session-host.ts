import type { SessionHost, SessionHostState, SessionRef } from '../../src/domain/sessions/session-host.js';
import type { XrdpSessionEndResult } from '../../src/domain/xrdp/xrdp-session-terminator.js';

interface Desktop {
  clientConnected: boolean;
  idleMs: number | null;
}

const key = (ref: SessionRef) => `${ref.serverId}/${ref.user}/${ref.display}`;

/**
 * A SessionHost over desktops the test declares: records every request, drops and ends what it
 * holds, and can be told to fail (a host that cannot be reached).
 */
export class FakeSessionHost implements SessionHost {
  readonly ended: SessionRef[] = [];
  readonly dropped: SessionRef[] = [];
  readonly inspected: SessionRef[] = [];
  private readonly desktops = new Map<string, Desktop>();
  /** When set, inspect and disconnectClient throw it. */
  failure: Error | null = null;

  /** A desktop runs for the ref, with or without a client, and this much input idle time. */
  run(ref: SessionRef, desktop: Desktop): void {
    this.desktops.set(key(ref), { ...desktop });
  }

  state(ref: SessionRef): Desktop | undefined {
    return this.desktops.get(key(ref));
  }

  async end(ref: SessionRef): Promise<XrdpSessionEndResult> {
    this.ended.push({ ...ref });
    const had = this.desktops.delete(key(ref));
    return { ended: had, logConfirmed: had, ms: 0 };
  }

  async disconnectClient(ref: SessionRef): Promise<boolean> {
    if (this.failure) throw this.failure;
    const desktop = this.desktops.get(key(ref));
    if (!desktop?.clientConnected) return false;
    desktop.clientConnected = false;
    this.dropped.push({ ...ref });
    return true;
  }

  async inspect(ref: SessionRef): Promise<SessionHostState> {
    this.inspected.push({ ...ref });
    if (this.failure) throw this.failure;
    const desktop = this.desktops.get(key(ref));
    return {
      desktopRunning: desktop !== undefined,
      clientConnected: desktop?.clientConnected ?? false,
      idleMs: desktop?.idleMs ?? null,
    };
  }
}
