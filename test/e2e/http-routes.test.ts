import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../src/app/console-routes.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';

/** A raw request, so tests control Content-Length exactly. */
function raw(url: string, method: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe('HTTP routes beside GraphQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MAX_REQUEST_BODY_BYTES: '2048' });
  });
  afterAll(() => t.stop());

  it('/health names the service and version', async () => {
    const r = await fetch(`${t.url}/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'healthy', service: 'rdp-services-cluster', version: '0.1.0' });
  });

  it('/health/live is 200 and /health/ready is 200 with no external dependencies', async () => {
    expect((await fetch(`${t.url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${t.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
  });

  it('/metrics serves our registry with request counters and process metrics', async () => {
    await fetch(`${t.url}/health`);
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/rdp_requests_total\{service="api",endpoint="\/health",method="GET",status="200"\} \d+/);
    expect(text).toContain('rdp_request_duration_seconds_bucket');
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('rdp_servers_total{status="RUNNING"} 0');
  });

  it('a POST without Content-Length gets 411', async () => {
    const r = await raw(`${t.url}/graphql`, 'POST', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, '{}');
    expect(r.status).toBe(411);
  });

  it('a POST over the body cap gets 413 before any parsing', async () => {
    const body = JSON.stringify({ query: `{ __typename } # ${'x'.repeat(4096)}` });
    const r = await raw(
      `${t.url}/graphql`,
      'POST',
      { 'content-type': 'application/json', 'content-length': String(body.length) },
      body,
    );
    expect(r.status).toBe(413);
  });

  it('a POST within the cap is served', async () => {
    const body = JSON.stringify({ query: '{ __typename }' });
    const r = await raw(
      `${t.url}/graphql`,
      'POST',
      { 'content-type': 'application/json', 'content-length': String(body.length) },
      body,
    );
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ data: { __typename: 'Query' } });
  });

  it('a browser GET of /graphql gets GraphiQL outside production', async () => {
    const r = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('graphiql');
  });

  it('a mutation over GET is refused, and a GET without the CSRF header is refused before parsing', async () => {
    const q = encodeURIComponent('mutation { createServer(input: { name: "x" }) { __typename } }');
    const withHeader = await fetch(`${t.url}/graphql?query=${q}`, {
      headers: { accept: 'application/json', 'x-graphql-csrf': '1' },
    });
    expect(withHeader.status).toBe(405);
    const query = await fetch(`${t.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'application/json' },
    });
    expect(query.status).toBe(403);
    const allowed = await fetch(`${t.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'application/json', 'x-graphql-csrf': '1' },
    });
    expect(await allowed.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('unknown paths are 404 and / is the console page (or, before a build, how to build it)', async () => {
    expect((await fetch(`${t.url}/nope`)).status).toBe(404);
    const r = await fetch(`${t.url}/`, { redirect: 'manual' });
    expect([200, 503]).toContain(r.status);
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(await r.text()).toMatch(/id="app"|npm run console:build/);
  });

  it('an unexpected failure is masked: no message, stack or path leaks', async () => {
    const servers = t.app.container.servers;
    const original = servers.list.bind(servers);
    servers.list = async () => {
      throw new Error('connect ECONNREFUSED 10.1.2.3:27017 at /srv/app/secret.js');
    };
    try {
      const r = await t.gql('{ servers { totalCount } }', {}, await t.token('alice'));
      expect(JSON.stringify(r.body)).not.toMatch(/ECONNREFUSED|10\.1\.2\.3|secret\.js/);
      expect(r.body.errors?.[0]).toMatchObject({
        message: 'Internal server error',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
    } finally {
      servers.list = original;
    }
  });
});

describe('production settings', () => {
  it('GraphiQL is off in production', async () => {
    const t = await startTestApp({ NODE_ENV: 'production' });
    try {
      const r = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await r.text()).not.toContain('graphiql');
    } finally {
      await t.stop();
    }
  });
});
