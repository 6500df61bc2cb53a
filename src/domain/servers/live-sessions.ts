import type { DrainNotice } from './server-drain.js';

/** What the servers area needs from the sessions area: how many are live, ending them, telling them. */
export interface LiveSessions {
  countLive(serverId: string): Promise<number>;
  /** Terminates every live session of the server with the given reason; returns how many. */
  terminateAll(serverId: string, reason: 'SERVER_STOPPED' | 'SERVER_ERROR' | 'DRAINED'): Promise<number>;
  /** Publishes a drain's notice (or its cancellation) to every ACTIVE session of the server; returns how many. */
  notifyDrain(kind: 'DRAIN_NOTICE' | 'DRAIN_CANCELLED', notice: DrainNotice): Promise<number>;
}
