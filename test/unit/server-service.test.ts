import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryClaimStore } from '../../src/adapters/memory/memory-claim-store.js';
import { MemoryServerStore } from '../../src/adapters/memory/memory-server-store.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import {
  defaultResourceLimits,
  type ResourceLimitsProvider,
  staticLimitsProvider,
} from '../../src/domain/resources/resource-limits.js';
import type { LiveSessions } from '../../src/domain/servers/live-sessions.js';
import { DEFAULT_CONFIGURATION, DEFAULT_RESOURCES, type RdpServer, type ServerDrain } from '../../src/domain/servers/server.js';
import { ServerService } from '../../src/domain/servers/server-service.js';
import {
  ConflictError,
  ForbiddenError,
  LimitExceededError,
  NotFoundError,
  PortExhaustedError,
  RuntimeFailureError,
  RuntimeUnavailableError,
  ValidationError,
} from '../../src/domain/shared/errors.js';
import { encodeCursor } from '../../src/domain/shared/page.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeClock, RecordingPublisher, rejection } from '../support/service-fixtures.js';

const alice: Viewer = { userId: 'alice', username: 'alice', roles: ['user'], permissions: [] };
const bob: Viewer = { userId: 'bob', username: 'bob', roles: ['user'], permissions: [] };
const olga: Viewer = { userId: 'olga', username: 'olga', roles: ['operator'], permissions: [] };
const adam: Viewer = { userId: 'adam', username: 'adam', roles: ['admin'], permissions: [] };

const HOST = 'rdp.test';
const T0 = Date.parse('2025-01-01T00:00:00.000Z');

class Recorder extends RecordingPublisher {
  /** `KIND:STATUS` of each server event, in order. */
  kinds(): string[] {
    return this.published.flatMap((e) => (e.topic === 'server:changed' ? [`${e.payload.kind}:${e.payload.server.status}`] : []));
  }
}

class FakeLiveSessions implements LiveSessions {
  readonly live = new Map<string, number>();
  readonly terminated: { serverId: string; reason: string }[] = [];
  async countLive(serverId: string): Promise<number> {
    return this.live.get(serverId) ?? 0;
  }
  async terminateAll(serverId: string, reason: 'SERVER_STOPPED' | 'SERVER_ERROR' | 'DRAINED'): Promise<number> {
    const n = this.live.get(serverId) ?? 0;
    this.terminated.push({ serverId, reason });
    this.live.set(serverId, 0);
    return n;
  }
  async notifyDrain(): Promise<number> {
    return 0;
  }
}

interface SetupOptions {
  portRange?: { from: number; to: number };
  maxServers?: number;
  limits?: ResourceLimitsProvider;
  runtime?: FakeServerRuntime;
}

function setup(options: SetupOptions = {}) {
  const clock = new FakeClock(T0);
  const store = new MemoryServerStore();
  const claims = new MemoryClaimStore(clock);
  const events = new Recorder();
  const runtime = options.runtime ?? new FakeServerRuntime();
  const sessions = new FakeLiveSessions();
  const metrics = { created: 0, deleted: 0 };
  let nextId = 0;
  const service = new ServerService({
    store,
    claims,
    runtime,
    events,
    limits: options.limits ?? staticLimitsProvider(defaultResourceLimits({ maxServers: options.maxServers ?? 50 })),
    clock,
    newId: () => `00000000-0000-4000-8000-${String(++nextId).padStart(12, '0')}`,
    portRange: options.portRange ?? { from: 33890, to: 33999 },
    host: HOST,
    metrics: { created: () => void metrics.created++, deleted: () => void metrics.deleted++ },
    sessions,
  });
  return { service, store, claims, events, runtime, sessions, clock, metrics };
}

type Harness = ReturnType<typeof setup>;

async function running(h: Harness, viewer: Viewer = alice, name = 'desk'): Promise<RdpServer> {
  const created = await h.service.create(viewer, { name });
  return h.service.start(viewer, created.id);
}

