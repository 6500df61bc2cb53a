import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const HOSTS = `{ hosts { id name status draining rdpAddress agentVersion lastHeartbeatAt
  portRange { from to } capacity { maxServers cpuCount memoryMb } labels { key value } serverCount freeCapacity } }`;
const HOST = `query($id: ID!) { host(id: $id) { id status draining serverCount freeCapacity
  servers(first: 10) { totalCount edges { node { id hostId port } } } } }`;
const CREATE = `mutation($input: CreateServerInput!) { createServer(input: $input) {
  __typename
  ... on CreateServerSuccess { server { id hostId host port placement { id status } } }
  ... on PlacementError { code message hosts { hostId reason detail } }
  ... on Error { code message }
} }`;
const DRAIN = `mutation($id: ID!, $drain: Boolean!) { setHostDrain(hostId: $id, drain: $drain) {
  __typename ... on SetHostDrainSuccess { host { id status draining } } ... on Error { code message } } }`;
const START = `mutation($id: ID!) { startServer(id: $id) { __typename ... on Error { code message } } }`;
const CREATE_SESSION = `mutation($serverId: ID!) { createSession(input: { serverId: $serverId }) {
  __typename ... on CreateSessionSuccess { session { id } } ... on Error { code message } } }`;
const HOST_EVENTS = `subscription($id: ID) { hostEvents(hostId: $id) { kind at host { id status draining lastHeartbeatAt } } }`;

interface Created {
  __typename: string;
  code?: string;
  message?: string;
  server?: { id: string; hostId: string; host: string; port: number; placement: { id: string; status: string } | null };
  hosts?: { hostId: string; reason: string; detail: string }[];
}

const edgeHello = (id: string, ports: [number, number]) => ({
  id,
  name: `machine ${id}`,
  labels: { zone: 'eu-1a', 'rack/row': '7' },
  agentVersion: '9.9.9',
  rdpAddress: `${id}.rdp.test`,
  portRange: { from: ports[0], to: ports[1] },
  capacity: { maxServers: 4, cpuCount: 8, memoryMb: 16384 },
});

const backends: [string, () => Record<string, string>, boolean][] = [
  ['memory', () => ({}), true],
  [
    'mongo (FerretDB)',
    () => ({ MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'hostsapi') }),
    need('hosts API on mongo', ['mongo']),
  ],
];

