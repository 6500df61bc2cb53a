import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Metrics } from '../../../monitoring/metrics.js';
import type { RedisConnections } from '../../adapters/redis/redis-connections.js';
import { fileCertificatePairChecker } from '../../adapters/xrdp/tls-certificate.js';
import { createXrdpConfigFileWriter } from '../../adapters/xrdp/xrdp-config-files.js';
import type { Config } from '../../config/config.js';
import { actorOf } from '../../domain/audit/audit-event.js';
import { AuditService } from '../../domain/audit/audit-service.js';
import { FleetViewService } from '../../domain/fleet/fleet-view.js';
import type { HostService } from '../../domain/hosts/host-service.js';
import { AssignmentGrants } from '../../domain/pools/assignment-grants.js';
import { BrokerService } from '../../domain/pools/broker-service.js';
import { PoolService } from '../../domain/pools/pool-service.js';
import type { HostProbe } from '../../domain/resources/host-probe.js';
import { defaultResourceLimits } from '../../domain/resources/resource-limits.js';
import { ResourceLimitsService } from '../../domain/resources/resource-limits-service.js';
import { DrainService } from '../../domain/servers/drain-service.js';
import { ServerService } from '../../domain/servers/server-service.js';
import { SessionService } from '../../domain/sessions/session-service.js';
import type { Clock } from '../../domain/shared/clock.js';
import type { EventBus } from '../../domain/shared/event-publisher.js';
import { XrdpConfigService } from '../../domain/xrdp/xrdp-config-service.js';
import type { XrdpConfigStore } from '../../domain/xrdp/xrdp-config-store.js';
import { XrdpHostService } from '../../domain/xrdp/xrdp-host.js';
import { XrdpLogService } from '../../domain/xrdp/xrdp-log-service.js';
import { createHosts } from '../hosts-wiring.js';
import { createLogThrottle } from '../log-throttle.js';
import type { Logger } from '../logger.js';
import { createHostAdmission, createResources, type Resources } from '../resources-wiring.js';
import type { LocalHost } from './local-host.js';
import type { Stores } from './stores.js';

/** Audit events: services record through it; a failed store write is logged, throttled. */
export function createAudit(stores: Stores, logger: Logger, clock: Clock): AuditService {
  const failures = createLogThrottle();
  return new AuditService({
    log: stores.audit,
    clock,
    newId: randomUUID,
    onError: (err, event) => {
      const gate = failures();
      if (gate.open) {
        logger.error(
          { err: err instanceof Error ? err.message : String(err), action: event.action, suppressed: gate.suppressed },
          'an audit event could not be stored',
        );
      }
    },
  });
}

/** The versioned xrdp configuration; each new version is also written to DATA_DIR/xrdp. */
export function createXrdpConfig(
  config: Config,
  logger: Logger,
  clock: Clock,
  store: XrdpConfigStore,
  audit: AuditService,
): XrdpConfigService {
  // The host files go to DATA_DIR/xrdp, never into /etc/xrdp, which the service does not own.
  const sesman = { listenAddress: '127.0.0.1', logFile: join(config.xrdp.logPath, 'xrdp-sesman.log') };
  const writeFiles = createXrdpConfigFileWriter({ dir: join(config.dataDir, 'xrdp'), sesman });
  return new XrdpConfigService({
    store,
    clock,
    audit,
    certificates: fileCertificatePairChecker,
    sesman,
    // With agents no replica runs xrdp (nor may write its data dir): the agents get each version
    // with the commands that need it.
    onChange: async (xrdp, version) => {
      if (config.hosts.mode === 'agents') return;
      try {
        await writeFiles(xrdp);
      } catch (err) {
        logger.error({ err, version }, 'could not write the xrdp host files of a new configuration version');
      }
    },
  });
}

export interface FleetDeps {
  config: Config;
  logger: Logger;
  clock: Clock;
  stores: Stores;
  events: EventBus;
  audit: AuditService;
  metrics: Metrics;
  host: LocalHost;
  redis?: RedisConnections;
  probe?: HostProbe;
}

/** The services of the fleet: limits, sessions, servers, resources and the xrdp service's control. */
export interface Fleet {
  limits: ResourceLimitsService;
  sessions: SessionService;
  servers: ServerService;
  /** Server drains and their job (host drains with a deadline reach servers through it). */
  drains: DrainService;
  /** RDP hosts: registration, heartbeats, drain; their placement of new servers. */
  hosts: HostService;
  resources: Resources;
  /** Pools and assignments. */
  pools: PoolService;
  /** The live fleet lists (fleetEvents, fleetUsage), scoped to what each viewer may see. */
  fleetViews: FleetViewService;
  /** connect: a user's way to a pool or a server. */
  broker: BrokerService;
  xrdpHost: XrdpHostService;
  xrdpLogs: XrdpLogService;
}

/**
 * Sessions come first (they read servers through the server store), then servers (they end
 * sessions through the sessions service): no cycle to patch.
 */