describe('ServerService.create', () => {
  let h: Harness;
  beforeEach(() => {
    h = setup();
  });

  it('returns a STOPPED server on port 33890 with defaults, stores it, publishes CREATED and counts it', async () => {
    const server = await h.service.create(alice, { name: '  desk one  ' });
    expect(server).toStrictEqual({
      id: '00000000-0000-4000-8000-000000000001',
      name: 'desk one',
      description: '',
      owner: 'alice',
      createdBy: 'alice',
      status: 'STOPPED',
      statusMessage: null,
      statusBeforeMaintenance: null,
      hostId: HOST,
      host: HOST,
      port: 33890,
      poolId: null,
      configuration: DEFAULT_CONFIGURATION,
      resources: DEFAULT_RESOURCES,
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
      lastStartedAt: null,
      lastStoppedAt: null,
      drain: null,
      version: 1,
    });
    expect(await h.store.findById(server.id)).toStrictEqual(server);
    expect(h.events.published).toEqual([
      { topic: 'server:changed', id: server.id, payload: { kind: 'CREATED', server, at: '2025-01-01T00:00:00.000Z' } },
      {
        topic: 'fleet:changed',
        id: 'all',
        payload: { subject: 'SERVER', change: 'CREATED', serverId: server.id, server, at: '2025-01-01T00:00:00.000Z' },
      },
    ]);
    expect(h.metrics.created).toBe(1);
    // The slot number means nothing (any free one of 0..maxServers-1); the port claim is exact.
    const claims = (await h.claims.list('')).map((c) => [c.key, c.owner]).sort();
    expect(claims).toEqual([
      [`port:${HOST}:33890`, server.id],
      [expect.stringMatching(/^slot:servers:([0-9]|[1-4][0-9])$/), server.id],
    ]);
  });

  it('hands the second server port 33891', async () => {
    const first = await h.service.create(alice, { name: 'one' });
    const second = await h.service.create(bob, { name: 'two' });
    expect([first.port, second.port]).toEqual([33890, 33891]);
  });

  it('stores the given description, configuration and resources merged over the defaults', async () => {
    const server = await h.service.create(alice, {
      name: 'custom',
      description: 'for the design team',
      configuration: { desktop: 'gnome', resolution: '1280x720', colorDepth: 16, maxSessions: 3 },
      resources: { cpuLimit: 1.5, memoryLimitMb: 2048 },
    });
    expect(server.description).toBe('for the design team');
    expect(server.configuration).toEqual({
      ...DEFAULT_CONFIGURATION,
      desktop: 'gnome',
      resolution: '1280x720',
      colorDepth: 16,
      maxSessions: 3,
    });
    expect(server.resources).toEqual({ ...DEFAULT_RESOURCES, cpuLimit: 1.5, memoryLimitMb: 2048 });
    expect(await h.store.findById(server.id)).toStrictEqual(server);
  });

  it('treats explicit nulls (GraphQL omitted fields) as absent', async () => {
    const server = await h.service.create(alice, { name: 'nulls', description: null, configuration: null, resources: null });
    expect(server.description).toBe('');
    expect(server.configuration).toEqual(DEFAULT_CONFIGURATION);
  });

  it('accepts a 255-character name', async () => {
    const server = await h.service.create(alice, { name: 'n'.repeat(255) });
    expect(server.name).toHaveLength(255);
  });

  it('frees the port of a deleted server and hands it to the next server', async () => {
    const first = await h.service.create(alice, { name: 'one' });
    await h.service.create(alice, { name: 'two' });
    await h.service.delete(alice, first.id);
    const third = await h.service.create(alice, { name: 'three' });
    expect(third.port).toBe(33890);
    const fourth = await h.service.create(alice, { name: 'four' });
    expect(fourth.port).toBe(33892);
  });

  it('never hands out 3389 even when the range includes it', async () => {
    h = setup({ portRange: { from: 3388, to: 3390 } });
    const ports = [(await h.service.create(alice, { name: 'a' })).port, (await h.service.create(alice, { name: 'b' })).port];
    expect(ports).toEqual([3388, 3390]);
    expect(await rejection(h.service.create(alice, { name: 'c' }))).toBeInstanceOf(PortExhaustedError);
    expect((await h.claims.list(`port:${HOST}:`)).map((c) => c.key).sort()).toEqual([`port:${HOST}:3388`, `port:${HOST}:3390`]);
  });

  it('throws PortExhaustedError when the range is full, releases the slot it took, and creates again after a delete', async () => {
    h = setup({ portRange: { from: 33890, to: 33891 } });
    const one = await h.service.create(alice, { name: 'one' });
    const two = await h.service.create(alice, { name: 'two' });
    h.events.clear();

    const err = await rejection(h.service.create(alice, { name: 'three' }));
    expect(err).toBeInstanceOf(PortExhaustedError);
    expect(err).toMatchObject({ code: 'PORT_EXHAUSTED', host: HOST, from: 33890, to: 33891 });
    expect(await h.store.count({})).toBe(2);
    expect(h.events.published).toEqual([]);
    expect(h.metrics.created).toBe(2);
    expect((await h.claims.list('slot:servers:')).map((c) => c.owner).sort()).toEqual([one.id, two.id]);

    await h.service.delete(alice, one.id);
    const again = await h.service.create(alice, { name: 'three again' });
    expect(again.port).toBe(33890);
    expect((await h.claims.list('')).filter((c) => c.owner === again.id)).toHaveLength(2);
  });

  it('throws LimitExceededError past maxServers without storing or claiming, and creates again after a delete', async () => {
    h = setup({ maxServers: 2 });
    const one = await h.service.create(alice, { name: 'one' });
    await h.service.create(bob, { name: 'two' });
    h.events.clear();

    const err = await rejection(h.service.create(olga, { name: 'three' }));
    expect(err).toBeInstanceOf(LimitExceededError);
    expect(err).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'maxServers', max: 2 });
    expect(await h.store.count({})).toBe(2);
    expect(h.events.published).toEqual([]);
    expect(await h.claims.list(`port:${HOST}:`)).toHaveLength(2);
    expect(await h.claims.list('slot:servers:')).toHaveLength(2);

    await h.service.delete(alice, one.id);
    expect((await h.service.create(olga, { name: 'three again' })).port).toBe(33890);
  });

  it('keeps the fleet within a lowered maxServers after deleting a server whose slot is below the new cap', async () => {
    const limits = staticLimitsProvider(defaultResourceLimits({ maxServers: 3 }));
    h = setup({ limits });
    for (const name of ['one', 'two', 'three']) await h.service.create(alice, { name });
    limits.set(defaultResourceLimits({ maxServers: 2 }));
    // Three servers now exceed the cap of two; deleting one leaves two, so a create must be refused.
    const holderOfSlot0 = (await h.claims.list('slot:servers:')).find((c) => c.key === 'slot:servers:0')?.owner ?? '';
    await h.service.delete(alice, holderOfSlot0);
    expect(await h.store.count({})).toBe(2);
    expect(await rejection(h.service.create(alice, { name: 'over the cap' }))).toBeInstanceOf(LimitExceededError);
    expect(await h.store.count({})).toBe(2);
  });

  it('gives ten concurrent creates on a range of five ports five distinct ports and five PortExhaustedErrors', async () => {
    h = setup({ portRange: { from: 33890, to: 33894 } });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => h.service.create(alice, { name: `s${i}` })));
    const ports = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.port] : []));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(ports.sort()).toEqual([33890, 33891, 33892, 33893, 33894]);
    expect(errors).toHaveLength(5);
    for (const e of errors) expect(e).toBeInstanceOf(PortExhaustedError);
    expect(await h.store.count({})).toBe(5);
    expect(await h.claims.list('slot:servers:')).toHaveLength(5);
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['a missing name', {}, 'name'],
    ['a blank name', { name: '   ' }, 'name'],
    ['a 256-character name', { name: 'n'.repeat(256) }, 'name'],
    ['a name with a control character', { name: 'desk\u0007' }, 'name'],
    ['a 1001-character description', { name: 'ok', description: 'd'.repeat(1001) }, 'description'],
    ['resolution abc', { name: 'ok', configuration: { resolution: 'abc' } }, 'configuration.resolution'],
    ['resolution 100x100', { name: 'ok', configuration: { resolution: '100x100' } }, 'configuration.resolution'],
    ['colorDepth 8', { name: 'ok', configuration: { colorDepth: 8 } }, 'configuration.colorDepth'],
    ['desktop windows', { name: 'ok', configuration: { desktop: 'windows' } }, 'configuration.desktop'],
    ['memoryLimitMb 1000 (not a multiple of 256)', { name: 'ok', resources: { memoryLimitMb: 1000 } }, 'resources.memoryLimitMb'],
    ['cpuLimit 10', { name: 'ok', resources: { cpuLimit: 10 } }, 'resources.cpuLimit'],
    [
      'memoryLimitMb 8192 (over the per-server 4096)',
      { name: 'ok', resources: { memoryLimitMb: 8192 } },
      'resources.memoryLimitMb',
    ],
    ['diskLimitMb 40960 (over the per-server 20480)', { name: 'ok', resources: { diskLimitMb: 40960 } }, 'resources.diskLimitMb'],
    ['a user creating for someone else', { name: 'ok', ownerId: 'bob' }, 'ownerId'],
  ];

  for (const [label, input, field] of invalid) {
    it(`rejects ${label} with ValidationError on ${field}, storing, publishing and claiming nothing`, async () => {
      const err = await rejection(h.service.create(alice, input));
      expect(err).toBeInstanceOf(ValidationError);
      expect(err).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(await h.store.count({})).toBe(0);
      expect(h.events.published).toEqual([]);
      expect(await h.claims.list('')).toEqual([]);
      expect(h.metrics.created).toBe(0);
    });
  }

  it('rejects an unknown input field with ValidationError', async () => {
    expect(await rejection(h.service.create(alice, { name: 'ok', port: 3389 }))).toBeInstanceOf(ValidationError);
    expect(await h.claims.list('')).toEqual([]);
  });

  it('lets an operator create a server for another user, who then owns and sees it', async () => {
    const server = await h.service.create(olga, { name: 'for alice', ownerId: 'alice' });
    expect(server).toMatchObject({ owner: 'alice', createdBy: 'olga' });
    expect((await h.service.get(alice, server.id)).id).toBe(server.id);
  });
});

