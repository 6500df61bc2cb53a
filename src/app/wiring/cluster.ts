import { randomUUID } from 'node:crypto';
import { createHostCommandClient, type HostCommandClient } from '../../adapters/redis/host-command-client.js';
import { createHostEventConsumer, type HostEventConsumer } from '../../adapters/redis/host-event-consumer.js';
import { closeRedis, openHostRedis } from '../../adapters/redis/host-redis.js';
import { SYSTEM_ACTOR } from '../../domain/audit/audit-event.js';
import type { HostDescription, HostEventMap, HostEventType } from '../../domain/cluster/host-messages.js';
import { type HostEvent, hostIdOfStreamKey } from '../../domain/cluster/host-protocol.js';
import { isAlive } from '../../domain/hosts/host.js';
import type { HostService } from '../../domain/hosts/host-service.js';
import type { HostStore } from '../../domain/hosts/host-store.js';
import type { ServerStore } from '../../domain/servers/server-store.js';
import { removeOrphanAccounts } from '../../domain/sessions/account-cleanup.js';
import type { SessionStore } from '../../domain/sessions/session-store.js';
import type { Clock } from '../../domain/shared/clock.js';
import { HostUnavailableError } from '../../domain/shared/errors.js';
import type { EventBus } from '../../domain/shared/event-publisher.js';
import { streamLog } from '../agent/redis-agent-transport.js';
import type { Logger } from '../logger.js';
import type { Fleet } from './fleet.js';
import type { HostCommands, RemoteHost } from './remote-host.js';

/** How long an agent has to take a command before it is HOST_UNAVAILABLE (and never runs). */
const ACCEPT_WITHIN_MS = 1000;

export interface ClusterOptions {
  redisUrl: string;
  hostStore: HostStore;
  clock: Clock;
  heartbeatIntervalSeconds: number;
  logger: Logger;
  /** How long a pending event of a dead replica waits before another takes it. @default 10000 */
  claimIdleMs?: number;
}

/**
 * Commands to the agents: a host that is not ONLINE (three heartbeats missed, or said bye) fails
 * at once with HOST_UNAVAILABLE; one that does not take a command within a second likewise, and
 * the agent will not run it later (it is past its deadline by then).
 */
export function createClusterCommands(options: ClusterOptions): HostCommands & { client: HostCommandClient } {
  const client = createHostCommandClient({
    redis: options.redisUrl,
    replicaId: `api-${randomUUID()}`,
    log: streamLog(options.logger),
  });
  return {
    client,
    async send(hostId, type, payload, sendOptions = {}) {
      const host = await options.hostStore.findById(hostId);
      if (!host || !isAlive(host, options.clock.now(), options.heartbeatIntervalSeconds)) {
        throw new HostUnavailableError(hostId, host ? 'its agent is OFFLINE' : 'no agent has registered it');
      }
      const actor = sendOptions.actor ?? SYSTEM_ACTOR;
      return (await client.send(hostId, type, payload, {
        actor: { userId: actor.userId, name: actor.name, ip: actor.ip },
        ttlMs: ACCEPT_WITHIN_MS,
        ...(sendOptions.timeoutMs ? { timeoutMs: sendOptions.timeoutMs } : {}),
      })) as never;
    },
  };
}

const helloOf = (hostId: string, d: HostDescription) => ({
  id: hostId,
  name: d.name,
  labels: d.labels,
  agentVersion: d.agentVersion,
  rdpAddress: d.rdpAddress,
  portRange: d.portRange,
  capacity: d.capacity,
});

export interface EventApplierDeps {
  hosts: HostService;
  fleet: Fleet;
  servers: ServerStore;
  /** Which sessions are live, for the clean-up of a restarted agent's accounts. */
  sessions: SessionStore;
  events: EventBus;
  remote: RemoteHost;
  commands: HostCommands;
  logger: Logger;
}

/**
 * Applies one agent event, once per event id across replicas (the consumer group delivers it to
 * one; each transition here is idempotent, so one applied again after a replica died changes
 * nothing). An event about a server is applied only when that server is placed on the event's
 * host: an agent cannot speak for another host's servers.
 */
