import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentAclSetUserArgs, printAcl } from '../../src/adapters/redis/host-acl.js';
import { createAgentCommandConsumer } from '../../src/adapters/redis/host-agent-consumer.js';
import { createHostCommandClient } from '../../src/adapters/redis/host-command-client.js';
import { ValidationError } from '../../src/domain/shared/errors.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis.js';

const SYSTEM = { userId: 'system', name: 'system' };
const PASSWORD_A = 'password-of-agent-a-0123456789';
const PASSWORD_B = 'password-of-agent-b-0123456789';

describe('agent Redis ACL users (private Redis 7)', () => {
  let redis: PrivateRedis;
  let asA: Redis;
  let asB: Redis;
  const stateDir = mkdtempSync(join(tmpdir(), 'rdp-host-acl-'));

  const url = (user: string, password: string) => `redis://${user}:${password}@127.0.0.1:${redis.port}`;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    await redis.admin.call('ACL', 'SETUSER', ...agentAclSetUserArgs('acl-a', PASSWORD_A));
    await redis.admin.call('ACL', 'SETUSER', ...agentAclSetUserArgs('acl-b', PASSWORD_B));
    asA = new Redis(url('rdp-agent-acl-a', PASSWORD_A), { enableReadyCheck: false, maxRetriesPerRequest: 0 });
    asB = new Redis(url('rdp-agent-acl-b', PASSWORD_B), { enableReadyCheck: false, maxRetriesPerRequest: 0 });
  });
  afterAll(async () => {
    asA.disconnect();
    asB.disconnect();
    await redis.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('is enough for a real agent: it creates its group, reads its commands and answers on its events', async () => {
    const agent = createAgentCommandConsumer({
      redis: url('rdp-agent-acl-a', PASSWORD_A),
      hostId: 'acl-a',
      stateDir,
      handle: async (c) => ({ ran: c.type }),
    });
    // The API uses the default user here.
    const api = createHostCommandClient({ redis: redis.url, replicaId: 'replica-1' });
    try {
      await agent.start();
      expect(await api.send('acl-a', 'ping-host', null, { actor: SYSTEM })).toEqual({ ran: 'ping-host' });
      await agent.events.publish('heartbeat', { at: 1 });
      expect(await redis.admin.xlen('rdp:host:acl-a:events')).toBe(3);
    } finally {
      await agent.stop();
      await api.close();
    }
  });

  it("agent B's credential can neither read A's commands nor forge A's events", async () => {
    await expect(
      asB.call('XREADGROUP', 'GROUP', 'agent', 'acl-b', 'COUNT', 1, 'STREAMS', 'rdp:host:acl-a:commands', '0'),
    ).rejects.toThrow(/NOPERM/);
    await expect(asB.call('XADD', 'rdp:host:acl-a:events', '*', 'v', '1', 'type', 'login', 'payload', '{}')).rejects.toThrow(
      /NOPERM/,
    );
    await expect(asB.call('XACK', 'rdp:host:acl-a:commands', 'agent', '0-1')).rejects.toThrow(/NOPERM/);
    await expect(asB.call('XGROUP', 'CREATE', 'rdp:host:acl-a:commands', 'evil', '0')).rejects.toThrow(/NOPERM/);
    // Its own stream works.
    expect(String(await asB.call('XADD', 'rdp:host:acl-b:events', '*', 'v', '1', 'type', 'heartbeat', 'payload', '{}'))).toMatch(
      /^\d+-\d+$/,
    );
  });

  it('agent A cannot write its own command stream, read its own events, or touch any other key or channel', async () => {
    await expect(asA.call('XADD', 'rdp:host:acl-a:commands', '*', 'v', '1')).rejects.toThrow(/NOPERM/);
    await expect(asA.call('XRANGE', 'rdp:host:acl-a:events', '-', '+')).rejects.toThrow(/NOPERM/);
    await expect(asA.call('XREAD', 'STREAMS', 'rdp:host:acl-a:events', '0')).rejects.toThrow(/NOPERM/);
    await expect(asA.call('XREADGROUP', 'GROUP', 'api', 'x', 'STREAMS', 'rdp:host:acl-a:events', '>')).rejects.toThrow(/NOPERM/);
    await expect(asA.call('XTRIM', 'rdp:host:acl-a:commands', 'MAXLEN', 0)).rejects.toThrow(/NOPERM/);
    await expect(asA.call('XGROUP', 'DESTROY', 'rdp:host:acl-a:commands', 'agent')).rejects.toThrow(/NOPERM/);
    await expect(asA.call('DEL', 'rdp:host:acl-a:commands')).rejects.toThrow(/NOPERM/);
    await expect(asA.call('GET', 'port:acl-a:3390')).rejects.toThrow(/NOPERM/);
    await expect(asA.call('SET', 'rdp:host:acl-a:events-x', '1')).rejects.toThrow(/NOPERM/);
    await expect(asA.call('KEYS', '*')).rejects.toThrow(/NOPERM/);
    await expect(asA.call('PUBLISH', 'rdp:events', 'x')).rejects.toThrow(/NOPERM/);
    await expect(asA.call('XADD', 'rdp:host:acl-b:events', '*', 'v', '1')).rejects.toThrow(/NOPERM/);
  });

  it('printAcl prints a line redis-cli applies as is, and the URL it prints logs in', async () => {
    let printed = '';
    printAcl('acl-c', undefined, (t) => {
      printed += t;
    });
    const line = printed.split('\n').find((l) => l.startsWith('ACL SETUSER')) as string;
    const agentUrl = (/REDIS_URL=(\S+)/.exec(printed)?.[1] ?? '').replace('<redis-host>:6379', `127.0.0.1:${redis.port}`);
    expect(line).toContain('rdp-agent-acl-c');
    // Only the hash of the password is in the line.
    const password = decodeURIComponent(new URL(agentUrl).password);
    expect(line).not.toContain(password);
    expect(
      execFileSync('redis-cli', ['-p', String(redis.port)], { input: `${line}\n` })
        .toString()
        .trim(),
    ).toBe('OK');
    const asC = new Redis(agentUrl, {
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
    });
    try {
      expect(String(await asC.call('XADD', 'rdp:host:acl-c:events', '*', 'v', '1'))).toMatch(/^\d+-\d+$/);
      await expect(asC.call('XADD', 'rdp:host:acl-a:events', '*', 'v', '1')).rejects.toThrow(/NOPERM/);
    } finally {
      asC.disconnect();
    }
    expect(() => printAcl('Bad Host', 'x'.repeat(20), () => {})).toThrow(ValidationError);
  });
});
