import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signToken } from '../../src/adapters/auth/token-signer.js';
import type { Role } from '../../src/domain/auth/viewer.js';
import { startTestApp, TEST_SECRET, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const SERVERS = `{ servers(first: 100) { totalCount edges { node { id name status port createdAt owner sessions { id status } } } } }`;
const SESSIONS = `query($first: Int!) { sessions(first: $first) { totalCount edges { node { id status owner server { id name } } } } }`;
const POOLS = `{ pools { id name liveSessions servers(first: 100) { totalCount edges { node { id name } } } } }`;
const READS = [
  { query: SERVERS, variables: {} },
  { query: SESSIONS, variables: { first: 100 } },
  { query: POOLS, variables: {} },
] as const;

const CREATE_SERVER = `mutation($name: String!, $owner: String) { createServer(input: { name: $name, ownerId: $owner }) {
  ... on CreateServerSuccess { server { id } } ... on Error { code message } } }`;
const UPDATE_SERVER = `mutation($id: ID!, $name: String!) { updateServer(id: $id, input: { name: $name }) { __typename ... on Error { code message } } }`;
const DELETE_SERVER = `mutation($id: ID!) { deleteServer(id: $id, force: true) { __typename ... on Error { code message } } }`;
const START_SERVER = `mutation($id: ID!) { startServer(id: $id) { __typename ... on Error { code message } } }`;
const CREATE_SESSION = `mutation($serverId: ID!) { createSession(input: { serverId: $serverId }) {
  __typename ... on CreateSessionSuccess { session { id } } ... on Error { code message } } }`;
const TERMINATE_SESSION = `mutation($id: ID!) { terminateSession(id: $id, force: true) { __typename ... on Error { code message } } }`;
const ASSIGN = `mutation($principal: String!, $target: ID!, $type: AssignmentTargetType!) {
  assign(input: { principal: $principal, principalType: USER, targetId: $target, targetType: $type }) {
    __typename ... on AssignSuccess { assignment { id } } ... on Error { code message } } }`;
const UNASSIGN = `mutation($id: ID!) { unassign(id: $id) { __typename ... on Error { code message } } }`;
const CREATE_POOL = `mutation($name: String!) { createPool(input: { name: $name }) { ... on CreatePoolSuccess { pool { id } } } }`;
const SET_POOL = `mutation($server: ID!, $pool: ID) { setServerPool(serverId: $server, poolId: $pool) { __typename ... on Error { code message } } }`;

const secret = new TextEncoder().encode(TEST_SECRET);
const token = (sub: string, roles: Role[] = ['user']) => signToken(secret, { sub, roles }, { expiresInSeconds: 3600 });

type Outcome = 'hit' | 'miss' | 'bypass';
async function cacheCounts(t: TestApp): Promise<Record<Outcome, number>> {
  const metric = await t.app.container.metrics.responseCacheTotal.get();
  const out: Record<Outcome, number> = { hit: 0, miss: 0, bypass: 0 };
  for (const v of metric.values) out[v.labels.result as Outcome] = v.value;
  return out;
}

async function data(t: TestApp, query: string, variables: Record<string, unknown>, bearer: string) {
  const r = await t.gql(query, variables, bearer);
  if (!r.body.data || r.body.errors) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
  return r.body.data;
}

/** A mutation that must succeed: its result's __typename or payload, never an Error member. */
async function mutate<T = Record<string, { __typename?: string; code?: string }>>(
  t: TestApp,
  query: string,
  variables: Record<string, unknown>,
  bearer: string,
): Promise<T> {
  const d = (await data(t, query, variables, bearer)) as Record<string, { code?: string; message?: string }>;
  const payload = Object.values(d)[0];
  if (payload?.code) throw new Error(`${query.slice(0, 40)}: ${payload.code} ${payload.message}`);
  return d as T;
}

/**
 * Two replicas (A, B) with RESPONSE_CACHE=on and a third (C) with it off, on one FerretDB
 * database and one Redis of this file: every read through a cache is compared with C's answer at
 * that moment, right after writes acknowledged by the other replica, with no sleep between.
 */
describe.skipIf(!need('response cache on two replicas (FerretDB and Redis)', ['mongo']))(
  'response cache: exact across replicas',
  { timeout: 300_000 },
  () => {
    let redis: PrivateRedis;
    let a: TestApp;
    let b: TestApp;
    let c: TestApp;
    let limited: TestApp;
    let admin: string;
    const runtime = new FakeServerRuntime();
    const accounts = new FakeSessionAccounts();

    beforeAll(async () => {
      redis = await startPrivateRedis();
      const env = {
        MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'rcache'),
        REDIS_URL: redis.url,
        XRDP_BINARY: '/nonexistent/xrdp',
        MAX_CONCURRENT_SESSIONS: '5000',
        MAX_CONCURRENT_SERVERS: '1000',
        RESPONSE_CACHE: 'on',
        // No background write between two reads of a test (a health check or a sample).
        HEALTH_CHECK_INTERVAL: '86400',
        METRICS_INTERVAL: '86400',
      };
      const options = {
        runtime,
        sessionAccounts: accounts,
        sweepIntervalMs: 3_600_000,
        reconcileIntervalMs: 3_600_000,
        drainIntervalMs: 3_600_000,
      };
      a = await startTestApp(env, options);
      b = await startTestApp(env, options);
      c = await startTestApp({ ...env, RESPONSE_CACHE: 'off' }, options);
      limited = await startTestApp({ ...env, RATE_LIMIT_SERVERS_PER_MIN: '3', RATE_LIMIT_BURST_FACTOR: '1' }, options);
      admin = await token('root', ['admin']);
    }, 120_000);
    afterAll(async () => {
      await a?.app.container.mongo?.db.dropDatabase();
      await Promise.all([a?.stop(), b?.stop(), c?.stop(), limited?.stop()]);
      await redis?.stop();
    });

    /** Reads through `t` and checks it against the uncached replica at the same moment. */
    async function exact(t: TestApp, bearer: string, read: (typeof READS)[number] = READS[0]) {
      const got = await data(t, read.query, read.variables, bearer);
      expect(got).toEqual(await data(c, read.query, read.variables, bearer));
      return got;
    }

    it('is off on C and on by the setting on A and B', () => {
      expect(c.app.container.responseCache).toBeUndefined();
      expect(a.app.container.responseCache).toBeDefined();
    });

    it('a write acknowledged on one replica is in the very next read on the other (40 rounds, no sleep)', async () => {
      const servers: string[] = [];
      const sessions: string[] = [];
      // The first read of a fresh Redis sets the epoch and bypasses the cache.
      await exact(a, admin);
      for (let round = 0; round < 40; round++) {
        const [writer, reader] = round % 2 ? [b, a] : [a, b];
        // The reader has the answer cached: its second read is a hit.
        await exact(reader, admin);
        const before = await cacheCounts(reader);
        await exact(reader, admin);
        expect((await cacheCounts(reader)).hit).toBe(before.hit + 1);
        let check: (list: { id: string; name: string; sessions: { id: string }[] }[]) => void;
        const step = round % 5;
        if (step === 0 || servers.length === 0) {
          const { createServer } = await mutate<{ createServer: { server: { id: string } } }>(
            writer,
            CREATE_SERVER,
            { name: `r${round}` },
            admin,
          );
          const id = createServer.server.id;
          servers.push(id);
          check = (list) => expect(list.find((s) => s.id === id)?.name).toBe(`r${round}`);
        } else if (step === 1) {
          const id = servers[round % servers.length] as string;
          await mutate(writer, UPDATE_SERVER, { id, name: `renamed-${round}` }, admin);
          check = (list) => expect(list.find((s) => s.id === id)?.name).toBe(`renamed-${round}`);
        } else if (step === 2) {
          const id = servers.at(-1) as string;
          await mutate(writer, START_SERVER, { id }, admin).catch(() => undefined);
          const { createSession } = await mutate<{ createSession: { session: { id: string } } }>(
            writer,
            CREATE_SESSION,
            { serverId: id },
            admin,
          );
          sessions.push(createSession.session.id);
          check = (list) => expect(list.find((s) => s.id === id)?.sessions.map((x) => x.id)).toContain(createSession.session.id);
        } else if (step === 3 && sessions.length > 0) {
          const id = sessions.pop() as string;
          await mutate(writer, TERMINATE_SESSION, { id }, admin);
          check = (list) => expect(list.flatMap((s) => s.sessions.map((x) => x.id))).not.toContain(id);
        } else {
          const id = servers.shift() as string;
          await mutate(writer, DELETE_SERVER, { id }, admin);
          check = (list) => expect(list.map((s) => s.id)).not.toContain(id);
        }
        const got = (await exact(reader, admin)) as { servers: { edges: { node: never }[] } };
        check(got.servers.edges.map((e) => e.node));
      }
    });

    it("a user never gets an operator's or another user's answer; an assignment changes the next read", async () => {
      const [alice, bob, olga] = await Promise.all([token('alice'), token('bob'), token('olga', ['operator'])]);
      const { createServer: mine } = await mutate<{ createServer: { server: { id: string } } }>(
        a,
        CREATE_SERVER,
        { name: 'alice-own', owner: 'alice' },
        admin,
      );
      const { createServer: bobs } = await mutate<{ createServer: { server: { id: string } } }>(
        a,
        CREATE_SERVER,
        { name: 'bob-own', owner: 'bob' },
        admin,
      );
      const ids = async (t: TestApp, bearer: string) =>
        ((await exact(t, bearer)) as { servers: { edges: { node: { id: string } }[] } }).servers.edges.map((e) => e.node.id);
      for (let i = 0; i < 3; i++) {
        // The operator's answer is cached first: the users must not get it.
        expect(await ids(b, olga)).toEqual(expect.arrayContaining([mine.server.id, bobs.server.id]));
        expect(await ids(b, alice)).toEqual([mine.server.id]);
        expect(await ids(b, bob)).toEqual([bobs.server.id]);
      }
      const { assign } = await mutate<{ assign: { assignment: { id: string } } }>(
        a,
        ASSIGN,
        { principal: 'alice', target: bobs.server.id, type: 'SERVER' },
        olga,
      );
      expect(await ids(b, alice)).toEqual([mine.server.id, bobs.server.id]);
      expect(await ids(b, bob)).toEqual([bobs.server.id]);
      await mutate(a, UNASSIGN, { id: assign.assignment.id }, olga);
      expect(await ids(b, alice)).toEqual([mine.server.id]);
      // The same user with another group is another visibility: assigned to the group, seen only with it.
      const staff = await signToken(secret, { sub: 'alice', roles: ['user'], extra: { groups: ['staff'] } });
      await mutate(
        b,
        `mutation($target: ID!) { assign(input: { principal: "staff", principalType: GROUP, targetId: $target, targetType: SERVER }) { __typename ... on Error { code message } } }`,
        { target: bobs.server.id },
        olga,
      );
      expect(await ids(a, staff)).toEqual([mine.server.id, bobs.server.id]);
      expect(await ids(a, alice)).toEqual([mine.server.id]);
    });

    it('random interleavings of writes on two replicas: every read equals the uncached answer at that moment', async () => {
      const olga = await token('olga', ['operator']);
      const dora = await token('dora');
      const viewers = [admin, olga, dora];
      const state = { servers: [] as string[], sessions: [] as string[], pools: [] as string[], assignments: [] as string[] };
      const pick = (list: string[], n: number) => list[n % list.length];
      const op = fc.record({
        kind: fc.constantFrom('create', 'rename', 'delete', 'session', 'end', 'pool', 'inPool', 'assign', 'unassign', 'read'),
        on: fc.constantFrom('a', 'b'),
        n: fc.nat(1000),
        viewer: fc.nat(viewers.length - 1),
        read: fc.nat(READS.length - 1),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 20 }), async (ops) => {
          for (const o of ops) {
            const t = o.on === 'a' ? a : b;
            const n = o.n;
            switch (o.kind) {
              case 'create': {
                const r = await mutate<{ createServer: { server: { id: string } } }>(
                  t,
                  CREATE_SERVER,
                  { name: `p${n}`, owner: n % 2 ? 'dora' : null },
                  admin,
                );
                state.servers.push(r.createServer.server.id);
                break;
              }
              case 'rename':
                if (state.servers.length) await mutate(t, UPDATE_SERVER, { id: pick(state.servers, n), name: `q${n}` }, admin);
                break;
              case 'delete':
                if (state.servers.length) {
                  const id = state.servers.splice(n % state.servers.length, 1)[0];
                  await mutate(t, DELETE_SERVER, { id }, admin);
                }
                break;
              case 'session':
                if (state.servers.length) {
                  const id = pick(state.servers, n);
                  await t.gql(START_SERVER, { id }, admin);
                  const r = await mutate<{ createSession: { session: { id: string } } }>(
                    t,
                    CREATE_SESSION,
                    { serverId: id },
                    admin,
                  );
                  state.sessions.push(r.createSession.session.id);
                }
                break;
              case 'end':
                if (state.sessions.length) {
                  const id = state.sessions.splice(n % state.sessions.length, 1)[0];
                  // Its server may be gone (and the session ended with it): either way the read must agree.
                  await t.gql(TERMINATE_SESSION, { id }, admin);
                }
                break;
              case 'pool': {
                const r = await mutate<{ createPool: { pool: { id: string } } }>(t, CREATE_POOL, { name: `pool${n}` }, olga);
                state.pools.push(r.createPool.pool.id);
                break;
              }
              case 'inPool':
                if (state.servers.length && state.pools.length) {
                  await mutate(t, SET_POOL, { server: pick(state.servers, n), pool: pick(state.pools, n) }, olga);
                }
                break;
              case 'assign':
                if (state.pools.length) {
                  const r = await t.gql<{ assign: { assignment?: { id: string } } }>(
                    ASSIGN,
                    { principal: 'dora', target: pick(state.pools, n), type: 'POOL' },
                    olga,
                  );
                  const id = r.body.data?.assign.assignment?.id;
                  if (id) state.assignments.push(id);
                }
                break;
              case 'unassign':
                if (state.assignments.length) {
                  const id = state.assignments.splice(n % state.assignments.length, 1)[0];
                  await t.gql(UNASSIGN, { id }, olga);
                }
                break;
              default:
                break;
            }
            // After every step, a read on either replica by someone.
            await exact(o.n % 2 ? a : b, viewers[o.viewer] as string, READS[o.read]);
          }
        }),
        { numRuns: 5, endOnFailure: true },
      );
      // The property exercised the cache, not only its bypass.
      expect((await cacheCounts(a)).hit + (await cacheCounts(b)).hit).toBeGreaterThan(0);
    });

    it('a hit over WebSocket answers the same data as over HTTP', async () => {
      const olga = await token('olga', ['operator']);
      await exact(b, olga);
      await exact(b, olga);
      const client = b.ws(olga);
      const before = await cacheCounts(b);
      const viaWs = await new Promise<unknown>((resolve, reject) => {
        let value: unknown;
        client.subscribe({ query: SERVERS }, { next: (v) => (value = v), error: reject, complete: () => resolve(value) });
      });
      expect((await cacheCounts(b)).hit).toBe(before.hit + 1);
      expect(viaWs).toEqual({ data: await data(c, SERVERS, {}, olga) });
    });

    it('on a hit a rate limit still bites, and a caller without a valid token is still refused', async () => {
      const ops = async () =>
        (await limited.app.container.metrics.operationsTotal.get()).values.find(
          (v) => v.labels.field === 'servers' && v.labels.result === 'ok',
        )?.value ?? 0;
      const rl = await token('rl-user', ['operator']);
      const ops0 = await ops();
      await data(limited, SERVERS, {}, rl);
      const before = await cacheCounts(limited);
      await data(limited, SERVERS, {}, rl);
      await data(limited, SERVERS, {}, rl);
      expect((await cacheCounts(limited)).hit).toBe(before.hit + 2);
      // Operation metrics count the hits as executions.
      expect(await ops()).toBe(ops0 + 3);
      const refused = await limited.gql(SERVERS, {}, rl);
      expect(refused.status).toBe(429);
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      expect(refused.body.data ?? null).toBeNull();

      const anonymous = await limited.gql(SERVERS, {});
      expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(anonymous.body.data ?? null).toBeNull();
      const forged = await limited.gql(SERVERS, {}, `${rl.slice(0, -4)}AAAA`);
      expect(forged.status).toBe(401);
      expect(forged.body.data ?? null).toBeNull();
    });

    it('Redis down: reads bypass the cache and stay exact; Redis back (empty): a new epoch, caching again', async () => {
      const olga = await token('olga', ['operator']);
      await exact(b, olga);
      await exact(b, olga);
      await redis.kill();
      const { createServer } = await mutate<{ createServer: { server: { id: string } } }>(
        a,
        CREATE_SERVER,
        { name: 'while-down' },
        admin,
      );
      const before = await cacheCounts(b);
      const got = (await exact(b, olga)) as { servers: { edges: { node: { id: string } }[] } };
      expect(got.servers.edges.map((e) => e.node.id)).toContain(createServer.server.id);
      expect((await cacheCounts(b)).bypass).toBeGreaterThan(before.bypass);
      expect((await cacheCounts(b)).hit).toBe(before.hit);
      await mutate(a, UPDATE_SERVER, { id: createServer.server.id, name: 'renamed-while-down' }, admin);
      await exact(b, olga);

      await redis.start();
      // Both replicas reconnect; then a read is stored (miss) and the next one is a hit.
      await vi.waitFor(
        async () => {
          const c0 = await cacheCounts(b);
          await exact(b, olga);
          await exact(b, olga);
          expect((await cacheCounts(b)).hit).toBeGreaterThan(c0.hit);
        },
        { timeout: 20_000, interval: 200 },
      );
      await mutate(a, UPDATE_SERVER, { id: createServer.server.id, name: 'renamed-after' }, admin);
      const after = (await exact(b, olga)) as { servers: { edges: { node: { id: string; name: string } }[] } };
      expect(after.servers.edges.find((e) => e.node.id === createServer.server.id)?.node.name).toBe('renamed-after');
    });
  },
);
