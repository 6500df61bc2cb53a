/**
 * A subscription that shares its group's stream leaves graphql-ws (src/app/subscription-fanout.ts,
 * ShareRequest.detach): the connection answers the client's complete and a reused id itself, and
 * sends complete when the stream ends. Checked here over a raw graphql-transport-ws socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from '../support/app-harness.js';

const EVENTS = 'subscription($id: ID!) { serverEvents(serverId: $id) { kind server { name } } }';
const DELETE_SERVER = 'mutation($id: ID!) { deleteServer(id: $id, force: true) { __typename } }';

interface Raw {
  ws: WebSocket;
  messages: { id?: string; type: string; payload?: unknown }[];
  closed: Promise<{ code: number; reason: string }>;
  subscribe(id: string, serverId: string): void;
  until(what: string, check: () => boolean, ms?: number): Promise<void>;
}

async function rawClient(url: string, token: string): Promise<Raw> {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  const messages: Raw['messages'] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString())));
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  const until = async (what: string, check: () => boolean, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(messages)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await until('connection_ack', () => messages.some((m) => m.type === 'connection_ack'));
  return {
    ws,
    messages,
    closed,
    until,
    subscribe: (id, serverId) =>
      ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query: EVENTS, variables: { id: serverId } } })),
  };
}

const kinds = (raw: Raw, id: string) =>
  raw.messages
    .filter((m) => m.id === id)
    .map((m) =>
      m.type === 'next' ? (m.payload as { data: { serverEvents: { kind: string } } }).data.serverEvents.kind : m.type,
    );

describe('shared subscriptions taken over from graphql-ws', () => {
  let t: TestApp;
  let token: string;
  const gaugeValue = async (name: 'subscriptionsActive' | 'subscriptionStreamsShared') =>
    (await t.app.container.metrics[name].get()).values[0]?.value ?? 0;
  /** Open operations (the gauge) reach `value` within 2 s. */
  const activeBecomes = async (value: number) => {
    const deadline = Date.now() + 2000;
    while ((await gaugeValue('subscriptionsActive')) !== value && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(await gaugeValue('subscriptionsActive')).toBe(value);
  };

  beforeAll(async () => {
    t = await startTestApp();
    token = await t.token('alice', ['operator']);
  });
  afterAll(() => t.stop());

  const createServer = async (name: string) => {
    const r = await t.gql<{ createServer: { server: { id: string } } }>(
      `mutation { createServer(input: { name: "${name}" }) { ... on CreateServerSuccess { server { id } } } }`,
      {},
      token,
    );
    return r.body.data?.createServer.server.id ?? '';
  };
  const rename = (id: string, name: string) =>
    t.gql(
      'mutation($id: ID!, $name: String!) { updateServer(id: $id, input: { name: $name }) { __typename } }',
      { id, name },
      token,
    );

  it("the client's complete ends only that subscription and frees its place; the id may be used again; deletion completes the rest", async () => {
    const serverId = await createServer('shared-a');
    const raw = await rawClient(t.wsUrl, token);
    const other = await rawClient(t.wsUrl, token);
    const active0 = await gaugeValue('subscriptionsActive');
    raw.subscribe('x', serverId);
    other.subscribe('y', serverId);
    await raw.until('x snapshot', () => kinds(raw, 'x').includes('SNAPSHOT'));
    await other.until('y snapshot', () => kinds(other, 'y').includes('SNAPSHOT'));
    await activeBecomes(active0 + 2);

    await rename(serverId, 'renamed-1');
    await raw.until('x update', () => kinds(raw, 'x').includes('UPDATED'));
    await other.until('y update', () => kinds(other, 'y').includes('UPDATED'));
    expect(await gaugeValue('subscriptionStreamsShared')).toBeGreaterThanOrEqual(1);

    raw.ws.send(JSON.stringify({ id: 'x', type: 'complete' }));
    await activeBecomes(active0 + 1);
    await rename(serverId, 'renamed-2');
    await other.until('y second update', () => kinds(other, 'y').filter((k) => k === 'UPDATED').length === 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(kinds(raw, 'x')).toEqual(['SNAPSHOT', 'UPDATED']);

    // The same id again after its complete: a new subscription, snapshot first.
    raw.subscribe('x', serverId);
    await raw.until('x second snapshot', () => kinds(raw, 'x').filter((k) => k === 'SNAPSHOT').length === 2);
    await activeBecomes(active0 + 2);

    const deleted = await t.gql<{ deleteServer: { __typename: string } }>(DELETE_SERVER, { id: serverId }, token);
    expect(deleted.body.data?.deleteServer.__typename).toBe('DeleteServerSuccess');
    await raw.until('x complete', () => kinds(raw, 'x').at(-1) === 'complete');
    await other.until('y complete', () => kinds(other, 'y').at(-1) === 'complete');
    expect(kinds(other, 'y').slice(-2)).toEqual(['DELETED', 'complete']);
    await activeBecomes(active0);
    raw.ws.close();
    other.ws.close();
  });

  it('subscribing again with the id of an open shared subscription closes the connection with 4409', async () => {
    const serverId = await createServer('shared-b');
    const raw = await rawClient(t.wsUrl, token);
    const active0 = await gaugeValue('subscriptionsActive');
    raw.subscribe('dup', serverId);
    await raw.until('snapshot', () => kinds(raw, 'dup').includes('SNAPSHOT'));
    await rename(serverId, 'renamed');
    await raw.until('update', () => kinds(raw, 'dup').includes('UPDATED'));
    raw.subscribe('dup', serverId);
    expect(await raw.closed).toEqual({ code: 4409, reason: 'Subscriber for dup already exists' });
    await activeBecomes(active0);
  });
});
