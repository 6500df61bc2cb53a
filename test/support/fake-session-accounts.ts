import type { SessionAccounts } from '../../src/domain/sessions/session-accounts.js';

/**
 * SessionAccounts that makes no Linux users: records every create and remove, keeps the set of
 * accounts that exist, and can be told to fail the next create.
 */
export class FakeSessionAccounts implements SessionAccounts {
  readonly created: { username: string; password: string }[] = [];
  readonly removed: string[] = [];
  readonly locked: string[] = [];
  readonly existing = new Set<string>();
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

  async remove(username: string): Promise<void> {
    this.removed.push(username);
    this.existing.delete(username);
  }
}