export function createEventApplier(deps: EventApplierDeps) {
  const { hosts, fleet, servers, logger } = deps;
  /** The clean-up after each host's latest hello, while it runs. */
  const cleanups = new Map<string, Promise<void>>();
  const onHost = async (hostId: string, serverId: string): Promise<boolean> => {
    const server = await servers.findById(serverId);
    if (server && server.hostId === hostId) return true;
    logger.warn({ hostId, serverId }, 'an agent reported on a server that is not on its host; ignored');
    return false;
  };
  const handlers: { [K in HostEventType]: (hostId: string, payload: HostEventMap[K], event: HostEvent) => Promise<void> } = {
    'agent.hello': async (hostId, { host, inventory }) => {
      await hosts.register(helloOf(hostId, host));
      const { failed, orphans } = await fleet.servers.reconcileHost(hostId, inventory.instances);
      if (failed.length + orphans.length > 0) logger.info({ hostId, failed, orphans }, 'host reconciled after its agent started');
      // The clean-up on the agent is commands to it, answered in seconds or, from a hung agent,
      // never: it runs beside the event stream, so the host's heartbeats behind this hello are
      // applied meanwhile (awaited here, they waited out each command's timeout and the host
      // went OFFLINE). One clean-up per host at a time, each after the one before.
      const previous = cleanups.get(hostId) ?? Promise.resolve();
      const cleanup = previous
        .then(async () => {
          if (orphans.length > 0) {
            const keep = inventory.instances.filter((id) => !orphans.includes(id));
            await deps.commands.send(hostId, 'runtime.reap', { keep });
          }
          // Accounts an earlier run of this agent made that no live session uses: locked, then removed.
          const accounts = await removeOrphanAccounts(deps.sessions, deps.remote.accountsOn(hostId));
          if (accounts.removed.length + accounts.failed.length > 0)
            logger.info({ hostId, ...accounts }, 'session accounts cleaned up');
        })
        .catch((err: unknown) =>
          logger.warn({ hostId, err }, 'the clean-up after an agent started failed; the next start tries again'),
        )
        .finally(() => {
          if (cleanups.get(hostId) === cleanup) cleanups.delete(hostId);
        });
      cleanups.set(hostId, cleanup);
    },
    'agent.heartbeat': async (hostId, { host, usage, at }) => {
      const beat = {
        at,
        usage:
          usage.cpuPercent !== null && usage.memoryPercent !== null
            ? { cpuPercent: Math.min(100, usage.cpuPercent), memoryPercent: Math.min(100, usage.memoryPercent) }
            : null,
      };
      try {
        await hosts.heartbeat(hostId, beat);
      } catch {
        // Not registered yet (its hello was trimmed or is still pending elsewhere): register now.
        await hosts.register(helloOf(hostId, host));
        await hosts.heartbeat(hostId, beat);
      }
    },
    'agent.bye': async (hostId) => {
      await hosts.markOffline(hostId);
    },
    'runtime.exit': async (hostId, exit) => {
      if (await onHost(hostId, exit.serverId)) deps.remote.reportExit(exit);
    },
    'session.activity': async (hostId, { reports, measuredAt }) => {
      const mine: typeof reports = [];
      for (const r of reports) if (await onHost(hostId, r.serverId)) mine.push(r);
      if (mine.length > 0) await fleet.sessions.applyActivity(mine, new Date(measuredAt));
    },
    'xrdp.session': async (hostId, e, event) => {
      if (!(await onHost(hostId, e.serverId))) return;
      deps.events.publish('xrdp:session-event', e.serverId, e);
      await fleet.sessions.applyXrdpEvent(e, `${hostId}/${event.entryId}`);
    },
  };
  const apply = async (hostId: string, event: HostEvent): Promise<void> => {
    const handler = (handlers as Record<string, ((h: string, p: unknown, e: HostEvent) => Promise<void>) | undefined>)[
      event.type
    ];
    if (handler) await handler(hostId, event.payload, event);
  };
  /** Resolves when no clean-up after a hello is running (tests; they fail fast once commands close). */
  const cleanupsSettled = async (): Promise<void> => {
    while (cleanups.size > 0) await Promise.all(cleanups.values());
  };
  return Object.assign(apply, { cleanupsSettled });
}

/**
 * The event side of a replica: one consumer group over every host's event stream. Hosts are
 * found in the host store and by their streams (an agent that never registered yet), every
 * few seconds.
 */
export function startEventConsumer(options: ClusterOptions & { apply: (hostId: string, event: HostEvent) => Promise<void> }): {
  consumer: HostEventConsumer;
  stop(): Promise<void>;
} {
  const consumer = createHostEventConsumer({
    redis: options.redisUrl,
    replicaId: `api-${randomUUID()}`,
    handle: options.apply,
    claimIdleMs: options.claimIdleMs ?? 10_000,
    log: streamLog(options.logger),
    onInvalid: (hostId, entryId, reason) => options.logger.warn({ hostId, entryId, reason }, 'an invalid host event was skipped'),
  });
  const scanner = openHostRedis(options.redisUrl, 'rdp-api-host-discovery', 'writer');
  const discover = async () => {
    const known = new Set(consumer.hosts());
    const found = new Set((await options.hostStore.list()).map((h) => h.id));
    let cursor = '0';
    do {
      const [next, keys] = (await scanner.scan(cursor, 'MATCH', 'rdp:host:*:events', 'COUNT', 1000)) as [string, string[]];
      cursor = next;
      for (const key of keys) {
        const id = hostIdOfStreamKey(key);
        if (id) found.add(id);
      }
    } while (cursor !== '0');
    for (const id of found) if (!known.has(id)) await consumer.addHost(id);
  };
  let busy = false;
  const tick = () => {
    if (busy) return;
    busy = true;
    discover()
      .catch((err: unknown) => options.logger.warn({ err }, 'host discovery failed'))
      .finally(() => {
        busy = false;
      });
  };
  consumer.start();
  tick();
  const timer = setInterval(tick, 2000);
  timer.unref();
  return {
    consumer,
    async stop() {
      clearInterval(timer);
      await consumer.stop();
      await closeRedis(scanner);
    },
  };
}