describe('ServerService ownership', () => {
  let h: Harness;
  let own: RdpServer;
  beforeEach(async () => {
    h = setup();
    own = await h.service.create(alice, { name: 'alice desk' });
    h.events.clear();
  });

  const foreign: [string, (h: Harness, id: string) => Promise<unknown>][] = [
    ['get', (h, id) => h.service.get(bob, id)],
    ['update', (h, id) => h.service.update(bob, id, { name: 'hijacked' })],
    ['start', (h, id) => h.service.start(bob, id)],
    ['stop', (h, id) => h.service.stop(bob, id, true)],
    ['restart', (h, id) => h.service.restart(bob, id, true)],
    ['delete', (h, id) => h.service.delete(bob, id, true)],
  ];

  for (const [op, call] of foreign) {
    it(`answers another user's ${op} exactly as a missing id, and changes nothing`, async () => {
      const missingId = '00000000-0000-4000-8000-999999999999';
      const onForeign = await rejection(call(h, own.id));
      const onMissing = await rejection(call(h, missingId));
      expect(onForeign).toBeInstanceOf(NotFoundError);
      expect(onMissing).toBeInstanceOf(NotFoundError);
      expect(onForeign).toMatchObject({ code: 'NOT_FOUND', entity: 'server', message: `server ${own.id} not found` });
      expect(onMissing).toMatchObject({ code: 'NOT_FOUND', entity: 'server', message: `server ${missingId} not found` });
      expect(await h.store.findById(own.id)).toStrictEqual(own);
      expect(h.events.published).toEqual([]);
      expect(h.runtime.operations().filter((o) => o !== 'checkAvailable')).toEqual([]);
    });
  }

  it('lets an operator get, update, start, stop and delete a user’s server', async () => {
    expect((await h.service.get(olga, own.id)).id).toBe(own.id);
    expect((await h.service.update(olga, own.id, { name: 'by olga' })).name).toBe('by olga');
    expect((await h.service.start(olga, own.id)).status).toBe('RUNNING');
    expect((await h.service.stop(olga, own.id)).status).toBe('STOPPED');
    await h.service.delete(olga, own.id);
    expect(await h.store.findById(own.id)).toBeNull();
  });

  it('lets the creator manage a server owned by someone else', async () => {
    const made = await h.service.create(olga, { name: 'for bob', ownerId: 'bob' });
    expect((await h.service.get(olga, made.id)).owner).toBe('bob');
    expect((await h.service.start(bob, made.id)).status).toBe('RUNNING');
  });

  it('lists only own (owned or created) servers for a user, with a matching totalCount; all for an operator', async () => {
    const second = await h.service.create(alice, { name: 'alice two' });
    const bobs = await h.service.create(bob, { name: 'bob desk' });
    const forAlice = await h.service.create(olga, { name: 'olga for alice', ownerId: 'alice' });
    const olgas = await h.service.create(olga, { name: 'olga own' });

    const aliceList = await h.service.list(alice, {}, { first: 10 });
    expect(aliceList.items.map((s) => s.id)).toEqual([own.id, second.id, forAlice.id]);
    expect(aliceList.totalCount).toBe(3);
    const bobList = await h.service.list(bob, {}, { first: 10 });
    expect(bobList.items.map((s) => s.id)).toEqual([bobs.id]);
    expect(bobList.totalCount).toBe(1);
    const olgaList = await h.service.list(olga, {}, { first: 10 });
    expect(olgaList.items.map((s) => s.id)).toEqual([own.id, second.id, bobs.id, forAlice.id, olgas.id]);
    expect(olgaList.totalCount).toBe(5);
    const bobFiltered = await h.service.list(bob, { ownerId: 'alice' }, { first: 10 });
    expect(bobFiltered).toEqual({ items: [], hasNextPage: false, totalCount: 0 });
  });

  it('listAll holds what the list pages hold, scoped the same way (the fleet snapshot)', async () => {
    const made = [own.id];
    for (let i = 0; i < 40; i++) made.push((await h.service.create(olga, { name: `fleet ${i}`, ownerId: 'alice' })).id);
    const bobs = await h.service.create(bob, { name: 'bob desk' });
    expect((await h.service.listAll(alice)).map((s) => s.id)).toEqual(made);
    expect((await h.service.listAll(bob)).map((s) => s.id)).toEqual([bobs.id]);
    expect((await h.service.listAll(olga)).map((s) => s.id)).toEqual([...made, bobs.id]);
  });

  it('pages a list with opaque cursors', async () => {
    const second = await h.service.create(alice, { name: 'two' });
    const third = await h.service.create(alice, { name: 'three' });
    const page1 = await h.service.list(alice, {}, { first: 2 });
    expect(page1.items.map((s) => s.id)).toEqual([own.id, second.id]);
    expect(page1.hasNextPage).toBe(true);
    const last = page1.items.at(-1);
    const after = last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : undefined;
    const page2 = await h.service.list(alice, {}, { first: 2, after });
    expect(page2.items.map((s) => s.id)).toEqual([third.id]);
    expect(page2).toMatchObject({ hasNextPage: false, totalCount: 3 });
  });

  it('rejects first above 100 or below 0 and a cursor it did not make', async () => {
    expect(await rejection(h.service.list(alice, {}, { first: 101 }))).toMatchObject({ field: 'first' });
    expect(await rejection(h.service.list(alice, {}, { first: -1 }))).toMatchObject({ field: 'first' });
    expect(await rejection(h.service.list(alice, {}, { first: 5, after: 'not-a-cursor' }))).toMatchObject({ field: 'after' });
  });

  it('rejects a well-formed cursor whose createdAt is not a timestamp (stores would disagree on it)', async () => {
    const crafted = encodeCursor({ createdAt: 'garbage', id: own.id });
    const err = await rejection(h.service.list(alice, {}, { first: 5, after: crafted }));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ field: 'after' });
  });

  it('batch-reads with null for missing and for other users’ servers', async () => {
    const bobs = await h.service.create(bob, { name: 'bob desk' });
    const got = await h.service.getMany(bob, [own.id, bobs.id, 'missing']);
    expect(got.map((s) => s?.id ?? null)).toEqual([null, bobs.id, null]);
  });
});