export function createFleet(deps: FleetDeps): Fleet {
  const { config, logger, clock, stores, events, audit, metrics, host } = deps;
  // The environment gives the defaults; an admin's stored version replaces them.
  const limits = new ResourceLimitsService({
    store: stores.resources.limits,
    defaults: defaultResourceLimits({
      maxServers: config.limits.maxServers,
      maxSessions: config.limits.maxSessions,
      maxCpuUsage: config.limits.maxCpuUsage,
      maxMemoryUsage: config.limits.maxMemoryUsage,
      sessionTimeoutSeconds: config.sessions.sessionTimeoutSeconds,
    }),
    clock,
    audit,
  });
  const admission = createHostAdmission(config, stores.resources.samples, limits, clock);
  const hosts = createHosts({ config, store: stores.hosts, claims: stores.claims, events, clock, audit });
  const grants = new AssignmentGrants(stores.assignments);
  const sessions = new SessionService({
    pools: stores.pools,
    grants,
    audit,
    store: stores.sessions,
    claims: stores.claims,
    servers: stores.servers,
    events,
    limits,
    clock,
    newId: randomUUID,
    timeouts: {
      idleSeconds: config.sessions.idleTimeoutSeconds,
      sessionSeconds: config.sessions.sessionTimeoutSeconds,
      disconnectedSeconds: config.sessions.disconnectedTimeoutSeconds,
    },
    credentialTtlSeconds: config.sessions.credentialTtlSeconds,
    defaultCredentialMode: host.defaultCredentialMode,
    ...(host.accounts ? { accounts: host.accounts } : {}),
    host: host.sessionHost,
    hosts: hosts.service,
    ...(admission ? { admission } : {}),
    ...(host.enforcement ? { enforcement: host.enforcement } : {}),
    metrics: {
      created: () => metrics.sessionsCreatedTotal.inc(),
      terminated: (reason) => metrics.sessionsTerminatedTotal.inc({ reason }),
    },
  });
  const servers = new ServerService({
    audit,
    grants,
    pools: { exists: async (id) => (await stores.pools.findById(id)) !== null },
    forgetAssignments: (serverId) => stores.assignments.deleteByTarget('SERVER', serverId),
    store: stores.servers,
    claims: stores.claims,
    runtime: host.runtime,
    events,
    limits,
    clock,
    newId: randomUUID,
    placement: hosts.placement,
    sessions,
    ...(admission ? { admission } : {}),
    ...(host.enforcement ? { enforcement: host.enforcement } : {}),
    ...(host.health ? { health: host.health } : {}),
    ...(config.hosts.mode === 'local' ? { healthCheckedHost: config.hosts.localId } : {}),
    metrics: {
      created: () => metrics.serversCreatedTotal.inc(),
      deleted: () => metrics.serversDeletedTotal.inc(),
    },
  });
  const drains = new DrainService({
    store: stores.servers,
    sessions,
    stopServer: (id) => servers.stopForDrain(id),
    events,
    clock,
    newId: randomUUID,
    noticeSteps: config.sessions.drainNoticeSeconds,
    hosts: hosts.service,
    audit,
  });
  const resources = createResources({
    config,
    logger,
    clock,
    stores: stores.resources,
    events,
    serverStore: stores.servers,
    sessionStore: stores.sessions,
    servers,
    sessions,
    audit,
    ...(deps.redis ? { redis: deps.redis } : {}),
    ...(deps.probe ? { probe: deps.probe } : {}),
  });
  const pools = new PoolService({
    store: stores.pools,
    assignments: stores.assignments,
    servers: stores.servers,
    clearPool: (id) => servers.clearPool(id),
    countServers: (poolId) => stores.servers.count({ poolId }),
    countLiveSessions: (poolId) => stores.sessions.count({ poolId, statuses: ['ACTIVE', 'DISCONNECTED'] }),
    events,
    clock,
    newId: randomUUID,
    audit,
  });
  const fleetViews = new FleetViewService({ servers, sessions, usage: resources.usage });
  const broker = new BrokerService({
    pools,
    servers,
    serverStore: stores.servers,
    sessionStore: stores.sessions,
    sessions,
    hosts: hosts.service,
    ...(admission ? { admission } : {}),
    audit,
  });
  const xrdpHost = new XrdpHostService({
    supervisor: host.sesman,
    servers: stores.servers,
    clock,
    onControl: (viewer, action, result, message) => {
      logger.info({ actor: viewer.userId, action, result, message }, 'xrdp service control');
      void audit.record({
        actor: actorOf(viewer),
        action: 'xrdp.service.control',
        target: { type: 'xrdp_service', id: 'xrdp-sesman', name: null },
        result,
        details: { command: action, ...(message ? { message } : {}) },
      });
    },
  });
  return {
    limits,
    sessions,
    servers,
    drains,
    hosts: hosts.service,
    resources,
    pools,
    fleetViews,
    broker,
    xrdpHost,
    xrdpLogs: new XrdpLogService(host.logs, deps.events),
  };
}
