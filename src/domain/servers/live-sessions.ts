/** What the servers area needs from the sessions area: how many are live, and ending them. */
export interface LiveSessions {
  countLive(serverId: string): Promise<number>;
  /** Terminates every live session of the server with the given reason; returns how many. */
  terminateAll(serverId: string, reason: 'SERVER_STOPPED' | 'SERVER_ERROR'): Promise<number>;
}