describe('ServerService start, stop, restart and delete', () => {
  let h: Harness;
  let server: RdpServer;
  beforeEach(async () => {
    h = setup();
    server = await h.service.create(alice, { name: 'desk' });
    h.events.clear();
  });

  it('starts a STOPPED server: RUNNING, events STARTING then RUNNING, lastStartedAt set, runtime started once', async () => {
    h.clock.advance(5_000);
    const started = await h.service.start(alice, server.id);
    expect(started).toMatchObject({
      status: 'RUNNING',
      statusMessage: null,
      lastStartedAt: '2025-01-01T00:00:05.000Z',
      version: 3,
    });
    expect(started.updatedAt).toBe('2025-01-01T00:00:05.000Z');
    expect(await h.store.findById(server.id)).toStrictEqual(started);
    expect(h.events.kinds()).toEqual(['STATUS_CHANGED:STARTING', 'STATUS_CHANGED:RUNNING']);
    expect(
      h.events.published.every(
        (e) => (e.topic === 'server:changed' && e.id === server.id) || (e.topic === 'fleet:changed' && e.id === 'all'),
      ),
    ).toBe(true);
    expect(h.runtime.operations()).toEqual(['checkAvailable', `start:${server.id}`]);
    expect(h.runtime.calls[1]?.status).toBe('STARTING');
  });

  it('refuses to start a RUNNING server with ConflictError and does not call the runtime again', async () => {
    await h.service.start(alice, server.id);
    h.events.clear();
    expect(await rejection(h.service.start(alice, server.id))).toBeInstanceOf(ConflictError);
    expect(h.events.published).toEqual([]);
    expect(h.runtime.calls.filter((c) => c.op === 'start')).toHaveLength(1);
    expect((await h.store.findById(server.id))?.status).toBe('RUNNING');
  });

  it('lets exactly one of five concurrent starts win; the others get ConflictError', async () => {
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => h.service.start(alice, server.id)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
    expect(h.runtime.calls.filter((c) => c.op === 'start')).toHaveLength(1);
    expect(h.events.kinds()).toEqual(['STATUS_CHANGED:STARTING', 'STATUS_CHANGED:RUNNING']);
  });

  it('throws RuntimeUnavailableError when the runtime is unavailable, leaving the server STOPPED with no event', async () => {
    h.runtime.available = false;
    expect(await rejection(h.service.start(alice, server.id))).toBeInstanceOf(RuntimeUnavailableError);
    expect(await h.store.findById(server.id)).toStrictEqual(server);
    expect(h.events.published).toEqual([]);
    expect(h.runtime.calls.filter((c) => c.op === 'start')).toEqual([]);
  });

  it('puts the server in ERROR with the runtime message when the runtime fails to start it', async () => {
    h.runtime.startFailure = new RuntimeFailureError('xrdp exited with code 1');
    const err = await rejection(h.service.start(alice, server.id));
    expect(err).toBeInstanceOf(RuntimeFailureError);
    expect(err).toMatchObject({ message: 'xrdp exited with code 1' });
    expect(await h.store.findById(server.id)).toMatchObject({
      status: 'ERROR',
      statusMessage: 'xrdp exited with code 1',
      lastStartedAt: null,
    });
    expect(h.events.kinds()).toEqual(['STATUS_CHANGED:STARTING', 'STATUS_CHANGED:ERROR']);
  });

  it('wraps a plain runtime error in RuntimeFailureError', async () => {
    h.runtime.startFailure = new Error('spawn EACCES');
    const err = await rejection(h.service.start(alice, server.id));
    expect(err).toBeInstanceOf(RuntimeFailureError);
    expect(err).toMatchObject({ code: 'RUNTIME_FAILURE', message: 'spawn EACCES' });
    expect((await h.store.findById(server.id))?.statusMessage).toBe('spawn EACCES');
  });

  it('starts a server in ERROR again and clears its status message', async () => {
    h.runtime.startFailure = new RuntimeFailureError('boom');
    await rejection(h.service.start(alice, server.id));
    h.runtime.startFailure = null;
    const started = await h.service.start(alice, server.id);
    expect(started).toMatchObject({ status: 'RUNNING', statusMessage: null });
  });

  it('stops a RUNNING server: STOPPED, events STOPPING then STOPPED, lastStoppedAt set, runtime stopped', async () => {
    await h.service.start(alice, server.id);
    h.events.clear();
    h.clock.advance(60_000);
    const stopped = await h.service.stop(alice, server.id);
    expect(stopped).toMatchObject({
      status: 'STOPPED',
      lastStoppedAt: '2025-01-01T00:01:00.000Z',
      lastStartedAt: '2025-01-01T00:00:00.000Z',
    });
    expect(await h.store.findById(server.id)).toStrictEqual(stopped);
    expect(h.events.kinds()).toEqual(['STATUS_CHANGED:STOPPING', 'STATUS_CHANGED:STOPPED']);
    expect(h.runtime.operations().at(-1)).toBe(`stop:${server.id}`);
  });

  it('refuses to stop a STOPPED server with ConflictError without calling the runtime', async () => {
    expect(await rejection(h.service.stop(alice, server.id))).toBeInstanceOf(ConflictError);
    expect(h.runtime.calls.filter((c) => c.op === 'stop')).toEqual([]);
    expect(h.events.published).toEqual([]);
  });

  it('puts the server in ERROR when the runtime fails to stop it', async () => {
    await h.service.start(alice, server.id);
    h.runtime.stopFailure = new Error('kill: no such process');
    expect(await rejection(h.service.stop(alice, server.id))).toBeInstanceOf(RuntimeFailureError);
    expect(await h.store.findById(server.id)).toMatchObject({ status: 'ERROR', statusMessage: 'kill: no such process' });
  });

  it('restarts a RUNNING server through STOPPING, STOPPED, STARTING and RUNNING', async () => {
    await h.service.start(alice, server.id);
    h.events.clear();
    const restarted = await h.service.restart(alice, server.id);
    expect(restarted.status).toBe('RUNNING');
    expect(h.events.kinds()).toEqual([
      'STATUS_CHANGED:STOPPING',
      'STATUS_CHANGED:STOPPED',
      'STATUS_CHANGED:STARTING',
      'STATUS_CHANGED:RUNNING',
    ]);
    expect(h.runtime.calls.filter((c) => c.op === 'start')).toHaveLength(2);
  });

  it('refuses to restart a STOPPED server with ConflictError', async () => {
    expect(await rejection(h.service.restart(alice, server.id))).toBeInstanceOf(ConflictError);
    expect(h.events.published).toEqual([]);
  });

  it('deletes a RUNNING server: stops and removes it, frees its claims, publishes DELETED and counts it', async () => {
    await h.service.start(alice, server.id);
    h.events.clear();
    const deleted = await h.service.delete(alice, server.id);
    expect(deleted.id).toBe(server.id);
    expect(await h.store.findById(server.id)).toBeNull();
    expect(h.events.kinds()).toEqual(['DELETED:RUNNING']);
    expect(h.runtime.operations().slice(-2)).toEqual([`stop:${server.id}`, `remove:${server.id}`]);
    expect(await h.claims.list('')).toEqual([]);
    expect(h.metrics.deleted).toBe(1);
    expect(await rejection(h.service.delete(alice, server.id))).toBeInstanceOf(NotFoundError);
  });

  it('deletes a STOPPED server without asking the runtime to stop it', async () => {
    await h.service.delete(alice, server.id);
    expect(h.runtime.operations()).toEqual([`remove:${server.id}`]);
    expect(await h.claims.list('')).toEqual([]);
  });
});

