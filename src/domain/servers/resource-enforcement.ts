import type { RdpServer } from './server.js';

/** Whether this host makes the CPU and memory limits bind, by what, and why not when it cannot. */
export interface EnforcementCapability {
  enforced: boolean;
  /** e.g. `cgroup v1`, `cgroup v2`; null when nothing enforces. */
  mechanism: string | null;
  /** Why the limits do not bind here; null when they do. */
  reason: string | null;
}

/** A logged-in session to put under the per-session limits, inside its server's limits. */
export interface SessionConfinement {
  sessionId: string;
  serverId: string;
  /** The Linux account the session runs as. */
  username: string;
  /** Its X display: the session's processes are found from it. */
  display: number;
  /** perSession.maxCpu: percent of the host's CPU (all cores), as session samples measure it. */
  cpuPercent: number;
  /** perSession.maxMemoryMb. */
  memoryMb: number;
}

/**
 * Makes server and session resource limits bind on the host that runs them (the kernel refuses
 * what is over, not the control plane). Today the local adapter (cgroups); a host agent later.
 * Every method is a no-op where capability() reports enforced: false.
 */
export interface ResourceEnforcement {
  capability(): Promise<EnforcementCapability>;
  /** Puts a starting instance (the process group `pid` leads) under the server's cpuLimit and memoryLimitMb. */
  confineServer(server: RdpServer, pid: number): Promise<void>;
  /** Applies changed resources to a server that is confined now (nothing when it is not running). */
  updateServer(server: RdpServer): Promise<void>;
  /** Removes the server's limits once its instance has gone. */
  releaseServer(serverId: string): Promise<void>;
  /** Moves a session's processes into its own limits, nested inside its server's. */
  confineSession(session: SessionConfinement): Promise<void>;
  /** Removes a session's limits once it has ended. */
  releaseSession(serverId: string, sessionId: string): Promise<void>;
}
