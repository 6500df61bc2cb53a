import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const CREATE = `mutation($name: String!) { createServer(input: { name: $name }) {
  __typename
  ... on CreateServerSuccess { server { id hostId port } }
  ... on PlacementError { hosts { hostId reason } }
  ... on Error { code message }
} }`;

interface Outcome {
  __typename: string;
  server?: { id: string; hostId: string; port: number };
  hosts?: { hostId: string; reason: string }[];
  code?: string;
  message?: string;
}

const root: Viewer = { userId: 'root', username: 'root', roles: ['admin'], permissions: [] };

/** Host A: 100 ports but at most 60 servers (its slot cap binds). Host B: 40 ports, 40 servers (its ports bind). */
const HOST_A = { id: 'host-a', ports: [40000, 40099] as const, maxServers: 60 };
const HOST_B = { id: 'host-b', ports: [40000, 40039] as const, maxServers: 40 };

const hello = (h: typeof HOST_A | typeof HOST_B) => ({
  id: h.id,
  name: h.id,
  labels: {},
  agentVersion: 'test',
  rdpAddress: `${h.id}.rdp.test`,
  portRange: { from: h.ports[0], to: h.ports[1] },
  capacity: { maxServers: h.maxServers, cpuCount: 4, memoryMb: 8192 },
});

describe.skipIf(!need('placement race on FerretDB and Redis', ['mongo', 'redis']))(
  'placement over two replicas on one FerretDB and one Redis',
  () => {
    let a: TestApp;
    let b: TestApp;
    let keepAlive: NodeJS.Timeout;
    let admin: string;

    beforeAll(async () => {
      const env = {
        MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'placement'),
        REDIS_URL: services.redisUrl ?? '',
        MAX_CONCURRENT_SERVERS: '500',
      };
      const options = { reconcileIntervalMs: 3_600_000, sweepIntervalMs: 3_600_000 };
      a = await startTestApp(env, options);
      b = await startTestApp(env, options);
      // Both replicas run the all-in-one local host; drained, it takes no part here.
      await a.app.container.hosts.setDrain(root, 'local', true);
      for (const h of [HOST_A, HOST_B]) await a.app.container.hosts.register(hello(h));
      // Stand-ins for the two agents: heartbeats well inside the 3-interval window.
      keepAlive = setInterval(() => {
        for (const h of [HOST_A, HOST_B]) {
          void b.app.container.hosts.heartbeat(h.id, { at: new Date().toISOString(), usage: null }).catch(() => undefined);
        }
      }, 1000);
      admin = await a.token('root', ['admin']);
    }, 60_000);

    afterAll(async () => {
      clearInterval(keepAlive);
      await a?.app.container.mongo?.db.dropDatabase();
      await a?.stop();
      await b?.stop();
    });

    async function burst(n: number, tag: string): Promise<Outcome[]> {
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          (i % 2 ? a : b).gql<{ createServer: Outcome }>(CREATE, { name: `${tag}-${i}` }, admin),
        ),
      );
      return results.map((r) => r.body.data?.createServer ?? { __typename: `none: ${JSON.stringify(r.body.errors)}` });
    }

    async function deleteAll(outcomes: Outcome[]): Promise<void> {
      const ids = outcomes.flatMap((o) => (o.server ? [o.server.id] : []));
      await Promise.all(
        ids.map((id, i) => (i % 2 ? a : b).gql('mutation($id: ID!) { deleteServer(id: $id) { __typename } }', { id }, admin)),
      );
    }

    it('200 concurrent createServer without hostId: unique ports per host, caps exact (60 + 40), every refusal names each host', async () => {
      const outcomes = await burst(200, 'cap');
      const ok = outcomes.filter((o) => o.__typename === 'CreateServerSuccess');
      const refused = outcomes.filter((o) => o.__typename === 'PlacementError');
      expect({ ok: ok.length, refused: refused.length }).toEqual({ ok: 100, refused: 100 });
      for (const h of [HOST_A, HOST_B]) {
        const ports = ok.filter((o) => o.server?.hostId === h.id).map((o) => o.server?.port ?? 0);
        expect(ports, h.id).toHaveLength(h.maxServers);
        expect(new Set(ports).size, h.id).toBe(h.maxServers);
        expect(Math.min(...ports), h.id).toBeGreaterThanOrEqual(h.ports[0]);
        expect(Math.max(...ports), h.id).toBeLessThanOrEqual(h.ports[1]);
      }
      // Both hosts hand out 40000-40039: the same numbers, on different hosts.
      expect(
        ok
          .filter((o) => o.server?.port === 40000)
          .map((o) => o.server?.hostId)
          .sort(),
      ).toEqual(['host-a', 'host-b']);
      for (const r of refused) {
        expect(r.hosts).toEqual([
          { hostId: 'host-a', reason: 'AT_CAPACITY' },
          { hostId: 'host-b', reason: 'PORTS_EXHAUSTED' },
          { hostId: 'local', reason: 'DRAINING' },
        ]);
      }
      const db = a.app.container.mongo?.db;
      expect(await db?.collection('servers').countDocuments({ hostId: 'host-a' })).toBe(60);
      expect(await db?.collection('servers').countDocuments({ hostId: 'host-b' })).toBe(40);
      await deleteAll(outcomes);
      expect(await db?.collection('claims').countDocuments()).toBe(0);
    }, 300_000);

    it('a burst below capacity spreads by free capacity: the hosts end with about equal room', async () => {
      const outcomes = await burst(60, 'spread');
      const ok = outcomes.filter((o) => o.__typename === 'CreateServerSuccess');
      expect(ok).toHaveLength(60);
      const onA = ok.filter((o) => o.server?.hostId === HOST_A.id).length;
      const onB = ok.filter((o) => o.server?.hostId === HOST_B.id).length;
      // Most-free-first, one at a time, gives A 40 and B 20 (room 20 and 20). Concurrent callers
      // read counts that are a little stale; the room left must still be close to even.
      const roomA = HOST_A.maxServers - onA;
      const roomB = HOST_B.maxServers - onB;
      console.info(`spread of 60 over two replicas: host-a ${onA} (room ${roomA}), host-b ${onB} (room ${roomB})`);
      expect(onA + onB).toBe(60);
      expect(onA).toBeGreaterThan(onB);
      expect(Math.abs(roomA - roomB)).toBeLessThanOrEqual(10);
      await deleteAll(outcomes);
    }, 300_000);
  },
);
