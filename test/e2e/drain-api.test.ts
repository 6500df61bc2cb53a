import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const CREATE_SERVER = `mutation($input: CreateServerInput!) { createServer(input: $input) {
  ... on CreateServerSuccess { server { id } } ... on Error { code message } } }`;
const START_SERVER = `mutation($id: ID!) { startServer(id: $id) {
  __typename ... on StartServerSuccess { server { status } } ... on Error { code message } } }`;
const STOP_SERVER = `mutation($id: ID!) { stopServer(id: $id) {
  __typename ... on StopServerSuccess { server { status } } ... on Error { code message } } }`;
const DELETE_SERVER = `mutation($id: ID!, $force: Boolean) { deleteServer(id: $id, force: $force) {
  __typename ... on Error { code message } } }`;
const MAINTENANCE = `mutation($id: ID!, $on: Boolean!) { setServerMaintenance(id: $id, enabled: $on) {
  __typename ... on Error { code message } } }`;
const CREATE_SESSION = `mutation($serverId: ID!) { createSession(input: { serverId: $serverId }) {
  __typename
  ... on CreateSessionSuccess { session { id } }
  ... on ServerDrainingError { serverId deadline }
  ... on Error { code message }
} }`;
const DRAIN = `mutation($id: ID!, $deadline: DateTime!, $stop: Boolean) {
  drainServer(serverId: $id, deadline: $deadline, stopServer: $stop) {
    __typename
    ... on DrainServerSuccess { server { id status draining drainDeadline drain { origin stopServer startedBy completedAt } } }
    ... on Error { code message }
} }`;
const CANCEL = `mutation($id: ID!) { cancelServerDrain(serverId: $id) {
  __typename ... on CancelServerDrainSuccess { server { draining drainDeadline drain { origin } } } ... on Error { code message } } }`;
const SERVER = `query($id: ID!) { server(id: $id) { status draining drainDeadline drain { origin deadline completedAt } } }`;
const HOST_DRAIN = `mutation($drain: Boolean!, $deadline: DateTime) { setHostDrain(hostId: "local", drain: $drain, deadline: $deadline) {
  __typename ... on SetHostDrainSuccess { host { draining drainDeadline drainStopsServers } } ... on Error { code message } } }`;
const SERVER_EVENTS = `subscription($id: ID!) { serverEvents(serverId: $id) {
  kind server { status draining } drain { serverId deadline secondsLeft stopServer } } }`;
const SESSION_EVENTS = `subscription($id: ID!) { sessionEvents(sessionId: $id) {
  kind session { id status terminationReason } drain { serverId deadline secondsLeft } } }`;

type ServerEventData = {
  serverEvents: { kind: string; server: { status: string; draining: boolean }; drain: { secondsLeft: number } | null };
};
type SessionEventData = {
  sessionEvents: {
    kind: string;
    session: { id: string; status: string; terminationReason: string | null };
    drain: { serverId: string; deadline: string; secondsLeft: number } | null;
  };
};

async function metricValue(t: TestApp, line: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const row = text.split('\n').find((l) => l.startsWith(`${line} `));
  return row ? Number(row.split(' ')[1]) : 0;
}

const backends: [string, () => Record<string, string>, boolean][] = [
  ['memory', () => ({}), true],
  [
    'mongo (FerretDB)',
    () => ({ MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'drainapi') }),
    need('drain API on mongo', ['mongo']),
  ],
];

