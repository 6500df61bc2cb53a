import type { RdpServer } from './server.js';

/** Why a running instance went away without being asked to. */
export interface RuntimeExit {
  serverId: string;
  message: string;
}

/** Runs the xrdp instance behind a server. The real one is in adapters/xrdp. */
export interface ServerRuntime {
  /** Throws RuntimeUnavailableError when this host cannot run RDP servers at all. */
  checkAvailable(): Promise<void>;
  /** Resolves once the instance accepts RDP connections; throws RuntimeFailureError otherwise. */
  start(server: RdpServer): Promise<void>;
  /** Resolves once the instance is gone. Stopping one that is not running succeeds. */
  stop(server: RdpServer): Promise<void>;
  /** Removes what the runtime keeps for a deleted server. */
  remove(server: RdpServer): Promise<void>;
  /** Whether the instance is running right now (used to adopt instances after a restart). */
  isRunning(server: RdpServer): Promise<boolean>;
  /**
   * Takes charge of an instance started by an earlier run of the control plane. Returns false
   * when none is running for this server.
   */
  adopt(server: RdpServer): Promise<boolean>;
  /** Stops every instance on this host whose server id is not in `keep`; returns the ids stopped. */
  reap(keep: ReadonlySet<string>): Promise<string[]>;
  /**
   * Stops every instance this runtime object started or adopted (at shutdown, when instances do
   * not outlive the service); returns the server ids stopped. Optional: a runtime without
   * processes of its own has nothing to stop.
   */
  stopAll?(): Promise<string[]>;
  /** Registers a listener for instances that exit on their own. */
  onUnexpectedExit(listener: (exit: RuntimeExit) => void): void;
}
