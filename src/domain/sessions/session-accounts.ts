import type { Desktop } from '../servers/server.js';

/** Which host the account lives on (the host of the session's server); one host needs none. */
export interface AccountHost {
  hostId?: string;
}

/**
 * Linux accounts for EPHEMERAL sessions: created with a random password, removed at the end; and
 * whether a HOST_ACCOUNT session's account exists.
 */
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
  /**
   * Lifts a lock: the password set before it works again. Unlocking an account that is not
   * locked, or missing, succeeds.
   */
  unlock(username: string, where?: AccountHost): Promise<void>;
  /**
   * Gives the account a new password: the old one fails from now on and a lock is lifted (the
   * new hash replaces the locked one). Only accounts this service made.
   */
  setPassword(username: string, password: string, where?: AccountHost): Promise<void>;
  /** Whether a Linux account of this name exists on the host (any account, ours or not). */
  exists(username: string, where?: AccountHost): Promise<boolean>;
  /** Removes the account and ends its processes; removing a missing account succeeds. */
  remove(username: string, where?: AccountHost): Promise<void>;
  /**
   * The accounts this installation made and that still exist, never anyone else's (other
   * installations on the same host make accounts of the same shape), each with whether the
   * process that made it still runs and whether that process is this one.
   */
  listOwn(): Promise<OwnAccount[]>;
}

export interface OwnAccount {
  username: string;
  /** The service process that made it is still running (it may be another replica). */
  creatorRunning: boolean;
  /** Made by this very process. */
  createdHere: boolean;
}
