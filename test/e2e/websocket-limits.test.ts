import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLOSE } from '../../src/app/ws-server.js';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';

const EVENTS = 'subscription($id: ID!) { serverEvents(serverId: $id) { kind server { name } } }';

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

  it('a socket that never sends connection_init is closed within the init timeout', async () => {
    const ws = new WebSocket(t.wsUrl, 'graphql-transport-ws');
    const closed = await new Promise<{ code: number; ms: number }>((resolve) => {
      const t0 = Date.now();
      ws.on('close', (code) => resolve({ code, ms: Date.now() - t0 }));
    });
    expect(closed.code).toBe(4408);
    expect(closed.ms).toBeLessThan(4500);
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
