import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../src/domain/sessions/session-events.js';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const CREATE_SERVER = `mutation($input: CreateServerInput!) { createServer(input: $input) {
  __typename ... on CreateServerSuccess { server { id port host } } ... on Error { code message } } }`;
const START_SERVER = `mutation($id: ID!) { startServer(id: $id) { __typename ... on StartServerSuccess { server { status } } } }`;
const CREATE_SESSION = `mutation($input: CreateSessionInput!) { createSession(input: $input) {
  __typename
  ... on CreateSessionSuccess {
    session { id status owner username credentialMode serverId clientInfo { clientName clientIp resolution colorDepth } }
    connection { host port username password rdpFile expiresAt }
  }
  ... on LimitExceededError { limit max }
  ... on Error { code message }
} }`;
const SESSION_FIELDS = `id serverId owner status terminationReason credentialMode username display
  clientInfo { clientName clientVersion clientIp resolution colorDepth }
  createdAt connectedAt lastActivityAt terminatedAt credentialExpiresAt idleDeadline sessionDeadline`;
const GET_SESSION = `query($id: ID!) { session(id: $id) { ${SESSION_FIELDS} } }`;
const TERMINATE = `mutation($id: ID!, $force: Boolean) { terminateSession(id: $id, force: $force) {
  __typename ... on TerminateSessionSuccess { session { id status terminationReason } }
  ... on NotFoundError { entity id } ... on Error { code message } } }`;
const SESSION_EVENTS_BY_SESSION = `subscription($id: ID!) { sessionEvents(sessionId: $id) { kind session { id status terminationReason } } }`;
const SESSION_EVENTS_BY_SERVER = `subscription($id: ID!) { sessionEvents(serverId: $id) { kind session { id owner status } } }`;

interface Admission {
  __typename: string;
  code?: string;
  message?: string;
  limit?: string;
  max?: number;
  session?: { id: string; status: string; owner: string; username: string; credentialMode: string; serverId: string };
  connection?: { host: string; port: number; username: string; password: string | null; rdpFile: string; expiresAt: string };
}

type SessionEventData = {
  sessionEvents: { kind: string; session: { id: string; status: string; terminationReason?: string | null; owner?: string } };
};

/** A metric row's value; 0 when the labelled row does not exist yet (a counter never incremented). */
async function metricValue(t: TestApp, line: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const row = text.split('\n').find((l) => l.startsWith(`${line} `));
  return row ? Number(row.split(' ')[1]) : 0;
}

const backends: [string, () => Record<string, string>, boolean][] = [
  ['memory', () => ({}), true],
  [
    'mongo (FerretDB)',
    () => ({ MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'sessapi') }),
    need('sessions API on mongo', ['mongo']),
  ],
];

for (const [backend, env, enabled] of backends) {
  // FerretDB slows to seconds per mutation while the race suites load it in parallel.
  describe.skipIf(!enabled)(`sessions API on ${backend}`, { timeout: 90_000 }, () => {
    let t: TestApp;
    let alice: string;
    let bob: string;
    let olga: string;
    const accounts = new FakeSessionAccounts();
    const runtime = new FakeServerRuntime();
    const published: SessionEvent[] = [];

    beforeAll(async () => {
      t = await startTestApp(
        { ...env(), XRDP_BINARY: '/nonexistent/xrdp' },
        // The background sweeper and reconciler would race the assertions; tests call them when they mean to.
        { sessionAccounts: accounts, runtime, sweepIntervalMs: 3_600_000, reconcileIntervalMs: 3_600_000 },
      );
      const events = t.app.container.events;
      const original = events.publish.bind(events);
      events.publish = (topic, id, payload) => {
        if (topic === 'session:changed' && !/^(server|owner):/.test(id)) published.push(payload as SessionEvent);
        original(topic, id, payload);
      };
      alice = await t.token('alice');
      bob = await t.token('bob');
      olga = await t.token('olga', ['operator']);
    });
    afterAll(async () => {
      await t.app.container.mongo?.db.dropDatabase();
      await t.stop();
    });

    async function runningServer(
      token: string,
      configuration: Record<string, unknown> = {},
    ): Promise<{ id: string; port: number; host: string }> {
      const c = await t.gql<{ createServer: { server?: { id: string; port: number; host: string } } }>(
        CREATE_SERVER,
        { input: { name: `srv-${Math.random().toString(36).slice(2, 8)}`, configuration } },
        token,
      );
      const server = c.body.data?.createServer.server;
      if (!server) throw new Error(`createServer failed: ${JSON.stringify(c.body)}`);
      const s = await t.gql<{ startServer: { server?: { status: string } } }>(START_SERVER, { id: server.id }, token);
      expect(s.body.data?.startServer.server?.status).toBe('RUNNING');
      return server;
    }

    async function createSession(token: string, input: Record<string, unknown>): Promise<Admission> {
      const r = await t.gql<{ createSession: Admission }>(CREATE_SESSION, { input }, token);
      const admission = r.body.data?.createSession;
      if (!admission) throw new Error(`createSession failed: ${JSON.stringify(r.body)}`);
      return admission;
    }

    async function admitted(token: string, serverId: string): Promise<string> {
      const a = await createSession(token, { serverId });
      if (!a.session) throw new Error(`not admitted: ${JSON.stringify(a)}`);
      return a.session.id;
    }

    async function storedCount(status: string): Promise<number> {
      const r = await t.gql<{ sessions: { totalCount: number } }>(
        `{ sessions(filter: { status: ${status} }) { totalCount } }`,
        {},
        olga,
      );
      return r.body.data?.sessions.totalCount ?? Number.NaN;
    }

    it('HOST_ACCOUNT: a second live session of one account on one server is a CONFLICT that stores nothing', async () => {
      const server = await runningServer(alice);
      const first = await createSession(alice, { serverId: server.id, credentialMode: 'HOST_ACCOUNT' });
      expect(first.__typename).toBe('CreateSessionSuccess');
      const count = async () =>
        (
          await t.gql<{ sessions: { totalCount: number } }>(
            'query($id: ID!) { sessions(filter: { serverId: $id }) { totalCount } }',
            { id: server.id },
            alice,
          )
        ).body.data?.sessions.totalCount;
      expect(await count()).toBe(1);
      const second = await createSession(alice, { serverId: server.id, credentialMode: 'HOST_ACCOUNT' });
      expect(second).toMatchObject({ code: 'CONFLICT' });
      expect(second.message).toContain('host account "alice"');
      expect(await count()).toBe(1);
      const ended = await t.gql<{ terminateSession: { __typename: string } }>(
        TERMINATE,
        { id: first.session?.id, force: true },
        alice,
      );
      expect(ended.body.data?.terminateSession.__typename).toBe('TerminateSessionSuccess');
      expect((await createSession(alice, { serverId: server.id, credentialMode: 'HOST_ACCOUNT' })).__typename).toBe(
        'CreateSessionSuccess',
      );
    });

    it('createSession returns the session and, once, the connection; the password is never readable again', async () => {
      const server = await runningServer(alice);
      const created0 = await metricValue(t, 'rdp_sessions_created_total');
      const eventsBefore = published.length;
      const a = await createSession(alice, {
        serverId: server.id,
        clientInfo: { clientName: 'laptop', clientIp: '192.0.2.10', resolution: '1280x720', colorDepth: 16 },
      });
      expect(a.__typename).toBe('CreateSessionSuccess');
      expect(a.session).toMatchObject({
        status: 'ACTIVE',
        owner: 'alice',
        credentialMode: 'EPHEMERAL',
        serverId: server.id,
        clientInfo: { clientName: 'laptop', clientIp: '192.0.2.10', resolution: '1280x720', colorDepth: 16 },
      });
      const connection = a.connection;
      const password = connection?.password ?? '';
      expect(connection).toMatchObject({ host: server.host, port: server.port, username: a.session?.username });
      expect(connection?.username).toMatch(/^rdp-[0-9a-f]{8}$/);
      expect(password).toMatch(/^[A-Za-z2-9]{20}$/);
      expect(Date.parse(connection?.expiresAt ?? '') - Date.now()).toBeGreaterThan(3500_000);
      expect(connection?.rdpFile).toContain(`full address:s:${server.host}:${server.port}\r\n`);
      expect(connection?.rdpFile).toContain(`username:s:${connection?.username}\r\n`);
      expect(connection?.rdpFile).not.toContain(password);
      expect(accounts.created.at(-1)).toEqual({ username: connection?.username, password });

      // No field reads it back.
      for (const field of ['password', 'credentialHash', 'connection']) {
        const r = await t.gql(`query($id: ID!) { session(id: $id) { id ${field} } }`, { id: a.session?.id }, alice);
        expect(r.body.errors?.[0]?.message).toMatch(/Cannot query field/);
      }
      const read = await t.gql(GET_SESSION, { id: a.session?.id }, alice);
      expect(read.body.data).toMatchObject({ session: { id: a.session?.id, status: 'ACTIVE', connectedAt: null } });
      const list = await t.gql(
        `query($id: ID!) { sessions(filter: { serverId: $id }) { edges { node { ${SESSION_FIELDS} } } } }`,
        { id: server.id },
        olga,
      );
      expect(JSON.stringify(list.body)).toContain(a.session?.id);
      expect(JSON.stringify(list.body)).not.toContain(password);
      expect(JSON.stringify(read.body)).not.toContain(password);
      expect(JSON.stringify(published)).not.toContain(password);
      expect(published.slice(eventsBefore).map((e) => [e.kind, e.session.credentialHash])).toEqual([['CREATED', null]]);
      const stored = await t.app.container.sessions.get(
        { userId: 'alice', username: 'alice', roles: ['user'], permissions: [] },
        a.session?.id ?? '',
      );
      expect(stored.credentialHash).toMatch(/^sha256\$/);
      expect(JSON.stringify(stored)).not.toContain(password);

      expect(await metricValue(t, 'rdp_sessions_created_total')).toBe(created0 + 1);
      expect(await metricValue(t, 'rdp_sessions_total{status="ACTIVE"}')).toBe(await storedCount('ACTIVE'));
    });

    it("a user can neither see, terminate nor follow another user's session (answers as missing); an operator can", async () => {
      const server = await runningServer(alice);
      const id = await admitted(alice, server.id);
      const missing = '00000000-0000-4000-8000-00000000beef';

      const hidden = await t.gql(GET_SESSION, { id }, bob);
      const absent = await t.gql(GET_SESSION, { id: missing }, bob);
      expect(hidden.body).toEqual({ data: { session: null } });
      expect(absent.body).toEqual({ data: { session: null } });
      const bobsList = await t.gql<{ sessions: { totalCount: number } }>('{ sessions { totalCount } }', {}, bob);
      expect(bobsList.body.data?.sessions.totalCount).toBe(0);

      for (const m of ['terminateSession(id: $id, force: true)', 'disconnectSession(id: $id)', 'connectSession(id: $id)']) {
        const q = `mutation($id: ID!) { r: ${m} { __typename ... on NotFoundError { entity code } } }`;
        const h = await t.gql<{ r: unknown }>(q, { id }, bob);
        const a = await t.gql<{ r: unknown }>(q, { id: missing }, bob);
        expect(h.body.data?.r).toEqual({ __typename: 'NotFoundError', entity: 'session', code: 'NOT_FOUND' });
        expect(a.body.data?.r).toEqual(h.body.data?.r);
      }
      const still = await t.gql<{ session: { status: string } }>(GET_SESSION, { id }, alice);
      expect(still.body.data?.session.status).toBe('ACTIVE');

      const sub = collect(t.ws(bob), SESSION_EVENTS_BY_SESSION, { id });
      await sub.until(() => sub.ended);
      const subMissing = collect(t.ws(bob), SESSION_EVENTS_BY_SESSION, { id: missing });
      await subMissing.until(() => subMissing.ended);
      expect(sub.items).toHaveLength(1);
      expect(sub.items[0]?.data ?? null).toBeNull();
      expect(sub.items[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(subMissing.items[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

      const seen = await t.gql<{ session: { id: string } }>(GET_SESSION, { id }, olga);
      expect(seen.body.data?.session.id).toBe(id);
      const opSub = collect<SessionEventData>(t.ws(olga), SESSION_EVENTS_BY_SESSION, { id });
      await opSub.until(() => opSub.items.length >= 1);
      const ended = await t.gql<{ terminateSession: unknown }>(TERMINATE, { id, force: true }, olga);
      expect(ended.body.data?.terminateSession).toEqual({
        __typename: 'TerminateSessionSuccess',
        session: { id, status: 'TERMINATED', terminationReason: 'ADMIN' },
      });
      await opSub.until(() => opSub.ended);
      expect(opSub.items.map((i) => i.data?.sessionEvents.kind)).toEqual(['SNAPSHOT', 'TERMINATED']);
    });

    it('server { sessions } for several servers is one batched read and right per server', async () => {
      const user = await t.token('batcher');
      const servers = [
        await runningServer(user),
        await runningServer(user),
        await runningServer(user),
        await runningServer(user),
      ];
      const want = new Map<string, string[]>();
      for (const [i, s] of servers.entries()) {
        const ids: string[] = [];
        for (let n = 0; n < i; n++) ids.push(await admitted(user, s.id));
        want.set(s.id, ids);
      }
      // A terminated session is not live, so it is not listed.
      const gone = await admitted(user, servers[3]?.id ?? '');
      await t.gql(TERMINATE, { id: gone }, user);

      const sessions = t.app.container.sessions;
      const original = sessions.byServers.bind(sessions);
      const calls: string[][] = [];
      sessions.byServers = (viewer, ids, statuses) => {
        calls.push([...ids]);
        return original(viewer, ids, statuses);
      };
      try {
        const r = await t.gql<{ servers: { edges: { node: { id: string; sessions: { id: string; status: string }[] } }[] } }>(
          '{ servers(first: 10) { edges { node { id sessions { id status } } } } }',
          {},
          user,
        );
        const got = new Map(r.body.data?.servers.edges.map((e) => [e.node.id, e.node.sessions.map((s) => s.id)]));
        expect(got).toEqual(want);
        expect(calls).toHaveLength(1);
        expect([...(calls[0] ?? [])].sort()).toEqual(servers.map((s) => s.id).sort());
      } finally {
        sessions.byServers = original;
      }

      const back = await t.gql<{ session: { server: { id: string } } }>(
        'query($id: ID!) { session(id: $id) { server { id } } }',
        { id: want.get(servers[1]?.id ?? '')?.[0] },
        user,
      );
      expect(back.body.data?.session.server.id).toBe(servers[1]?.id);
    });

    it('sessionEvents(sessionId): SNAPSHOT, then DISCONNECTED, CONNECTED, TERMINATED, and the stream ends', async () => {
      const server = await runningServer(alice);
      const id = await admitted(alice, server.id);
      const sub = collect<SessionEventData>(t.ws(alice), SESSION_EVENTS_BY_SESSION, { id });
      await sub.until(() => sub.items.length >= 1);
      const mutate = async (m: string) => {
        const r = await t.gql<{ r: { __typename: string } }>(`mutation($id: ID!) { r: ${m} { __typename } }`, { id }, alice);
        return r.body.data?.r.__typename;
      };
      expect(await mutate('disconnectSession(id: $id)')).toBe('DisconnectSessionSuccess');
      expect(await mutate('disconnectSession(id: $id)')).toBe('ConflictError');
      expect(await mutate('connectSession(id: $id)')).toBe('ConnectSessionSuccess');
      expect(await mutate('connectSession(id: $id)')).toBe('ConflictError');
      expect(await mutate('terminateSession(id: $id)')).toBe('TerminateSessionSuccess');
      expect(await mutate('terminateSession(id: $id, force: true)')).toBe('ConflictError');
      await sub.until(() => sub.ended);
      expect(sub.items.map((i) => i.data?.sessionEvents)).toEqual([
        { kind: 'SNAPSHOT', session: { id, status: 'ACTIVE', terminationReason: null } },
        { kind: 'DISCONNECTED', session: { id, status: 'DISCONNECTED', terminationReason: null } },
        { kind: 'CONNECTED', session: { id, status: 'ACTIVE', terminationReason: null } },
        { kind: 'TERMINATED', session: { id, status: 'TERMINATED', terminationReason: 'USER' } },
      ]);
    });

    it("sessionEvents(serverId): a snapshot of the live sessions, then new ones; others' sessions filtered out", async () => {
      const server = await runningServer(alice);
      const first = await admitted(alice, server.id);
      const second = await admitted(alice, server.id);
      await t.gql(TERMINATE, { id: second }, alice);
      const sub = collect<SessionEventData>(t.ws(alice), SESSION_EVENTS_BY_SERVER, { id: server.id });
      await sub.until(() => sub.items.length >= 1);
      // An operator's session on alice's server is not alice's to see.
      const otto = await t.token('otto', ['operator']);
      const others = await admitted(otto, server.id);
      const third = await admitted(alice, server.id);
      await t.gql(TERMINATE, { id: first }, alice);
      await sub.until(() => sub.items.length >= 3);
      expect(sub.items.map((i) => i.data?.sessionEvents)).toEqual([
        { kind: 'SNAPSHOT', session: { id: first, owner: 'alice', status: 'ACTIVE' } },
        { kind: 'CREATED', session: { id: third, owner: 'alice', status: 'ACTIVE' } },
        { kind: 'TERMINATED', session: { id: first, owner: 'alice', status: 'TERMINATED' } },
      ]);
      expect(sub.ended).toBe(false);
      sub.dispose();

      const op = collect<SessionEventData>(t.ws(olga), SESSION_EVENTS_BY_SERVER, { id: server.id });
      await op.until(() => op.items.length >= 2);
      expect(op.items.map((i) => i.data?.sessionEvents.session.id).sort()).toEqual([others, third].sort());
      op.dispose();
    });

    it("sessionEvents(serverId): deleting the server ends its sessions and then the stream; another server's stream goes on", async () => {
      const server = await runningServer(alice);
      const other = await runningServer(alice);
      const a = await admitted(alice, server.id);
      const b = await admitted(alice, server.id);
      const sub = collect<SessionEventData>(t.ws(alice), SESSION_EVENTS_BY_SERVER, { id: server.id });
      const otherSub = collect<SessionEventData>(t.ws(alice), SESSION_EVENTS_BY_SERVER, { id: other.id });
      await sub.until(() => sub.items.length >= 2);
      const del = await t.gql<{ deleteServer: { __typename: string } }>(
        'mutation($id: ID!) { deleteServer(id: $id, force: true) { __typename } }',
        { id: server.id },
        alice,
      );
      expect(del.body.data?.deleteServer.__typename).toBe('DeleteServerSuccess');
      await sub.until(() => sub.ended);
      // Every session's last state arrived before the end, whichever way it came (event or final read).
      const last = new Map(sub.items.map((i) => [i.data?.sessionEvents.session.id, i.data?.sessionEvents.session.status]));
      expect(Object.fromEntries(last)).toEqual({ [a]: 'TERMINATED', [b]: 'TERMINATED' });
      const c = await admitted(alice, other.id);
      await otherSub.until(() => otherSub.items.some((i) => i.data?.sessionEvents.session.id === c));
      expect(otherSub.ended).toBe(false);
      otherSub.dispose();
    });

    it('metrics: rdp_sessions_total{status} equals the stored counts; created and terminated{reason="USER"} move by exactly 1', async () => {
      const server = await runningServer(alice);
      const created0 = await metricValue(t, 'rdp_sessions_created_total');
      const user0 = await metricValue(t, 'rdp_sessions_terminated_total{reason="USER"}');
      const admin0 = await metricValue(t, 'rdp_sessions_terminated_total{reason="ADMIN"}');
      const id = await admitted(alice, server.id);
      expect(await metricValue(t, 'rdp_sessions_created_total')).toBe(created0 + 1);
      expect(await metricValue(t, 'rdp_sessions_total{status="ACTIVE"}')).toBe(await storedCount('ACTIVE'));
      const r = await t.gql<{ terminateSession: { __typename: string } }>(TERMINATE, { id }, alice);
      expect(r.body.data?.terminateSession.__typename).toBe('TerminateSessionSuccess');
      await t.gql(TERMINATE, { id, force: true }, alice);
      expect(await metricValue(t, 'rdp_sessions_terminated_total{reason="USER"}')).toBe(user0 + 1);
      expect(await metricValue(t, 'rdp_sessions_terminated_total{reason="ADMIN"}')).toBe(admin0);
      expect(await metricValue(t, 'rdp_sessions_created_total')).toBe(created0 + 1);
      for (const status of ['ACTIVE', 'DISCONNECTED', 'TERMINATED']) {
        expect(await metricValue(t, `rdp_sessions_total{status="${status}"}`)).toBe(await storedCount(status));
      }
    });

    it('refusals are typed: STOPPED server ConflictError, a cap LimitExceededError naming it', async () => {
      const created = await t.gql<{ createServer: { server: { id: string } } }>(CREATE_SERVER, { input: { name: 'off' } }, alice);
      const stopped = await createSession(alice, { serverId: created.body.data?.createServer.server.id });
      expect(stopped).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT' });

      const small = await runningServer(alice, { maxSessions: 1 });
      await admitted(alice, small.id);
      const full = await createSession(alice, { serverId: small.id });
      expect(full).toMatchObject({
        __typename: 'LimitExceededError',
        code: 'LIMIT_EXCEEDED',
        limit: 'server.maxSessions',
        max: 1,
      });
      const missing = await createSession(alice, { serverId: '00000000-0000-4000-8000-000000000000' });
      expect(missing).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    });

    it('stopServer(force) terminates the live sessions with SERVER_STOPPED', async () => {
      const server = await runningServer(alice);
      const ids = [await admitted(alice, server.id), await admitted(alice, server.id)];
      const refused = await t.gql<{ stopServer: { __typename: string } }>(
        'mutation($id: ID!) { stopServer(id: $id) { __typename } }',
        { id: server.id },
        alice,
      );
      expect(refused.body.data?.stopServer.__typename).toBe('ConflictError');
      const stopped0 = await metricValue(t, 'rdp_sessions_terminated_total{reason="SERVER_STOPPED"}');
      const r = await t.gql<{ stopServer: { __typename: string } }>(
        'mutation($id: ID!) { stopServer(id: $id, force: true) { __typename } }',
        { id: server.id },
        alice,
      );
      expect(r.body.data?.stopServer.__typename).toBe('StopServerSuccess');
      for (const id of ids) {
        const s = await t.gql<{ session: { status: string; terminationReason: string } }>(GET_SESSION, { id }, alice);
        expect(s.body.data?.session).toMatchObject({ status: 'TERMINATED', terminationReason: 'SERVER_STOPPED' });
      }
      expect(await metricValue(t, 'rdp_sessions_terminated_total{reason="SERVER_STOPPED"}')).toBe(stopped0 + 2);
    });

    const badInputs: [string, Record<string, unknown>, string][] = [
      ['clientIp 300.1.1.1', { clientIp: '300.1.1.1' }, 'clientInfo.clientIp'],
      ['a 256-character clientName', { clientName: 'n'.repeat(256) }, 'clientInfo.clientName'],
      ['colorDepth 8', { colorDepth: 8 }, 'clientInfo.colorDepth'],
      ['resolution abc', { resolution: 'abc' }, 'clientInfo.resolution'],
    ];
    let badServer: string | undefined;
    for (const [what, clientInfo, field] of badInputs) {
      it(`createSession with ${what} is BAD_USER_INPUT naming ${field}; nothing stored, no event, no account`, async () => {
        badServer ??= (await runningServer(alice)).id;
        const total = async () =>
          (await t.gql<{ sessions: { totalCount: number } }>('{ sessions { totalCount } }', {}, olga)).body.data?.sessions
            .totalCount;
        const before = await total();
        const eventsBefore = published.length;
        const accountsBefore = accounts.created.length;
        const r = await t.gql(CREATE_SESSION, { input: { serverId: badServer, clientInfo } }, alice);
        expect(r.body.data ?? null).toBeNull();
        expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
        expect(r.body.errors?.[0]?.message).toContain(field);
        expect(await total()).toBe(before);
        expect(published.length).toBe(eventsBefore);
        expect(accounts.created.length).toBe(accountsBefore);
      });
    }
  });
}
