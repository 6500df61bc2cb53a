import type { Desktop } from '../servers/server.js';

/** Which host the account lives on (the host of the session's server); one host needs none. */
export interface AccountHost {
  hostId?: string;
}

/** Linux accounts for EPHEMERAL sessions: created with a random password, removed at the end. */
export interface SessionAccounts {
  /**
   * Creates the account with this password (the name is chosen by the caller) and makes its
   * sessions start the server's desktop, or the closest the host has.
   */
  create(username: string, password: string, options?: { desktop?: Desktop } & AccountHost): Promise<void>;
  /**
   * Locks the account's password: logins with it fail from now on; processes already running
   * (the desktop) go on. Locking a missing account succeeds.
   */
  lock(username: string, where?: AccountHost): Promise<void>;
  /** Removes the account and ends its processes; removing a missing account succeeds. */
  remove(username: string, where?: AccountHost): Promise<void>;
}