describe('ServerService with live sessions', () => {
  let h: Harness;
  let server: RdpServer;
  beforeEach(async () => {
    h = setup();
    server = await running(h);
    h.sessions.live.set(server.id, 2);
    h.events.clear();
  });

  const ops: [string, (h: Harness, id: string, force: boolean) => Promise<unknown>, string | null][] = [
    ['stop', (h, id, force) => h.service.stop(alice, id, force), 'STOPPED'],
    ['restart', (h, id, force) => h.service.restart(alice, id, force), 'RUNNING'],
    ['delete', (h, id, force) => h.service.delete(alice, id, force), null],
  ];

  for (const [op, call, after] of ops) {
    it(`refuses ${op} without force with ConflictError, terminating nothing and changing nothing`, async () => {
      const err = await rejection(call(h, server.id, false));
      expect(err).toBeInstanceOf(ConflictError);
      expect(err).toMatchObject({ message: expect.stringContaining('2 live session') });
      expect(h.sessions.terminated).toEqual([]);
      expect(await h.store.findById(server.id)).toStrictEqual(server);
      expect(h.events.published).toEqual([]);
    });

    it(`${op} with force terminates the sessions with SERVER_STOPPED first`, async () => {
      await call(h, server.id, true);
      // First the forced termination, then the sweep for sessions admitted while it stopped.
      expect(h.sessions.terminated[0]).toEqual({ serverId: server.id, reason: 'SERVER_STOPPED' });
      expect(h.sessions.terminated.every((t) => t.serverId === server.id && t.reason === 'SERVER_STOPPED')).toBe(true);
      expect((await h.store.findById(server.id))?.status ?? null).toBe(after);
    });
  }
});

