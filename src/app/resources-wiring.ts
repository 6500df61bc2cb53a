import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type { HostUsageFigures, ServerInfoFigures, ServerUsageFigures } from '../../monitoring/metrics.js';
import { createProcHostProbe } from '../adapters/host/proc-host-probe.js';
import { MemoryAlertStore } from '../adapters/memory/memory-alert-store.js';
import { MemoryClaimStore } from '../adapters/memory/memory-claim-store.js';
import { MemoryCollectorLease } from '../adapters/memory/memory-collector-lease.js';
import { MemoryLimitsStore } from '../adapters/memory/memory-limits-store.js';
import { MemorySampleStore } from '../adapters/memory/memory-sample-store.js';
import { MongoAlertStore } from '../adapters/mongo/mongo-alert-store.js';
import { MongoClaimStore } from '../adapters/mongo/mongo-claim-store.js';
import { MongoLimitsStore } from '../adapters/mongo/mongo-limits-store.js';
import { MongoSampleStore } from '../adapters/mongo/mongo-sample-store.js';
import { RedisCollectorLease } from '../adapters/redis/redis-collector-lease.js';
import type { RedisConnections } from '../adapters/redis/redis-connections.js';
import type { Config } from '../config/config.js';
import type { AuditRecorder } from '../domain/audit/audit-service.js';
import { AlertService } from '../domain/resources/alert-service.js';
import type { AlertStore } from '../domain/resources/alert-store.js';
import { HostAdmission } from '../domain/resources/host-admission.js';
import type { HostProbe } from '../domain/resources/host-probe.js';
import { hostSubjectId, ResourceCollector } from '../domain/resources/resource-collector.js';
import type { ResourceLimitsProvider } from '../domain/resources/resource-limits.js';
import type { ResourceLimitsStore } from '../domain/resources/resource-limits-store.js';
import type { ResourceSampleStore } from '../domain/resources/resource-sample-store.js';
import { UsageService } from '../domain/resources/usage-service.js';
import type { RdpServer } from '../domain/servers/server.js';
import type { ServerService } from '../domain/servers/server-service.js';
import type { ServerStore } from '../domain/servers/server-store.js';
import type { SessionService } from '../domain/sessions/session-service.js';
import type { SessionStore } from '../domain/sessions/session-store.js';
import type { ClaimStore } from '../domain/shared/claim-store.js';
import type { Clock } from '../domain/shared/clock.js';
import type { EventBus } from '../domain/shared/event-publisher.js';
import { type Cursor, MAX_PAGE_SIZE } from '../domain/shared/page.js';
import type { Logger } from './logger.js';

export interface ResourceStores {
  samples: ResourceSampleStore;
  alerts: AlertStore;
  /** The `alert:<subject>:<resource>` claims, kept apart from the caps and ports. */
  alertClaims: ClaimStore;
  limits: ResourceLimitsStore;
  /** Stores whose indexes are made when the database first answers. */
  indexed: { ensureIndexes(): Promise<void> }[];
}

export function mongoResourceStores(db: Db, clock: Clock): ResourceStores {
  const samples = new MongoSampleStore(db);
  const alerts = new MongoAlertStore(db);
  const alertClaims = new MongoClaimStore(db, clock, 'alert_claims');
  return { samples, alerts, alertClaims, limits: new MongoLimitsStore(db), indexed: [samples, alerts, alertClaims] };
}

export function memoryResourceStores(clock: Clock): ResourceStores {
  return {
    samples: new MemorySampleStore(),
    alerts: new MemoryAlertStore(),
    alertClaims: new MemoryClaimStore(clock),
    limits: new MemoryLimitsStore(),
    indexed: [],
  };
}

/** The resources area as the container holds it. */
export interface Resources {
  /** Where samples are kept (backfill, tests). */
  samples: ResourceSampleStore;
  usage: UsageService;
  alerts: AlertService;
  collector: ResourceCollector;
  /**
   * A collector of its own for another host (the agents of a cluster): samples of that host's
   * servers and sessions through its probe, alerts named for it, a lease of its own.
   */
  collectorFor(host: string, probe: HostProbe): ResourceCollector;
}

/** The gate of server starts and sessions on a busy host; none when REFUSE_ON_HOST_OVERLOAD=false. */
export function createHostAdmission(config: Config, samples: ResourceSampleStore, limits: ResourceLimitsProvider, clock: Clock) {
  if (!config.resources.refuseOnHostOverload) return undefined;
  return new HostAdmission({
    samples,
    limits,
    clock,
    hostSubject: hostSubjectId,
    maxAgeMs: 3 * config.metrics.intervalSeconds * 1000,
  });
}

