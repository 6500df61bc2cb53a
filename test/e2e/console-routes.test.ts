import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, createConsoleRoutes } from '../../src/app/console-routes.js';
import { loadConfig } from '../../src/config/config.js';
import { startTestApp, TEST_SECRET } from '../support/app-harness.js';

const INDEX = '<!doctype html><div id="app"></div><script type="module" src="/console/assets/index-abc123.js"></script>';
const JS = `console.log(${JSON.stringify('x'.repeat(2000))});`;

describe('console routes on a build directory', () => {
  let dir: string;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'console-routes-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), JS);
    writeFileSync(join(dir, 'secret.txt'), 'not served');
    const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent' }, { version: '0' });
    const routes = createConsoleRoutes(config, dir);
    server = createServer((req, res) => {
      void routes.handle(req, res, (req.url ?? '/').split('?')[0] ?? '/').then((handled) => {
        if (!handled) {
          res.writeHead(418);
          res.end();
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('every page path gets index.html, uncached, under the strict CSP', async () => {
    for (const path of ['/', '/console', '/console/', '/console/fleet', '/console/servers/abc']) {
      const r = await fetch(`${url}${path}`);
      expect(r.status).toBe(200);
      expect(await r.text()).toBe(INDEX);
      expect(r.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(r.headers.get('cache-control')).toBe('no-cache');
    }
    expect(CONSOLE_CSP).toContain("script-src 'self';");
    expect(CONSOLE_CSP).not.toContain('unsafe');
  });

  it('hashed assets are cached for a year and gzipped when asked; nothing outside assets/ is served', async () => {
    const plain = await fetch(`${url}/console/assets/index-abc123.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(plain.headers.get('content-type')).toContain('text/javascript');
    expect(await plain.text()).toBe(JS);
    const gz = await fetch(`${url}/console/assets/index-abc123.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(Number(gz.headers.get('content-length'))).toBeLessThan(JS.length / 4);
    expect((await fetch(`${url}/console/assets/nope.js`)).status).toBe(404);
    const traversal = await fetch(`${url}/console/assets/..%2Fsecret.txt`);
    expect(await traversal.text()).not.toContain('not served');
    expect((await fetch(`${url}/other`)).status).toBe(418);
    expect((await fetch(`${url}/console/`, { method: 'POST', body: '' })).status).toBe(405);
  });
});

describe('development sign-in', () => {
  it('mints a token the API accepts, refuses bad input, and does not exist in production', async () => {
    const t = await startTestApp();
    try {
      const mint = (body: unknown, type = 'application/json') =>
        fetch(`${t.url}/console/dev-token`, { method: 'POST', headers: { 'content-type': type }, body: JSON.stringify(body) });
      const ok = await mint({ sub: 'olga', roles: ['operator'] });
      expect(ok.status).toBe(200);
      const { token } = (await ok.json()) as { token: string };
      const me = await t.gql<{ viewer: { userId: string; roles: string[] } }>('{ viewer { userId roles } }', {}, token);
      expect(me.body.data?.viewer).toEqual({ userId: 'olga', roles: ['operator'] });

      const badRole = await mint({ sub: 'olga', roles: ['root'] });
      expect(badRole.status).toBe(400);
      expect(((await badRole.json()) as { error: string }).error).toMatch(/user|operator|admin/);
      expect((await mint({ sub: 'bad name!', roles: ['user'] })).status).toBe(400);
      expect((await mint({ sub: 'olga', roles: ['user'] }, 'text/plain')).status).toBe(415);
      expect((await fetch(`${t.url}/console/dev-token`)).status).toBe(405);
    } finally {
      await t.stop();
    }
    const prod = await startTestApp({ NODE_ENV: 'production' });
    try {
      const r = await fetch(`${prod.url}/console/dev-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub: 'olga', roles: ['admin'] }),
      });
      // In production the path is just another console page, which takes no POST: no token.
      expect(r.status).toBe(405);
      expect(r.headers.get('content-type') ?? '').not.toContain('json');
      expect(await r.text()).not.toContain('token');
      expect(await (await fetch(`${prod.url}/console/config.json`)).json()).toEqual({ signIn: 'none' });
    } finally {
      await prod.stop();
    }
  });
});

describe('sign-in settings for the console', () => {
  it('names the development sign-in outside production, and the provider (never the dev route) when one is set', async () => {
    const dev = await startTestApp();
    try {
      const r = await fetch(`${dev.url}/console/config.json`);
      expect(r.headers.get('content-type')).toBe('application/json');
      expect(await r.json()).toEqual({ signIn: 'development' });
    } finally {
      await dev.stop();
    }
    // Nothing answers on this issuer: the page still loads, with the issuer's origin in connect-src.
    const issuer = 'http://127.0.0.1:9/realms/rdp';
    const oidc = await startTestApp({
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: 'rdp-console',
      JWT_AUDIENCE: 'https://rdp.example.test/api',
    });
    try {
      expect(await (await fetch(`${oidc.url}/console/config.json`)).json()).toEqual({
        signIn: 'oidc',
        oidc: {
          issuer,
          clientId: 'rdp-console',
          scopes: 'openid profile email',
          resource: 'https://rdp.example.test/api',
        },
      });
      const mint = await fetch(`${oidc.url}/console/dev-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub: 'olga', roles: ['admin'] }),
      });
      expect(mint.status).toBe(405);
      expect(await mint.text()).not.toContain('token');
      const page = await fetch(`${oidc.url}/console/fleet`);
      expect(page.headers.get('content-security-policy')).toContain("connect-src 'self' http://127.0.0.1:9;");
      // A token the provider cannot be asked about is refused in words, not with a stack.
      const res = await oidc.gql('{ viewer { userId } }', {}, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln');
      expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(res.body.errors?.[0]?.message).toMatch(/identity provider/);
    } finally {
      await oidc.stop();
    }
  });
});