function drainOf(deadline: string): ServerDrain {
  return {
    id: 'd1',
    origin: 'SERVER',
    deadline,
    stopServer: false,
    startedAt: '2025-01-01T00:00:00.000Z',
    startedBy: 'olga',
    noticeStep: 3600,
    actionStartedAt: null,
    completedAt: null,
  };
}

describe('ServerService maintenance', () => {
  let h: Harness;
  let server: RdpServer;
  beforeEach(async () => {
    h = setup();
    server = await running(h);
    h.events.clear();
  });

  it('refuses operators and users with ForbiddenError, changing nothing', async () => {
    expect(await rejection(h.service.setMaintenance(olga, server.id, true))).toBeInstanceOf(ForbiddenError);
    expect(await rejection(h.service.setMaintenance(alice, server.id, true))).toBeInstanceOf(ForbiddenError);
    expect(await h.store.findById(server.id)).toStrictEqual(server);
    expect(h.events.published).toEqual([]);
  });

  it('lets an admin stop and start a server in maintenance: it stays in maintenance with the outcome kept for its end', async () => {
    await h.service.setMaintenance(adam, server.id, true);
    const stopped = await h.service.stop(adam, server.id);
    expect(stopped).toMatchObject({
      status: 'MAINTENANCE',
      statusBeforeMaintenance: 'STOPPED',
      lastStoppedAt: expect.any(String),
    });
    expect(h.runtime.running.has(server.id)).toBe(false);
    expect(await rejection(h.service.stop(adam, server.id))).toBeInstanceOf(ConflictError);
    const started = await h.service.start(adam, server.id);
    expect(started).toMatchObject({ status: 'MAINTENANCE', statusBeforeMaintenance: 'RUNNING' });
    expect(h.runtime.running.has(server.id)).toBe(true);
    expect((await h.service.restart(adam, server.id)).statusBeforeMaintenance).toBe('RUNNING');
    await h.service.stop(adam, server.id);
    expect((await h.service.setMaintenance(adam, server.id, false)).status).toBe('STOPPED');
  });

  it('refuses to delete a server in maintenance without force (owner and admin alike); with force it goes', async () => {
    await h.service.setMaintenance(adam, server.id, true);
    for (const who of [alice, adam]) {
      const err = await rejection(h.service.delete(who, server.id));
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as Error).message).toMatch(/in maintenance; pass force: true/);
    }
    expect(await h.store.findById(server.id)).not.toBeNull();
    await h.service.delete(alice, server.id, true);
    expect(await h.store.findById(server.id)).toBeNull();
  });

  it('refuses to delete a draining server without force, naming the deadline', async () => {
    const draining = { ...server, drain: drainOf('2025-01-01T01:00:00.000Z'), version: server.version + 1 };
    expect(await h.store.compareAndSet(draining, server.version)).toBe(true);
    const err = await rejection(h.service.delete(adam, server.id));
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toMatch(/draining \(deadline 2025-01-01T01:00:00.000Z\); pass force: true/);
    await h.service.delete(adam, server.id, true);
    expect(await h.store.findById(server.id)).toBeNull();
  });

  it('lets an admin put a RUNNING server in maintenance, refuses start and stop there, and restores RUNNING on leaving', async () => {
    const inMaintenance = await h.service.setMaintenance(adam, server.id, true);
    expect(inMaintenance).toMatchObject({ status: 'MAINTENANCE', statusBeforeMaintenance: 'RUNNING' });
    expect(h.events.kinds()).toEqual(['STATUS_CHANGED:MAINTENANCE']);

    expect(await rejection(h.service.start(alice, server.id))).toBeInstanceOf(ConflictError);
    expect(await rejection(h.service.stop(alice, server.id))).toBeInstanceOf(ConflictError);
    expect(await rejection(h.service.restart(alice, server.id))).toBeInstanceOf(ConflictError);
    expect(await rejection(h.service.setMaintenance(adam, server.id, true))).toBeInstanceOf(ConflictError);

    const restored = await h.service.setMaintenance(adam, server.id, false);
    expect(restored).toMatchObject({ status: 'RUNNING', statusBeforeMaintenance: null });
    expect(await h.store.findById(server.id)).toStrictEqual(restored);
    expect(h.events.kinds()).toEqual(['STATUS_CHANGED:MAINTENANCE', 'STATUS_CHANGED:RUNNING']);
  });

  it('restores STOPPED for a server that was stopped before maintenance', async () => {
    await h.service.stop(alice, server.id);
    await h.service.setMaintenance(adam, server.id, true);
    expect((await h.service.setMaintenance(adam, server.id, false)).status).toBe('STOPPED');
  });

  it('refuses to leave maintenance for a server not in it', async () => {
    expect(await rejection(h.service.setMaintenance(adam, server.id, false))).toBeInstanceOf(ConflictError);
  });

  it('records a crash during maintenance so that leaving it lands in ERROR', async () => {
    await h.service.setMaintenance(adam, server.id, true);
    const marked = await h.service.markFailed(server.id, 'segfault');
    expect(marked).toMatchObject({ status: 'MAINTENANCE', statusBeforeMaintenance: 'ERROR', statusMessage: 'segfault' });
    expect((await h.service.setMaintenance(adam, server.id, false)).status).toBe('ERROR');
  });
});

