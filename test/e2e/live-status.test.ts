import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const LIVE_STATUS = 'subscription { liveStatus { eventBus crossReplica since } }';
const SERVER_EVENTS = 'subscription($id: ID!) { serverEvents(serverId: $id) { kind server { id name } } }';
const CREATE_SERVER = `mutation($name: String!) { createServer(input: { name: $name }) {
  __typename ... on CreateServerSuccess { server { id } } ... on Error { code message } } }`;
const UPDATE_SERVER = `mutation($id: ID!, $name: String!) { updateServer(id: $id, input: { name: $name }) { __typename } }`;

interface StatusData {
  liveStatus: { eventBus: string; crossReplica: boolean; since: string };
}
interface ServerData {
  serverEvents: { kind: string; server: { id: string; name: string } };
}

describe('liveStatus in-process (no REDIS_URL)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ XRDP_BINARY: '/nonexistent/xrdp' }, { runtime: new FakeServerRuntime() });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('says CONNECTED, not across replicas, and is refused without a token', async () => {
    const status = collect<StatusData>(t.ws(await t.token('alice')), LIVE_STATUS);
    await status.until(() => status.items.length >= 1);
    expect(status.items[0]?.data?.liveStatus).toMatchObject({ eventBus: 'CONNECTED', crossReplica: false });
    expect(status.ended).toBe(false);
    const anonymous = collect<StatusData>(t.ws(), LIVE_STATUS);
    await anonymous.until(() => anonymous.items.length >= 1 || anonymous.ended);
    expect(anonymous.items[0]?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

// Two replicas on FerretDB and a Redis of this file alone, killed and started again: B's
// subscribers are told that the bus is away, and when it is back they get what A changed meanwhile.
describe.skipIf(!need('liveStatus across a Redis restart', ['mongo']))(
  'liveStatus across a Redis restart',
  { timeout: 90_000 },
  () => {
    let a: TestApp;
    let b: TestApp;
    let redis: PrivateRedis;

    beforeAll(async () => {
      redis = await startPrivateRedis();
      const env = {
        XRDP_BINARY: '/nonexistent/xrdp',
        MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'live_status'),
        REDIS_URL: redis.url,
      };
      a = await startTestApp(env, { runtime: new FakeServerRuntime() });
      b = await startTestApp(env, { runtime: new FakeServerRuntime() });
    }, 60_000);
    afterAll(async () => {
      await a?.app.container.mongo?.db.dropDatabase();
      await b?.stop();
      await a?.stop();
      await redis?.stop();
    });

    it('RECONNECTING while Redis is away, CONNECTED when it is back, then a SNAPSHOT with what changed meanwhile', async () => {
      const alice = await a.token('alice');
      const created = await a.gql<{ createServer: { server?: { id: string } } }>(CREATE_SERVER, { name: 'before' }, alice);
      const id = created.body.data?.createServer.server?.id;
      if (!id) throw new Error(`createServer failed: ${JSON.stringify(created.body)}`);
      const client = b.ws(alice);
      const status = collect<StatusData>(client, LIVE_STATUS);
      const server = collect<ServerData>(client, SERVER_EVENTS, { id });
      const states = () => status.items.map((i) => i.data?.liveStatus.eventBus);
      await status.until(() => states().length >= 1);
      expect(status.items[0]?.data?.liveStatus).toMatchObject({ eventBus: 'CONNECTED', crossReplica: true });
      await server.until(() => server.items.length >= 1);
      // Live: a change through A reaches B's subscriber over the bus.
      expect((await a.gql(UPDATE_SERVER, { id, name: 'live' }, alice)).body.data).toEqual({
        updateServer: { __typename: 'UpdateServerSuccess' },
      });
      await server.until(() => server.items.some((i) => i.data?.serverEvents.server.name === 'live'));

      await redis.kill();
      await status.until(() => states().at(-1) === 'RECONNECTING', 10_000);
      const down = status.items.at(-1)?.data?.liveStatus;
      expect(down?.crossReplica).toBe(true);
      expect(Date.parse(down?.since ?? '')).toBeGreaterThan(Date.parse(status.items[0]?.data?.liveStatus.since ?? ''));
      // A change through A now is published into the void: B's subscriber cannot hear of it.
      expect((await a.gql(UPDATE_SERVER, { id, name: 'while-down' }, alice)).body.data).toEqual({
        updateServer: { __typename: 'UpdateServerSuccess' },
      });
      const seen = server.items.length;
      await new Promise((r) => setTimeout(r, 500));
      expect(server.items.length).toBe(seen);
      expect(states().at(-1)).toBe('RECONNECTING');

      await redis.start();
      await status.until(() => states().at(-1) === 'CONNECTED', 20_000);
      // The resync: a new SNAPSHOT carries the change made while the bus was away.
      await server.until(
        () =>
          server.items
            .slice(seen)
            .some((i) => i.data?.serverEvents.kind === 'SNAPSHOT' && i.data.serverEvents.server.name === 'while-down'),
        10_000,
      );
      expect(states()).toEqual(['CONNECTED', 'RECONNECTING', 'CONNECTED']);
      expect(status.ended).toBe(false);
      // And live again.
      expect((await a.gql(UPDATE_SERVER, { id, name: 'after' }, alice)).body.data).toEqual({
        updateServer: { __typename: 'UpdateServerSuccess' },
      });
      await server.until(() => server.items.some((i) => i.data?.serverEvents.server.name === 'after'), 10_000);
    });
  },
);
