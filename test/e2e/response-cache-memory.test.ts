import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';

const SERVERS = '{ servers(first: 100) { totalCount edges { node { id name } } } }';

/** One process with in-memory stores and no Redis: the generations live in the process. */
describe('response cache in memory (one process, no Redis)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(
      { RESPONSE_CACHE: 'on', XRDP_BINARY: '/nonexistent/xrdp', HEALTH_CHECK_INTERVAL: '86400', METRICS_INTERVAL: '86400' },
      { runtime: new FakeServerRuntime(), sessionAccounts: new FakeSessionAccounts() },
    );
  });
  afterAll(() => t?.stop());

  const served = async (result: string) => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`rdp_response_cache_total{result="${result}"} `));
    return Number(line?.split(' ')[1] ?? Number.NaN);
  };

  it('answers a repeated read from the cache and the read after a write from the stores', async () => {
    const admin = await t.token('root', ['admin']);
    const first = await t.gql(SERVERS, {}, admin);
    const hits = await served('hit');
    expect((await t.gql(SERVERS, {}, admin)).body).toEqual(first.body);
    expect(await served('hit')).toBe(hits + 1);
    const created = await t.gql<{ createServer: { server: { id: string } } }>(
      'mutation { createServer(input: { name: "fresh" }) { ... on CreateServerSuccess { server { id } } } }',
      {},
      admin,
    );
    const id = created.body.data?.createServer.server.id;
    const after = await t.gql<{ servers: { edges: { node: { id: string; name: string } }[] } }>(SERVERS, {}, admin);
    expect(after.body.data?.servers.edges.map((e) => e.node)).toContainEqual({ id, name: 'fresh' });
    expect(await served('bypass')).toBe(0);
  });
});
