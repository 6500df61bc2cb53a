import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/adapters/auth/token-signer.js';
import { collect, startTestApp, TEST_SECRET, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const CONNECT = `mutation($input: ConnectInput!) { connect(input: $input) {
  __typename
  ... on ConnectSuccess {
    reconnected reason
    session { id status owner serverId }
    server { id name pool { id name } }
    connection { host port username password rdpFile expiresAt }
  }
  ... on LimitExceededError { limit max }
  ... on Error { code message }
} }`;

interface Connected {
  __typename: string;
  reconnected?: boolean;
  reason?: string;
  session?: { id: string; status: string; owner: string; serverId: string };
  server?: { id: string; name: string; pool: { id: string; name: string } | null };
  connection?: { host: string; port: number; username: string; password: string | null; rdpFile: string };
  limit?: string;
  code?: string;
  message?: string;
}

const secret = new TextEncoder().encode(TEST_SECRET);

const backends: [string, () => Record<string, string>, boolean][] = [
  ['memory', () => ({}), true],
  [
    'mongo (FerretDB)',
    () => ({ MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'poolsapi') }),
    need('pools API on mongo', ['mongo']),
  ],
];

for (const [backend, env, enabled] of backends) {
  describe.skipIf(!enabled)(`pools, assignments and connect on ${backend}`, { timeout: 120_000 }, () => {
    let t: TestApp;
    let olga: string;
    let alice: string;
    /** bob is in the group devs (the default GROUPS_CLAIM, groups). */
    let bob: string;
    let carol: string;

    beforeAll(async () => {
      t = await startTestApp(
        { ...env(), XRDP_BINARY: '/nonexistent/xrdp' },
        {
          sessionAccounts: new FakeSessionAccounts(),
          runtime: new FakeServerRuntime(),
          sweepIntervalMs: 3_600_000,
          reconcileIntervalMs: 3_600_000,
        },
      );
      olga = await t.token('olga', ['operator']);
      alice = await t.token('alice');
      bob = await signToken(secret, { sub: 'bob', roles: ['user'], extra: { groups: ['devs', 'staff'] } });
      carol = await signToken(secret, { sub: 'carol', roles: ['user'], extra: { groups: ['sales'] } });
    });
    afterAll(async () => {
      await t.app.container.mongo?.db.dropDatabase();
      await t.stop();
    });

    async function data<T>(query: string, variables: Record<string, unknown>, token: string): Promise<T> {
      const r = await t.gql<T>(query, variables, token);
      if (!r.body.data) throw new Error(JSON.stringify(r.body));
      return r.body.data;
    }

    async function createPool(input: Record<string, unknown>): Promise<string> {
      const r = await data<{ createPool: { __typename: string; pool?: { id: string } } }>(
        'mutation($input: CreatePoolInput!) { createPool(input: $input) { __typename ... on CreatePoolSuccess { pool { id } } } }',
        { input },
        olga,
      );
      if (!r.createPool.pool) throw new Error(JSON.stringify(r));
      return r.createPool.pool.id;
    }

    /** A RUNNING server made by `token`, optionally put into a pool by olga. */
    async function server(token: string, name: string, poolId?: string, maxSessions = 10): Promise<string> {
      const c = await data<{ createServer: { server: { id: string } } }>(
        'mutation($input: CreateServerInput!) { createServer(input: $input) { ... on CreateServerSuccess { server { id } } } }',
        { input: { name, configuration: { maxSessions } } },
        token,
      );
      const id = c.createServer.server.id;
      await data('mutation($id: ID!) { startServer(id: $id) { __typename } }', { id }, token);
      if (poolId) {
        const s = await data<{ setServerPool: { __typename: string } }>(
          'mutation($s: ID!, $p: ID) { setServerPool(serverId: $s, poolId: $p) { __typename } }',
          { s: id, p: poolId },
          olga,
        );
        expect(s.setServerPool.__typename).toBe('SetServerPoolSuccess');
      }
      return id;
    }

    async function assign(principalType: string, principal: string, targetType: string, targetId: string): Promise<string> {
      const r = await data<{ assign: { __typename: string; assignment?: { id: string } } }>(
        'mutation($input: AssignInput!) { assign(input: $input) { __typename ... on AssignSuccess { assignment { id } } } }',
        { input: { principalType, principal, targetType, targetId } },
        olga,
      );
      if (!r.assign.assignment) throw new Error(JSON.stringify(r));
      return r.assign.assignment.id;
    }

    const connect = async (token: string, input: Record<string, unknown>) =>
      (await data<{ connect: Connected }>(CONNECT, { input }, token)).connect;

    it('pool CRUD is for operators: a user is FORBIDDEN, bad input a VALIDATION error, both change nothing; changes are audited', async () => {
      const refused = await t.gql('mutation { createPool(input: { name: "mine" }) { __typename } }', {}, alice);
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const bad = await t.gql('mutation { createPool(input: { name: "  ", maxSessions: 0 }) { __typename } }', {}, olga);
      expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(bad.body.errors?.[0]?.message).toMatch(/name.*blank|maxSessions.*at least 1/);
      expect((await data<{ pools: unknown[] }>('{ pools { id } }', {}, olga)).pools).toEqual([]);

      const id = await createPool({ name: ' crud ', maxSessions: 5, defaultCredentialMode: 'EPHEMERAL' });
      const read = await data<{ pool: Record<string, unknown> }>(
        'query($id: ID!) { pool(id: $id) { name placementPolicy maxSessions defaultCredentialMode liveSessions servers { totalCount } } }',
        { id },
        olga,
      );
      expect(read.pool).toEqual({
        name: 'crud',
        placementPolicy: 'BREADTH_FIRST',
        maxSessions: 5,
        defaultCredentialMode: 'EPHEMERAL',
        liveSessions: 0,
        servers: { totalCount: 0 },
      });
      const upd = await data<{ updatePool: { pool: Record<string, unknown> } }>(
        `mutation($id: ID!) { updatePool(id: $id, input: { placementPolicy: DEPTH_FIRST, clearMaxSessions: true }) {
          ... on UpdatePoolSuccess { pool { placementPolicy maxSessions } } } }`,
        { id },
        olga,
      );
      expect(upd.updatePool.pool).toEqual({ placementPolicy: 'DEPTH_FIRST', maxSessions: null });
      const both = await t.gql(
        'mutation($id: ID!) { updatePool(id: $id, input: { maxSessions: 3, clearMaxSessions: true }) { __typename } }',
        { id },
        olga,
      );
      expect(both.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

      const s = await server(olga, 'crud-1', id);
      const refusedDelete = await data<{ deletePool: { __typename: string; message?: string } }>(
        'mutation($id: ID!) { deletePool(id: $id) { __typename ... on Error { message } } }',
        { id },
        olga,
      );
      expect(refusedDelete.deletePool.__typename).toBe('ConflictError');
      expect(refusedDelete.deletePool.message).toMatch(/has 1 server/);
      const deleted = await data<{ deletePool: { __typename: string } }>(
        'mutation($id: ID!) { deletePool(id: $id, force: true) { __typename } }',
        { id },
        olga,
      );
      expect(deleted.deletePool.__typename).toBe('DeletePoolSuccess');
      const after = await data<{ server: { poolId: string | null } }>(
        'query($id: ID!) { server(id: $id) { poolId } }',
        { id: s },
        olga,
      );
      expect(after.server.poolId).toBeNull();
      const missing = await data<{ deletePool: { __typename: string } }>(
        'mutation($id: ID!) { deletePool(id: $id) { __typename } }',
        { id },
        olga,
      );
      expect(missing.deletePool.__typename).toBe('NotFoundError');

      const audit = await data<{ auditEvents: { edges: { node: { action: string; result: string } }[] } }>(
        '{ auditEvents(first: 100) { edges { node { action result } } } }',
        {},
        olga,
      );
      const actions = audit.auditEvents.edges.map((e) => `${e.node.action} ${e.node.result}`);
      for (const a of [
        'pool.create SUCCESS',
        'pool.update SUCCESS',
        'pool.delete FAILURE',
        'pool.delete SUCCESS',
        'server.pool SUCCESS',
      ]) {
        expect(actions).toContain(a);
      }
    });

    it("another's pool and server answer as missing until assigned (by group); then bob sees them, connects, reconnects", async () => {
      const poolId = await createPool({ name: 'team', placementPolicy: 'BREADTH_FIRST' });
      const s1 = await server(olga, 'team-1', poolId);
      const s2 = await server(olga, 'team-2', poolId);
      const own = await server(alice, 'alice-own');

      // Not assigned: missing on queries, mutations and subscriptions alike.
      expect((await data<{ pool: unknown }>('query($id: ID!) { pool(id: $id) { id } }', { id: poolId }, bob)).pool).toBeNull();
      expect((await data<{ server: unknown }>('query($id: ID!) { server(id: $id) { id } }', { id: s1 }, bob)).server).toBeNull();
      expect((await data<{ servers: { totalCount: number } }>('{ servers { totalCount } }', {}, bob)).servers.totalCount).toBe(0);
      expect((await data<{ pools: unknown[] }>('{ pools { id } }', {}, bob)).pools).toEqual([]);
      const hidden = await connect(bob, { poolId });
      expect(hidden).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
      expect((await connect(bob, { serverId: s1 })).__typename).toBe('NotFoundError');
      const sub = collect(t.ws(bob), 'subscription($id: ID!) { serverEvents(serverId: $id) { kind } }', { id: s1 });
      await sub.until(() => sub.ended);
      expect(sub.items.at(-1)?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

      const assignmentId = await assign('GROUP', 'devs', 'POOL', poolId);
      const dup = await t.gql(
        'mutation($input: AssignInput!) { assign(input: $input) { __typename } }',
        { input: { principalType: 'GROUP', principal: 'devs', targetType: 'POOL', targetId: poolId } },
        olga,
      );
      expect((dup.body.data as { assign: { __typename: string } }).assign.__typename).toBe('ConflictError');

      const me = await data<{ viewer: { groups: string[]; assignments: { id: string; targetId: string; principal: string }[] } }>(
        '{ viewer { groups assignments { id targetId principal } } }',
        {},
        bob,
      );
      expect(me.viewer.groups).toEqual(['devs', 'staff']);
      expect(me.viewer.assignments).toEqual([{ id: assignmentId, targetId: poolId, principal: 'devs' }]);
      const seen = await data<{ servers: { edges: { node: { id: string } }[] }; pools: { id: string }[] }>(
        '{ servers { edges { node { id } } } pools { id } }',
        {},
        bob,
      );
      expect(seen.servers.edges.map((e) => e.node.id).sort()).toEqual([s1, s2].sort());
      expect(seen.pools.map((p) => p.id)).toEqual([poolId]);
      // carol (group sales) still sees nothing of it; alice's own server is hers alone.
      expect((await data<{ pool: unknown }>('query($id: ID!) { pool(id: $id) { id } }', { id: poolId }, carol)).pool).toBeNull();
      expect((await data<{ server: unknown }>('query($id: ID!) { server(id: $id) { id } }', { id: own }, bob)).server).toBeNull();

      const first = await connect(bob, { poolId, clientInfo: { resolution: '1280x720' } });
      expect(first).toMatchObject({
        __typename: 'ConnectSuccess',
        reconnected: false,
        session: { status: 'ACTIVE', owner: 'bob' },
      });
      expect(first.reason).toMatch(/^least loaded server in pool team \(BREADTH_FIRST\): team-[12] had 0 of 10 sessions$/);
      expect(first.server?.pool).toEqual({ id: poolId, name: 'team' });
      expect(first.connection?.password).toMatch(/.{12,}/);
      expect(first.connection?.rdpFile).toContain('desktopwidth:i:1280');
      // A second user goes to the other, emptier server.
      const other = await signToken(secret, { sub: 'dave', roles: ['user'], extra: { groups: ['devs'] } });
      const second = await connect(other, { poolId });
      expect(second.server?.id).not.toBe(first.server?.id);

      const again = await connect(bob, { poolId });
      expect(again).toMatchObject({ __typename: 'ConnectSuccess', reconnected: true, session: { id: first.session?.id } });
      expect(again.connection?.password).toBeNull();
      expect(again.connection?.username).toBe(first.connection?.username);
      expect(again.reason).toMatch(/already have a active session in pool team/);
      const live = await data<{ pool: { liveSessions: number } }>(
        'query($id: ID!) { pool(id: $id) { liveSessions } }',
        { id: poolId },
        olga,
      );
      expect(live.pool.liveSessions).toBe(2);

      // The subscription now works for bob: the server is his to see.
      const sub2 = collect(t.ws(bob), 'subscription($id: ID!) { serverEvents(serverId: $id) { kind } }', { id: s1 });
      await sub2.until(() => sub2.items.length >= 1);
      expect(sub2.items[0]?.data).toEqual({ serverEvents: { kind: 'SNAPSHOT' } });
      sub2.dispose();

      // Taken away: nothing ends, the next connect is refused.
      const gone = await data<{ unassign: { __typename: string } }>(
        'mutation($id: ID!) { unassign(id: $id) { __typename } }',
        { id: assignmentId },
        olga,
      );
      expect(gone.unassign.__typename).toBe('UnassignSuccess');
      const still = await data<{ session: { status: string } }>(
        'query($id: ID!) { session(id: $id) { status } }',
        { id: first.session?.id },
        bob,
      );
      expect(still.session.status).toBe('ACTIVE');
      expect((await connect(bob, { poolId })).__typename).toBe('NotFoundError');
      const direct = await data<{ createSession: { __typename: string } }>(
        'mutation($s: ID!) { createSession(input: { serverId: $s }) { __typename } }',
        { s: s1 },
        bob,
      );
      expect(direct.createSession.__typename).toBe('NotFoundError');
    });

    it('effectiveAccess answers allowed and why, for operators only', async () => {
      const poolId = await createPool({ name: 'access' });
      const pooled = await server(olga, 'access-1', poolId);
      const single = await server(olga, 'access-2');
      const own = await server(alice, 'access-own');
      await assign('GROUP', 'staff', 'POOL', poolId);
      await assign('USER', 'carol', 'SERVER', single);
      const q = `query($u: String!, $g: [String!], $t: AccessTargetInput!) {
        effectiveAccess(userId: $u, groups: $g, target: $t) { allowed reason explanation assignment { principal } } }`;
      const ask = async (u: string, g: string[], target: Record<string, string>) =>
        (await data<{ effectiveAccess: Record<string, unknown> }>(q, { u, g, t: target }, olga)).effectiveAccess;
      expect(await ask('bob', ['staff'], { poolId })).toMatchObject({
        allowed: true,
        reason: 'GROUP_ASSIGNMENT',
        assignment: { principal: 'staff' },
      });
      expect((await ask('bob', ['staff'], { poolId })).explanation).toBe('bob is in group staff, which is assigned pool access');
      expect(await ask('bob', ['staff'], { serverId: pooled })).toMatchObject({ allowed: true, reason: 'POOL_ASSIGNMENT' });
      expect(await ask('bob', [], { serverId: pooled })).toMatchObject({ allowed: false, reason: 'NONE', assignment: null });
      expect(await ask('carol', [], { serverId: single })).toMatchObject({ allowed: true, reason: 'USER_ASSIGNMENT' });
      expect(await ask('alice', [], { serverId: own })).toMatchObject({ allowed: true, reason: 'OWNER' });
      expect(await ask('olga', [], { serverId: own })).toMatchObject({ allowed: true, reason: 'OPERATOR_ROLE' });
      const missing = await t.gql(q, { u: 'bob', g: [], t: { poolId: 'nope' } }, olga);
      expect(missing.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      const user = await t.gql(q, { u: 'bob', g: [], t: { poolId } }, alice);
      expect(user.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });

    it("the pool's cap holds for connect and createSession alike; a session's end gives its pool slot back", async () => {
      const poolId = await createPool({ name: 'capped', maxSessions: 1, placementPolicy: 'DEPTH_FIRST' });
      const s1 = await server(olga, 'capped-1', poolId);
      await assign('GROUP', 'devs', 'POOL', poolId);
      const first = await connect(bob, { poolId });
      expect(first.__typename).toBe('ConnectSuccess');
      expect(first.reason).toBe('pool capped fills one server before the next (DEPTH_FIRST): capped-1 had 0 of 10 sessions');
      const eve = await signToken(secret, { sub: 'eve', roles: ['user'], extra: { groups: ['devs'] } });
      expect(await connect(eve, { poolId })).toMatchObject({
        __typename: 'LimitExceededError',
        limit: 'pool.maxSessions',
        max: 1,
      });
      const direct = await data<{ createSession: { __typename: string; limit?: string } }>(
        'mutation($s: ID!) { createSession(input: { serverId: $s }) { __typename ... on LimitExceededError { limit } } }',
        { s: s1 },
        olga,
      );
      expect(direct.createSession).toEqual({ __typename: 'LimitExceededError', limit: 'pool.maxSessions' });
      await data('mutation($id: ID!) { terminateSession(id: $id, force: true) { __typename } }', { id: first.session?.id }, bob);
      const next = await connect(eve, { poolId });
      expect(next).toMatchObject({ __typename: 'ConnectSuccess', reconnected: false });
    });

    it('connect refuses a pool with no running server with the reason per server, and a bad target', async () => {
      const poolId = await createPool({ name: 'stopped' });
      await assign('USER', 'bob', 'POOL', poolId);
      expect(await connect(bob, { poolId })).toMatchObject({
        __typename: 'ConflictError',
        message: expect.stringMatching(/has no servers/),
      });
      const s = await server(olga, 'stopped-1', poolId);
      await data('mutation($id: ID!) { stopServer(id: $id) { __typename } }', { id: s }, olga);
      expect(await connect(bob, { poolId })).toMatchObject({
        __typename: 'ConflictError',
        message: 'no server of pool stopped takes sessions now (stopped-1: stopped)',
      });
      const both = await t.gql(CONNECT, { input: { poolId, serverId: s } }, bob);
      expect(both.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });
  });
}
