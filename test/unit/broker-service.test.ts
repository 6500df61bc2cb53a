import { describe, expect, it } from 'vitest';
import { MemoryClaimStore } from '../../src/adapters/memory/memory-claim-store.js';
import { MemoryAssignmentStore, MemoryPoolStore } from '../../src/adapters/memory/memory-pool-store.js';
import { MemoryServerStore } from '../../src/adapters/memory/memory-server-store.js';
import { MemorySessionStore } from '../../src/adapters/memory/memory-session-store.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import { AssignmentGrants } from '../../src/domain/pools/assignment-grants.js';
import { BrokerService } from '../../src/domain/pools/broker-service.js';
import { PoolService } from '../../src/domain/pools/pool-service.js';
import { defaultResourceLimits, staticLimitsProvider } from '../../src/domain/resources/resource-limits.js';
import { ServerService } from '../../src/domain/servers/server-service.js';
import { SessionService } from '../../src/domain/sessions/session-service.js';
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from '../../src/domain/shared/errors.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';

const olga: Viewer = { userId: 'olga', username: 'olga', roles: ['operator'], permissions: [] };
const user = (name: string, groups: string[] = ['staff']): Viewer => ({
  userId: name,
  username: name,
  roles: ['user'],
  permissions: [],
  groups,
});

/** The services of the pools area on memory stores; hosts named in `offline` refuse sessions. */
function setup(offline: string[] = []) {
  const clock = { now: () => new Date('2025-01-01T00:00:00.000Z') };
  let n = 0;
  const newId = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  const serverStore = new MemoryServerStore();
  const sessionStore = new MemorySessionStore();
  const claims = new MemoryClaimStore();
  const poolStore = new MemoryPoolStore();
  const assignments = new MemoryAssignmentStore();
  const grants = new AssignmentGrants(assignments);
  const events = { publish: () => undefined };
  const limits = staticLimitsProvider(defaultResourceLimits({ maxSessions: 1000 }));
  const hosts = {
    checkAcceptsSessions: async (hostId: string) => {
      if (offline.includes(hostId)) throw new ConflictError(`host ${hostId} is offline`);
    },
  };
  const accounts = new FakeSessionAccounts();
  const sessions = new SessionService({
    store: sessionStore,
    claims,
    servers: serverStore,
    events,
    limits,
    clock,
    newId,
    timeouts: { idleSeconds: 1800, sessionSeconds: 3600 },
    defaultCredentialMode: 'EPHEMERAL',
    accounts,
    pools: poolStore,
    grants,
    hosts,
  });
  const servers = new ServerService({
    store: serverStore,
    claims,
    runtime: new FakeServerRuntime(),
    events,
    limits,
    clock,
    newId,
    portRange: { from: 33890, to: 33999 },
    host: 'rdp.test',
    sessions,
    grants,
    pools: { exists: async (id) => (await poolStore.findById(id)) !== null },
    forgetAssignments: (serverId) => assignments.deleteByTarget('SERVER', serverId),
  });
  const pools = new PoolService({
    store: poolStore,
    assignments,
    servers: serverStore,
    clearPool: (id) => servers.clearPool(id),
    countServers: (poolId) => serverStore.count({ poolId }),
    countLiveSessions: (poolId) => sessionStore.count({ poolId, statuses: ['ACTIVE', 'DISCONNECTED'] }),
    clock,
    newId,
  });
  const broker = new BrokerService({ pools, servers, serverStore, sessionStore, sessions, hosts });

  /** A pool assigned to the group staff, with RUNNING servers of `max` sessions each, named a, b, c... */
  async function pool(policy: 'BREADTH_FIRST' | 'DEPTH_FIRST', sizes: number[], maxSessions?: number) {
    const p = await pools.create(olga, { name: 'p', placementPolicy: policy, ...(maxSessions ? { maxSessions } : {}) });
    const ids: string[] = [];
    for (const [i, max] of sizes.entries()) {
      const s = await servers.create(olga, { name: String.fromCharCode(97 + i), configuration: { maxSessions: max } });
      await servers.start(olga, s.id);
      await servers.setPool(olga, s.id, p.id);
      ids.push(s.id);
    }
    await pools.assign(olga, { principalType: 'GROUP', principal: 'staff', targetType: 'POOL', targetId: p.id });
    return { poolId: p.id, ids };
  }

  /** `count` sessions on one server, by operators (no pool access needed), bypassing placement. */
  async function load(serverId: string, count: number, tag: string) {
    for (let i = 0; i < count; i++) {
      await sessions.create({ ...olga, userId: `${tag}-${i}`, username: `${tag}${i}` }, { serverId });
    }
  }
  return { broker, pools, servers, sessions, sessionStore, claims, assignments, accounts, pool, load };
}

