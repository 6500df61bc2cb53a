import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const CREATE_SERVER = `mutation($name: String!) { createServer(input: { name: $name }) {
  __typename ... on CreateServerSuccess { server { id } } ... on Error { code message } } }`;
const START_SERVER = 'mutation($id: ID!) { startServer(id: $id) { __typename } }';
const UPDATE_SERVER = `mutation($id: ID!, $name: String!) { updateServer(id: $id, input: { name: $name }) { __typename } }`;
const DELETE_SERVER = 'mutation($id: ID!) { deleteServer(id: $id, force: true) { __typename ... on Error { code message } } }';
const CREATE_SESSION = `mutation($id: ID!) { createSession(input: { serverId: $id, credentialMode: EPHEMERAL }) {
  __typename ... on CreateSessionSuccess { session { id } } ... on Error { code message } } }`;
const DISCONNECT = 'mutation($id: ID!) { disconnectSession(id: $id) { __typename } }';
const TERMINATE = 'mutation($id: ID!) { terminateSession(id: $id, force: true) { __typename } }';
const FLEET = `subscription { fleetEvents { kind subject server { id name status } activeSessions disconnectedSessions } }`;
const MY_SESSIONS = 'subscription { mySessions { kind session { id owner status terminationReason } } }';
const SESSION_EVENTS =
  'subscription($id: ID!) { sessionEvents(sessionId: $id) { kind session { id status terminationReason } } }';

interface FleetData {
  fleetEvents: {
    kind: string;
    subject: string;
    server: { id: string; name: string; status: string } | null;
    activeSessions: number;
    disconnectedSessions: number;
  };
}
interface SessionData {
  kind: string;
  session: { id: string; owner?: string; status: string; terminationReason: string | null };
}

/**
 * Memory: one replica. FerretDB + Redis: subscriptions on replica B, every change made on
 * replica A, so events cross the Redis bus (a Redis of this file's own: other suites' servers
 * must not show in the fleet).
 */
const backends: [string, boolean][] = [
  ['memory', true],
  ['FerretDB + Redis, two replicas', need('live lists on FerretDB and Redis', ['mongo', 'redis'])],
];

