import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUERY_LIMITS } from '../../src/app/security-plugins.js';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';

const nested = (depth: number) => {
  // server -> sessions -> server -> sessions ... : a real cycle in the schema, built outside in.
  const fields = Array.from({ length: depth }, (_, i) => (i % 2 === 0 ? 'sessions' : 'server'));
  const q = fields.reduceRight((inner, field) => `${field} { ${inner} }`, 'id');
  return `{ servers { edges { node { ${q} } } } }`;
};

/** Every scalar of a server and of its configuration and resources: what a console table shows. */
const FULL_ROW = `id name description owner createdBy host port status statusMessage createdAt updatedAt lastStartedAt
  lastStoppedAt uptimeSeconds
  configuration { desktop resolution colorDepth audio clipboard driveRedirection printerRedirection maxSessions }
  resources { cpuLimit memoryLimitMb diskLimitMb bandwidthMbps }`;

/** A limit refusal has a code and plain words; graphql-js may add its own validation errors beside it. */
function expectTooComplex(errors: readonly { message: string; extensions?: Record<string, unknown> }[] | undefined) {
  const refusals = (errors ?? []).filter((e) => e.extensions?.code === 'QUERY_TOO_COMPLEX');
  expect(refusals.length).toBeGreaterThan(0);
  for (const e of refusals) {
    expect(e.message).toMatch(/^Query refused, too complex \(max\w+\): /);
    // HTTP hints are for yoga's response, not for clients (nor WebSocket frames).
    expect(e.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: expect.stringMatching(/^max/) as string });
  }
  for (const e of errors ?? []) expect(e.message).not.toContain('Syntax Error');
}

const probes: [string, string][] = [
  ['depth', nested(QUERY_LIMITS.maxDepth + 4)],
  ['aliases (101 __typename)', `{ ${Array.from({ length: 101 }, (_, i) => `a${i}: __typename`).join(' ')} }`],
  ['directives', `{ __typename ${'@include(if: true) '.repeat(QUERY_LIMITS.maxDirectives + 5)} }`],
  ['tokens', `{ ${'__typename '.repeat(QUERY_LIMITS.maxTokens)} }`],
  ['cost', `{ servers(first: 100) { edges { node { sessions { id server { logs(last: 100) { message } } } } } } }`],
];

describe('query limits on HTTP and WebSocket alike', () => {
  let t: TestApp;
  let token: string;
  let resolverCalls = 0;

  beforeAll(async () => {
    t = await startTestApp();
    token = await t.token('alice', ['admin']);
    const servers = t.app.container.servers;
    const original = servers.list.bind(servers);
    servers.list = (...args) => {
      resolverCalls++;
      return original(...args);
    };
  });
  afterAll(() => t.stop());

  for (const [name, query] of probes) {
    it(`${name} probe is refused before any resolver runs, over HTTP, as QUERY_TOO_COMPLEX in plain words`, async () => {
      const before = resolverCalls;
      const r = await t.gql(query, {}, token);
      expect(r.body.data ?? null).toBeNull();
      expect(r.body.errors?.length).toBeGreaterThan(0);
      expectTooComplex(r.body.errors);
      // A request error under application/graphql-response+json (GraphQL over HTTP).
      expect(r.status).toBe(400);
      expect(resolverCalls).toBe(before);
    });

    it(`${name} probe is refused before any resolver runs, over WebSocket, as QUERY_TOO_COMPLEX`, async () => {
      const before = resolverCalls;
      const sub = collect(t.ws(token), query);
      await sub.until(() => sub.ended);
      expect(sub.items.every((i) => i.data == null)).toBe(true);
      // graphql-ws hands validation errors to `error` as the array the server sent.
      expectTooComplex(
        (sub.failure ?? sub.items[0]?.errors) as readonly { message: string; extensions?: Record<string, unknown> }[],
      );
      expect(resolverCalls).toBe(before);
    });
  }

  it('the documented page size with a full row is served: servers(first: 100) with every scalar', async () => {
    const r = await t.gql(
      `{ servers(first: 100) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${FULL_ROW} } } } }`,
      {},
      token,
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data).toHaveProperty('servers.totalCount');
  });

  it('lists weigh by their size: 100 servers x 1000 log lines each is refused by the cost limit', async () => {
    const r = await t.gql(`{ servers(first: 100) { edges { node { id logs(last: 1000) { message } } } } }`, {}, token);
    expectTooComplex(r.body.errors);
    expect(r.body.errors?.[0]?.extensions?.limit).toBe('maxCost');
  });

  it('page sizes given as variables are weighed with their values, over HTTP and WebSocket', async () => {
    const query = 'query($n: Int, $m: Int) { servers(first: $n) { edges { node { id logs(last: $m) { message } } } } }';
    const small = await t.gql(query, { n: 100, m: 1 }, token);
    expect(small.body.errors).toBeUndefined();
    const before = resolverCalls;
    const big = await t.gql(query, { n: 100, m: 1000 }, token);
    expect(big.status).toBe(400);
    expectTooComplex(big.body.errors);
    const sub = collect(t.ws(token), query, { n: 100, m: 1000 });
    await sub.until(() => sub.ended);
    expectTooComplex(sub.items[0]?.errors);
    expect(sub.items[0]?.errors?.[0]?.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'maxCost' });
    // A page size left to the operation's default weighs as that default.
    const byDefault = await t.gql(query.replace('$m: Int', '$m: Int = 1000'), { n: 100 }, token);
    expectTooComplex(byDefault.body.errors);
    expect(resolverCalls).toBe(before);
  });

  it('a real console query within the limits is served', async () => {
    const r = await t.gql(nested(6), {}, token);
    expect(r.body.errors).toBeUndefined();
  });

  it('HTTP batching is off', async () => {
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
    });
    const body = (await res.json()) as { data?: unknown; errors?: unknown[] };
    expect(Array.isArray(body)).toBe(false);
    expect(body.errors?.length).toBeGreaterThan(0);
  });

  it('outside production a typo gets a suggestion (development help)', async () => {
    const r = await t.gql('{ servrs { totalCount } }', {}, token);
    expect(r.body.errors?.[0]?.message).toContain('Did you mean');
  });
});

describe('production hides the schema', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ NODE_ENV: 'production' });
  });
  afterAll(() => t.stop());

  it('no "Did you mean" and no introspection, over HTTP and WebSocket', async () => {
    const token = await t.token('alice');
    const typo = await t.gql('{ servrs { totalCount } }', {}, token);
    expect(JSON.stringify(typo.body)).not.toContain('Did you mean');
    expect(typo.body.errors?.length).toBeGreaterThan(0);
    const intro = await t.gql('{ __schema { types { name } } }', {}, token);
    expect(intro.body.data ?? null).toBeNull();
    const sub = collect(t.ws(token), '{ __schema { types { name } } }');
    await sub.until(() => sub.ended);
    expect(sub.items.every((i) => i.data == null)).toBe(true);
    const typoWs = collect(t.ws(token), '{ servrs { totalCount } }');
    await typoWs.until(() => typoWs.ended);
    expect(JSON.stringify([typoWs.items, typoWs.failure])).not.toContain('Did you mean');
  });
});
