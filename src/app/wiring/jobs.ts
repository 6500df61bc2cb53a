import { randomUUID } from 'node:crypto';
import { RedisCollectorLease } from '../../adapters/redis/redis-collector-lease.js';
import type { Container } from '../container.js';
import type { Logger } from '../logger.js';

export interface JobIntervals {
  /** Interval of claim reconciliation. @default 30000 */
  reconcileIntervalMs?: number;
  /** Interval of the session deadline sweeper (every replica runs it). @default 5000 */
  sweepIntervalMs?: number;
  /** Interval of the drain job: countdown notices and deadlines (every replica runs it). @default 5000 */
  drainIntervalMs?: number;
  /** Interval of the job that prunes audit events older than a year. @default 3600000 */
  auditPruneIntervalMs?: number;
  /**
   * Age past which a STARTING or STOPPING record is taken to be abandoned by a replica that died
   * (RDP_HOSTS=agents): above the longest a start (1 s to be taken + 20 s) or stop (1 s + 30 s)
   * may take through an agent. @default 60000
   */
  abandonedAfterMs?: number;
  /** Interval of the check for such records. @default 10000 */
  abandonedCheckIntervalMs?: number;
}

export interface BackgroundJobs {
  /**
   * Stops the timers at once (no round starts after this) and settles when the rounds already
   * running have finished, so the stores they write to are closed after them, not under them.
   * The collector is stopped by the container.
   */
  stop(): Promise<void>;
}

/** A periodic job: `stop` clears its timer and waits for the round in flight, if any. */
interface Job {
  stop(): Promise<void>;
}

/** Runs `task` every `ms`, never two at once; errors are logged, not thrown. */
function every(ms: number, task: () => Promise<unknown>, logger: Logger, failure: string): Job {
  let round: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (round) return;
    round = task()
      .then(
        () => undefined,
        (err: unknown) => logger.warn({ err }, failure),
      )
      .finally(() => {
        round = null;
      });
  }, ms);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await round;
    },
  };
}

/**
 * The periodic work of a replica: orphaned claims freed, session deadlines enforced, silent
 * hosts marked OFFLINE, old audit events pruned, resource samples collected. Every replica runs them; each is safe to run on
 * several at once. They start once `recovery` (instances adopted after a restart) is done.
 */
export function startBackgroundJobs(
  container: Container,
  logger: Logger,
  recovery: Promise<void>,
  intervals: JobIntervals = {},
): BackgroundJobs {
  const { servers, sessions, audit, resources, hosts, drains } = container;
  // A host silent for 3 heartbeat intervals goes OFFLINE; whichever replica writes first, once.
  const stale = every(
    container.config.hosts.heartbeatIntervalSeconds * 1000,
    async () => {
      const ids = await hosts.markStale();
      if (ids.length > 0) logger.warn({ hosts: ids }, 'hosts went OFFLINE: no heartbeat for 3 intervals');
    },
    logger,
    'marking silent hosts OFFLINE failed',
  );
  const reconcile = every(
    intervals.reconcileIntervalMs ?? 30_000,
    async () => {
      const [s, n] = await Promise.all([servers.reconcileClaims(), sessions.reconcileClaims()]);
      if (s + n > 0) logger.warn({ servers: s, sessions: n }, 'freed orphaned claims');
    },
    logger,
    'claim reconciliation failed',
  );
  const sweep = every(
    intervals.sweepIntervalMs ?? 5000,
    async () => {
      const r = await sessions.sweep();
      if (r.terminated + r.disconnected > 0) logger.info(r, 'session deadlines enforced');
    },
    logger,
    'session sweep failed',
  );
  // Drains: notices at each DRAIN_NOTICE_SECONDS step and the deadline action, each once however
  // many replicas run it (compare-and-set on the server document).
  const drain = every(
    intervals.drainIntervalMs ?? 5000,
    async () => {
      const r = await drains.tick();
      if (r.drained.length > 0) logger.info({ servers: r.drained }, 'drain deadlines reached: sessions ended');
      for (const err of r.failures) logger.warn({ err }, 'a drain step failed; the next round retries it');
    },
    logger,
    'drain job failed',
  );
  // A replica killed between its STARTING/STOPPING write and the next leaves the record behind;
  // the host says what really runs (local mode: the restart's recovery does it).
  const abandoned =
    container.config.hosts.mode === 'agents'
      ? every(
          intervals.abandonedCheckIntervalMs ?? 10_000,
          async () => {
            const r = await servers.settleAbandoned(intervals.abandonedAfterMs ?? 60_000);
            if (r.running.length + r.notRunning.length > 0)
              logger.warn(r, 'settled starts and stops that their API replica left unfinished');
          },
          logger,
          'settling unfinished starts and stops failed',
        )
      : undefined;
  const prune = async () => {
    const n = await audit.prune();
    if (n > 0) logger.info({ removed: n }, 'pruned audit events older than the retention');
  };
  // Set by stop(): work waiting for the recovery does not start once the replica is stopping.
  let stopped = false;
  const firstPrune = recovery.then(() =>
    stopped ? undefined : prune().catch((err: unknown) => logger.warn({ err }, 'audit pruning failed')),
  );
  // Resource samples every METRICS_INTERVAL (one replica per host stores them); stopped by container.close().
  // With agents, no replica samples its own machine as if it were an RDP host.
  if (container.config.hosts.mode === 'local') {
    void recovery.then(() => {
      if (!stopped) resources.collector.start();
    });
  }
  const pruning = every(intervals.auditPruneIntervalMs ?? 3_600_000, prune, logger, 'audit pruning failed');
  void recovery.then(async () => {
    if (container.config.hosts.mode === 'agents') return;
    const c = await servers.enforcementCapability();
    if (c.enforced) logger.info({ mechanism: c.mechanism }, 'server and session resource limits are enforced');
    else logger.warn({ reason: c.reason }, 'server and session resource limits are NOT enforced on this host');
  });
  // Running instances answer the RDP handshake, or go to ERROR (HEALTH_CHECK_INTERVAL).
  let recovered = false;
  void recovery.then(() => {
    recovered = true;
  });
  // Locally each replica checks its own host's servers; with agents every replica could check
  // every server, so one at a time does, under a lease like the collectors' (a replica that dies
  // is replaced within two intervals). Without Redis's answer, check anyway: the move to ERROR is
  // a compare-and-set, so two checkers act once.
  const healthMs = container.config.metrics.healthCheckIntervalSeconds * 1000;
  const healthLease =
    container.config.hosts.mode === 'agents' && container.redis
      ? new RedisCollectorLease(container.redis.publisher, 'lease:health-check', randomUUID(), Math.ceil(healthMs * 1.5))
      : null;
  const health = every(
    healthMs,
    async () => {
      if (!recovered) return;
      if (healthLease && !(await healthLease.acquire().catch(() => true))) return;
      const r = await servers.checkHealth();
      if (r.failed.length > 0) logger.warn({ failed: r.failed }, 'servers failed their health check');
    },
    logger,
    'health check failed',
  );
  return {
    async stop() {
      stopped = true;
      await Promise.all([reconcile, sweep, drain, stale, pruning, health, abandoned].map((job) => job?.stop()));
      // Only when the recovery is done: one still waiting for the database never starts the prune.
      if (recovered) await firstPrune;
      await healthLease?.release().catch(() => undefined);
    },
  };
}
