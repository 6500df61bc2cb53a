import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis, createEventTargetOn, type RedisConnections } from '../../src/adapters/redis/redis-connections.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { freePort as closedPort } from '../support/net.js';
import { need, services } from '../support/real-services.js';

const hostPort = (url: string) => {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
};

/** Settles with how long `promise` took, or throws after `ms`. */
async function settlesWithin(ms: number, promise: Promise<unknown>, what: string): Promise<number> {
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return Date.now() - t0;
}

describe.skipIf(!need('connectRedis against a Redis that is not there', ['redis']))('connectRedis without Redis', () => {
  let proxy: FaultProxy | undefined;
  let redis: RedisConnections | undefined;

  afterEach(async () => {
    await redis?.close();
    await proxy?.close();
    redis = undefined;
    proxy = undefined;
  });

  it('returns at once when refused, and once Redis appears subscribes what was asked meanwhile and announces a resync', async () => {
    proxy = await startFaultProxy(hostPort(services.redisUrl ?? ''));
    await proxy.pause('refuse');
    const t0 = Date.now();
    const errors: string[] = [];
    // A start wait far longer than any loaded machine's delay: returning before it ends is the
    // refusal being taken at once, not a timer running out.
    const startWaitMs = 20_000;
    redis = await connectRedis({ url: `redis://${proxy.address}`, onError: (err) => errors.push(err.message), startWaitMs });
    const connections = redis;
    const returnedMs = Date.now() - t0;
    expect(returnedMs).toBeLessThan(startWaitMs);
    expect(connections.isReady()).toBe(false);
    expect(errors.some((e) => e.includes('ECONNREFUSED'))).toBe(true);
    // Without an offline queue a command fails at once rather than waiting for Redis: ioredis
    // says so in the error (a queued command would fail later, after its retries, with another).
    await expect(connections.ping()).rejects.toThrow(/enableOfflineQueue/);

    const target = createEventTargetOn(connections);
    let resyncs = 0;
    target.onResync(() => {
      resyncs++;
    });
    const received: unknown[] = [];
    const topic = `redis-connections-test:${process.pid}:${Date.now()}`;
    target.addEventListener(topic, (event) => received.push(event.detail));
    // Dropped, never thrown: nobody is connected.
    target.dispatchEvent(new CustomEvent(topic, { detail: { lost: true } }));

    await proxy.resume();
    // ioredis retries at most 2 s apart: ready within one retry, plus room for a loaded machine.
    const upAfter = await settlesWithin(2000 + 8000, connections.ready, 'both connections ready');
    expect(connections.isReady()).toBe(true);
    await waitUntil(() => resyncs === 1, 10_000, 'the resync');
    target.dispatchEvent(new CustomEvent(topic, { detail: { n: 1 } }));
    await waitUntil(() => received.length === 1, 10_000, 'the event');
    expect(received).toEqual([{ n: 1 }]);
    console.info(`connectRedis: returned in ${returnedMs} ms while refused; both ready ${upAfter} ms after Redis appeared`);
  });

  it('returns after startWaitMs when Redis accepts and never answers', async () => {
    proxy = await startFaultProxy(hostPort(services.redisUrl ?? ''));
    await proxy.pause('blackhole');
    const t0 = Date.now();
    redis = await connectRedis({ url: `redis://${proxy.address}`, onError: () => undefined, startWaitMs: 300 });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(250);
    // Not the connection's own 5 s connectTimeout, nor forever: the start wait, late at most by
    // what a loaded machine adds to a 300 ms timer.
    expect(took).toBeLessThan(5000);
    // The publisher's ready check never gets its answer.
    expect(redis.isReady()).toBe(false);
    const closing = Date.now();
    await redis.close();
    // QUIT gets 1 s, then the sockets close (without that bound a silent Redis holds it forever).
    expect(Date.now() - closing).toBeLessThan(1000 + 4000);
    redis = undefined;
  });

  it('close() of connections that never came up leaves nothing that keeps the process alive', async () => {
    // In a process of its own: whether it exits by itself is the test.
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const module = new URL('../../src/adapters/redis/redis-connections.ts', import.meta.url).href;
    const script = `
      const { connectRedis } = await import(${JSON.stringify(module)});
      const redis = await connectRedis({ url: ${JSON.stringify(url)}, onError: () => undefined });
      // Long enough for a few reconnection attempts to be scheduled.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await redis.close();
      console.log('closed');
      // Timed in here: the parent's own delays on a loaded machine are not the child's lingering.
      const closedAt = Date.now();
      process.on('exit', () => console.log('lingered ' + (Date.now() - closedAt)));
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url).pathname,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(output).toContain('closed');
    expect(code, output).toBe(0);
    const lingered = Number(/lingered (\d+)/.exec(output)?.[1]);
    // ioredis's default disconnect timer alone would hold it for 2 s (ours is 200 ms).
    expect(lingered, output).toBeLessThan(2000);
  }, 20_000);
});

async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
