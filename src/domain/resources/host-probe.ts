import type { ResourceFigures } from './resource-sample.js';

/** A running RDP server to measure: its xrdp instance is found by id, its traffic by port. */
export interface ProbeServer {
  id: string;
  port: number;
}

/** A live session with an X display: its processes are found by Linux account and display. */
export interface ProbeSession {
  id: string;
  serverId: string;
  username: string;
  display: number;
}

export interface ProbeResult {
  host: ResourceFigures;
  /** Figures of the servers whose instance was found; a server's figures include its sessions'. */
  servers: Map<string, ResourceFigures>;
  sessions: Map<string, ResourceFigures>;
}

/**
 * Measures the host and the given servers and sessions. Rates (CPU, network) are over the time
 * since the previous call, so a replica calls it every round, leader or not, to keep that warm.
 */
export interface HostProbe {
  measure(targets: { servers: readonly ProbeServer[]; sessions: readonly ProbeSession[] }): Promise<ProbeResult>;
}
