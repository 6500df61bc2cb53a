import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Every status a server can have, so rdp_servers_total reports zeros rather than gaps. */
export const SERVER_STATUS_LABELS = ['STOPPED', 'STARTING', 'RUNNING', 'STOPPING', 'ERROR', 'MAINTENANCE'] as const;

export const SESSION_STATUS_LABELS = ['ACTIVE', 'DISCONNECTED', 'TERMINATED'] as const;

export interface MetricsSources {
  /** Current server counts by status, read at scrape time so the gauge matches the store. */
  serversByStatus: () => Promise<Partial<Record<string, number>>>;
  /** Current session counts by status, read at scrape time. */
  sessionsByStatus: () => Promise<Partial<Record<string, number>>>;
  /** Current figures of each server with a recent sample (deleted servers are not listed). */
  serverUsage?: () => Promise<ServerUsageFigures[]>;
  /** Current figures of each host with a recent sample. */
  hostUsage?: () => Promise<HostUsageFigures[]>;
  /** Every server that exists, for rdp_server_info. */
  serverInfo?: () => Promise<ServerInfoFigures[]>;
}

export interface ServerInfoFigures {
  serverId: string;
  name: string;
  host: string;
}

/** Whether one dependency answered its readiness check. */
export interface DependencyState {
  /** The check's name: `mongodb` or `redis`. */
  dependency: string;
  up: boolean;
}

export interface ServerUsageFigures {
  serverId: string;
  cpuPercent: number | null;
  memoryPercent: number | null;
  networkInKbps: number | null;
  networkOutKbps: number | null;
}

export interface HostUsageFigures {
  host: string;
  cpuPercent: number | null;
  memoryPercent: number | null;
  memoryUsedMb: number | null;
  diskPercent: number | null;
  networkInKbps: number | null;
  networkOutKbps: number | null;
}

/**
 * One read per scrape for several gauges: a registry collects every metric at once, so the
 * gauges of one scrape share the read in flight; the next scrape reads again.
 */
function sharedRead<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () => {
    if (!pending) {
      pending = read().finally(() => {
        pending = null;
      });
    }
    return pending;
  };
}

/**
 * A store read for a scrape, or null when it fails: the store-backed gauges then have no series
 * for that scrape instead of failing all of /metrics, which would hide rdp_dependency_up exactly
 * while MongoDB is down and make the replica look unscrapable (RdpApiDown).
 */
const unlessFailed = <T>(read: Promise<T>): Promise<T | null> => read.catch(() => null);

/**
 * Gauges read from the store at scrape time, like rdp_servers_total: every replica reports the
 * values the API shows, and a server that is gone has no series (reset before each fill).
 */
function usageGauges<T, L extends string>(
  registry: Registry,
  label: L,
  read: () => Promise<T[]>,
  labelOf: (row: T) => string,
  specs: [name: string, help: string, value: (row: T) => number | null][],
): void {
  const shared = sharedRead(read);
  for (const [name, help, value] of specs) {
    new Gauge({
      name,
      help,
      labelNames: [label] as const,
      registers: [registry],
      async collect() {
        const rows = await unlessFailed(shared());
        this.reset();
        for (const row of rows ?? []) {
          const v = value(row);
          if (v !== null) this.set({ [label]: labelOf(row) } as Record<L, string>, v);
        }
      },
    });
  }
}

/**
 * The metric catalogue: one registry of our own (never prom-client's global one) and every metric
 * the dashboards expect. Labels come from bounded sets only.
 */