for (const [backend, env, enabled] of backends) {
  describe.skipIf(!enabled)(`drain API on ${backend}`, { timeout: 90_000 }, () => {
    let t: TestApp;
    let alice: string;
    let olga: string;
    let adam: string;
    // The services' clock: tests move it ahead for one round of the drain job they run themselves,
    // and back (the local host's heartbeats keep real time: ahead, it would look OFFLINE).
    let offsetMs = 0;
    const clock = { now: () => new Date(Date.now() + offsetMs) };
    async function tickAt(aheadMs: number) {
      offsetMs = aheadMs;
      try {
        return await t.app.container.drains.tick();
      } finally {
        offsetMs = 0;
      }
    }

    beforeAll(async () => {
      t = await startTestApp(
        { ...env(), XRDP_BINARY: '/nonexistent/xrdp' },
        {
          sessionAccounts: new FakeSessionAccounts(),
          runtime: new FakeServerRuntime(),
          clock,
          sweepIntervalMs: 3_600_000,
          reconcileIntervalMs: 3_600_000,
          drainIntervalMs: 3_600_000,
        },
      );
      alice = await t.token('alice');
      olga = await t.token('olga', ['operator']);
      adam = await t.token('adam', ['admin']);
    });
    afterAll(async () => {
      await t.app.container.mongo?.db.dropDatabase();
      await t.stop();
    });

    async function runningServer(): Promise<string> {
      const c = await t.gql<{ createServer: { server?: { id: string } } }>(
        CREATE_SERVER,
        { input: { name: `srv-${Math.random().toString(36).slice(2, 8)}` } },
        alice,
      );
      const id = c.body.data?.createServer.server?.id;
      if (!id) throw new Error(`createServer failed: ${JSON.stringify(c.body)}`);
      await t.gql(START_SERVER, { id }, alice);
      return id;
    }

    async function admit(serverId: string): Promise<{
      __typename: string;
      session?: { id: string };
      code?: string;
      message?: string;
      serverId?: string;
      deadline?: string;
    }> {
      const r = await t.gql<{ createSession: never }>(CREATE_SESSION, { serverId }, alice);
      return (
        r.body.data?.createSession ??
        (() => {
          throw new Error(JSON.stringify(r.body));
        })()
      );
    }

    const inMinutes = (m: number) => new Date(clock.now().getTime() + m * 60_000).toISOString();

    it('drainServer: refuses new sessions with SERVER_DRAINING, counts down over graphql-ws, ends the rest DRAINED at the deadline; cancel restores', async () => {
      const serverId = await runningServer();
      const sessionId = (await admit(serverId)).session?.id as string;
      const serverWatch = collect<ServerEventData>(t.ws(alice), SERVER_EVENTS, { id: serverId });
      const sessionWatch = collect<SessionEventData>(t.ws(alice), SESSION_EVENTS, { id: sessionId });
      const mine = collect<{ mySessions: { kind: string; session: { id: string }; drain: { secondsLeft: number } | null } }>(
        t.ws(alice),
        'subscription { mySessions { kind session { id } drain { secondsLeft } } }',
      );
      await serverWatch.until(() => serverWatch.items.length >= 1);
      await sessionWatch.until(() => sessionWatch.items.length >= 1);
      await mine.until(() => mine.items.some((i) => i.data?.mySessions.session.id === sessionId));

      const deadline = inMinutes(10);
      const drained = await t.gql(DRAIN, { id: serverId, deadline }, olga);
      expect(drained.body.data).toEqual({
        drainServer: {
          __typename: 'DrainServerSuccess',
          server: {
            id: serverId,
            status: 'RUNNING',
            draining: true,
            drainDeadline: deadline,
            drain: { origin: 'SERVER', stopServer: false, startedBy: 'olga', completedAt: null },
          },
        },
      });
      await serverWatch.until(() => serverWatch.items.some((i) => i.data?.serverEvents.kind === 'DRAIN_STARTED'));
      expect(serverWatch.items.at(-1)?.data?.serverEvents).toMatchObject({
        kind: 'DRAIN_STARTED',
        server: { status: 'RUNNING', draining: true },
        drain: { serverId, deadline, secondsLeft: 600, stopServer: false },
      });
      await sessionWatch.until(() => sessionWatch.items.some((i) => i.data?.sessionEvents.kind === 'DRAIN_NOTICE'));
      expect(sessionWatch.items.at(-1)?.data?.sessionEvents).toEqual({
        kind: 'DRAIN_NOTICE',
        session: { id: sessionId, status: 'ACTIVE', terminationReason: null },
        drain: { serverId, deadline, secondsLeft: 600 },
      });

      await mine.until(() => mine.items.some((i) => i.data?.mySessions.kind === 'DRAIN_NOTICE'));
      expect(mine.items.find((i) => i.data?.mySessions.kind === 'DRAIN_NOTICE')?.data?.mySessions).toEqual({
        kind: 'DRAIN_NOTICE',
        session: { id: sessionId },
        drain: { secondsLeft: 600 },
      });
      mine.dispose();

      const refused = await admit(serverId);
      expect(refused).toMatchObject({ __typename: 'ServerDrainingError', code: 'SERVER_DRAINING', serverId, deadline });
      expect(refused.message).toContain(deadline);

      // A user may not drain; a past deadline is bad input; neither changes anything.
      const forbidden = await t.gql(DRAIN, { id: serverId, deadline: inMinutes(5) }, alice);
      expect(forbidden.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const audited = async (actorId: string) =>
        (
          await t.gql<{ auditEvents: { edges: { node: { result: string } }[] } }>(
            `query($actor: String!) { auditEvents(first: 50, filter: { action: "server.drain", actorId: $actor }) {
              edges { node { result } } } }`,
            { actor: actorId },
            olga,
          )
        ).body.data?.auditEvents.edges.map((e) => e.node.result);
      expect(await audited('olga')).toContain('SUCCESS');
      expect(await audited('alice')).toContain('DENIED');
      const past = await t.gql(DRAIN, { id: serverId, deadline: inMinutes(-1) }, olga);
      expect(past.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect((await t.gql(SERVER, { id: serverId }, olga)).body.data).toMatchObject({ server: { drainDeadline: deadline } });

      // Five minutes before: one notice.
      expect((await tickAt(5 * 60_000)).notices).toBe(1);
      await sessionWatch.until(
        () => sessionWatch.items.filter((i) => i.data?.sessionEvents.kind === 'DRAIN_NOTICE').length === 2,
      );
      expect(sessionWatch.items.at(-1)?.data?.sessionEvents.drain?.secondsLeft).toBeLessThanOrEqual(300);

      const drainedBefore = await metricValue(t, 'rdp_sessions_terminated_total{reason="DRAINED"}');
      expect((await tickAt(10 * 60_000)).drained).toEqual([serverId]);
      await sessionWatch.until(() => sessionWatch.ended);
      expect(sessionWatch.items.at(-1)?.data?.sessionEvents).toMatchObject({
        kind: 'TERMINATED',
        session: { status: 'TERMINATED', terminationReason: 'DRAINED' },
      });
      await serverWatch.until(() => serverWatch.items.some((i) => i.data?.serverEvents.kind === 'DRAINED'));
      expect(await metricValue(t, 'rdp_sessions_terminated_total{reason="DRAINED"}')).toBe(drainedBefore + 1);
      const after = await t.gql<{ server: { drain: { completedAt: string | null } } }>(SERVER, { id: serverId }, olga);
      expect(after.body.data?.server).toMatchObject({ status: 'RUNNING', draining: true, drainDeadline: deadline });
      expect(after.body.data?.server.drain.completedAt).not.toBeNull();

      const cancelled = await t.gql(CANCEL, { id: serverId }, olga);
      expect(cancelled.body.data).toEqual({
        cancelServerDrain: {
          __typename: 'CancelServerDrainSuccess',
          server: { draining: false, drainDeadline: null, drain: null },
        },
      });
      await serverWatch.until(() => serverWatch.items.some((i) => i.data?.serverEvents.kind === 'DRAIN_CANCELLED'));
      expect((await admit(serverId)).__typename).toBe('CreateSessionSuccess');
      const again = await t.gql<{ cancelServerDrain: { code: string } }>(CANCEL, { id: serverId }, olga);
      expect(again.body.data?.cancelServerDrain).toMatchObject({ code: 'CONFLICT', message: 'server is not draining' });
    });

    it('drainServer with stopServer: at the deadline the sessions end DRAINED and the server stops', async () => {
      const serverId = await runningServer();
      const sessionId = (await admit(serverId)).session?.id as string;
      await t.gql(DRAIN, { id: serverId, deadline: inMinutes(1), stop: true }, olga);
      await tickAt(60_000);
      const server = await t.gql(SERVER, { id: serverId }, olga);
      expect(server.body.data).toMatchObject({ server: { status: 'STOPPED', draining: true } });
      const session = await t.gql(`query($id: ID!) { session(id: $id) { status terminationReason } }`, { id: sessionId }, alice);
      expect(session.body.data).toEqual({ session: { status: 'TERMINATED', terminationReason: 'DRAINED' } });
      // A drain never blocks a stop or start.
      const started = await t.gql<{ startServer: { __typename: string } }>(START_SERVER, { id: serverId }, alice);
      expect(started.body.data?.startServer.__typename).toBe('StartServerSuccess');
      expect((await admit(serverId)).code).toBe('SERVER_DRAINING');
      const del = await t.gql<{ deleteServer: { code: string; message: string } }>(DELETE_SERVER, { id: serverId }, alice);
      expect(del.body.data?.deleteServer).toMatchObject({ code: 'CONFLICT' });
      expect(del.body.data?.deleteServer.message).toMatch(/draining .*pass force: true/);
      const forced = await t.gql<{ deleteServer: { __typename: string } }>(DELETE_SERVER, { id: serverId, force: true }, alice);
      expect(forced.body.data?.deleteServer.__typename).toBe('DeleteServerSuccess');
    });

    it("setHostDrain with a deadline drains the host's servers at once; ending it cancels their drains", async () => {
      const serverId = await runningServer();
      const deadline = inMinutes(30);
      const r = await t.gql(HOST_DRAIN, { drain: true, deadline }, adam);
      expect(r.body.data).toEqual({
        setHostDrain: {
          __typename: 'SetHostDrainSuccess',
          host: { draining: true, drainDeadline: deadline, drainStopsServers: false },
        },
      });
      expect((await t.gql(SERVER, { id: serverId }, olga)).body.data).toMatchObject({
        server: { draining: true, drain: { origin: 'HOST', deadline } },
      });
      const cancel = await t.gql<{ cancelServerDrain: { code: string; message: string } }>(CANCEL, { id: serverId }, olga);
      expect(cancel.body.data?.cancelServerDrain.message).toContain('setHostDrain');
      await t.gql(HOST_DRAIN, { drain: false }, adam);
      expect((await t.gql(SERVER, { id: serverId }, olga)).body.data).toMatchObject({ server: { draining: false, drain: null } });
      const bad = await t.gql(HOST_DRAIN, { drain: false, deadline }, adam);
      expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('maintenance: the owner may not stop it, an admin may (it stays in maintenance); delete needs force', async () => {
      const serverId = await runningServer();
      await t.gql(MAINTENANCE, { id: serverId, on: true }, adam);
      const owner = await t.gql<{ stopServer: { code: string; message: string } }>(STOP_SERVER, { id: serverId }, alice);
      expect(owner.body.data?.stopServer).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('only an admin') });
      const admin = await t.gql(STOP_SERVER, { id: serverId }, adam);
      expect(admin.body.data).toEqual({ stopServer: { __typename: 'StopServerSuccess', server: { status: 'MAINTENANCE' } } });
      const del = await t.gql<{ deleteServer: { code: string; message: string } }>(DELETE_SERVER, { id: serverId }, alice);
      expect(del.body.data?.deleteServer).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('in maintenance') });
      const forced = await t.gql<{ deleteServer: { __typename: string } }>(DELETE_SERVER, { id: serverId, force: true }, alice);
      expect(forced.body.data?.deleteServer.__typename).toBe('DeleteServerSuccess');
    });
  });
}
