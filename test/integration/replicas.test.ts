import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const CREATE = `mutation($name: String!) { createServer(input: { name: $name }) {
  __typename ... on CreateServerSuccess { server { id port } } ... on Error { code } } }`;

describe.skipIf(!need('two replicas on FerretDB and Redis', ['mongo', 'redis']))(
  'two replicas on one FerretDB and one Redis',
  () => {
    let a: TestApp;
    let b: TestApp;

    beforeAll(async () => {
      const env = {
        MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'replicas'),
        REDIS_URL: services.redisUrl ?? '',
        MAX_CONCURRENT_SERVERS: '200',
      };
      a = await startTestApp(env);
      b = await startTestApp(env);
    });
    afterAll(async () => {
      await a.app.container.mongo?.db.dropDatabase();
      await a.stop();
      await b.stop();
    });

    it('a mutation on one replica reaches a subscriber on the other through Redis', async () => {
      const alice = await a.token('alice');
      const created = await a.gql<{ createServer: { server: { id: string } } }>(CREATE, { name: 'shared' }, alice);
      const id = created.body.data?.createServer.server.id;
      const sub = collect<{ serverEvents: { kind: string; server: { name: string } } }>(
        b.ws(alice),
        'subscription($id: ID!) { serverEvents(serverId: $id) { kind server { name } } }',
        { id },
      );
      await sub.until(() => sub.items.length >= 1);
      expect(sub.items[0]?.data?.serverEvents).toEqual({ kind: 'SNAPSHOT', server: { name: 'shared' } });

      const updated = await a.gql<{ updateServer: { __typename: string } }>(
        'mutation($id: ID!) { updateServer(id: $id, input: { name: "renamed on A" }) { __typename } }',
        { id },
        alice,
      );
      expect(updated.body.data?.updateServer.__typename).toBe('UpdateServerSuccess');
      await sub.until(() => sub.items.length >= 2);
      expect(sub.items[1]?.data?.serverEvents).toEqual({ kind: 'UPDATED', server: { name: 'renamed on A' } });

      await a.gql('mutation($id: ID!) { deleteServer(id: $id) { __typename } }', { id }, alice);
      await sub.until(() => sub.ended);
      expect(sub.items.at(-1)?.data?.serverEvents.kind).toBe('DELETED');
    });

    it('/health/ready checks both MongoDB and Redis; without Redis the replica is degraded, still ready', async () => {
      const ok = await fetch(`${a.url}/health/ready`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ status: 'ready', ready: true, checks: { mongodb: 'ok', redis: 'ok' } });

      const redis = b.app.container.redis;
      redis?.publisher.disconnect();
      const down = await fetch(`${b.url}/health/ready`);
      expect(down.status).toBe(200);
      expect(await down.json()).toMatchObject({
        status: 'degraded',
        ready: true,
        degraded: ['redis'],
        checks: { mongodb: 'ok', redis: 'unavailable' },
      });
      expect((await fetch(`${b.url}/health/live`)).status).toBe(200);
      await redis?.publisher.connect();
    });

    it('200 concurrent createServer calls over both replicas: exactly 110 get distinct ports, 90 PORT_EXHAUSTED (5 rounds)', async () => {
      const admin = await a.token('root', ['admin']);
      for (let round = 0; round < 5; round++) {
        const results = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            (i % 2 ? a : b).gql<{ createServer: { __typename: string; server?: { id: string; port: number }; code?: string } }>(
              CREATE,
              { name: `r${round}-${i}` },
              admin,
            ),
          ),
        );
        const outcomes = results.map((r) => r.body.data?.createServer);
        const ok = outcomes.filter((o) => o?.__typename === 'CreateServerSuccess');
        const exhausted = outcomes.filter((o) => o?.__typename === 'PortExhaustedError');
        expect({ ok: ok.length, exhausted: exhausted.length }).toEqual({ ok: 110, exhausted: 90 });
        const ports = ok.map((o) => o?.server?.port ?? 0);
        expect(new Set(ports).size).toBe(110);
        expect(Math.min(...ports)).toBe(33890);
        expect(Math.max(...ports)).toBe(33999);

        const count = await a.gql<{ servers: { totalCount: number } }>('{ servers { totalCount } }', {}, admin);
        expect(count.body.data?.servers.totalCount).toBe(110);
        await Promise.all(
          ok.map((o, i) =>
            (i % 2 ? a : b).gql('mutation($id: ID!) { deleteServer(id: $id) { __typename } }', { id: o?.server?.id }, admin),
          ),
        );
        const claims = await a.app.container.mongo?.db.collection('claims').countDocuments();
        expect(claims).toBe(0);
      }
    }, 300_000);
  },
);
