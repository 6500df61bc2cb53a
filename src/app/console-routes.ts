import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { createOidcDiscovery } from '../adapters/auth/oidc-discovery.js';
import { signToken } from '../adapters/auth/token-signer.js';
import type { Config } from '../config/config.js';
import { ROLES } from '../domain/auth/viewer.js';

/**
 * The console's page allows this origin only: no inline script or style, no other host. Its
 * WebSocket is same-origin (connect-src 'self' covers ws: and wss: to this host).
 */
export function consoleCsp(connectOrigins: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    ["connect-src 'self'", ...connectOrigins].join(' '),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The console's policy without an OpenID provider: nothing but this origin. */
export const CONSOLE_CSP = consoleCsp();

/** How the console signs people in, served at /console/config.json (public: nothing secret). */
export type ConsoleSignIn =
  | { signIn: 'oidc'; oidc: { issuer: string; clientId: string; scopes: string; resource?: string } }
  | { signIn: 'development' }
  | { signIn: 'none' };

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** The build output: dist/console beside src (tsx) or beside dist/src (compiled). */
function defaultConsoleDir(): string {
  return fileURLToPath(
    new URL(import.meta.url.includes('/dist/src/') ? '../../console/' : '../../dist/console/', import.meta.url),
  );
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Console not built</title></head>
<body><main><h1>The console is not built</h1><p>Run <code>npm run console:build</code> (npm start does it when the
build is missing). GraphiQL is at <a href="/graphql">/graphql</a>.</p></main></body></html>`;

const devTokenRequest = z.object({
  sub: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._@-]{1,64}$/, 'sub: 1-64 letters, digits or . _ @ -'),
  roles: z.array(z.enum(ROLES)).min(1).max(3),
});

export interface ConsoleRoutes {
  /** Answers `/`, `/console`, `/console/*` and the dev sign-in; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
}

/**
 * The console, from the same origin as the API: hashed assets cached for a year, the page itself
 * never cached, and (outside production, with a local secret) the development sign-in.
 */
export function createConsoleRoutes(config: Config, dir = defaultConsoleDir()): ConsoleRoutes {
  const cache = new Map<string, Buffer | null>();
  const gzipped = new Map<string, Buffer>();
  const read = async (file: string): Promise<Buffer | null> => {
    if (cache.has(file)) return cache.get(file) ?? null;
    const body = await readFile(join(dir, file)).catch(() => null);
    // A missing build is looked for again (npm run console:build while the service runs).
    if (body) cache.set(file, body);
    return body;
  };
  const secret = config.auth.secret;
  const oidc = config.auth.oidc;
  // Development only, and only when no OpenID provider is configured: never a second way in.
  const devSignIn = config.env !== 'production' && secret !== undefined && !oidc;
  const signIn: ConsoleSignIn = oidc
    ? {
        signIn: 'oidc',
        oidc: {
          issuer: oidc.issuer,
          clientId: oidc.clientId,
          scopes: oidc.scopes,
          ...(config.auth.audience ? { resource: config.auth.audience } : {}),
        },
      }
    : devSignIn
      ? { signIn: 'development' }
      : { signIn: 'none' };
  const discovery = oidc ? createOidcDiscovery(oidc.issuer) : undefined;
  /**
   * The page fetches the provider's discovery document and token endpoint itself: their origins
   * join connect-src (the token endpoint's once the service has read the metadata; a provider
   * that does not answer within a second leaves the issuer's alone).
   */
  const csp = async (): Promise<string> => {
    if (!oidc || !discovery) return CONSOLE_CSP;
    const origins = new Set([new URL(oidc.issuer).origin]);
    const metadata = await Promise.race([
      discovery.metadata().catch(() => undefined),
      new Promise<undefined>((r) => setTimeout(r, 1000)),
    ]);
    if (metadata?.token_endpoint) origins.add(new URL(metadata.token_endpoint).origin);
    return consoleCsp([...origins]);
  };

  const page = async (res: ServerResponse, method: string) => {
    const html = await read('index.html');
    res.writeHead(html ? 200 : 503, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': await csp(),
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(method === 'HEAD' ? undefined : (html ?? NOT_BUILT));
  };

  const devToken = async (req: IncomingMessage, res: ServerResponse) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    // JSON only: a cross-site form cannot send it without a CORS preflight, which is never granted.
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      req.resume();
      return json(415, { error: 'send application/json: {"sub": "alice", "roles": ["user"]}' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > 4096) return json(413, { error: 'request body too large' });
      chunks.push(chunk as Buffer);
    }
    let parsed: z.infer<typeof devTokenRequest>;
    try {
      parsed = devTokenRequest.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    } catch (err) {
      const message = err instanceof z.ZodError ? err.issues.map((i) => i.message).join('; ') : 'body is not JSON';
      return json(400, { error: message });
    }
    if (!secret) return json(404, { error: 'not found' });
    const token = await signToken(
      secret,
      { sub: parsed.sub, roles: [...new Set(parsed.roles)] },
      {
        expiresInSeconds: 8 * 3600,
        ...(config.auth.issuer ? { issuer: config.auth.issuer } : {}),
        ...(config.auth.audience ? { audience: config.auth.audience } : {}),
      },
    );
    return json(200, { token });
  };

  return {
    async handle(req, res, path) {
      const method = req.method ?? 'GET';
      if (path === '/console/dev-token' && devSignIn) {
        if (method !== 'POST') {
          res.writeHead(405, { allow: 'POST' });
          res.end();
          return true;
        }
        await devToken(req, res);
        return true;
      }
      if (path !== '/' && path !== '/console' && !path.startsWith('/console/')) return false;
      if (path === '/console/config.json' && (method === 'GET' || method === 'HEAD')) {
        const body = JSON.stringify(signIn);
        res.writeHead(200, {
          'content-type': 'application/json',
          'cache-control': 'no-cache',
          'x-content-type-options': 'nosniff',
        });
        res.end(method === 'HEAD' ? undefined : body);
        return true;
      }
      if (method !== 'GET' && method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' });
        res.end();
        return true;
      }
      const asset = /^\/console\/assets\/([A-Za-z0-9._-]+)$/.exec(path)?.[1];
      if (asset) {
        const body = await read(join('assets', asset));
        if (!body) {
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('not found');
          return true;
        }
        const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
        let sent = body;
        if (gzip) {
          sent = gzipped.get(asset) ?? gzipSync(body);
          gzipped.set(asset, sent);
        }
        res.writeHead(200, {
          'content-type': TYPES[extname(asset)] ?? 'application/octet-stream',
          'content-length': String(sent.length),
          vary: 'accept-encoding',
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
          // Vite puts the content hash in the name: a new build is a new URL.
          'cache-control': 'public, max-age=31536000, immutable',
          'x-content-type-options': 'nosniff',
        });
        res.end(method === 'HEAD' ? undefined : sent);
        return true;
      }
      // Every other path under /console/ is a page of the single-page app.
      await page(res, method);
      return true;
    },
  };
}
