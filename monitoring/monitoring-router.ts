import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
  /**
   * Whether a failure makes the replica not ready. An optional dependency that every replica
   * shares (Redis) only degrades it: failing readiness on it would pull every replica out of the
   * balancer at once and turn a degradation into an outage.
   * @default true
   */
  required?: boolean;
}

export type CheckResult = 'ok' | 'timeout' | 'unavailable';

export interface CheckOutcome {
  name: string;
  required: boolean;
  result: CheckResult;
}

/** Default time each readiness check gets. */
export const CHECK_TIMEOUT_MS = 2000;

export interface MonitoringRouterOptions {
  service: string;
  version: string;
  registry: Registry;
  /** Whether /metrics is served. @default true */
  metricsEnabled?: boolean;
  checks: ReadinessCheck[];
  /** Readiness goes false at the start of shutdown, before anything closes. */
  isShuttingDown: () => boolean;
  /** Each readiness check gets this long. @default CHECK_TIMEOUT_MS (2000) */
  checkTimeoutMs?: number;
}

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(text);
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Runs every check at once, each bounded by `timeoutMs`; never rejects. */
export function runChecks(checks: readonly ReadinessCheck[], timeoutMs = CHECK_TIMEOUT_MS): Promise<CheckOutcome[]> {
  return Promise.all(
    checks.map(async (c): Promise<CheckOutcome> => {
      const required = c.required ?? true;
      try {
        await withTimeout(c.check(), timeoutMs);
        return { name: c.name, required, result: 'ok' };
      } catch (err) {
        const timedOut = err instanceof Error && err.message.startsWith('timed out');
        return { name: c.name, required, result: timedOut ? 'timeout' : 'unavailable' };
      }
    }),
  );
}

/** One dependency in /health/ready: its check's result and a sentence for a person. */
export interface DependencyReport {
  status: CheckResult;
  message: string;
}

/**
 * Plain sentences, never the driver's error text: /health/ready answers without authentication,
 * and a driver message can name internal addresses.
 */
function dependencyState(o: CheckOutcome, timeoutMs: number): DependencyReport {
  const effect = o.required ? 'the replica is not ready' : 'the replica serves on, degraded';
  switch (o.result) {
    case 'ok':
      return { status: 'ok', message: `${o.name} answered` };
    case 'timeout':
      return { status: 'timeout', message: `${o.name} did not answer within ${timeoutMs} ms; ${effect}` };
    case 'unavailable':
      return { status: 'unavailable', message: `${o.name} is not reachable; ${effect}` };
  }
}

/** Serves /health, /health/live, /health/ready and /metrics; returns false for other paths. */
export function createMonitoringRouter(options: MonitoringRouterOptions) {
  const timeout = options.checkTimeoutMs ?? CHECK_TIMEOUT_MS;
  return async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (path === '/health' || path.startsWith('/health/') || path === '/metrics') {
        send(res, 405, { error: 'method not allowed' });
        return true;
      }
      return false;
    }
    switch (path) {
      case '/health':
        send(res, 200, { status: 'healthy', service: options.service, version: options.version });
        return true;
      case '/health/live':
        // `alive` and `timestamp` as the services this one replaced answered.
        send(res, 200, { status: 'alive', alive: true, timestamp: new Date().toISOString() });
        return true;
      case '/health/ready': {
        if (options.isShuttingDown()) {
          send(res, 503, {
            status: 'not ready',
            ready: false,
            failing: ['shutdown'],
            checks: { shutdown: 'in progress' },
            dependencies: {},
          });
          return true;
        }
        const outcomes = await runChecks(options.checks, timeout);
        const checks = Object.fromEntries(outcomes.map((o) => [o.name, o.result]));
        const dependencies = Object.fromEntries(outcomes.map((o) => [o.name, dependencyState(o, timeout)]));
        const failing = outcomes.filter((o) => o.result !== 'ok' && o.required).map((o) => o.name);
        const degraded = outcomes.filter((o) => o.result !== 'ok' && !o.required).map((o) => o.name);
        if (failing.length) {
          send(res, 503, {
            status: 'not ready',
            ready: false,
            failing,
            ...(degraded.length ? { degraded } : {}),
            checks,
            dependencies,
          });
        } else if (degraded.length) {
          send(res, 200, { status: 'degraded', ready: true, degraded, checks, dependencies });
        } else {
          send(res, 200, { status: 'ready', ready: true, checks, dependencies });
        }
        return true;
      }
      case '/metrics':
        if (options.metricsEnabled === false) return false;
        send(res, 200, await options.registry.metrics(), options.registry.contentType);
        return true;
      default:
        return false;
    }
  };
}
