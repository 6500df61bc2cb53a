import { type Cursor, MAX_PAGE_SIZE } from '../shared/page.js';
import { LIVE_STATUSES } from './session.js';
import type { SessionAccounts } from './session-accounts.js';
import type { SessionStore } from './session-store.js';

/** Usernames of the EPHEMERAL sessions the store knows as live. */
async function liveEphemeralUsernames(store: SessionStore): Promise<Set<string>> {
  const names = new Set<string>();
  let after: Cursor | undefined;
  while (true) {
    const page = await store.list({ statuses: LIVE_STATUSES }, MAX_PAGE_SIZE, after);
    for (const s of page.items) if (s.credentialMode === 'EPHEMERAL') names.add(s.username);
    const last = page.items.at(-1);
    if (!page.hasNextPage || !last) return names;
    after = last;
  }
}

export interface AccountCleanup {
  /** Accounts locked and removed. */
  removed: string[];
  /** Accounts that could not be locked or removed, with why (left for the next start). */
  failed: { username: string; error: string }[];
}

/**
 * At start: every account this installation made whose maker no longer runs and that the store
 * does not know as a live session is an orphan (its session ended while the service was down, or
 * the store forgot it): locked first, so its password stops working even if the removal fails,
 * then removed. Accounts of a still-running process (another replica) are its business.
 */
export async function removeOrphanAccounts(store: SessionStore, accounts: SessionAccounts): Promise<AccountCleanup> {
  const orphans = (await accounts.listOwn()).filter((a) => !a.creatorRunning);
  if (orphans.length === 0) return { removed: [], failed: [] };
  const live = await liveEphemeralUsernames(store);
  return lockThenRemove(
    accounts,
    orphans.filter((a) => !live.has(a.username)).map((a) => a.username),
  );
}

/**
 * At shutdown with a store that forgets (memory): the accounts this process made would keep a
 * working password with no record left to end them, so they are all locked, then removed.
 */
export async function lockAccountsMadeHere(accounts: SessionAccounts): Promise<string[]> {
  const mine = (await accounts.listOwn()).filter((a) => a.createdHere).map((a) => a.username);
  for (const username of mine) await accounts.lock(username);
  return mine;
}

export async function lockThenRemove(accounts: SessionAccounts, usernames: readonly string[]): Promise<AccountCleanup> {
  const removed: string[] = [];
  const failed: AccountCleanup['failed'] = [];
  for (const username of usernames) {
    try {
      await accounts.lock(username);
      await accounts.remove(username);
      removed.push(username);
    } catch (err) {
      failed.push({ username, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return { removed, failed };
}