for (const [backend, env, enabled] of backends) {
  describe.skipIf(!enabled)(`hosts API on ${backend}`, { timeout: 60_000 }, () => {
    let t: TestApp;
    let admin: string;
    let olga: string;
    let alice: string;
    let keepAlive: NodeJS.Timeout;
    /** The stand-in agent's heartbeat in flight, awaited before the store closes under it. */
    let beat: Promise<void> | null = null;
    const beatFailures: unknown[] = [];

    beforeAll(async () => {
      t = await startTestApp(
        { ...env(), XRDP_BINARY: '/nonexistent/xrdp', HOST_HEARTBEAT_INTERVAL: '1' },
        { runtime: new FakeServerRuntime(), sessionAccounts: new FakeSessionAccounts(), sweepIntervalMs: 3_600_000 },
      );
      admin = await t.token('ada', ['admin']);
      olga = await t.token('olga', ['operator']);
      alice = await t.token('alice');
      // An agent of our own for host edge-1: registered, then heartbeating like a real one.
      const hosts = t.app.container.hosts;
      await hosts.register(edgeHello('edge-1', [33890, 33894]));
      keepAlive = setInterval(() => {
        beat ??= hosts
          .heartbeat('edge-1', { at: new Date().toISOString(), usage: null })
          .then(
            () => undefined,
            (err: unknown) => void beatFailures.push(err),
          )
          .finally(() => {
            beat = null;
          });
      }, 300);
    });
    afterAll(async () => {
      clearInterval(keepAlive);
      // A heartbeat still running when MongoDB closed failed with MongoClientClosedError.
      await beat;
      await t.app.container.mongo?.db.dropDatabase();
      await t.stop();
      expect(beatFailures).toEqual([]);
    });

    it('hosts: operators see the local host (registered by the process itself) and edge-1; users get FORBIDDEN', async () => {
      const r = await t.gql<{ hosts: Record<string, unknown>[] }>(HOSTS, {}, olga);
      expect(r.body.errors).toBeUndefined();
      const [edge, local] = r.body.data?.hosts ?? [];
      expect(local).toMatchObject({
        id: 'local',
        status: 'ONLINE',
        draining: false,
        rdpAddress: 'localhost',
        portRange: { from: 33890, to: 33999 },
        capacity: { maxServers: 110 },
        labels: [],
      });
      expect(edge).toMatchObject({
        id: 'edge-1',
        name: 'machine edge-1',
        status: 'ONLINE',
        agentVersion: '9.9.9',
        portRange: { from: 33890, to: 33894 },
        capacity: { maxServers: 4, cpuCount: 8, memoryMb: 16384 },
        labels: [
          { key: 'rack/row', value: '7' },
          { key: 'zone', value: 'eu-1a' },
        ],
      });
      const denied = await t.gql(HOSTS, {}, alice);
      expect(denied.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(denied.body.data ?? null).toBeNull();
      const one = await t.gql<{ host: unknown }>(HOST, { id: 'no-such-host' }, olga);
      expect(one.body.data?.host).toBeNull();
      expect((await t.gql(HOST, { id: 'local' }, alice)).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });

    it('the local host heartbeats by itself: a subscriber sees HEARTBEAT events with a newer lastHeartbeatAt', async () => {
      const sub = collect<{ hostEvents: { kind: string; host: { id: string; status: string; lastHeartbeatAt: string } } }>(
        t.ws(olga),
        HOST_EVENTS,
        { id: 'local' },
      );
      await sub.until(() => sub.items.some((i) => i.data?.hostEvents.kind === 'HEARTBEAT'), 5000);
      const [snapshot] = sub.items;
      const beat = sub.items.find((i) => i.data?.hostEvents.kind === 'HEARTBEAT');
      expect(snapshot?.data?.hostEvents).toMatchObject({ kind: 'SNAPSHOT', host: { id: 'local', status: 'ONLINE' } });
      expect(beat?.data?.hostEvents.host.status).toBe('ONLINE');
      expect(Date.parse(beat?.data?.hostEvents.host.lastHeartbeatAt ?? '')).toBeGreaterThan(
        Date.parse(snapshot?.data?.hostEvents.host.lastHeartbeatAt ?? ''),
      );
      sub.dispose();
    });

    it('createServer with a hostId places it there with that host’s address; ports are per host; placement is for operators', async () => {
      const onEdge = await t.gql<{ createServer: Created }>(CREATE, { input: { name: 'edge', hostId: 'edge-1' } }, alice);
      expect(onEdge.body.data?.createServer).toMatchObject({
        __typename: 'CreateServerSuccess',
        server: { hostId: 'edge-1', host: 'edge-1.rdp.test', port: 33890, placement: null },
      });
      const onLocal = await t.gql<{ createServer: Created }>(CREATE, { input: { name: 'local', hostId: 'local' } }, admin);
      expect(onLocal.body.data?.createServer.server).toMatchObject({
        hostId: 'local',
        host: 'localhost',
        port: 33890,
        placement: { id: 'local', status: 'ONLINE' },
      });
      const edge = await t.gql<{ host: { serverCount: number; freeCapacity: number; servers: { totalCount: number } } }>(
        HOST,
        { id: 'edge-1' },
        olga,
      );
      expect(edge.body.data?.host).toMatchObject({
        serverCount: 1,
        freeCapacity: 3,
        servers: { totalCount: 1, edges: [{ node: { id: onEdge.body.data?.createServer.server?.id, hostId: 'edge-1' } }] },
      });
      const bad = await t.gql<{ createServer: Created }>(CREATE, { input: { name: 'x', hostId: 'nowhere' } }, alice);
      expect(bad.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'hostId' });
    });

    it('without a hostId the host with the most free capacity takes it; with every host drained the refusal names each', async () => {
      const auto = await t.gql<{ createServer: Created }>(CREATE, { input: { name: 'auto' } }, admin);
      // local: 110 ports, at most 1 server; edge-1: maxServers 4 -> local has more room.
      expect(auto.body.data?.createServer.server?.hostId).toBe('local');
      expect((await t.gql<{ setHostDrain: { host: unknown } }>(DRAIN, { id: 'local', drain: true }, admin)).body.data).toEqual({
        setHostDrain: { __typename: 'SetHostDrainSuccess', host: { id: 'local', status: 'DRAINING', draining: true } },
      });
      const elsewhere = await t.gql<{ createServer: Created }>(CREATE, { input: { name: 'elsewhere' } }, admin);
      expect(elsewhere.body.data?.createServer.server?.hostId).toBe('edge-1');
      await t.gql(DRAIN, { id: 'edge-1', drain: true }, admin);
      const refused = await t.gql<{ createServer: Created }>(CREATE, { input: { name: 'nowhere' } }, admin);
      expect(refused.body.data?.createServer).toMatchObject({
        __typename: 'PlacementError',
        code: 'PLACEMENT_REFUSED',
        hosts: [
          { hostId: 'edge-1', reason: 'DRAINING' },
          { hostId: 'local', reason: 'DRAINING' },
        ],
      });
      await t.gql(DRAIN, { id: 'edge-1', drain: false }, admin);
      await t.gql(DRAIN, { id: 'local', drain: false }, admin);
    });

    it('setHostDrain is for admins (FORBIDDEN otherwise, audited), and a draining host admits no new session', async () => {
      for (const token of [alice, olga]) {
        const r = await t.gql(DRAIN, { id: 'edge-1', drain: true }, token);
        expect(r.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      }
      expect((await t.gql(DRAIN, { id: 'ghost', drain: true }, admin)).body.data).toMatchObject({
        setHostDrain: { __typename: 'NotFoundError' },
      });
      const c = await t.gql<{ createServer: Created }>(CREATE, { input: { name: 'desk', hostId: 'edge-1' } }, alice);
      const id = c.body.data?.createServer.server?.id;
      expect((await t.gql<{ startServer: { __typename: string } }>(START, { id }, alice)).body.data?.startServer.__typename).toBe(
        'StartServerSuccess',
      );
      const before = await t.gql<{ createSession: { __typename: string } }>(CREATE_SESSION, { serverId: id }, alice);
      expect(before.body.data?.createSession.__typename).toBe('CreateSessionSuccess');
      await t.gql(DRAIN, { id: 'edge-1', drain: true }, admin);
      const during = await t.gql<{ createSession: { __typename: string; message: string } }>(
        CREATE_SESSION,
        { serverId: id },
        alice,
      );
      expect(during.body.data?.createSession.__typename).toBe('ConflictError');
      expect(during.body.data?.createSession.message).toMatch(/host edge-1 is draining/);
      await t.gql(DRAIN, { id: 'edge-1', drain: false }, admin);
      const after = await t.gql<{ createSession: { __typename: string } }>(CREATE_SESSION, { serverId: id }, alice);
      expect(after.body.data?.createSession.__typename).toBe('CreateSessionSuccess');
      const audit = await t.gql<{
        auditEvents: { edges: { node: { action: string; result: string; actor: { userId: string } } }[] };
      }>(
        '{ auditEvents(filter: { action: "host.drain" }, first: 50) { edges { node { action result actor { userId } } } } }',
        {},
        admin,
      );
      const rows = audit.body.data?.auditEvents.edges.map((e) => `${e.node.actor.userId} ${e.node.result}`) ?? [];
      expect(rows).toEqual(expect.arrayContaining(['ada SUCCESS', 'alice DENIED', 'olga DENIED']));
    });

    it('hostEvents: a snapshot of every host, then a drain change; a silent host goes OFFLINE after 3 intervals, its servers kept', async () => {
      const sub = collect<{ hostEvents: { kind: string; host: { id: string; status: string; draining: boolean } } }>(
        t.ws(olga),
        HOST_EVENTS,
        {},
      );
      await sub.until(() => sub.items.length >= 2);
      expect(sub.items.slice(0, 2).map((i) => `${i.data?.hostEvents.kind} ${i.data?.hostEvents.host.id}`)).toEqual([
        'SNAPSHOT edge-1',
        'SNAPSHOT local',
      ]);
      const changes = () =>
        sub.items.map((i) => i.data?.hostEvents).filter((e) => e && e.kind !== 'HEARTBEAT' && e.kind !== 'SNAPSHOT');
      await t.gql(DRAIN, { id: 'edge-1', drain: true }, admin);
      await sub.until(() => changes().some((e) => e?.host.id === 'edge-1'));
      expect(changes()[0]).toMatchObject({ kind: 'STATUS_CHANGED', host: { id: 'edge-1', status: 'DRAINING', draining: true } });
      await t.gql(DRAIN, { id: 'edge-1', drain: false }, admin);

      // An agent that registers and falls silent.
      await t.app.container.hosts.register(edgeHello('edge-gone', [40000, 40009]));
      const c = await t.gql<{ createServer: Created }>(CREATE, { input: { name: 'left', hostId: 'edge-gone' } }, admin);
      const serverId = c.body.data?.createServer.server?.id;
      await sub.until(() => changes().some((e) => e?.host.id === 'edge-gone' && e.host.status === 'OFFLINE'), 20_000);
      expect(
        changes()
          .filter((e) => e?.host.id === 'edge-gone')
          .map((e) => `${e?.kind} ${e?.host.status}`),
      ).toEqual(['REGISTERED ONLINE', 'STATUS_CHANGED OFFLINE']);
      const server = await t.gql<{ server: { id: string; hostId: string; placement: { status: string } } }>(
        'query($id: ID!) { server(id: $id) { id hostId placement { status } } }',
        { id: serverId },
        admin,
      );
      expect(server.body.data?.server).toEqual({ id: serverId, hostId: 'edge-gone', placement: { status: 'OFFLINE' } });
      const refused = await t.gql<{ createServer: Created }>(CREATE, { input: { name: 'x', hostId: 'edge-gone' } }, admin);
      expect(refused.body.data?.createServer.hosts).toEqual([
        { hostId: 'edge-gone', reason: 'OFFLINE', detail: expect.stringMatching(/^is offline \(last heartbeat /) },
      ]);
      sub.dispose();

      const denied = collect(t.ws(alice), HOST_EVENTS, {});
      await denied.until(() => denied.ended);
      expect(JSON.stringify(denied.items) + String(denied.failure)).toMatch(/FORBIDDEN/);
    });
  });
}
