import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../resolvers/index.js';
import { rateGroupOf } from '../../src/app/rate-limit-plugin.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const CREATE_SESSION = (alias: string) =>
  `${alias}: createSession(input: { serverId: $id, credentialMode: EPHEMERAL }) { __typename ... on CreateSessionSuccess { session { id } } }`;

describe('rate groups', () => {
  it('every root field of the schema that should be limited has a group', () => {
    const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((t) =>
      t ? Object.keys(t.getFields()) : [],
    );
    const ungrouped = roots.filter((f) => rateGroupOf(f) === null);
    expect(ungrouped).toEqual(['viewer']);
    expect(rateGroupOf('createSession')).toBe('sessions');
    expect(rateGroupOf('connect')).toBe('sessions');
    expect(rateGroupOf('createPool')).toBe('servers');
    expect(rateGroupOf('startServer')).toBe('servers');
    expect(rateGroupOf('updateXrdpConfig')).toBe('xrdp');
  });
});

describe.skipIf(!need('rate limits across replicas', ['mongo', 'redis']))(
  'rate limits shared by two replicas through Redis',
  () => {
    let a: TestApp;
    let b: TestApp;
    let serverId: string;

    beforeAll(async () => {
      const env = {
        MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'ratelimit'),
        REDIS_URL: services.redisUrl ?? '',
        RATE_LIMIT_SESSIONS_PER_MIN: '10',
        RATE_LIMIT_BURST_FACTOR: '1',
      };
      const runtime = new FakeServerRuntime();
      a = await startTestApp(env, { runtime, sessionAccounts: new FakeSessionAccounts() });
      b = await startTestApp(env, { runtime, sessionAccounts: new FakeSessionAccounts() });
      const admin = await a.token(`admin-${Date.now()}`, ['admin']);
      const r = await a.gql<{ createServer: { server: { id: string } } }>(
        'mutation { createServer(input: { name: "limited", configuration: { maxSessions: 100 } }) { ... on CreateServerSuccess { server { id } } } }',
        {},
        admin,
      );
      serverId = r.body.data?.createServer.server.id ?? '';
      await a.gql('mutation($id: ID!) { startServer(id: $id) { __typename } }', { id: serverId }, admin);
    });
    afterAll(async () => {
      await a.app.container.mongo?.db.dropDatabase();
      await a.stop();
      await b.stop();
    });

    it('40 createSession calls over both replicas, some as aliases in one document, admit at most 10 a minute', async () => {
      // A user of its own, so repeated runs against the same Redis start with a full bucket.
      const token = await a.token(`limited-${Date.now()}`, ['operator']);
      const calls: Promise<{ admitted: number; limited: number; retryAfter: unknown[] }>[] = [];
      let sent = 0;
      for (let i = 0; sent < 40; i++) {
        const aliases = i % 3 === 0 ? 4 : 1;
        const doc = `mutation($id: ID!) { ${Array.from({ length: aliases }, (_, k) => CREATE_SESSION(`s${k}`)).join(' ')} }`;
        sent += aliases;
        calls.push(
          (i % 2 ? a : b).gql<Record<string, { __typename: string }>>(doc, { id: serverId }, token).then((r) => ({
            admitted: Object.values(r.body.data ?? {}).filter((v) => v?.__typename === 'CreateSessionSuccess').length,
            limited: (r.body.errors ?? []).filter((e) => e.extensions?.code === 'RATE_LIMITED').length,
            retryAfter: (r.body.errors ?? []).map((e) => e.extensions?.retryAfter),
          })),
        );
      }
      const results = await Promise.all(calls);
      const admitted = results.reduce((n, r) => n + r.admitted, 0);
      expect(admitted).toBeGreaterThan(0);
      expect(admitted).toBeLessThanOrEqual(10);
      expect(results.some((r) => r.limited > 0)).toBe(true);
      for (const r of results) for (const s of r.retryAfter) expect(s).toBeGreaterThanOrEqual(1);
      // The caller's own bucket is empty now; count with another user's.
      const auditor = await a.token(`auditor-${Date.now()}`, ['operator']);
      const stored = await a.gql<{ sessions: { totalCount: number } }>('{ sessions { totalCount } }', {}, auditor);
      expect(stored.body.data?.sessions.totalCount).toBe(admitted);
    });

    it('health and metrics are never limited', async () => {
      for (let i = 0; i < 30; i++) expect((await fetch(`${a.url}/health`)).status).toBe(200);
      expect((await fetch(`${a.url}/metrics`)).status).toBe(200);
    });
  },
);
