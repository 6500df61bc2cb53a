import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentCommandConsumer } from '../../src/adapters/redis/host-agent-consumer.js';
import { createHostCommandClient } from '../../src/adapters/redis/host-command-client.js';
import { createHostEventConsumer } from '../../src/adapters/redis/host-event-consumer.js';
import { createAgentEventPublisher } from '../../src/adapters/redis/host-event-publisher.js';
import { HostCommandFailedError } from '../../src/domain/cluster/host-command-errors.js';
import { commandEntryFields } from '../../src/domain/cluster/host-protocol.js';
import { waitFor } from '../support/net.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis.js';

const SYSTEM = { userId: 'system', name: 'system' };
const ROOT = new URL('../..', import.meta.url).pathname;

/** Starts test/support/host-streams-child.ts and resolves once it printed `ready`. */
async function startChild(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/host-streams-child.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
  });
  return child;
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
}

describe('host streams after a process is killed (private Redis)', () => {
  let redis: PrivateRedis;
  const dir = mkdtempSync(join(tmpdir(), 'rdp-host-streams-recovery-'));

  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an agent SIGKILLed mid-command restarts on the same state dir and runs no command twice', async () => {
    const stateDir = join(dir, 'agent-state');
    const execLog = join(dir, 'agent-exec.log');
    const api = createHostCommandClient({ redis: redis.url, replicaId: 'replica-1' });
    try {
      let child = await startChild(['agent', redis.url, 'crash', stateDir, execLog]);
      expect(await api.send('crash', 'echo', 'first', { actor: SYSTEM })).toEqual({ echo: 'first' });
      const interrupted = api
        .send('crash', 'hang', null, { actor: SYSTEM, ttlMs: 30_000, timeoutMs: 30_000 })
        .catch((e: unknown) => e);
      await waitFor(async () => lines(execLog).some((l) => l.endsWith(' hang')), 10_000, 'the hang command to start');
      await kill9(child);
      // Delivered while the agent is dead: waits in the stream for the next agent.
      const queued = api.send('crash', 'echo', 'queued', { actor: SYSTEM, ttlMs: 30_000 });
      const [firstId, hangId] = lines(execLog).map((l) => l.split(' ')[1] as string);
      expect(firstId && hangId).toBeTruthy();
      // The first command sent again (a duplicate XADD with the same id, from another replica).
      await redis.admin.xadd(
        'rdp:host:crash:commands',
        '*',
        ...commandEntryFields({
          id: firstId as string,
          type: 'echo',
          replica: 'replica-dup',
          ttl: 30_000,
          actor: SYSTEM,
          payload: 'dup',
        }),
      );

      // The new agent is a child too, so every run lands in the same log.
      child = await startChild(['agent', redis.url, 'crash', stateDir, execLog]);
      try {
        expect(await queued).toEqual({ echo: 'queued' });
        const err = await interrupted;
        expect(err).toBeInstanceOf(HostCommandFailedError);
        expect(err).toMatchObject({ code: 'INTERRUPTED' });
        await waitFor(
          async () => {
            const pending = (await redis.admin.call('XPENDING', 'rdp:host:crash:commands', 'agent')) as unknown[];
            return pending[0] === 0;
          },
          5000,
          'every command entry acknowledged',
        );
        const runs = lines(execLog).map((l) => l.split(' ')[1]);
        expect(runs).toHaveLength(3);
        expect(new Set(runs).size).toBe(3);
        expect(runs.filter((id) => id === hangId)).toHaveLength(1);
        expect(runs.filter((id) => id === firstId)).toHaveLength(1);
        // The duplicate was answered with the stored result of the first run, not run again.
        const answers = (await redis.admin.xrange('rdp:host:crash:events', '-', '+'))
          .map(([, f]) => ({ type: f[3], payload: JSON.parse(f[5] as string) as Record<string, unknown> }))
          .filter((e) => e.type === 'command.result' && e.payload.commandId === firstId);
        expect(answers.map((a) => a.payload)).toEqual([
          { commandId: firstId, replica: 'replica-1', status: 'OK', result: { echo: 'first' } },
          { commandId: firstId, replica: 'replica-dup', status: 'OK', result: { echo: 'first' } },
        ]);
      } finally {
        await kill9(child);
      }

      // The journal survives a third start in-process: the old ids are still known.
      const ran: string[] = [];
      const agent = createAgentCommandConsumer({
        redis: redis.url,
        hostId: 'crash',
        stateDir,
        handle: async (c) => {
          ran.push(c.id);
          return 'again';
        },
      });
      await agent.start();
      await redis.admin.xadd(
        'rdp:host:crash:commands',
        '*',
        ...commandEntryFields({
          id: hangId as string,
          type: 'hang',
          replica: 'replica-dup',
          ttl: 30_000,
          actor: SYSTEM,
          payload: null,
        }),
      );
      expect(await api.send('crash', 'echo', 'last', { actor: SYSTEM })).toBe('again');
      await waitFor(
        async () =>
          (await redis.admin.xrange('rdp:host:crash:events', '-', '+')).filter(([, f]) => f[5]?.includes(hangId as string))
            .length >= 3,
        5000,
        'the answer to the repeated hang command',
      );
      expect(ran).toHaveLength(1);
      await agent.stop();
    } finally {
      await api.close();
    }
  });

  it('events are applied once across two replicas of the group, the killed one’s pending entries claimed by the other', async () => {
    const appliedLog = join(dir, 'events-applied.log');
    const publisher = createAgentEventPublisher({ hostId: 'ev', redis: redis.url });
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(await publisher.publish(i === 15 ? 'hang' : 'sample', { i }));
    // Replica A takes the 40 events in one read, applies 0-14, then hangs on 15 with 16-39 pending.
    const childA = await startChild(['events', redis.url, 'replica-a', 'ev', appliedLog]);
    await waitFor(async () => lines(appliedLog).length === 15, 10_000, 'replica A to apply 15 events');

    const appliedByB: string[] = [];
    const b = createHostEventConsumer({
      redis: redis.url,
      replicaId: 'replica-b',
      claimIdleMs: 500,
      handle: async (_hostId, event) => {
        appliedByB.push(event.entryId);
      },
    });
    try {
      await b.addHost('ev');
      b.start();
      // New events go to B while A is stuck.
      for (let i = 40; i < 50; i++) ids.push(await publisher.publish('sample', { i }));
      await waitFor(async () => appliedByB.length === 10, 5000, 'replica B to apply the new events');
      await kill9(childA);
      for (let i = 50; i < 60; i++) ids.push(await publisher.publish('sample', { i }));
      await waitFor(async () => appliedByB.length === 45, 10_000, "replica B to claim A's pending events");

      const appliedByA = lines(appliedLog).map((l) => l.split(' ')[1]);
      expect(appliedByA).toEqual(ids.slice(0, 15));
      const all = [...appliedByA, ...appliedByB];
      expect(all).toHaveLength(60);
      expect(new Set(all)).toEqual(new Set(ids));
      expect(appliedByB).toEqual(expect.arrayContaining(ids.slice(15, 40)));
      await waitFor(async () => (await b.info())[0]?.pending === 0, 5000, 'nothing pending');
      expect(await b.info()).toEqual([{ hostId: 'ev', lag: 0, pending: 0, lastDeliveredId: ids[59] }]);
    } finally {
      await b.stop();
      await publisher.close();
    }
  });

  it('a failing handler leaves the event pending, and it is applied once on the retry', async () => {
    const publisher = createAgentEventPublisher({ hostId: 'retry', redis: redis.url });
    let failures = 1;
    const applied: string[] = [];
    const consumer = createHostEventConsumer({
      redis: redis.url,
      replicaId: 'replica-r',
      claimIdleMs: 300,
      handle: async (_hostId, event) => {
        if (failures-- > 0) throw new Error('FerretDB blinked');
        applied.push(event.entryId);
      },
    });
    try {
      // Written before any replica listened: the group starts at 0, so it is not missed.
      const id = await publisher.publish('login', { user: 'u1' });
      await consumer.addHost('retry');
      consumer.start();
      await waitFor(async () => applied.length === 1, 5000, 'the retried event');
      expect(applied).toEqual([id]);
      await waitFor(async () => (await consumer.info())[0]?.pending === 0, 5000, 'nothing pending');
    } finally {
      await consumer.stop();
      await publisher.close();
    }
  });
});
