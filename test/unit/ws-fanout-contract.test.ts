/**
 * What src/app/subscription-fanout.ts relies on in ws and graphql-ws (its contract, at the top of
 * that file). Each test names the assumption it checks: when an upgrade of either library breaks
 * one, the fan-out's whole-frame writes would corrupt or reorder messages, so this fails first.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema } from 'graphql';
import { GRAPHQL_TRANSPORT_WS_PROTOCOL, MessageType, makeServer, stringifyMessage } from 'graphql-ws';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, type WebSocketServer } from 'ws';
import { MessageHandOff } from '../../src/app/graphql-ws-transport.js';
import { createFanoutServer, nextMessagePrefix, sendSplicedText } from '../../src/app/subscription-fanout.js';

let http: Server | undefined;
let wss: WebSocketServer | undefined;
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  wss?.close();
  await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
  http = undefined;
  wss = undefined;
});

/** A fan-out server and one connected client; resolves with both ends. */
async function connect(headers: Record<string, string> = {}): Promise<{ server: WebSocket; client: WebSocket; port: number }> {
  http = createServer((_req, res) => res.writeHead(404).end());
  wss = createFanoutServer(http, { path: '/graphql', maxPayload: 1024 * 1024 });
  const accepted = new Promise<WebSocket>((resolve) => wss?.once('connection', (ws: WebSocket) => resolve(ws)));
  await new Promise<void>((resolve) => http?.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const client = new WebSocket(`ws://127.0.0.1:${port}/graphql`, { headers, perMessageDeflate: true });
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve());
    client.once('error', reject);
  });
  return { server: await accepted, client, port };
}

function collect(client: WebSocket, n: number): Promise<string[]> {
  const got: string[] = [];
  return new Promise((resolve) => {
    client.on('message', (data: Buffer, isBinary: boolean) => {
      expect(isBinary).toBe(false);
      got.push(data.toString());
      if (got.length === n) resolve(got);
    });
  });
}