for (const [backend, enabled] of backends) {
  describe.skipIf(!enabled)(`live lists on ${backend}`, { timeout: 90_000 }, () => {
    let a: TestApp;
    let b: TestApp;
    let redis: PrivateRedis | null = null;
    let alice: string;
    let bob: string;
    let olga: string;

    beforeAll(async () => {
      const options = {
        sessionAccounts: new FakeSessionAccounts(),
        runtime: new FakeServerRuntime(),
        sweepIntervalMs: 3_600_000,
        reconcileIntervalMs: 3_600_000,
      };
      if (backend === 'memory') {
        a = await startTestApp({ XRDP_BINARY: '/nonexistent/xrdp' }, options);
        b = a;
      } else {
        redis = await startPrivateRedis();
        const env = {
          XRDP_BINARY: '/nonexistent/xrdp',
          MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'livelists'),
          REDIS_URL: redis.url,
        };
        a = await startTestApp(env, options);
        b = await startTestApp(env, { ...options, sessionAccounts: new FakeSessionAccounts() });
      }
      alice = await a.token('alice');
      bob = await a.token('bob');
      olga = await a.token('olga', ['operator']);
    });
    afterAll(async () => {
      await a?.app.container.mongo?.db.dropDatabase();
      if (b && b !== a) await b.stop();
      await a?.stop();
      await redis?.stop();
    });

    async function runningServer(token: string, name: string): Promise<string> {
      const c = await a.gql<{ createServer: { server?: { id: string } } }>(CREATE_SERVER, { name }, token);
      const id = c.body.data?.createServer.server?.id;
      if (!id) throw new Error(`createServer failed: ${JSON.stringify(c.body)}`);
      expect((await a.gql<{ startServer: { __typename: string } }>(START_SERVER, { id }, token)).body.data?.startServer).toEqual({
        __typename: 'StartServerSuccess',
      });
      return id;
    }

    async function admitted(token: string, serverId: string): Promise<string> {
      const r = await a.gql<{ createSession: { session?: { id: string } } }>(CREATE_SESSION, { id: serverId }, token);
      const id = r.body.data?.createSession.session?.id;
      if (!id) throw new Error(`createSession failed: ${JSON.stringify(r.body)}`);
      return id;
    }

    it('fleetEvents: every server first with its counts, then creates, updates, status, session counts and deletes', async () => {
      const existing = await runningServer(alice, 'fleet-existing');
      await admitted(alice, existing);

      const fleet = collect<FleetData>(b.ws(olga), FLEET);
      const mine = (serverId: string) =>
        fleet.items.map((i) => i.data?.fleetEvents).filter((e) => e?.server?.id === serverId) as FleetData['fleetEvents'][];
      await fleet.until(() => mine(existing).length >= 1);
      expect(mine(existing)[0]).toMatchObject({
        kind: 'SNAPSHOT',
        subject: 'SERVER',
        server: { status: 'RUNNING' },
        activeSessions: 1,
        disconnectedSessions: 0,
      });

      const created = await runningServer(bob, 'fleet-new');
      await fleet.until(() => mine(created).some((e) => e.server?.status === 'RUNNING'));
      expect(mine(created)[0]).toMatchObject({ kind: 'CREATED', server: { status: 'STOPPED' }, activeSessions: 0 });
      expect(
        mine(created)
          .slice(1)
          .map((e) => e.kind),
      ).toEqual(['STATUS_CHANGED', 'STATUS_CHANGED']);

      await a.gql(UPDATE_SERVER, { id: created, name: 'fleet-renamed' }, bob);
      await fleet.until(() => mine(created).some((e) => e.kind === 'UPDATED'));
      expect(mine(created).at(-1)?.server?.name).toBe('fleet-renamed');

      const session = await admitted(bob, created);
      await fleet.until(() => mine(created).some((e) => e.kind === 'SESSIONS_CHANGED'));
      expect(mine(created).at(-1)).toMatchObject({ kind: 'SESSIONS_CHANGED', activeSessions: 1, disconnectedSessions: 0 });
      await a.gql(DISCONNECT, { id: session }, bob);
      await fleet.until(() => mine(created).at(-1)?.disconnectedSessions === 1);
      expect(mine(created).at(-1)).toMatchObject({ kind: 'SESSIONS_CHANGED', activeSessions: 0 });

      const deleted = await a.gql<{ deleteServer: { __typename: string } }>(DELETE_SERVER, { id: created }, bob);
      expect(deleted.body.data?.deleteServer.__typename).toBe('DeleteServerSuccess');
      await fleet.until(() => mine(created).some((e) => e.kind === 'DELETED'));
      expect(mine(created).at(-1)).toMatchObject({ kind: 'DELETED', activeSessions: 0, disconnectedSessions: 0 });
      expect(fleet.ended).toBe(false);
      await fleet.dispose();
    });

    it("fleetEvents of a user: a snapshot of only the servers they may see, nothing of another user's; an assignment or a move into an assigned pool adds a server as CREATED, undoing it takes it away as DELETED", async () => {
      const own = await runningServer(alice, 'scoped-alice');
      const other = await runningServer(bob, 'scoped-bob');
      const OWNED = `subscription { fleetEvents { kind server { id name owner status } } }`;
      type Owned = { fleetEvents: { kind: string; server: { id: string; name: string; owner: string; status: string } } };
      const alices = collect<Owned>(b.ws(alice), OWNED);
      const olgas = collect<Owned>(b.ws(olga), OWNED);
      const events = (s: typeof alices) => s.items.map((i) => i.data?.fleetEvents) as Owned['fleetEvents'][];
      await alices.until(() => events(alices).some((e) => e.server.id === own));
      await olgas.until(() => events(olgas).some((e) => e.server.id === other) && events(olgas).some((e) => e.server.id === own));
      // The snapshot: alice's servers only (created by earlier tests of this file too), each once.
      const snapshot = events(alices);
      expect(snapshot.every((e) => e.kind === 'SNAPSHOT' && e.server.owner === 'alice')).toBe(true);
      expect(new Set(snapshot.map((e) => e.server.id)).size).toBe(snapshot.length);
      // The operator's: every server, bob's too.
      expect(
        events(olgas)
          .filter((e) => e.kind === 'SNAPSHOT')
          .map((e) => e.server.owner),
      ).toEqual(expect.arrayContaining(['alice', 'bob']));

      // Bob's changes: the operator hears them, alice does not (her own change after them is the marker).
      const bobsNew = await runningServer(bob, 'scoped-bob-new');
      await a.gql(UPDATE_SERVER, { id: other, name: 'scoped-bob-renamed' }, bob);
      await admitted(bob, other);
      await a.gql(DELETE_SERVER, { id: bobsNew }, bob);
      await olgas.until(() => events(olgas).some((e) => e.server.id === bobsNew && e.kind === 'DELETED'));
      await a.gql(UPDATE_SERVER, { id: own, name: 'scoped-alice-renamed' }, alice);
      await alices.until(() => events(alices).some((e) => e.kind === 'UPDATED' && e.server.id === own));
      expect(events(alices).filter((e) => e.kind !== 'SNAPSHOT')).toEqual([
        { kind: 'UPDATED', server: expect.objectContaining({ id: own, name: 'scoped-alice-renamed' }) },
      ]);
      expect(events(olgas).filter((e) => e.server.id === other && e.kind === 'UPDATED')).toHaveLength(1);

      // Bob's server assigned to alice: it appears in her list as created; unassigned, it goes.
      const assigned = await a.gql<{ assign: { assignment?: { id: string } } }>(
        `mutation($id: ID!) { assign(input: { principal: "alice", principalType: USER, targetType: SERVER, targetId: $id }) {
          ... on AssignSuccess { assignment { id } } ... on Error { code message } } }`,
        { id: other },
        olga,
      );
      const assignment = assigned.body.data?.assign.assignment?.id ?? '';
      expect(assignment, JSON.stringify(assigned.body)).not.toBe('');
      await alices.until(() => events(alices).some((e) => e.server.id === other));
      expect(events(alices).filter((e) => e.server.id === other)).toEqual([
        { kind: 'CREATED', server: expect.objectContaining({ id: other, owner: 'bob', name: 'scoped-bob-renamed' }) },
      ]);
      // Visible now, its changes reach her.
      await a.gql(UPDATE_SERVER, { id: other, name: 'scoped-bob-shared' }, bob);
      await alices.until(() => events(alices).some((e) => e.server.id === other && e.kind === 'UPDATED'));
      await a.gql('mutation($id: ID!) { unassign(id: $id) { __typename } }', { id: assignment }, olga);
      await alices.until(() => events(alices).some((e) => e.server.id === other && e.kind === 'DELETED'));

      // A pool assigned to alice: bob's server moved into it appears for her, moved out it goes.
      const pool = await a.gql<{ createPool: { pool?: { id: string } } }>(
        `mutation { createPool(input: { name: "scoped-pool" }) { __typename ... on CreatePoolSuccess { pool { id } } } }`,
        {},
        olga,
      );
      const poolId = pool.body.data?.createPool.pool?.id ?? '';
      expect(poolId, JSON.stringify(pool.body)).not.toBe('');
      await a.gql(
        `mutation($id: ID!) { assign(input: { principal: "alice", principalType: USER, targetType: POOL, targetId: $id }) { __typename } }`,
        { id: poolId },
        olga,
      );
      const SET_POOL = 'mutation($s: ID!, $p: ID) { setServerPool(serverId: $s, poolId: $p) { __typename } }';
      const seen = () => events(alices).filter((e) => e.server.id === other).length;
      const before = seen();
      await a.gql(SET_POOL, { s: other, p: poolId }, olga);
      await alices.until(() => seen() > before);
      expect(events(alices).at(-1)).toMatchObject({ kind: 'CREATED', server: { id: other } });
      await a.gql(SET_POOL, { s: other, p: null }, olga);
      await alices.until(() => seen() > before + 1);
      expect(events(alices).at(-1)).toMatchObject({ kind: 'DELETED', server: { id: other } });
      expect(alices.ended).toBe(false);
      await alices.dispose();
      await olgas.dispose();
      await a.gql(DELETE_SERVER, { id: other }, bob);
    });

    it("mySessions: the caller's own live sessions first, then their changes; another user's never, an operator's own only", async () => {
      const server = await runningServer(alice, 'mine');
      const before = await admitted(alice, server);
      const bobs = await admitted(bob, await runningServer(bob, 'theirs'));

      const mySessions = collect<{ mySessions: SessionData }>(b.ws(alice), MY_SESSIONS);
      const olgas = collect<{ mySessions: SessionData }>(b.ws(olga), MY_SESSIONS);
      const events = () => mySessions.items.map((i) => i.data?.mySessions) as SessionData[];
      await mySessions.until(() => events().some((e) => e.session.id === before));
      expect(
        events().every((e) => e.kind === 'SNAPSHOT' && e.session.owner === 'alice' && e.session.status !== 'TERMINATED'),
      ).toBe(true);

      const next = await admitted(alice, server);
      await mySessions.until(() => events().some((e) => e.session.id === next));
      await a.gql(TERMINATE, { id: before }, alice);
      await mySessions.until(() => events().some((e) => e.session.id === before && e.kind === 'TERMINATED'));
      // Bob's session changes too; alice and the operator hear nothing of it.
      await a.gql(TERMINATE, { id: bobs }, bob);
      const olgaOwn = await admitted(olga, server);
      await olgas.until(() => olgas.items.some((i) => i.data?.mySessions.session.id === olgaOwn));

      expect(
        events()
          .filter((e) => e.session.id === next)
          .map((e) => e.kind),
      ).toEqual(['CREATED']);
      expect(events().some((e) => e.session.id === bobs || e.session.owner !== 'alice')).toBe(false);
      expect(olgas.items.map((i) => i.data?.mySessions.session.owner)).toEqual(['olga']);
      expect(mySessions.ended).toBe(false);
    });

    it('sessionEvents of one session completes when its server is deleted, and at once for a session already ended; hidden answers as missing', async () => {
      const server = await runningServer(alice, 'doomed');
      const live = await admitted(alice, server);
      const ended = await admitted(alice, server);
      await a.gql(TERMINATE, { id: ended }, alice);

      const liveStream = collect<{ sessionEvents: SessionData }>(b.ws(alice), SESSION_EVENTS, { id: live });
      const endedStream = collect<{ sessionEvents: SessionData }>(b.ws(alice), SESSION_EVENTS, { id: ended });
      await endedStream.until(() => endedStream.ended);
      expect(endedStream.items.map((i) => i.data?.sessionEvents.kind)).toEqual(['SNAPSHOT']);
      expect(endedStream.items[0]?.data?.sessionEvents.session.status).toBe('TERMINATED');
      await liveStream.until(() => liveStream.items.length >= 1);

      const deleted = await a.gql<{ deleteServer: { __typename: string } }>(DELETE_SERVER, { id: server }, alice);
      expect(deleted.body.data?.deleteServer.__typename).toBe('DeleteServerSuccess');
      await liveStream.until(() => liveStream.ended);
      expect(liveStream.failure).toBeUndefined();
      expect(liveStream.items.at(-1)?.data?.sessionEvents).toMatchObject({
        kind: 'TERMINATED',
        session: { id: live, status: 'TERMINATED', terminationReason: 'SERVER_STOPPED' },
      });

      // Bob is told what a missing session tells, on the ended session as on a made-up id.
      const hidden = collect<{ sessionEvents: SessionData }>(b.ws(bob), SESSION_EVENTS, { id: ended });
      const missing = collect<{ sessionEvents: SessionData }>(b.ws(bob), SESSION_EVENTS, {
        id: '00000000-0000-4000-8000-000000000000',
      });
      await hidden.until(() => hidden.ended);
      await missing.until(() => missing.ended);
      expect(hidden.items[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(hidden.items[0]?.errors?.[0]?.message.replace(ended, 'X')).toBe(
        missing.items[0]?.errors?.[0]?.message.replace('00000000-0000-4000-8000-000000000000', 'X'),
      );
    });
  });
}
