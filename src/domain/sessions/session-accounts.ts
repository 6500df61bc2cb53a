/** Linux accounts for EPHEMERAL sessions: created with a random password, removed at the end. */
export interface SessionAccounts {
  /** Creates the account with this password; the name is chosen by the caller. */
  create(username: string, password: string): Promise<void>;
  /** Removes the account and ends its processes; removing a missing account succeeds. */
  remove(username: string): Promise<void>;
}