describe('BrokerService.connect placement', () => {
  it('BREADTH_FIRST takes the server with the fewest sessions and says so', async () => {
    const h = setup();
    const { poolId, ids } = await h.pool('BREADTH_FIRST', [10, 10, 10]);
    await h.load(ids[0] as string, 3, 'a');
    await h.load(ids[1] as string, 1, 'b');
    await h.load(ids[2] as string, 2, 'c');
    const r = await h.broker.connect(user('u1'), { poolId });
    expect(r.server.id).toBe(ids[1]);
    expect(r.reason).toBe('least loaded server in pool p (BREADTH_FIRST): b had 1 of 10 sessions');
    expect(r.reconnected).toBe(false);
    expect(r.connection.password).not.toBeNull();
  });

  it('DEPTH_FIRST takes the fullest server that still has room, skipping a full one', async () => {
    const h = setup();
    const { poolId, ids } = await h.pool('DEPTH_FIRST', [2, 10, 10]);
    await h.load(ids[0] as string, 2, 'a');
    await h.load(ids[2] as string, 1, 'c');
    const r = await h.broker.connect(user('u1'), { poolId });
    expect(r.server.id).toBe(ids[2]);
    expect(r.reason).toBe('pool p fills one server before the next (DEPTH_FIRST): c had 1 of 10 sessions');
    // Four more fill c further, never b while c has room.
    for (let i = 2; i <= 5; i++) expect((await h.broker.connect(user(`u${i}`), { poolId })).server.id).toBe(ids[2]);
  });

  it('skips stopped servers and servers over a lowered cap; none left is a CONFLICT naming each', async () => {
    const h = setup();
    const { poolId, ids } = await h.pool('BREADTH_FIRST', [10, 10, 10]);
    await h.servers.stop(olga, ids[0] as string);
    await h.load(ids[1] as string, 2, 'b');
    await h.servers.update(olga, ids[1] as string, { configuration: { maxSessions: 1 } });
    // b holds 2 of a cap lowered to 1: full. c is the only one left.
    expect((await h.broker.connect(user('u1'), { poolId })).server.id).toBe(ids[2]);
    await h.servers.stop(olga, ids[2] as string, true);
    const err = await h.broker.connect(user('u2'), { poolId }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as LimitExceededError).limit).toBe('server.maxSessions');
    await h.servers.stop(olga, ids[1] as string, true);
    const none = await h.broker.connect(user('u2'), { poolId }).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(ConflictError);
    expect((none as ConflictError).message).toBe('no server of pool p takes sessions now (a: stopped; b: stopped; c: stopped)');
  });

  it('every server full: LIMIT_EXCEEDED naming the pool, its servers and their room; nothing is held', async () => {
    const h = setup();
    const { poolId } = await h.pool('BREADTH_FIRST', [1, 1]);
    await h.broker.connect(user('u1'), { poolId });
    await h.broker.connect(user('u2'), { poolId });
    const err = await h.broker.connect(user('u3'), { poolId }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as LimitExceededError).message).toMatch(
      /^every server of pool p that takes sessions is full \(2 servers, 2 sessions\)/,
    );
    expect(await h.claims.count('slot:sessions:global:')).toBe(2);
    expect(await h.claims.count('slot:sessions:user:')).toBe(2);
  });

  it('HOST_ACCOUNT through a pool: the picked host lacking the account refuses with a field error and holds nothing', async () => {
    const h = setup();
    const { poolId, ids } = await h.pool('BREADTH_FIRST', [10, 10]);
    h.accounts.missingHostAccounts.add('nobody');
    const err = await h.broker.connect(user('nobody'), { poolId }, { credentialMode: 'HOST_ACCOUNT' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).message).toMatch(/no Linux account "nobody" on the host of server (a|b)/);
    expect(await h.claims.count('slot:sessions:')).toBe(0);
    expect(await h.sessionStore.count({ statuses: ['ACTIVE', 'DISCONNECTED'] })).toBe(0);
    // One who has the account is admitted on either server, with no password of ours.
    const ok = await h.broker.connect(user('alice'), { poolId }, { credentialMode: 'HOST_ACCOUNT' });
    expect(ids).toContain(ok.server.id);
    expect(ok.session.credentialMode).toBe('HOST_ACCOUNT');
    expect(ok.connection.password).toBeNull();
  });

  it('deleting a server removes its assignments', async () => {
    const h = setup();
    const s = await h.servers.create(olga, { name: 'solo' });
    await h.pools.assign(olga, { principalType: 'USER', principal: 'u1', targetType: 'SERVER', targetId: s.id });
    expect(await h.assignments.findByTarget('SERVER', s.id)).toHaveLength(1);
    await h.servers.delete(olga, s.id);
    expect(await h.assignments.findByTarget('SERVER', s.id)).toEqual([]);
  });

  it('a host that refuses sessions is skipped with its reason', async () => {
    const h = setup(['rdp.test']);
    const { poolId } = await h.pool('BREADTH_FIRST', [10]);
    const err = await h.broker.connect(user('u1'), { poolId }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('no server of pool p takes sessions now (a: host rdp.test is offline)');
  });

  it('reconnects to a DISCONNECTED session before an ACTIVE one; an unassigned user gets NOT_FOUND and keeps the session', async () => {
    const h = setup();
    const { poolId, ids } = await h.pool('BREADTH_FIRST', [10, 10]);
    const u = user('u1');
    const first = await h.broker.connect(u, { poolId });
    // A second session of the same user, on the same server by createSession.
    const second = await h.sessions.create(u, { serverId: first.server.id === ids[0] ? ids[1] : ids[0] });
    await h.sessions.disconnect(u, first.session.id);
    const again = await h.broker.connect(u, { poolId });
    expect(again.session.id).toBe(first.session.id);
    expect(again.reconnected).toBe(true);
    expect(again.connection.password).toBeNull();
    expect(second.session.status).toBe('ACTIVE');

    const other = await h.broker.connect(user('u1', []), { poolId }).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(NotFoundError);
    expect((await h.sessionStore.findById(first.session.id))?.status).toBe('DISCONNECTED');
  });

  it('the pool slot goes back when a session ends, even after its server left the pool', async () => {
    const h = setup();
    const { poolId, ids } = await h.pool('DEPTH_FIRST', [10], 1);
    const r = await h.broker.connect(user('u1'), { poolId });
    expect(await h.claims.count('slot:sessions:pool:')).toBe(1);
    await expect(h.broker.connect(user('u2'), { poolId })).rejects.toThrow(/pool p already has its maximum of 1 sessions/);
    await h.servers.setPool(olga, ids[0] as string, null);
    await h.sessions.terminate(user('u1'), r.session.id, true);
    expect(await h.claims.count('slot:sessions:pool:')).toBe(0);
    expect(await h.pools.countLiveSessions(poolId)).toBe(0);
  });
});
