import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from '../../monitoring/metrics.js';
import type { ConsoleRoutes } from './console-routes.js';
import { GRAPHIQL_ASSET_PREFIX, GRAPHIQL_CSP, graphiqlAssets } from './graphiql.js';
import type { AppYoga } from './yoga.js';

const KNOWN_ENDPOINTS = new Set(['/graphql', '/health', '/health/live', '/health/ready', '/metrics']);

export interface HttpHandlerOptions {
  yoga: AppYoga;
  metrics: Metrics;
  monitoring: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;
  maxBodyBytes: number;
  serviceName: string;
  /** GraphiQL's page at /graphql and its files under /graphiql/. @default false */
  graphiql?: boolean;
  /** The web console at / and /console/*; without it / redirects to /graphql. */
  console?: ConsoleRoutes;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * The node:http entry: /health* and /metrics before yoga, yoga at /graphql only, and the body cap
 * enforced from Content-Length (411 without one on POST, 413 above the cap) instead of yoga's
 * streaming limit.
 */
export function createHttpHandler(options: HttpHandlerOptions) {
  const { yoga, metrics, monitoring, maxBodyBytes, serviceName } = options;
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const endpoint = KNOWN_ENDPOINTS.has(path)
      ? path
      : options.graphiql && path.startsWith(GRAPHIQL_ASSET_PREFIX)
        ? GRAPHIQL_ASSET_PREFIX
        : path === '/' || path === '/console' || path.startsWith('/console/')
          ? '/console'
          : 'other';
    const method = req.method ?? 'GET';
    const stopTimer = metrics.requestDuration.startTimer({ service: serviceName, endpoint, method });
    res.once('finish', () => {
      stopTimer();
      metrics.requestsTotal.inc({ service: serviceName, endpoint, method, status: String(res.statusCode) });
    });
    try {
      if (await monitoring(req, res, path)) return;
      if (path === '/graphql') {
        if (method === 'POST') {
          const length = req.headers['content-length'];
          if (length === undefined || !/^\d+$/.test(length)) {
            sendJson(res, 411, { errors: [{ message: 'Content-Length is required', extensions: { code: 'LENGTH_REQUIRED' } }] });
            return;
          }
          if (Number(length) > maxBodyBytes) {
            sendJson(res, 413, {
              errors: [{ message: `request body exceeds ${maxBodyBytes} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
            });
            req.resume();
            return;
          }
        }
        // The page yoga renders for a browser; harmless on the JSON answers to the same GET.
        if (options.graphiql && method === 'GET') res.setHeader('content-security-policy', GRAPHIQL_CSP);
        await yoga.requestListener(req, res);
        return;
      }
      if (options.graphiql && path.startsWith(GRAPHIQL_ASSET_PREFIX)) {
        (await graphiqlAssets()).serve(req, res, path);
        return;
      }
      if (options.console && (await options.console.handle(req, res, path))) return;
      if (path === '/' && (method === 'GET' || method === 'HEAD')) {
        res.writeHead(302, { location: '/graphql' });
        res.end();
        return;
      }
      sendJson(res, 404, { error: 'not found', endpoints: [...KNOWN_ENDPOINTS] });
    } catch {
      if (!res.headersSent) sendJson(res, 500, { error: 'internal server error' });
      else res.end();
    }
  };
}
