import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAgentCommandConsumer } from '../../src/adapters/redis/host-agent-consumer.js';
import { createHostCommandClient, type HostCommandClient } from '../../src/adapters/redis/host-command-client.js';
import { createAgentEventPublisher } from '../../src/adapters/redis/host-event-publisher.js';
import { HostCommandFailedError } from '../../src/domain/cluster/host-command-errors.js';
import type { HostCommand } from '../../src/domain/cluster/host-protocol.js';
import { ConflictError, HostUnavailableError, NotFoundError, ValidationError } from '../../src/domain/shared/errors.js';
import { waitFor } from '../support/net.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis.js';

const SYSTEM = { userId: 'system', name: 'system' };

describe('host command and event streams on a private Redis', () => {
  let redis: PrivateRedis;
  const dirs: string[] = [];
  const open: Array<{ stop?: () => Promise<void>; close?: () => Promise<void> }> = [];

  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await (o.stop ?? o.close)?.();
  });
  afterAll(async () => {
    await redis.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function stateDir(): string {
    const d = mkdtempSync(join(tmpdir(), 'rdp-host-streams-'));
    dirs.push(d);
    return d;
  }

  /** Records every command it runs; `echo` returns its payload, the others fail or wait as named. */
  function startAgent(hostId: string, extra: { concurrency?: number } = {}) {
    const ran: HostCommand[] = [];
    const agent = createAgentCommandConsumer({
      redis: redis.url,
      hostId,
      stateDir: stateDir(),
      ...extra,
      handle: async (c) => {
        ran.push(c);
        if (c.type === 'conflict') throw new ConflictError('server s1 is running');
        if (c.type === 'not-found') throw new NotFoundError('server', 's9');
        if (c.type === 'boom') throw new TypeError('x is undefined');
        if (c.type === 'sleep') await new Promise((r) => setTimeout(r, Number(c.payload)));
        return { echo: c.payload, host: hostId };
      },
    });
    open.push(agent);
    return { agent, ran, started: agent.start() };
  }

  function client(replicaId: string, extra: { acceptGraceMs?: number } = {}): HostCommandClient {
    const c = createHostCommandClient({ redis: redis.url, replicaId, ...extra });
    open.push(c);
    return c;
  }

  it('round trip: the result comes back, the agent saw id, actor, ttl and deadline, and the command was acknowledged', async () => {
    const { ran, started } = startAgent('rt-a');
    await started;
    const api = client('replica-1');
    const result = await api.send('rt-a', 'echo', { n: 1 }, { actor: { userId: 'u1', name: 'alice' }, ttlMs: 2000 });
    expect(result).toEqual({ echo: { n: 1 }, host: 'rt-a' });
    expect(ran).toHaveLength(1);
    const c = ran[0] as HostCommand;
    expect(c).toMatchObject({ v: 1, type: 'echo', replica: 'replica-1', ttl: 2000, actor: { userId: 'u1', name: 'alice' } });
    expect(c.deadline - c.issuedAt).toBe(2000);
    expect(c.id).toMatch(/^[0-9a-f-]{36}$/);
    // accepted then result on the event stream, and nothing left pending in the agent group.
    const events = (await redis.admin.xrange('rdp:host:rt-a:events', '-', '+')).map(([, f]) => f[3]);
    expect(events).toEqual(['command.accepted', 'command.result']);
    const pending = (await redis.admin.call('XPENDING', 'rdp:host:rt-a:commands', 'agent')) as unknown[];
    expect(pending[0]).toBe(0);
    expect(api.pending()).toBe(0);
  });

  it('failures come back as the domain error classes with code and message; others as HostCommandFailedError', async () => {
    const { started } = startAgent('rt-err');
    await started;
    const api = client('replica-1');
    const conflict = await api.send('rt-err', 'conflict', null, { actor: SYSTEM }).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict).toMatchObject({ code: 'CONFLICT', message: 'server s1 is running' });
    const missing = await api.send('rt-err', 'not-found', null, { actor: SYSTEM }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ code: 'NOT_FOUND', message: 'server s9 not found', entity: 'server', id: 's9' });
    const boom = await api.send('rt-err', 'boom', null, { actor: SYSTEM }).catch((e: unknown) => e);
    expect(boom).toBeInstanceOf(HostCommandFailedError);
    expect(boom).toMatchObject({ code: 'INTERNAL' });
    // Bad input is refused before anything is written.
    await expect(api.send('Bad_Host', 'echo', null, { actor: SYSTEM })).rejects.toBeInstanceOf(ValidationError);
    await expect(api.send('rt-err', 'echo', null, { actor: SYSTEM, ttlMs: 0 })).rejects.toBeInstanceOf(ValidationError);
    expect(await redis.admin.exists('rdp:host:bad_host:commands')).toBe(0);
  });

  it('1,000 concurrent commands: every one runs once and each caller gets its own result', async () => {
    const { ran, started } = startAgent('burst', { concurrency: 64 });
    await started;
    const api = client('replica-1');
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => api.send('burst', 'echo', i, { actor: SYSTEM, ttlMs: 20_000 })),
    );
    const ms = performance.now() - t0;
    expect(results).toEqual(Array.from({ length: 1000 }, (_, i) => ({ echo: i, host: 'burst' })));
    expect(new Set(ran.map((c) => c.id)).size).toBe(1000);
    expect(ran).toHaveLength(1000);
    console.info(`1,000 concurrent commands through one agent: ${ms.toFixed(0)} ms`);
  });

  it('a command past its deadline is answered EXPIRED and not run; the caller gets HOST_UNAVAILABLE', async () => {
    const api = client('replica-1', { acceptGraceMs: 10_000 });
    // No agent yet: the command waits in the stream past its 300 ms.
    const expired = api.send('late', 'echo', 'never', { actor: SYSTEM, ttlMs: 300 }).catch((e: unknown) => e);
    await waitFor(async () => (await redis.admin.xlen('rdp:host:late:commands')) === 1, 5000, 'the command in the stream');
    await new Promise((r) => setTimeout(r, 400));
    const { ran, started } = startAgent('late');
    await started;
    const err = await expired;
    expect(err).toBeInstanceOf(HostUnavailableError);
    expect(err).toMatchObject({ code: 'HOST_UNAVAILABLE' });
    expect((err as Error).message).toMatch(/deadline/);
    expect(ran).toHaveLength(0);
    const events = await redis.admin.xrange('rdp:host:late:events', '-', '+');
    expect(events.map(([, f]) => JSON.parse(f[5] as string).status)).toEqual(['EXPIRED']);
    // A fresh command to the same agent runs.
    expect(await api.send('late', 'echo', 'now', { actor: SYSTEM })).toEqual({ echo: 'now', host: 'late' });
  });

  it('no agent at all: HOST_UNAVAILABLE after ttl plus grace, and the late agent does not run it', async () => {
    const api = client('replica-1', { acceptGraceMs: 50 });
    const t0 = Date.now();
    const err = await api.send('nobody', 'echo', 1, { actor: SYSTEM, ttlMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostUnavailableError);
    expect(Date.now() - t0).toBeLessThan(2000);
    const { ran, agent, started } = startAgent('nobody');
    await started;
    await waitFor(async () => (await redis.admin.xlen('rdp:host:nobody:events')) === 1, 5000, 'the EXPIRED answer');
    expect(ran).toHaveLength(0);
    expect(agent.running()).toBe(0);
  });

  it('results reach the issuing replica when two replicas send to the same host at once', async () => {
    const { ran, started } = startAgent('shared', { concurrency: 8 });
    await started;
    const a = client('replica-a');
    const b = client('replica-b');
    const sends = Array.from({ length: 200 }, (_, i) =>
      (i % 2 ? a : b).send('shared', 'echo', `${i % 2 ? 'a' : 'b'}-${i}`, { actor: SYSTEM, ttlMs: 10_000 }),
    );
    const results = await Promise.all(sends);
    results.forEach((r, i) => {
      expect(r).toEqual({ echo: `${i % 2 ? 'a' : 'b'}-${i}`, host: 'shared' });
    });
    expect(ran.filter((c) => c.replica === 'replica-a')).toHaveLength(100);
    expect(ran.filter((c) => c.replica === 'replica-b')).toHaveLength(100);
    expect(a.pending() + b.pending()).toBe(0);
  });

  it('one replica waits on several hosts at once (its reader follows the new key at once)', async () => {
    const hosts = ['multi-1', 'multi-2', 'multi-3'];
    for (const h of hosts) await startAgent(h).started;
    const api = client('replica-1');
    // A slow command keeps the reader blocked on multi-1 while the others are added.
    const slow = api.send('multi-1', 'sleep', 300, { actor: SYSTEM });
    const t0 = performance.now();
    const quick = await Promise.all(hosts.slice(1).map((h) => api.send(h, 'echo', h, { actor: SYSTEM })));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(quick).toEqual([
      { echo: 'multi-2', host: 'multi-2' },
      { echo: 'multi-3', host: 'multi-3' },
    ]);
    expect(await slow).toEqual({ echo: 300, host: 'multi-1' });
  });

  it('a command stream deleted under the blocked agent read is re-created and commands flow again', async () => {
    const { started } = startAgent('deleted');
    await started;
    const api = client('replica-1');
    await api.send('deleted', 'echo', 1, { actor: SYSTEM });
    await redis.admin.del('rdp:host:deleted:commands');
    await waitFor(async () => (await redis.admin.exists('rdp:host:deleted:commands')) === 1, 5000, 'the stream re-created');
    expect(await api.send('deleted', 'echo', 2, { actor: SYSTEM })).toEqual({ echo: 2, host: 'deleted' });
  });

  it('trimming keeps both streams bounded (MAXLEN ~)', async () => {
    const events = createAgentEventPublisher({ hostId: 'trim', redis: redis.url, maxLen: 200 });
    open.push(events);
    for (let i = 0; i < 3000; i++) await events.publish('sample', { i });
    const evLen = await redis.admin.xlen('rdp:host:trim:events');
    // Approximate trimming removes whole macro nodes (100 entries each by default).
    expect(evLen).toBeGreaterThanOrEqual(200);
    expect(evLen).toBeLessThanOrEqual(300);
    await startAgent('trim').started;
    const api = createHostCommandClient({ redis: redis.url, replicaId: 'replica-1', maxLen: 200 });
    open.push(api);
    for (let i = 0; i < 30; i++) {
      await Promise.all(Array.from({ length: 50 }, () => api.send('trim', 'echo', i, { actor: SYSTEM })));
    }
    const cmdLen = await redis.admin.xlen('rdp:host:trim:commands');
    expect(cmdLen).toBeGreaterThanOrEqual(200);
    expect(cmdLen).toBeLessThanOrEqual(300);
    // The agent's answers went to the events stream with its default cap (10,000 ~), far above 3,000.
    expect(await redis.admin.xlen('rdp:host:trim:events')).toBeLessThanOrEqual(300 + 3000);
  });
});