export function createMetrics(sources: MetricsSources, options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const requestsTotal = new Counter({
    name: 'rdp_requests_total',
    help: 'HTTP requests served, by route',
    labelNames: ['service', 'endpoint', 'method', 'status'] as const,
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: 'rdp_request_duration_seconds',
    help: 'HTTP request duration in seconds, by route',
    labelNames: ['service', 'endpoint', 'method'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // Per GraphQL operation, labelled by root field: bounded by the schema (the service maps any
  // other name to `other`), never by the client's free-form operation name.
  const operationsTotal = new Counter({
    name: 'rdp_graphql_operations_total',
    help: 'GraphQL operations executed, per root field selected, by operation type and result (ok or error)',
    labelNames: ['type', 'field', 'result'] as const,
    registers: [registry],
  });
  const operationDuration = new Histogram({
    name: 'rdp_graphql_operation_duration_seconds',
    help: 'Execution time of GraphQL queries and mutations in seconds, per root field selected',
    labelNames: ['type', 'field'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const serversCreatedTotal = new Counter({
    name: 'rdp_servers_created_total',
    help: 'RDP servers created',
    registers: [registry],
  });
  const serversDeletedTotal = new Counter({
    name: 'rdp_servers_deleted_total',
    help: 'RDP servers deleted',
    registers: [registry],
  });
  new Gauge({
    name: 'rdp_servers_total',
    help: 'RDP servers by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await unlessFailed(sources.serversByStatus());
      this.reset();
      if (counts) for (const status of SERVER_STATUS_LABELS) this.set({ status }, counts[status] ?? 0);
    },
  });

  new Gauge({
    name: 'rdp_sessions_total',
    help: 'RDP sessions by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await unlessFailed(sources.sessionsByStatus());
      this.reset();
      if (counts) for (const status of SESSION_STATUS_LABELS) this.set({ status }, counts[status] ?? 0);
    },
  });
  const sessionsCreatedTotal = new Counter({
    name: 'rdp_sessions_created_total',
    help: 'RDP sessions admitted',
    registers: [registry],
  });
  const serverUsage = sources.serverUsage;
  if (serverUsage) {
    usageGauges(registry, 'server_id', serverUsage, (r) => r.serverId, [
      ['rdp_cpu_usage_percent', 'CPU of the server (xrdp and its sessions), percent of all host CPUs', (r) => r.cpuPercent],
      ['rdp_memory_usage_percent', 'Resident memory of the server, percent of host memory', (r) => r.memoryPercent],
      ['rdp_network_in_kbps', "Inbound traffic of the server's RDP connections, kbit/s", (r) => r.networkInKbps],
      ['rdp_network_out_kbps', "Outbound traffic of the server's RDP connections, kbit/s", (r) => r.networkOutKbps],
    ]);
  }
  const serverInfo = sources.serverInfo;
  if (serverInfo) {
    // The usual info-metric pattern: value 1, the descriptive labels joined onto the
    // server_id series in PromQL (`* on (server_id) group_left (name) rdp_server_info`). One series
    // per server, bounded like the servers themselves by MAX_CONCURRENT_SERVERS.
    new Gauge({
      name: 'rdp_server_info',
      help: 'One series per RDP server with its name and host (value 1), to show names next to server_id',
      labelNames: ['server_id', 'name', 'host'] as const,
      registers: [registry],
      async collect() {
        const rows = await unlessFailed(serverInfo());
        this.reset();
        for (const r of rows ?? []) this.set({ server_id: r.serverId, name: r.name, host: r.host }, 1);
      },
    });
  }
  const hostUsage = sources.hostUsage;
  if (hostUsage) {
    usageGauges(registry, 'host', hostUsage, (r) => r.host, [
      ['rdp_host_cpu_usage_percent', 'CPU in use on the host, percent of all CPUs', (r) => r.cpuPercent],
      ['rdp_host_memory_usage_percent', 'Memory in use on the host (total - available), percent', (r) => r.memoryPercent],
      [
        'rdp_host_memory_used_bytes',
        'Memory in use on the host, bytes',
        (r) => (r.memoryUsedMb === null ? null : r.memoryUsedMb * 1048576),
      ],
      ['rdp_host_disk_usage_percent', 'Use of the filesystem holding the data, percent', (r) => r.diskPercent],
      ['rdp_host_network_in_kbps', 'Inbound traffic of the host (loopback excluded), kbit/s', (r) => r.networkInKbps],
      ['rdp_host_network_out_kbps', 'Outbound traffic of the host (loopback excluded), kbit/s', (r) => r.networkOutKbps],
    ]);
  }
  const sessionsTerminatedTotal = new Counter({
    name: 'rdp_sessions_terminated_total',
    help: 'RDP sessions terminated, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });

  // The checks are made by the composition root after the metrics, so the source is given later;
  // until then (and with no external dependency) the gauge has no series.
  let dependencies: () => Promise<DependencyState[]> = () => Promise.resolve([]);
  new Gauge({
    name: 'rdp_dependency_up',
    help: 'Whether a dependency answers its readiness check at scrape time (1) or not (0), by dependency',
    labelNames: ['dependency'] as const,
    registers: [registry],
    async collect() {
      const states = await dependencies();
      this.reset();
      for (const s of states) this.set({ dependency: s.dependency }, s.up ? 1 : 0);
    },
  });

  const subscriptionsActive = new Gauge({
    name: 'rdp_subscriptions_active',
    help: 'GraphQL operations open over WebSocket on this replica',
    registers: [registry],
  });

  const subscriptionStreamsShared = new Gauge({
    name: 'rdp_subscription_streams_shared',
    help: 'Shared subscription streams on this replica: each executes and serializes an event once for all its subscribers',
    registers: [registry],
  });

  const responseCacheTotal = new Counter({
    name: 'rdp_response_cache_total',
    help: 'Cacheable GraphQL queries by outcome: hit (answered from the response cache), miss (executed and stored), bypass (the generations could not be read, so executed and not stored)',
    labelNames: ['result'],
    registers: [registry],
  });
  for (const result of ['hit', 'miss', 'bypass']) responseCacheTotal.inc({ result }, 0);

  const responseCacheInvalidationFailures = new Counter({
    name: 'rdp_response_cache_invalidation_failures_total',
    help: 'Store writes whose generation bump could not reach Redis (retried when it is back; this replica serves no hit meanwhile)',
    registers: [registry],
  });

  return {
    registry,
    responseCacheTotal,
    responseCacheInvalidationFailures,
    subscriptionsActive,
    subscriptionStreamsShared,
    requestsTotal,
    requestDuration,
    operationsTotal,
    operationDuration,
    serversCreatedTotal,
    serversDeletedTotal,
    sessionsCreatedTotal,
    sessionsTerminatedTotal,
    /** Gives rdp_dependency_up its source, read at each scrape and never otherwise. */
    reportDependencies(read: () => Promise<DependencyState[]>): void {
      dependencies = read;
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
