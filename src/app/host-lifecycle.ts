import type { Config } from '../config/config.js';
import { lockAccountsMadeHere, lockThenRemove, removeOrphanAccounts } from '../domain/sessions/account-cleanup.js';
import type { Container } from './container.js';
import type { Logger } from './logger.js';

/**
 * At start, once the store answers: session accounts this installation left behind (its
 * sessions ended while it was down, or a memory store forgot them) are locked and removed.
 */
export async function cleanUpAccountsAtStart(container: Container, logger: Logger): Promise<void> {
  // With agents, accounts live on the hosts and no replica makes any.
  if (container.config.hosts.mode === 'agents') return;
  const accounts = container.sessionAccounts;
  if (!accounts) return;
  const r = await removeOrphanAccounts(container.sessionStore, accounts);
  if (r.removed.length > 0) logger.info({ accounts: r.removed }, 'removed session accounts no live session uses');
  if (r.failed.length > 0) logger.error({ failed: r.failed }, 'could not remove orphaned session accounts');
}

/**
 * At shutdown, after the last request: with a store that forgets (memory), the session accounts
 * this process made are locked first (no password of a forgotten session keeps working); then,
 * unless XRDP_STOP_ON_SHUTDOWN=false, the xrdp instances and the sesman this service runs are
 * stopped (ending their sessions); then those accounts are removed.
 */
export async function stopHostAtShutdown(container: Container, config: Config, logger: Logger): Promise<void> {
  if (config.hosts.mode === 'agents') return;
  const storeForgets = !config.mongo;
  const accounts = storeForgets ? container.sessionAccounts : undefined;
  const locked = accounts ? await lockAccountsMadeHere(accounts) : [];
  if (locked.length > 0)
    logger.info({ accounts: locked }, 'locked the session accounts of this process (the memory store forgets them)');
  if (config.xrdp.stopOnShutdown) {
    const stopped = (await container.runtime.stopAll?.()) ?? [];
    const sesman = await container.sesman.state();
    if (sesman.pid !== null) await container.sesman.stop();
    if (stopped.length > 0 || sesman.pid !== null) {
      logger.info({ servers: stopped, sesman: sesman.pid }, 'stopped the xrdp instances and sesman of this service');
    }
  }
  if (accounts && locked.length > 0) {
    const r = await lockThenRemove(accounts, locked);
    if (r.failed.length > 0) logger.error({ failed: r.failed }, 'could not remove session accounts; they stay locked');
  }
}
