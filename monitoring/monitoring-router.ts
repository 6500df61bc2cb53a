import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

export interface MonitoringRouterOptions {
  service: string;
  version: string;
  registry: Registry;
  /** Whether /metrics is served. @default true */
  metricsEnabled?: boolean;
  checks: ReadinessCheck[];
  /** Readiness goes false at the start of shutdown, before anything closes. */
  isShuttingDown: () => boolean;
  /** Each readiness check gets this long. @default 2000 */
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

/** Serves /health, /health/live, /health/ready and /metrics; returns false for other paths. */
export function createMonitoringRouter(options: MonitoringRouterOptions) {
  const timeout = options.checkTimeoutMs ?? 2000;
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
        send(res, 200, { status: 'alive' });
        return true;
      case '/health/ready': {
        if (options.isShuttingDown()) {
          send(res, 503, { status: 'not ready', failing: ['shutdown'], checks: { shutdown: 'in progress' } });
          return true;
        }
        const results = await Promise.all(
          options.checks.map(async (c) => {
            try {
              await withTimeout(c.check(), timeout);
              return [c.name, 'ok'] as const;
            } catch (err) {
              return [c.name, err instanceof Error && err.message.startsWith('timed out') ? 'timeout' : 'unavailable'] as const;
            }
          }),
        );
        const failing = results.filter(([, r]) => r !== 'ok').map(([n]) => n);
        send(res, failing.length ? 503 : 200, {
          status: failing.length ? 'not ready' : 'ready',
          ...(failing.length ? { failing } : {}),
          checks: Object.fromEntries(results),
        });
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
