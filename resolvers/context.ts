import type DataLoader from 'dataloader';
import type { AuditService } from '../src/domain/audit/audit-service.js';
import type { Viewer } from '../src/domain/auth/viewer.js';
import type { FleetViewService } from '../src/domain/fleet/fleet-view.js';
import type { Host } from '../src/domain/hosts/host.js';
import type { HostService } from '../src/domain/hosts/host-service.js';
import type { BrokerService } from '../src/domain/pools/broker-service.js';
import type { PoolService } from '../src/domain/pools/pool-service.js';
import type { AlertService } from '../src/domain/resources/alert-service.js';
import type { ResourceLimitsService } from '../src/domain/resources/resource-limits-service.js';
import type { ResourceSample } from '../src/domain/resources/resource-sample.js';
import type { UsageService } from '../src/domain/resources/usage-service.js';
import type { DrainService } from '../src/domain/servers/drain-service.js';
import type { RdpServer } from '../src/domain/servers/server.js';
import type { ServerService } from '../src/domain/servers/server-service.js';
import type { RdpSession } from '../src/domain/sessions/session.js';
import type { SessionService } from '../src/domain/sessions/session-service.js';
import type { EventBus } from '../src/domain/shared/event-publisher.js';
import type { XrdpConfigService } from '../src/domain/xrdp/xrdp-config-service.js';
import type { XrdpHostService } from '../src/domain/xrdp/xrdp-host.js';
import type { XrdpLogService } from '../src/domain/xrdp/xrdp-log-service.js';

/** The per-request logger: each line carries the request id. Structurally a pino logger. */
export interface RequestLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface Services {
  audit: AuditService;
  servers: ServerService;
  drains: DrainService;
  sessions: SessionService;
  hosts: HostService;
  pools: PoolService;
  fleetViews: FleetViewService;
  broker: BrokerService;
  xrdpConfig: XrdpConfigService;
  xrdpHost: XrdpHostService;
  xrdpLogs: XrdpLogService;
  usage: UsageService;
  alerts: AlertService;
  limits: ResourceLimitsService;
}

/**
 * A batching loader whose values can also be read ahead for a whole page: `prefetch` reads them
 * in one batch, after which `get` answers those keys at once, without a promise per item (a page
 * of 100 servers with their sessions otherwise costs 100 promises and 100 DataLoader loads).
 */
export interface PrefetchingLoader<K, V> {
  /** Reads the keys not read yet in one batch. */
  prefetch(keys: readonly K[]): Promise<void>;
  /** The value read ahead, or else a load batched with the other loads of this tick (DataLoader). */
  get(key: K): V | Promise<V>;
}

/** Per-request context: the caller, the services and request-scoped loaders. */
export interface GraphQLContext {
  viewer: Viewer | null;
  requestId: string;
  /** The caller's address (socket peer, or X-Forwarded-For behind a trusted proxy). */
  clientIp: string | null;
  log: RequestLog;
  services: Services;
  events: EventBus;
  loaders: {
    server: DataLoader<string, RdpServer | null>;
    /**
     * Servers this operation read already (a page): `server` answers them without a read. Costs
     * nothing until something asks `server` (they are primed into it then).
     */
    primeServers(servers: readonly RdpServer[]): void;
    /** Hosts by id; null where missing, and for callers who may not read hosts. */
    host: DataLoader<string, Host | null>;
    /** Live sessions of a server, by server id. */
    liveSessionsByServer: PrefetchingLoader<string, RdpSession[]>;
    /** Current resource sample of a server or session (already authorized), by id. */
    usage: DataLoader<string, ResourceSample | null>;
  };
}