describe('ServerService.markFailed', () => {
  let h: Harness;
  beforeEach(() => {
    h = setup();
  });

  it('turns a RUNNING server that exits on its own into ERROR and publishes STATUS_CHANGED', async () => {
    const server = await running(h);
    h.events.clear();
    const pending: Promise<RdpServer | null>[] = [];
    h.runtime.onUnexpectedExit((exit) => pending.push(h.service.markFailed(exit.serverId, exit.message)));
    h.runtime.crash(server.id, 'xrdp exited with signal 11');
    const [marked] = await Promise.all(pending);
    expect(marked).toMatchObject({ status: 'ERROR', statusMessage: 'xrdp exited with signal 11', version: server.version + 1 });
    expect(await h.store.findById(server.id)).toStrictEqual(marked);
    expect(h.events.kinds()).toEqual(['STATUS_CHANGED:ERROR']);
  });

  it('leaves a STOPPED server as it is, with no event', async () => {
    const server = await h.service.create(alice, { name: 'idle' });
    h.events.clear();
    expect(await h.service.markFailed(server.id, 'late exit')).toStrictEqual(server);
    expect(h.events.published).toEqual([]);
  });

  it('returns null for a server that no longer exists', async () => {
    expect(await h.service.markFailed('gone', 'late exit')).toBeNull();
  });
});