describe('the fan-out contract with ws and graphql-ws', () => {
  it('a member frame is byte for byte the next message graphql-ws would send', () => {
    const payload = { data: { serverEvents: { kind: 'UPDATED', at: '2026-01-01T00:00:00.000Z', server: { id: 'x"y' } } } };
    for (const id of ['1', 'a"b\\c', 'ünïcode-id']) {
      const ours = Buffer.concat([nextMessagePrefix(id), Buffer.from(JSON.stringify(payload)), Buffer.from('}')]).toString();
      expect(ours).toBe(stringifyMessage({ id, type: MessageType.Next, payload }));
    }
  });

  it('permessage-deflate stays off even when the client offers it (frames are written uncompressed)', async () => {
    const { server, client } = await connect();
    expect(client.extensions).toBe('');
    expect(server.extensions).toBe('');
  });

  it("whole frames written to the upgrade's socket interleave with ws's own sends, pings and close in order", async () => {
    const { server, client } = await connect();
    const n = 300;
    const received = collect(client, n);
    const pings = new Promise<Buffer>((resolve) => client.once('ping', (data: Buffer) => resolve(data)));
    const expected: string[] = [];
    for (let i = 0; i < n; i++) {
      // Sizes across all three length encodings (7-bit, 16-bit, 64-bit).
      const body = 'x'.repeat(i % 3 === 0 ? 10 : i % 3 === 1 ? 300 : 70_000);
      const prefix = nextMessagePrefix(String(i));
      const text = `${prefix.toString()}"${body}"}`;
      expected.push(text);
      if (i % 2 === 0) sendSplicedText(server, prefix, Buffer.from(`"${body}"`));
      else server.send(text);
      if (i === 150) server.ping(Buffer.from('mid'));
    }
    expect(await received).toEqual(expected);
    expect((await pings).toString()).toBe('mid');
    const closed = new Promise<number>((resolve) => client.once('close', (code: number) => resolve(code)));
    sendSplicedText(server, nextMessagePrefix('last'), Buffer.from('{}'));
    server.close(4499, 'bye');
    expect(await closed).toBe(4499);
  });

  it('bufferedAmount counts the frames written to the socket (the slow-consumer check reads it)', async () => {
    const { server } = await connect();
    const prefix = nextMessagePrefix('1');
    const big = Buffer.from(`"${'y'.repeat(4 * 1024 * 1024)}"`);
    sendSplicedText(server, prefix, big);
    expect(server.bufferedAmount).toBeGreaterThan(0);
  });

  it('a socket not accepted by createFanoutServer gets ws.send', () => {
    const sent: unknown[] = [];
    const fake = { send: (data: unknown) => sent.push(data) } as unknown as WebSocket;
    sendSplicedText(fake, nextMessagePrefix('1'), Buffer.from('{"data":null}'));
    expect(sent.map(String)).toEqual(['{"id":"1","type":"next","payload":{"data":null}}']);
  });

  it('an upgrade to another path is refused with 400', async () => {
    const { port } = await connect();
    const other = new WebSocket(`ws://127.0.0.1:${port}/other`);
    other.on('error', () => undefined);
    const status = await new Promise<number>((resolve) =>
      other.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(400);
  });

  it("graphql-ws parses a message synchronously in its handler, through jsonMessageReviver (the transport's hand-off)", async () => {
    const handOff = new MessageHandOff();
    const sent: string[] = [];
    const queries: unknown[] = [];
    const server = makeServer({
      schema: buildSchema('type Query { a: Int }'),
      jsonMessageReviver: handOff.reviver,
      roots: { query: { a: 1 } },
      onSubscribe: (_ctx, _id, payload) => {
        queries.push(payload.query);
      },
    });
    let handler: ((data: string) => Promise<void>) | undefined;
    server.opened(
      {
        protocol: GRAPHQL_TRANSPORT_WS_PROTOCOL,
        send: async (data) => {
          sent.push(data);
        },
        close: (code, reason) => {
          sent.push(`close ${code} ${reason}`);
        },
        onMessage: (cb) => {
          handler = cb;
        },
      },
      {},
    );
    const deliver = async (text: string) => {
      const handled = handler?.(handOff.pass(text));
      expect(handOff.taken()).toBe(true);
      await handled;
    };
    await deliver(JSON.stringify({ type: 'connection_init' }));
    const query = '{ a }';
    await deliver(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
    await deliver(JSON.stringify({ id: '2', type: 'subscribe', payload: { query: `${query}` } }));
    expect(sent).toEqual([
      '{"type":"connection_ack"}',
      '{"id":"1","type":"next","payload":{"data":{"a":1}}}',
      '{"id":"1","type":"complete"}',
      '{"id":"2","type":"next","payload":{"data":{"a":1}}}',
      '{"id":"2","type":"complete"}',
    ]);
    // onSubscribe saw each operation's document (interned on the way; strings compare by value).
    expect(queries).toEqual([query, query]);
    // A text that is not JSON reaches graphql-ws as it is, which refuses it as before.
    expect(handOff.pass('{not json')).toBe('{not json');
    await handler?.('{not json');
    expect(sent.at(-1)).toBe('close 4400 Invalid message received');
  });

  it("an operation removed from graphql-ws's context ends its loop without a complete message (ShareRequest.detach)", async () => {
    const sent: string[] = [];
    const completed: string[] = [];
    let release: ((step: IteratorResult<unknown>) => void) | undefined;
    const stream: AsyncIterableIterator<unknown> = {
      next: () => new Promise((resolve) => (release = resolve)),
      return: async () => ({ done: true, value: undefined }),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    let context: { subscriptions: Record<string, unknown> } | undefined;
    const server = makeServer({
      schema: buildSchema('type Query { a: Int } type Subscription { s: Int }'),
      subscribe: () => stream as never,
      onSubscribe: (ctx) => {
        context = ctx as unknown as { subscriptions: Record<string, unknown> };
      },
      onComplete: (_ctx, id) => {
        completed.push(id);
      },
    });
    let handler: ((data: string) => Promise<void>) | undefined;
    server.opened(
      {
        protocol: GRAPHQL_TRANSPORT_WS_PROTOCOL,
        send: async (data) => {
          sent.push(data);
        },
        close: () => undefined,
        onMessage: (cb) => {
          handler = cb;
        },
      },
      {},
    );
    await handler?.(JSON.stringify({ type: 'connection_init' }));
    const running = handler?.(JSON.stringify({ id: 's1', type: 'subscribe', payload: { query: 'subscription { s }' } }));
    while (!release) await new Promise((r) => setTimeout(r, 1));
    expect(Object.keys(context?.subscriptions ?? {})).toEqual(['s1']);
    delete context?.subscriptions.s1;
    release({ done: true, value: undefined });
    await running;
    expect(sent).toEqual(['{"type":"connection_ack"}']);
    expect(completed).toEqual(['s1']);
  });
});
