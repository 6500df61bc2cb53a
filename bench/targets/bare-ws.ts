/**
 * P2's limit: a bare `ws` server speaking just enough graphql-transport-ws for the bench's client
 * (connection_ack, a SNAPSHOT `next` per subscribe), with a control listener like the API's
 * (POST /publish?server=<id>&seq=<n>). Each event is serialized ONCE into the frame this API sends
 * for `serverEvents` (the same keys, the same size, the publish time in the name), then written to
 * every socket: with `ws.send` of the pre-serialized buffer (`send`, ws's public path: a header
 * and a body written corked), or as one pre-framed buffer straight to the TCP socket that the
 * public upgrade callback handed over (`write`, what src/app/subscription-fanout.ts does). No GraphQL, no
 * auth, no per-subscriber state beyond the socket and its id.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { serveRpc } from '../lib/rpc-child.js';
import { settledMemory } from '../lib/settled-memory.js';

export type BareWsMode = 'send' | 'write';

interface Subscriber {
  ws: WebSocket;
  socket: Duplex;
  /** `{"id":<id>,"type":"next","payload":` as bytes. */
  prefix: Buffer;
}

let subscribers: Subscriber[] = [];
let http: ReturnType<typeof createServer> | undefined;
let control: ReturnType<typeof createServer> | undefined;
let wss: WebSocketServer | undefined;

const SERVER_ID = 'bare-ws-server';
const CREATED = new Date().toISOString();

function payload(kind: string, name: string, at: string): string {
  return JSON.stringify({
    data: { serverEvents: { kind, at, server: { id: SERVER_ID, name, status: 'RUNNING', updatedAt: at } } },
  });
}

/** A whole unmasked text frame (FIN, opcode 1) around `body`, as ws's Sender.frame would make it. */
function frame(body: Buffer): Buffer {
  const n = body.length;
  const head = n <= 125 ? 2 : n <= 0xffff ? 4 : 10;
  const out = Buffer.allocUnsafe(head + n);
  out[0] = 0x81;
  if (head === 2) out[1] = n;
  else if (head === 4) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  body.copy(out, head);
  return out;
}

function publish(mode: BareWsMode, seq: string): void {
  const at = performance.timeOrigin + performance.now();
  const iso = new Date(at).toISOString();
  // Every subscriber of the bench's client has id "1", so one frame serves all; the API splices
  // each member's id in, which costs a copy this floor does not pay.
  const body = Buffer.concat([
    subscribers[0]?.prefix ?? Buffer.from('{"id":"1","type":"next","payload":'),
    Buffer.from(payload('UPDATED', `bench:${seq}:${at.toFixed(3)}:`, iso)),
    Buffer.from('}'),
  ]);
  if (mode === 'send') {
    for (const s of subscribers) if (s.ws.readyState === 1) s.ws.send(body, { binary: false });
    return;
  }
  const whole = frame(body);
  for (const s of subscribers) if (s.ws.readyState === 1) s.socket.write(whole);
}

function onConnection(ws: WebSocket, socket: Duplex): void {
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { type: string; id?: string };
    if (message.type === 'connection_init') ws.send('{"type":"connection_ack"}');
    else if (message.type === 'subscribe' && message.id) {
      const prefix = Buffer.from(`{"id":${JSON.stringify(message.id)},"type":"next","payload":`);
      ws.send(`${prefix.toString()}${payload('SNAPSHOT', 'bare', CREATED)}}`);
      subscribers.push({ ws, socket, prefix });
    }
  });
  ws.on('close', () => {
    subscribers = subscribers.filter((s) => s.ws !== ws);
  });
}

serveRpc(
  {
    async start(params) {
      const { mode } = params as { mode: BareWsMode };
      wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024 });
      http = createServer((_req, res) => res.writeHead(404).end());
      http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        wss?.handleUpgrade(req, socket, head, (ws) => onConnection(ws, socket));
      });
      await new Promise<void>((resolve) => http?.listen(0, '127.0.0.1', resolve));
      control = createServer((req: IncomingMessage, res: ServerResponse) => {
        const url = new URL(req.url ?? '/', 'http://control');
        req.resume();
        req.on('end', () => {
          if (url.pathname !== '/publish') {
            res.writeHead(404).end();
            return;
          }
          publish(mode, url.searchParams.get('seq') ?? '0');
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => control?.listen(0, '127.0.0.1', resolve));
      return {
        port: (http.address() as AddressInfo).port,
        controlPort: (control.address() as AddressInfo).port,
        serverId: SERVER_ID,
      };
    },
    memory: async () => {
      const { rss, heapUsed, newSpace } = await settledMemory();
      return { rss, heapUsed, newSpace };
    },
  },
  async () => {
    for (const s of subscribers) s.ws.terminate();
    control?.close();
    http?.close();
    wss?.close();
  },
);
