/**
 * Load generator process for P2: N raw `ws` clients speaking graphql-transport-ws (lighter than
 * graphql-ws client objects), all subscribed to one server's stream. Publishing is closed-loop:
 * one event at a time through the server process's control listener, the next as soon as every
 * subscriber has the previous one. Each event's name carries its publish time, so every delivery
 * gives one publish→deliver latency.
 */
import WebSocket from 'ws';
import { benchToken } from '../lib/bench-env.js';
import { serveRpc } from '../lib/rpc-child.js';

export interface ConnectParams {
  /** The servers' WebSocket URLs: subscriber i connects to urls[i % urls.length]. */
  urls: string[];
  subscribers: number;
  /** Subscriptions per user (the API caps open operations per user). */
  perUser: number;
  query: string;
  variables: Record<string, unknown>;
}

export interface RunParams {
  controlUrl: string;
  serverId: string;
  seconds: number;
  maxEvents: number;
  warmupEvents: number;
}

export interface RunResult {
  events: number;
  delivered: number;
  lost: number;
  seconds: number;
  messagesPerSecond: number;
  p50: number;
  p99: number;
  max: number;
}

const MARK = Buffer.from('bench:');
/** Latency histogram in 0.1 ms buckets up to 60 s. */
const BUCKETS = 600_000;

let clients: WebSocket[] = [];
const counts = new Map<number, number>();
let expected = 0;
let waiter: { seq: number; resolve: () => void } | null = null;
let histogram = new Uint32Array(BUCKETS);
let recording = false;
let closedEarly = 0;

function onMessage(data: Buffer): void {
  const i = data.indexOf(MARK);
  if (i === -1) return;
  const now = performance.timeOrigin + performance.now();
  const end = data.indexOf(58 /* : */, data.indexOf(58, i + MARK.length) + 1);
  const [seqText, atText] = data.toString('latin1', i + MARK.length, end).split(':');
  const seq = Number(seqText);
  const n = (counts.get(seq) ?? 0) + 1;
  counts.set(seq, n);
  if (recording) {
    const bucket = Math.min(BUCKETS - 1, Math.max(0, Math.round((now - Number(atText)) * 10)));
    histogram[bucket] = (histogram[bucket] ?? 0) + 1;
  }
  if (n === expected && waiter?.seq === seq) {
    const w = waiter;
    waiter = null;
    w.resolve();
  }
}

function connectOne(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('subscriber did not get its snapshot in 30 s'));
    }, 30_000);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      if (clients.includes(ws)) closedEarly++;
      reject(new Error(`closed ${code} ${reason.toString()}`));
    });
    const handshake = (data: Buffer) => {
      const text = data.toString();
      if (text.includes('"connection_ack"')) {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
      } else if (text.includes('"next"') && text.includes('SNAPSHOT')) {
        clearTimeout(timer);
        ws.off('message', handshake);
        ws.on('message', onMessage);
        resolve(ws);
      } else {
        clearTimeout(timer);
        reject(new Error(`unexpected message ${text.slice(0, 300)}`));
      }
    };
    ws.on('message', handshake);
  });
}

async function connect(p: ConnectParams): Promise<{ connected: number; ms: number }> {
  const started = performance.now();
  const users = Math.ceil(p.subscribers / p.perUser);
  const tokens = await Promise.all(Array.from({ length: users }, (_, i) => benchToken(`fan-${i}`, ['operator'])));
  const batch = 250;
  for (let i = 0; i < p.subscribers; i += batch) {
    const n = Math.min(batch, p.subscribers - i);
    const made = await Promise.all(
      Array.from({ length: n }, (_, j) =>
        connectOne(p.urls[(i + j) % p.urls.length] ?? '', tokens[(i + j) % users] ?? '', p.query, p.variables),
      ),
    );
    clients.push(...made);
  }
  expected = clients.length;
  return { connected: clients.length, ms: Math.round(performance.now() - started) };
}

async function publish(controlUrl: string, serverId: string, seq: number): Promise<void> {
  const res = await fetch(`${controlUrl}/publish?server=${encodeURIComponent(serverId)}&seq=${seq}`, { method: 'POST' });
  if (res.status !== 204) throw new Error(`publish failed: ${res.status} ${await res.text()}`);
}

/** Publishes one event and waits until every subscriber has it (or 5 s pass). */
async function oneEvent(p: RunParams, seq: number): Promise<number> {
  const arrived = new Promise<void>((resolve) => {
    waiter = { seq, resolve };
  });
  await publish(p.controlUrl, p.serverId, seq);
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
  await Promise.race([arrived, timeout]);
  waiter = null;
  return counts.get(seq) ?? 0;
}

function quantile(h: Uint32Array, total: number, q: number): number {
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i] ?? 0;
    if (seen >= rank) return i / 10;
  }
  return (h.length - 1) / 10;
}

let seqBase = 0;

async function run(p: RunParams): Promise<RunResult> {
  for (let i = 0; i < p.warmupEvents; i++) await oneEvent(p, ++seqBase);
  histogram = new Uint32Array(BUCKETS);
  recording = true;
  let events = 0;
  let delivered = 0;
  const started = performance.now();
  while (performance.now() - started < p.seconds * 1000 && events < p.maxEvents) {
    delivered += await oneEvent(p, ++seqBase);
    events++;
  }
  const seconds = (performance.now() - started) / 1000;
  recording = false;
  const total = histogram.reduce((a, b) => a + b, 0);
  let max = 0;
  for (let i = histogram.length - 1; i >= 0; i--) {
    if ((histogram[i] ?? 0) > 0) {
      max = i / 10;
      break;
    }
  }
  return {
    events,
    delivered,
    lost: events * expected - delivered,
    seconds,
    messagesPerSecond: delivered / seconds,
    p50: quantile(histogram, total, 0.5),
    p99: quantile(histogram, total, 0.99),
    max,
  };
}

async function close(): Promise<{ closedEarly: number }> {
  const all = clients;
  clients = [];
  await Promise.all(
    all.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) {
            resolve();
            return;
          }
          ws.once('close', () => resolve());
          ws.close(1000);
          setTimeout(() => {
            ws.terminate();
            resolve();
          }, 5000).unref();
        }),
    ),
  );
  counts.clear();
  const early = closedEarly;
  closedEarly = 0;
  return { closedEarly: early };
}

serveRpc(
  {
    connect: (p) => connect(p as ConnectParams),
    run: (p) => run(p as RunParams),
    close: () => close(),
  },
  async () => {
    await close();
  },
);
