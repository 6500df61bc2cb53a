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
    redis = await connectRedis({ url: `redis://${proxy.address}`, onError: (err) => errors.push(err.message) });
    const connections = redis;
    const returnedMs = Date.now() - t0;
    expect(returnedMs).toBeLessThan(500);
    expect(connections.isReady()).toBe(false);
    expect(errors.some((e) => e.includes('ECONNREFUSED'))).toBe(true);
    // Without an offline queue a command fails at once rather than waiting for Redis.
    const ping = Date.now();
    await expect(connections.ping()).rejects.toThrow(/enableOfflineQueue/);
    expect(Date.now() - ping).toBeLessThan(100);

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
    const upAfter = await settlesWithin(5000, connections.ready, 'both connections ready');
    expect(connections.isReady()).toBe(true);
    await waitUntil(() => resyncs === 1, 2000, 'the resync');
    target.dispatchEvent(new CustomEvent(topic, { detail: { n: 1 } }));
    await waitUntil(() => received.length === 1, 2000, 'the event');
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
    expect(took).toBeLessThan(1000);
    // The publisher's ready check never gets its answer.
    expect(redis.isReady()).toBe(false);
    const closing = Date.now();
    await redis.close();
    expect(Date.now() - closing).toBeLessThan(1500);
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
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url).pathname,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let closedAt = 0;
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (!closedAt && output.includes('closed')) closedAt = Date.now();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lingered = Date.now() - closedAt;
    expect(closedAt, output).toBeGreaterThan(0);
    expect(code, output).toBe(0);
    // ioredis's default disconnect timer alone would hold it for 2 s.
    expect(lingered).toBeLessThan(1000);
  }, 20_000);
});

async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