describe('ServerService.reconcileClaims', () => {
  let h: Harness;
  let server: RdpServer;
  beforeEach(async () => {
    h = setup();
    server = await h.service.create(alice, { name: 'kept' });
    // A replica died between claiming and writing its server:
    expect(await h.claims.tryClaim(`port:${HOST}:33950`, 'dead-server')).toBe(true);
    expect(await h.claims.tryClaim('slot:servers:9999', 'dead-server')).toBe(true);
    expect(await h.claims.tryClaim('session:unrelated', 'dead-server')).toBe(true);
  });

  const keys = async (h: Harness): Promise<string[]> => (await h.claims.list('')).map((c) => c.key).sort();

  it('frees nothing while the orphan claims are at most 60 s old', async () => {
    h.clock.advance(60_000);
    expect(await h.service.reconcileClaims()).toBe(0);
    expect(await h.claims.list('')).toHaveLength(5);
  });

  it('frees port and slot claims older than 60 s whose server does not exist, keeping live servers’ and other claims', async () => {
    h.clock.advance(60_001);
    expect(await h.service.reconcileClaims()).toBe(2);
    expect(await keys(h)).toEqual([`port:${HOST}:33890`, 'session:unrelated', expect.stringMatching(/^slot:servers:\d+$/)]);
    expect((await h.claims.list('slot:servers:')).map((c) => c.owner)).toEqual([server.id]);
    expect((await h.service.create(bob, { name: 'next' })).port).toBe(33891);
    expect(server.port).toBe(33890);
  });

  it('keeps a fresh orphan claim until it too is older than 60 s', async () => {
    h.clock.advance(61_000);
    expect(await h.claims.tryClaim(`port:${HOST}:33960`, 'in-flight')).toBe(true);
    expect(await h.service.reconcileClaims()).toBe(2);
    expect(await keys(h)).toContain(`port:${HOST}:33960`);
    h.clock.advance(61_000);
    expect(await h.service.reconcileClaims()).toBe(1);
    expect(await keys(h)).not.toContain(`port:${HOST}:33960`);
  });
});

describe('ServerService.update', () => {
  let h: Harness;
  let server: RdpServer;
  beforeEach(async () => {
    h = setup();
    server = await h.service.create(alice, { name: 'desk', configuration: { desktop: 'kde' } });
    h.events.clear();
    h.clock.advance(1_000);
  });

  it('merges the patch, bumps the version and updatedAt, and publishes UPDATED', async () => {
    const updated = await h.service.update(alice, server.id, {
      name: ' renamed ',
      configuration: { resolution: '1024x768' },
      resources: { cpuLimit: 4 },
    });
    expect(updated).toStrictEqual({
      ...server,
      name: 'renamed',
      configuration: { ...server.configuration, resolution: '1024x768' },
      resources: { ...server.resources, cpuLimit: 4 },
      updatedAt: '2025-01-01T00:00:01.000Z',
      version: 2,
    });
    expect(updated.configuration.desktop).toBe('kde');
    expect(await h.store.findById(server.id)).toStrictEqual(updated);
    expect(h.events.kinds()).toEqual(['UPDATED:STOPPED']);
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['a blank name', { name: '  ' }, 'name'],
    ['resolution abc', { configuration: { resolution: 'abc' } }, 'configuration.resolution'],
    ['colorDepth 8', { configuration: { colorDepth: 8 } }, 'configuration.colorDepth'],
    ['memoryLimitMb 8192 over the per-server limit', { resources: { memoryLimitMb: 8192 } }, 'resources.memoryLimitMb'],
    ['cpuLimit 10', { resources: { cpuLimit: 10 } }, 'resources.cpuLimit'],
  ];

  for (const [label, input, field] of invalid) {
    it(`rejects ${label} with ValidationError on ${field} and leaves the stored server unchanged`, async () => {
      const err = await rejection(h.service.update(alice, server.id, { name: 'would change', ...input }));
      expect(err).toBeInstanceOf(ValidationError);
      expect(err).toMatchObject({ field });
      expect(await h.store.findById(server.id)).toStrictEqual(server);
      expect(h.events.published).toEqual([]);
    });
  }

  it('rejects an attempt to change the owner through update', async () => {
    expect(await rejection(h.service.update(alice, server.id, { ownerId: 'bob' }))).toBeInstanceOf(ValidationError);
    expect((await h.store.findById(server.id))?.owner).toBe('alice');
  });
});
