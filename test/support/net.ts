import { createServer } from 'node:net';

/** A loopback port that was free a moment ago (and that nothing listens on now). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 100 ms until it resolves true (a rejection counts as false), for at most `ms`. */
export async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/*
 * RDP port blocks of the suites that start xrdp on loopback: each suite has its own, below the
 * kernel's ephemeral range (32768+), and picks ten ports at a random multiple of 10 inside it, so
 * no two suites (running at once, or one after an instance of another lingered) share a port.
 *   20000-20499 resource-monitor-xrdp        20500-20999 first-run (loopback start)
 *   21000-21499 xrdp-runtime                 21500-21999 xrdp-runtime (adoption)
 *   22000-22499 browser/console              22500-22999 xrdp-log-tail
 *   23000-23999 browser/console-ops          24000-24499 browser/console-pools (fake runtime)
 *   25000-25499 browser/console-pools (xrdp) 25500-25999 first-run (crash)
 *   26000-26999 xrdp-login (one port)        27000-27499 session-real-login
 *   27000-27999 browser/console-fleet-scale (fake runtime: nothing listens)
 *   28000-28499 session-real-login (expiry)  29000-29499 session-limits-real-login
 *   29500-29999 session-idle-real            30000-30999 server-limits-xrdp
 *   31000-31499 broker-real-login            31500-31999 session-reissue-real
 * The cluster suites' agents bind inside network namespaces of their own (34000+).
 */
