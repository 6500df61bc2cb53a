import { type Client, createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { GRAPHIQL_CSP } from '../../src/app/graphiql.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { waitFor } from '../support/net.js';

type Result = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };

/** One operation over graphql-ws, the way GraphiQL sends it: the token in `extensions.headers`. */
function runOverWs(t: TestApp, query: string, opts: { init?: string; headers?: Record<string, string> }): Promise<Result> {
  const client: Client = createClient({
    url: t.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: opts.init ? { authorization: `Bearer ${opts.init}` } : {},
  });
  return new Promise<Result>((resolve, reject) => {
    let first: Result | undefined;
    client.subscribe(
      { query, ...(opts.headers ? { extensions: { headers: opts.headers } } : {}) },
      {
        next: (v) => {
          first ??= v as Result;
        },
        error: (e) => reject(e instanceof Error ? e : new Error(JSON.stringify(e))),
        complete: () => resolve(first ?? {}),
      },
    );
  }).finally(() => client.dispose());
}

const scriptAndLinkUrls = (html: string) => [...html.matchAll(/\s(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');

describe('GraphiQL outside production', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  it('the page loads its code from this origin only, under a CSP without inline scripts', async () => {
    const r = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toBe(GRAPHIQL_CSP);
    expect(GRAPHIQL_CSP).toContain("script-src 'self'");
    expect(GRAPHIQL_CSP).not.toMatch(/script-src[^;]*unsafe/);
    const html = await r.text();
    expect(html.length).toBeLessThan(20_000);
    expect(html).not.toMatch(/https?:\/\//);
    const urls = scriptAndLinkUrls(html);
    expect(urls.length).toBeGreaterThanOrEqual(4);
    for (const url of urls) {
      expect(url.startsWith('/graphiql/')).toBe(true);
      const asset = await fetch(`${t.url}${url}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('cache-control')).toContain('immutable');
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    // Inline <script> only as a JSON data block, which the CSP never runs.
    const inline = [...html.matchAll(/<script(?![^>]*\ssrc=)([^>]*)>/g)].map((m) => m[1]);
    expect(inline).toEqual([' id="graphiql-options" type="application/json"']);
    // The default query explains the token; the headers tab is preset for it.
    expect(html).toContain('npm run token -- --role admin --sub alice');
    expect(html).toContain('\\"Authorization\\"');
  });

  it('an asset is served gzipped to a client that takes it, and unknown asset paths are 404', async () => {
    const page = await (await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } })).text();
    const js = scriptAndLinkUrls(page).find((u) => /\/graphiql\/graphiql\.[0-9a-f]+\.js$/.test(u));
    expect(js).toBeDefined();
    const plain = await fetch(`${t.url}${js}`, { headers: { 'accept-encoding': 'identity' } });
    const plainBytes = Number(plain.headers.get('content-length'));
    await plain.arrayBuffer();
    const gz = await fetch(`${t.url}${js}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(Number(gz.headers.get('content-length'))).toBeLessThan(plainBytes / 2);
    await gz.arrayBuffer();
    expect((await fetch(`${t.url}/graphiql/graphiql.0000000000000000.js`)).status).toBe(404);
  });

  it('a subscription authenticates with the token in extensions.headers', async () => {
    const token = await t.token('alice', ['admin']);
    const viaHeaders = await runOverWs(t, '{ viewer { userId roles } }', { headers: { Authorization: `Bearer ${token}` } });
    expect(viaHeaders.data).toEqual({ viewer: { userId: 'alice', roles: ['admin'] } });
    const viaInit = await runOverWs(t, '{ viewer { userId } }', { init: token });
    expect(viaInit.data).toEqual({ viewer: { userId: 'alice' } });
    // The message's token wins over the connection's; an empty one leaves the connection's.
    const bob = await t.token('bob');
    const both = await runOverWs(t, '{ viewer { userId } }', { init: token, headers: { authorization: `Bearer ${bob}` } });
    expect(both.data).toEqual({ viewer: { userId: 'bob' } });
    const empty = await runOverWs(t, '{ viewer { userId } }', { init: token, headers: { Authorization: '' } });
    expect(empty.data).toEqual({ viewer: { userId: 'alice' } });
  });

  it('a bad token in extensions.headers is refused and audited, without the token', async () => {
    const admin = await t.token('root', ['admin']);
    const expired = await t.token('mallory', ['admin'], -60);
    await expect(
      runOverWs(t, '{ viewer { userId } }', { init: admin, headers: { Authorization: `Bearer ${expired}` } }),
    ).rejects.toThrow(/token expired/);
    await expect(runOverWs(t, '{ viewer { userId } }', { headers: { Authorization: 'Basic abc' } })).rejects.toThrow(/Bearer/);
    const audit = `{ auditEvents(filter: { action: "auth.token" }) { edges { node { result actor { userId ip } details { key value } } } } }`;
    type Page = { auditEvents: { edges: { node: { result: string; details: { key: string; value: string }[] } }[] } };
    let found: Page['auditEvents']['edges'][number]['node'] | undefined;
    await waitFor(
      async () => {
        const r = await t.gql<Page>(audit, {}, admin);
        const nodes = r.body.data?.auditEvents.edges.map((e) => e.node) ?? [];
        found = nodes.find((n) => n.details.some((d) => d.key === 'transport' && d.value === 'websocket'));
        return found !== undefined;
      },
      5000,
      'the refused token in the audit log',
    );
    expect(found?.result).toBe('DENIED');
    expect(found?.details.find((d) => d.key === 'reason')?.value).toBe('token expired');
    expect(JSON.stringify(found)).not.toContain(expired.split('.')[1]);
  });
});

describe('GraphiQL in production (ENABLE_GRAPHIQL=true)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ NODE_ENV: 'production', ENABLE_GRAPHIQL: 'true' });
  });
  afterAll(() => t.stop());

  const INTROSPECT = '{ __schema { queryType { name } } }';

  it('admins introspect over HTTP and WebSocket; users and anonymous callers are refused', async () => {
    const admin = await t.token('root', ['admin']);
    const user = await t.token('alice');
    const ok = await t.gql(INTROSPECT, {}, admin);
    expect(ok.body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    expect(await runOverWs(t, INTROSPECT, { headers: { Authorization: `Bearer ${admin}` } })).toMatchObject({
      data: { __schema: { queryType: { name: 'Query' } } },
    });
    for (const token of [user, undefined]) {
      const refused = await t.gql(INTROSPECT, {}, token);
      expect(refused.body.data ?? null).toBeNull();
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const typeProbe = await t.gql('{ __type(name: "Query") { name } }', {}, token);
      expect(typeProbe.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const wsUser = await runOverWs(t, INTROSPECT, { init: user });
    expect(wsUser.data ?? null).toBeNull();
    expect(wsUser.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // __typename is not introspection.
    expect((await t.gql('{ __typename }', {}, user)).body.data).toEqual({ __typename: 'Query' });
  });

  it('the page is served', async () => {
    const r = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await r.text()).toContain('graphiql-options');
  });
});

describe('production without GraphiQL', () => {
  it('refuses introspection even to admins and serves no GraphiQL files', async () => {
    const t = await startTestApp({ NODE_ENV: 'production' });
    try {
      const r = await t.gql('{ __schema { queryType { name } } }', {}, await t.token('root', ['admin']));
      expect(r.body.data ?? null).toBeNull();
      expect(r.body.errors?.length).toBeGreaterThan(0);
      expect((await fetch(`${t.url}/graphiql/boot.0000000000000000.js`)).status).toBe(404);
    } finally {
      await t.stop();
    }
  });
});