export interface ResourcesDeps {
  config: Config;
  logger: Logger;
  clock: Clock;
  stores: ResourceStores;
  events: EventBus;
  serverStore: ServerStore;
  sessionStore: SessionStore;
  servers: ServerService;
  sessions: SessionService;
  /** Records operators resolving alerts. */
  audit?: AuditRecorder;
  redis?: RedisConnections;
  probe?: HostProbe;
}

/**
 * Wires the collector (one replica per host collects, through a Redis lease), alerts and the
 * usage reads. The collector is started by the app, not here.
 */
export function createResources(deps: ResourcesDeps): Resources {
  const { config, logger, clock, stores } = deps;
  const host = config.xrdp.publicHost;
  const intervalSeconds = config.metrics.intervalSeconds;
  const alertsOf = (host: string) =>
    new AlertService({
      store: stores.alerts,
      claims: stores.alertClaims,
      events: deps.events,
      clock,
      newId: randomUUID,
      host,
      thresholds: config.resources.alertThresholds,
      ...(deps.audit ? { audit: deps.audit } : {}),
    });
  const alerts = alertsOf(host);
  const usage = new UsageService({
    samples: stores.samples,
    servers: deps.servers,
    sessions: deps.sessions,
    clock,
    host,
    intervalSeconds,
  });
  let lastError = 0;
  const collectorFor = (collected: string, probe: HostProbe, hostAlerts = alertsOf(collected)) =>
    new ResourceCollector({
      probe,
      lease: deps.redis
        ? new RedisCollectorLease(
            deps.redis.publisher,
            `lease:collector:${collected}`,
            randomUUID(),
            Math.ceil(intervalSeconds * 1500),
          )
        : new MemoryCollectorLease(),
      samples: stores.samples,
      servers: deps.serverStore,
      sessions: deps.sessionStore,
      alerts: hostAlerts,
      events: deps.events,
      clock,
      host: collected,
      intervalSeconds,
      onError: (err, step) => {
        if (Date.now() - lastError < 10_000) return;
        lastError = Date.now();
        logger.warn(
          { err: err instanceof Error ? err.message : String(err), step, host: collected },
          'resource collection step failed',
        );
      },
    });
  const collector = collectorFor(
    host,
    deps.probe ?? createProcHostProbe({ configPath: config.xrdp.configPath, dataDir: config.dataDir }),
    alerts,
  );
  return { samples: stores.samples, usage, alerts, collector, collectorFor: (h, probe) => collectorFor(h, probe) };
}

/**
 * Gauge sources for /metrics, read from the stores at scrape time with the freshness rule of
 * `RdpServer.usage`, so they show the values the API shows. They need no service.
 */
export function usageGaugeSources(deps: {
  serverStore: ServerStore;
  samples: ResourceSampleStore;
  clock: Clock;
  host: string;
  intervalSeconds: number;
}): {
  serverUsage(): Promise<ServerUsageFigures[]>;
  hostUsage(): Promise<HostUsageFigures[]>;
  /** Name and host of every server, so dashboards can show names (rdp_server_info). */
  serverInfo(): Promise<ServerInfoFigures[]>;
} {
  const { serverStore, samples, clock, host, intervalSeconds } = deps;
  const fresh = (at: string) => clock.now().getTime() - Date.parse(at) <= 3 * intervalSeconds * 1000;
  const allServers = async () => {
    const servers: RdpServer[] = [];
    let after: Cursor | undefined;
    while (true) {
      const page = await serverStore.list({}, MAX_PAGE_SIZE, after);
      servers.push(...page.items);
      const last = page.items.at(-1);
      if (!page.hasNextPage || !last) break;
      after = last;
    }
    return servers;
  };
  return {
    async serverUsage() {
      // Every server that exists, with the freshness rule of `RdpServer.usage`: the same values.
      const ids = (await allServers()).map((s) => s.id);
      const latest = await samples.latest(ids);
      return latest.flatMap((s) => (s && fresh(s.at) ? [{ serverId: s.subjectId, ...s }] : []));
    },
    async serverInfo() {
      return (await allServers()).map((s) => ({ serverId: s.id, name: s.name, host: s.host }));
    },
    async hostUsage() {
      const [s] = await samples.latest([hostSubjectId(host)]);
      return s && fresh(s.at) ? [{ host, ...s }] : [];
    },
  };
}
