import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLOSE } from '../../src/app/ws-server.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';

const EVENTS = 'subscription($id: ID!) { serverEvents(serverId: $id) { kind server { name } } }';
const ADMIN: Viewer = { userId: 'limits-admin', username: 'limitsadmin', roles: ['admin'], permissions: [] };

/** A raw graphql-transport-ws client subscribed to `serverEvents`; resolves once the snapshot is in. */
async function rawSubscriber(url: string, token: string, serverId: string) {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  const received: string[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  await new Promise((r) => ws.once('open', r));
  ws.on('message', (data: Buffer) => {
    const text = data.toString();
    received.push(text);
    if (text.includes('"connection_ack"')) {
      ws.send(JSON.stringify({ id: 'slow', type: 'subscribe', payload: { query: EVENTS, variables: { id: serverId } } }));
    }
  });
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  const deadline = Date.now() + 5000;
  while (!received.some((m) => m.includes('SNAPSHOT'))) {
    if (Date.now() > deadline) throw new Error(`no snapshot: ${received.join(' ')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { ws, received, closed };
}

describe('WebSocket connections: token expiry, caps, init timeout', () => {
  let t: TestApp;
  let serverId: string;

  beforeAll(async () => {
    t = await startTestApp({ WS_MAX_SUBSCRIPTIONS_PER_USER: '3' });
    const r = await t.gql<{ createServer: { server: { id: string } } }>(
      'mutation { createServer(input: { name: "watched" }) { ... on CreateServerSuccess { server { id } } } }',
      {},
      await t.token('alice'),
    );
    serverId = r.body.data?.createServer.server.id ?? '';
  });
  afterAll(() => t.stop());

  it('a subscription ends with TOKEN_EXPIRED within 1 s of exp and gets no data after; a later token resumes', async () => {
    const short = await t.token('alice', ['user'], 3);
    const exp = JSON.parse(Buffer.from(short.split('.')[1] ?? '', 'base64url').toString()).exp * 1000;
    const sub = collect<{ serverEvents: { kind: string } }>(t.ws(short), EVENTS, { id: serverId });
    await sub.until(() => sub.items.length >= 1);
    await sub.until(() => sub.ended, 6000);
    const closedAt = Date.now();
    expect(closedAt - exp).toBeLessThan(1000);
    expect(sub.failure).toMatchObject({ code: CLOSE.tokenExpired.code, reason: CLOSE.tokenExpired.reason });
    const seen = sub.items.length;
    await t.gql(
      `mutation($id: ID!) { updateServer(id: $id, input: { name: "after exp" }) { __typename } }`,
      { id: serverId },
      await t.token('alice'),
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(sub.items.length).toBe(seen);

    const fresh = collect<{ serverEvents: { kind: string; server: { name: string } } }>(t.ws(await t.token('alice')), EVENTS, {
      id: serverId,
    });
    await fresh.until(() => fresh.items.length >= 1);
    expect(fresh.items[0]?.data?.serverEvents).toEqual({ kind: 'SNAPSHOT', server: { name: 'after exp' } });
    fresh.dispose();
  });

  it('a user may hold at most WS_MAX_SUBSCRIPTIONS_PER_USER open subscriptions across connections; closing one frees a place', async () => {
    const token = await t.token('bob', ['operator']);
    const subs = [0, 1, 2].map(() => collect(t.ws(token), EVENTS, { id: serverId }));
    for (const s of subs) await s.until(() => s.items.length >= 1);
    await new Promise((r) => setTimeout(r, 200));
    const fourth = collect(t.ws(token), EVENTS, { id: serverId });
    await fourth.until(() => fourth.ended);
    expect(JSON.stringify(fourth.failure)).toContain('SUBSCRIPTION_LIMIT');
    subs[0]?.dispose();
    await new Promise((r) => setTimeout(r, 200));
    const fifth = collect(t.ws(token), EVENTS, { id: serverId });
    await fifth.until(() => fifth.items.length >= 1);
    expect(fifth.failure).toBeUndefined();
    fifth.dispose();
    for (const s of subs) s.dispose();
  });

  it('a subscriber that stops reading is closed with SLOW_CONSUMER_RESYNC once the server buffers more than the cap', async () => {
    const slowApp = await startTestApp({}, { webSocketLimits: { maxBufferedBytes: 64 * 1024 } });
    try {
      const token = await slowApp.token('alice');
      const created = await slowApp.gql<{ createServer: { server: { id: string } } }>(
        'mutation { createServer(input: { name: "slow" }) { ... on CreateServerSuccess { server { id } } } }',
        {},
        token,
      );
      const id = created.body.data?.createServer.server.id ?? '';
      const gauge = slowApp.app.container.metrics.subscriptionsActive;
      const active = async () => (await gauge.get()).values[0]?.value ?? 0;
      const slow = await rawSubscriber(slowApp.wsUrl, token, id);
      // A reader that keeps up, on the same stream: it must be unaffected.
      const fast = collect<{ serverEvents: { kind: string } }>(slowApp.ws(token), EVENTS, { id });
      await fast.until(() => fast.items.length >= 1);
      expect(await active()).toBe(2);

      // Stop reading: the kernel buffers fill, then ws queues in the server's memory.
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const before = slow.received.length;
      const server = await slowApp.app.container.servers.get(ADMIN, id);
      const published = 400;
      const big = 'x'.repeat(64 * 1024);
      for (let i = 1; i <= published; i++) {
        slowApp.app.container.events.publish('server:changed', id, {
          kind: 'UPDATED',
          server: { ...server, name: `${big}${i}`, version: server.version + i },
          at: new Date().toISOString(),
        });
        // Let the server write (and the kernel buffers fill) between events, as with real updates.
        await new Promise((r) => setImmediate(r));
      }
      await fast.until(() => fast.items.length >= 1 + published, 20_000);

      (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      const { code, reason } = await slow.closed;
      expect({ code, reason }).toEqual({ code: CLOSE.slowConsumer.code, reason: CLOSE.slowConsumer.reason });
      // Bounded: it was cut off well before everything published reached it.
      const got = slow.received.length - before;
      expect(got).toBeGreaterThan(0);
      expect(got).toBeLessThan(published);
      await fast.until(() => fast.items.length >= 1 + published);
      expect(fast.ended).toBe(false);
      const deadline = Date.now() + 2000;
      while ((await active()) !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await active()).toBe(1);
      fast.dispose();
    } finally {
      await slowApp.stop();
    }
  });

  it('a socket that never sends connection_init is closed within the init timeout', async () => {
    const ws = new WebSocket(t.wsUrl, 'graphql-transport-ws');
    const closed = await new Promise<{ code: number; ms: number }>((resolve) => {
      const t0 = Date.now();
      ws.on('close', (code) => resolve({ code, ms: Date.now() - t0 }));
    });
    expect(closed.code).toBe(4408);
    expect(closed.ms).toBeLessThan(4500);
  });

  it('keep-alive: every socket is pinged each period; one that answers stays, one that does not is terminated', async () => {
    const pingApp = await startTestApp({}, { webSocketLimits: { keepAliveMs: 300 } });
    try {
      const open = (autoPong: boolean) => {
        const ws = new WebSocket(pingApp.wsUrl, 'graphql-transport-ws', { autoPong });
        const pings: number[] = [];
        ws.on('ping', () => pings.push(Date.now()));
        const closed = new Promise<{ code: number; at: number }>((resolve) => {
          ws.on('close', (code) => resolve({ code, at: Date.now() }));
        });
        ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: {} })));
        return { ws, pings, closed };
      };
      const healthy = open(true);
      const silent = open(false);
      const t0 = Date.now();
      // Pinged at the first round, terminated at the next (no close frame: 1006).
      const gone = await silent.closed;
      expect(gone.code).toBe(1006);
      expect(silent.pings.length).toBeGreaterThanOrEqual(1);
      expect(gone.at - t0).toBeGreaterThanOrEqual(300);
      await new Promise((r) => setTimeout(r, 1000));
      expect(healthy.ws.readyState).toBe(WebSocket.OPEN);
      expect(healthy.pings.length).toBeGreaterThanOrEqual(3);
      healthy.ws.close();
    } finally {
      await pingApp.stop();
    }
  });

  it('a message over 1 MiB closes the socket', async () => {
    const ws = new WebSocket(t.wsUrl, 'graphql-transport-ws');
    await new Promise((r) => ws.once('open', r));
    const code = await new Promise<number>((resolve) => {
      ws.on('close', (c) => resolve(c));
      ws.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(1024 * 1024 + 10) } }));
    });
    expect(code).toBe(1009);
  });
});
