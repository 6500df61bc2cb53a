import type { OwnAccount, SessionAccounts } from '../../src/domain/sessions/session-accounts.js';

/**
 * SessionAccounts that makes no Linux users: records every create and remove, keeps the set of
 * accounts that exist, and can be told to fail the next create.
 */
export class FakeSessionAccounts implements SessionAccounts {
  readonly created: { username: string; password: string }[] = [];
  readonly removed: string[] = [];
  readonly locked: string[] = [];
  readonly existing = new Set<string>();
  readonly unlocked: string[] = [];
  readonly passwordsSet: { username: string; password: string }[] = [];
  /** Host accounts that do not exist (every other name does, as on a host with every user). */
  readonly missingHostAccounts = new Set<string>();
  /** When set, create throws it (after recording nothing). */
  createFailure: Error | null = null;

  async create(username: string, password: string): Promise<void> {
    if (this.createFailure) throw this.createFailure;
    this.created.push({ username, password });
    this.existing.add(username);
  }

  async lock(username: string): Promise<void> {
    this.locked.push(username);
  }

  async unlock(username: string): Promise<void> {
    this.unlocked.push(username);
  }

  async setPassword(username: string, password: string): Promise<void> {
    this.passwordsSet.push({ username, password });
  }

  async exists(username: string): Promise<boolean> {
    return this.existing.has(username) || !this.missingHostAccounts.has(username);
  }

  async remove(username: string): Promise<void> {
    this.removed.push(username);
    this.existing.delete(username);
  }

  /** Every existing account, as made by this running process. */
  async listOwn(): Promise<OwnAccount[]> {
    return [...this.existing].map((username) => ({ username, creatorRunning: true, createdHere: true }));
  }
}
