import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/adapters/auth/token-signer.js';
import { createLogger } from '../../src/app/logger.js';
import { startTestApp, TEST_SECRET, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const CONNECT = `mutation($input: ConnectInput!) { connect(input: $input) {
  __typename
  ... on ConnectSuccess { reconnected reason session { id } server { id name } }
  ... on LimitExceededError { limit max }
  ... on Error { code message }
} }`;

interface ConnectAnswer {
  __typename: string;
  reconnected?: boolean;
  reason?: string;
  session?: { id: string };
  server?: { id: string; name: string };
  limit?: string;
  code?: string;
  message?: string;
}

const secret = new TextEncoder().encode(TEST_SECRET);
const staffToken = (sub: string) => signToken(secret, { sub, roles: ['user'], extra: { groups: ['staff'] } });

describe.skipIf(!need('broker race on FerretDB and Redis', ['mongo', 'redis']))(
  'connect: 500 users over two replicas on one FerretDB and one Redis',
  { timeout: 600_000 },
  () => {
    let a: TestApp;
    let b: TestApp;
    let admin: string;

    beforeAll(async () => {
      const env = {
        MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'brokerrace'),
        REDIS_URL: services.redisUrl ?? '',
        MAX_CONCURRENT_SERVERS: '200',
        MAX_CONCURRENT_SESSIONS: '5000',
        XRDP_BINARY: '/nonexistent/xrdp',
        // The local host's heartbeat runs in the same loaded processes: with 500 requests queued
        // on a busy machine a 5 s beat can lapse and the host count as OFFLINE (no sessions).
        HOST_HEARTBEAT_INTERVAL: '120',
        // As session-races: FerretDB serializes writes, and a small pool queues the burst in the
        // driver instead of in FerretDB, where it starves the driver's heartbeats.
        MONGODB_MAX_POOL_SIZE: '8',
        MONGODB_MIN_POOL_SIZE: '0',
      };
      // The stores are real (FerretDB, Redis); servers and session accounts are fakes: the race
      // is in admission, not in xrdp. Background jobs would race the counts.
      const jobs = { sweepIntervalMs: 3_600_000, reconcileIntervalMs: 3_600_000, logger: createLogger({ level: 'error' }) };
      a = await startTestApp(env, { runtime: new FakeServerRuntime(), sessionAccounts: new FakeSessionAccounts(), ...jobs });
      b = await startTestApp(env, { runtime: new FakeServerRuntime(), sessionAccounts: new FakeSessionAccounts(), ...jobs });
      admin = await a.token('root', ['admin']);
    }, 120_000);
    afterAll(async () => {
      await a?.app.container.mongo?.db.dropDatabase();
      await a?.stop();
      await b?.stop();
    });

    async function gql<T>(t: TestApp, query: string, variables: Record<string, unknown>): Promise<T> {
      const r = await t.gql<T>(query, variables, admin);
      if (!r.body.data) throw new Error(JSON.stringify(r.body));
      return r.body.data;
    }

    /** A pool of `n` running servers of `perServer` sessions each, assigned to the group staff. */
    async function pool(name: string, policy: string, maxSessions: number, n: number, perServer: number) {
      const created = await gql<{ createPool: { pool: { id: string } } }>(
        a,
        `mutation($input: CreatePoolInput!) { createPool(input: $input) { ... on CreatePoolSuccess { pool { id } } } }`,
        { input: { name, placementPolicy: policy, maxSessions } },
      );
      const poolId = created.createPool.pool.id;
      const servers: { id: string; name: string }[] = [];
      for (let i = 0; i < n; i++) {
        const serverName = `${name}-${String(i).padStart(2, '0')}`;
        const c = await gql<{ createServer: { server: { id: string } } }>(
          a,
          `mutation($input: CreateServerInput!) { createServer(input: $input) { ... on CreateServerSuccess { server { id } } } }`,
          { input: { name: serverName, configuration: { maxSessions: perServer } } },
        );
        const id = c.createServer.server.id;
        await gql(a, 'mutation($id: ID!) { startServer(id: $id) { __typename } }', { id });
        const set = await gql<{ setServerPool: { __typename: string } }>(
          a,
          'mutation($s: ID!, $p: ID) { setServerPool(serverId: $s, poolId: $p) { __typename } }',
          { s: id, p: poolId },
        );
        expect(set.setServerPool.__typename).toBe('SetServerPoolSuccess');
        servers.push({ id, name: serverName });
      }
      const assigned = await gql<{ assign: { __typename: string } }>(
        a,
        'mutation($input: AssignInput!) { assign(input: $input) { __typename } }',
        { input: { principalType: 'GROUP', principal: 'staff', targetType: 'POOL', targetId: poolId } },
      );
      expect(assigned.assign.__typename).toBe('AssignSuccess');
      return { poolId, servers };
    }

    /**
     * `users` concurrent connects, alternating replicas. FerretDB on a loaded machine may cut a
     * few calls off (SERVICE_UNAVAILABLE); each is sent again, as the error asks, until every user
     * has an answer. A cut-off call whose session landed finds it again (reconnected).
     */
    async function race(
      poolId: string,
      users: number,
      tag: string,
    ): Promise<{ answers: ConnectAnswer[]; ms: number; cutOff: number; retried: Set<number> }> {
      const tokens = await Promise.all(Array.from({ length: users }, (_, i) => staffToken(`${tag}-user-${i}`)));
      const answers: ConnectAnswer[] = new Array(users);
      const retried = new Set<number>();
      let cutOff = 0;
      let pending = tokens.map((_, i) => i);
      const started = performance.now();
      for (let round = 0; pending.length > 0 && round < 10; round++) {
        const again: number[] = [];
        await Promise.all(
          pending.map(async (i) => {
            const r = await (i % 2 ? a : b).gql<{ connect: ConnectAnswer }>(CONNECT, { input: { poolId } }, tokens[i]);
            const answer = r.body.data?.connect;
            if (answer) answers[i] = answer;
            else if (r.body.errors?.[0]?.extensions?.code === 'SERVICE_UNAVAILABLE') again.push(i);
            else throw new Error(JSON.stringify(r.body));
          }),
        );
        cutOff += again.length;
        for (const i of again) retried.add(i);
        pending = again;
      }
      expect(pending).toEqual([]);
      return { answers, ms: Math.round(performance.now() - started), cutOff, retried };
    }

    /** How many answers of each kind, with the message of each refusal kind. */
    function outcomes(answers: ConnectAnswer[]): string {
      const by = new Map<string, number>();
      for (const x of answers) {
        const key = x.__typename === 'ConnectSuccess' ? 'ConnectSuccess' : `${x.__typename} ${x.limit ?? ''} ${x.message ?? ''}`;
        by.set(key, (by.get(key) ?? 0) + 1);
      }
      return [...by].map(([k, n]) => `${n} × ${k}`).join('\n');
    }

    function perServer(servers: { id: string; name: string }[], answers: ConnectAnswer[]): number[] {
      const counts = new Map(servers.map((s) => [s.id, 0]));
      for (const x of answers) if (x.server) counts.set(x.server.id, (counts.get(x.server.id) ?? 0) + 1);
      return servers.map((s) => counts.get(s.id) ?? 0);
    }

    it('BREADTH_FIRST, pool cap 100 over 10 servers of 20: 500 connects admit exactly 100, 10 on every server', async () => {
      const { poolId, servers } = await pool('breadth', 'BREADTH_FIRST', 100, 10, 20);
      const { answers, ms, cutOff, retried } = await race(poolId, 500, 'bf');
      const admitted = answers.filter((x) => x.__typename === 'ConnectSuccess');
      const refused = answers.filter((x) => x.__typename === 'LimitExceededError');
      const counts = perServer(servers, answers);
      console.log(outcomes(answers));
      console.log(
        `broker race BREADTH_FIRST: 500 connects over 2 replicas in ${ms} ms: admitted ${admitted.length}, refused ${refused.length} (${[...new Set(refused.map((r) => r.limit))].join(', ')}), other ${answers.length - admitted.length - refused.length}, ${cutOff} calls cut off (SERVICE_UNAVAILABLE) and sent again; per server ${counts.join(' ')}`,
      );
      expect(answers.filter((x) => x.__typename !== 'ConnectSuccess' && x.__typename !== 'LimitExceededError')).toEqual([]);
      expect(admitted).toHaveLength(100);
      expect(new Set(admitted.map((x) => x.session?.id)).size).toBe(100);
      // A call sent again after a cut-off may find the session its first attempt made.
      const fresh = answers.filter((x, i) => x.__typename === 'ConnectSuccess' && !retried.has(i));
      expect(fresh.every((x) => x.reconnected === false && /least loaded server in pool breadth/.test(x.reason ?? ''))).toBe(
        true,
      );
      expect(new Set(refused.map((r) => r.limit))).toEqual(new Set(['pool.maxSessions']));
      // Every server had room (20) all along: none may be 2 ahead of another.
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      expect(counts).toEqual(servers.map(() => 10));
      // The stored truth agrees: 100 live sessions in the pool, 100 pool slots held.
      const db = a.app.container.mongo?.db;
      expect(await db?.collection('sessions').countDocuments({ poolId, status: 'ACTIVE' })).toBe(100);
      expect(await db?.collection('claims').countDocuments({ _id: { $regex: '^slot:sessions:pool:' } as never })).toBe(100);
      const live = await gql<{ pool: { liveSessions: number } }>(a, 'query($id: ID!) { pool(id: $id) { liveSessions } }', {
        id: poolId,
      });
      expect(live.pool.liveSessions).toBe(100);

      // The first 150 users again: each admitted one gets its own session back, nobody new is admitted.
      const again = await race(poolId, 150, 'bf');
      const back = again.answers.filter((x) => x.__typename === 'ConnectSuccess');
      console.log(
        `broker race BREADTH_FIRST, second round of 150: ${back.length} reconnected to their session in ${again.ms} ms, ${again.answers.length - back.length} refused, ${again.cutOff} cut off and sent again`,
      );
      const before = answers.slice(0, 150).map((x) => x.session?.id ?? null);
      expect(again.answers.map((x) => x.session?.id ?? null)).toEqual(before);
      expect(back.every((x) => x.reconnected)).toBe(true);
    });

    it('DEPTH_FIRST, pool cap 25 over 3 servers of 10: 100 connects fill the first two servers, then 5 on the third', async () => {
      const { poolId, servers } = await pool('depth', 'DEPTH_FIRST', 25, 3, 10);
      const { answers, ms, cutOff } = await race(poolId, 100, 'df');
      const admitted = answers.filter((x) => x.__typename === 'ConnectSuccess');
      const counts = perServer(servers, answers);
      console.log(outcomes(answers));
      console.log(
        `broker race DEPTH_FIRST: 100 connects over 2 replicas in ${ms} ms: admitted ${admitted.length}, ${cutOff} cut off and sent again; per server ${counts.join(' ')}`,
      );
      expect(admitted).toHaveLength(25);
      expect(counts).toEqual([10, 10, 5]);
      expect(admitted.every((x) => x.reconnected || /fills one server before the next/.test(x.reason ?? ''))).toBe(true);
    });
  },
);
