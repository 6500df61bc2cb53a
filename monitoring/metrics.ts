import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Every status a server can have, so rdp_servers_total reports zeros rather than gaps. */
export const SERVER_STATUS_LABELS = ['STOPPED', 'STARTING', 'RUNNING', 'STOPPING', 'ERROR', 'MAINTENANCE'] as const;

export const SESSION_STATUS_LABELS = ['ACTIVE', 'DISCONNECTED', 'TERMINATED'] as const;

export interface MetricsSources {
  /** Current server counts by status, read at scrape time so the gauge matches the store. */
  serversByStatus: () => Promise<Partial<Record<string, number>>>;
  /** Current session counts by status, read at scrape time. */
  sessionsByStatus: () => Promise<Partial<Record<string, number>>>;
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
      const counts = await sources.serversByStatus();
      for (const status of SERVER_STATUS_LABELS) this.set({ status }, counts[status] ?? 0);
    },
  });

  new Gauge({
    name: 'rdp_sessions_total',
    help: 'RDP sessions by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await sources.sessionsByStatus();
      for (const status of SESSION_STATUS_LABELS) this.set({ status }, counts[status] ?? 0);
    },
  });
  const sessionsCreatedTotal = new Counter({
    name: 'rdp_sessions_created_total',
    help: 'RDP sessions admitted',
    registers: [registry],
  });
  const sessionsTerminatedTotal = new Counter({
    name: 'rdp_sessions_terminated_total',
    help: 'RDP sessions terminated, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });

  return {
    registry,
    requestsTotal,
    requestDuration,
    serversCreatedTotal,
    serversDeletedTotal,
    sessionsCreatedTotal,
    sessionsTerminatedTotal,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
