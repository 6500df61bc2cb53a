import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../../src/adapters/memory/memory-audit-log.js';
import { MemoryClaimStore } from '../../src/adapters/memory/memory-claim-store.js';
import { MemoryHostStore } from '../../src/adapters/memory/memory-host-store.js';
import { MemoryServerStore } from '../../src/adapters/memory/memory-server-store.js';
import { AuditService } from '../../src/domain/audit/audit-service.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import { PlacementError } from '../../src/domain/hosts/host-errors.js';
import type { HostEvent } from '../../src/domain/hosts/host-events.js';
import type { HostHello } from '../../src/domain/hosts/host-input.js';
import { HostPlacement } from '../../src/domain/hosts/host-placement.js';
import { HostService } from '../../src/domain/hosts/host-service.js';
import { defaultResourceLimits, staticLimitsProvider } from '../../src/domain/resources/resource-limits.js';
import { ServerService } from '../../src/domain/servers/server-service.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PortExhaustedError,
  ValidationError,
} from '../../src/domain/shared/errors.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeClock, RecordingPublisher, rejection } from '../support/service-fixtures.js';

const alice: Viewer = { userId: 'alice', username: 'alice', roles: ['user'], permissions: [] };
const olga: Viewer = { userId: 'olga', username: 'olga', roles: ['operator'], permissions: [] };
const adam: Viewer = { userId: 'adam', username: 'adam', roles: ['admin'], permissions: [] };

const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const INTERVAL_S = 5;

class Recorder extends RecordingPublisher {
  /** Host events under `key`, as `KIND:STATUS` with the host id. */
  hostEvents(key: string): string[] {
    return this.published.flatMap((e) =>
      e.topic === 'host:changed' && e.id === key ? [`${e.payload.host.id} ${e.payload.kind}:${e.payload.status}`] : [],
    );
  }
  lastHost(key: string): HostEvent | undefined {
    return this.published.flatMap((e) => (e.topic === 'host:changed' && e.id === key ? [e.payload] : [])).at(-1);
  }
}

function hello(id: string, over: Partial<HostHello> = {}): HostHello {
  return {
    id,
    name: `machine ${id}`,
    labels: { zone: 'eu-1a' },
    agentVersion: '1.0.0',
    rdpAddress: `${id}.rdp.test`,
    portRange: { from: 40000, to: 40009 },
    capacity: { maxServers: 10, cpuCount: 8, memoryMb: 32768 },
    ...over,
  };
}

function setup(maxServers = 200) {
  const clock = new FakeClock(T0);
  const store = new MemoryHostStore();
  const claims = new MemoryClaimStore(clock);
  const events = new Recorder();
  const auditLog = new MemoryAuditLog();
  let nextAudit = 0;
  const audit = new AuditService({ log: auditLog, clock, newId: () => `audit-${++nextAudit}` });
  const placement = new HostPlacement({ hosts: store, claims, clock, heartbeatIntervalSeconds: INTERVAL_S });
  const hosts = new HostService({ store, events, clock, heartbeatIntervalSeconds: INTERVAL_S, placement, audit });
  const serverStore = new MemoryServerStore();
  let nextId = 0;
  const servers = new ServerService({
    store: serverStore,
    claims,
    runtime: new FakeServerRuntime(),
    events,
    limits: staticLimitsProvider(defaultResourceLimits({ maxServers })),
    clock,
    newId: () => `00000000-0000-4000-8000-${String(++nextId).padStart(12, '0')}`,
    placement,
  });
  return { clock, store, claims, events, hosts, placement, servers, serverStore, auditLog };
}

type Harness = ReturnType<typeof setup>;

describe('HostService.register', () => {
  let h: Harness;
  beforeEach(() => {
    h = setup();
  });

  it('creates an ONLINE host with no usage, stores it and publishes REGISTERED under its id and `all`', async () => {
    const host = await h.hosts.register(hello('edge-1'));
    expect(host).toStrictEqual({
      ...hello('edge-1'),
      connected: true,
      draining: false,
      drainDeadline: null,
      lastHeartbeatAt: '2025-01-01T00:00:00.000Z',
      usage: null,
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
      version: 1,
    });
    expect(await h.store.findById('edge-1')).toStrictEqual(host);
    expect(h.hosts.statusOf(host)).toBe('ONLINE');
    expect(h.events.hostEvents('edge-1')).toEqual(['edge-1 REGISTERED:ONLINE']);
    expect(h.events.hostEvents('all')).toEqual(['edge-1 REGISTERED:ONLINE']);
  });

  it('registering again updates what the agent reports (UPDATED), keeping createdAt and the drain flag', async () => {
    await h.hosts.register(hello('edge-1'));
    await h.hosts.setDrain(adam, 'edge-1', true);
    h.clock.advance(60_000);
    h.events.clear();
    const again = await h.hosts.register(hello('edge-1', { agentVersion: '1.1.0', portRange: { from: 41000, to: 41004 } }));
    expect(again).toMatchObject({
      agentVersion: '1.1.0',
      portRange: { from: 41000, to: 41004 },
      draining: true,
      connected: true,
      createdAt: '2025-01-01T00:00:00.000Z',
      lastHeartbeatAt: '2025-01-01T00:01:00.000Z',
      version: 3,
    });
    expect(h.events.hostEvents('edge-1')).toEqual(['edge-1 UPDATED:DRAINING']);
  });

  it('a registration of an OFFLINE host with the same facts brings it back (STATUS_CHANGED)', async () => {
    await h.hosts.register(hello('edge-1'));
    h.clock.advance(16_000);
    await h.hosts.markStale();
    h.events.clear();
    const back = await h.hosts.register(hello('edge-1'));
    expect(h.hosts.statusOf(back)).toBe('ONLINE');
    expect(h.events.hostEvents('edge-1')).toEqual(['edge-1 STATUS_CHANGED:ONLINE']);
  });

  it('lets ten concurrent registrations of a new host make one host and one REGISTERED', async () => {
    await Promise.all(Array.from({ length: 10 }, () => h.hosts.register(hello('edge-1'))));
    expect(await h.store.list()).toHaveLength(1);
    expect(h.events.hostEvents('edge-1').filter((e) => e.includes('REGISTERED'))).toHaveLength(1);
  });

  const bad: [string, unknown, string][] = [
    ['an id with capitals', hello('Edge-1'), 'id'],
    ['an id starting with a hyphen', hello('-edge'), 'id'],
    ['an id of 64 characters', hello('a'.repeat(64)), 'id'],
    ['a blank name', hello('edge-1', { name: '  ' }), 'name'],
    ['a descending port range', hello('edge-1', { portRange: { from: 40010, to: 40000 } }), 'portRange'],
    ['a port below 1024', hello('edge-1', { portRange: { from: 80, to: 90 } }), 'portRange.from'],
    ['a negative maxServers', hello('edge-1', { capacity: { maxServers: -1, cpuCount: 1, memoryMb: 1 } }), 'capacity.maxServers'],
    ['an address with a space', hello('edge-1', { rdpAddress: 'a b' }), 'rdpAddress'],
    ['an unknown field (named)', { ...hello('edge-1'), secret: 'x' }, 'secret'],
  ];
  for (const [label, input, field] of bad) {
    it(`refuses ${label} with ValidationError on ${field}, storing and publishing nothing`, async () => {
      const err = await rejection(h.hosts.register(input));
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe(field);
      expect(await h.store.list()).toEqual([]);
      expect(h.events.published).toEqual([]);
    });
  }
});

describe('HostService.heartbeat and markStale (injected clock)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = setup();
    await h.hosts.register(hello('edge-1'));
    h.events.clear();
  });

  it('moves lastHeartbeatAt forward and stores the usage with its time (HEARTBEAT)', async () => {
    h.clock.advance(5_000);
    const host = await h.hosts.heartbeat('edge-1', { at: h.clock.iso(), usage: { cpuPercent: 42.5, memoryPercent: 61 } });
    expect(host.lastHeartbeatAt).toBe('2025-01-01T00:00:05.000Z');
    expect(host.usage).toEqual({ cpuPercent: 42.5, memoryPercent: 61, at: '2025-01-01T00:00:05.000Z' });
    expect(h.events.hostEvents('edge-1')).toEqual(['edge-1 HEARTBEAT:ONLINE']);
  });

  it('is idempotent: the same heartbeat again, or an older one, writes nothing and publishes nothing', async () => {
    h.clock.advance(10_000);
    const at = h.clock.iso();
    const first = await h.hosts.heartbeat('edge-1', { at, usage: { cpuPercent: 10, memoryPercent: 20 } });
    const again = await h.hosts.heartbeat('edge-1', { at, usage: { cpuPercent: 10, memoryPercent: 20 } });
    const older = await h.hosts.heartbeat('edge-1', { at: h.clock.iso(-3_000), usage: { cpuPercent: 99, memoryPercent: 99 } });
    expect(again).toStrictEqual(first);
    expect(older).toStrictEqual(first);
    expect(await h.store.findById('edge-1')).toStrictEqual(first);
    expect(h.events.hostEvents('edge-1')).toEqual(['edge-1 HEARTBEAT:ONLINE']);
  });

  it('takes a reading with a figure missing as no reading, keeping the last one', async () => {
    h.clock.advance(1_000);
    await h.hosts.heartbeat('edge-1', { at: h.clock.iso(), usage: { cpuPercent: 5, memoryPercent: 6 } });
    h.clock.advance(1_000);
    const host = await h.hosts.heartbeat('edge-1', { at: h.clock.iso(), usage: { cpuPercent: null, memoryPercent: 7 } });
    expect(host.usage).toEqual({ cpuPercent: 5, memoryPercent: 6, at: h.clock.iso(-1_000) });
    expect(host.lastHeartbeatAt).toBe(h.clock.iso());
  });

  it('caps a heartbeat from the future at now, so a fast agent clock cannot keep a host alive', async () => {
    const host = await h.hosts.heartbeat('edge-1', { at: h.clock.iso(3_600_000), usage: null });
    expect(host.lastHeartbeatAt).toBe(h.clock.iso());
    h.clock.advance(15_001);
    expect(await h.hosts.markStale()).toEqual(['edge-1']);
  });

  it('keeps a host ONLINE at exactly 3 intervals of silence and marks it OFFLINE just after, once (STATUS_CHANGED)', async () => {
    h.clock.advance(15_000);
    expect(await h.hosts.markStale()).toEqual([]);
    expect(h.hosts.statusOf((await h.store.findById('edge-1')) ?? (hello('x') as never))).toBe('ONLINE');
    h.clock.advance(1);
    expect(await h.hosts.markStale()).toEqual(['edge-1']);
    expect(await h.hosts.markStale()).toEqual([]);
    const host = await h.store.findById('edge-1');
    expect(host?.connected).toBe(false);
    expect(h.events.hostEvents('edge-1')).toEqual(['edge-1 STATUS_CHANGED:OFFLINE']);
    expect(h.events.hostEvents('all')).toEqual(['edge-1 STATUS_CHANGED:OFFLINE']);
  });

  it('reads a stale host as OFFLINE before the job ran, and refuses to place on it', async () => {
    h.clock.advance(20_000);
    const host = await h.store.findById('edge-1');
    expect(host?.connected).toBe(true);
    expect(host && h.hosts.statusOf(host)).toBe('OFFLINE');
    const err = await rejection(h.servers.create(alice, { name: 'x' }));
    expect(err).toBeInstanceOf(PlacementError);
    expect((err as PlacementError).hosts).toEqual([
      { hostId: 'edge-1', reason: 'OFFLINE', detail: 'is offline (last heartbeat 2025-01-01T00:00:00.000Z)' },
    ]);
  });

  it('keeps the servers of a host that went OFFLINE, and a fresh heartbeat brings it back ONLINE', async () => {
    const server = await h.servers.create(alice, { name: 'kept' });
    h.clock.advance(60_000);
    await h.hosts.markStale();
    expect(await h.serverStore.findById(server.id)).toStrictEqual(server);
    h.events.clear();
    const back = await h.hosts.heartbeat('edge-1', { at: h.clock.iso(), usage: null });
    expect(h.hosts.statusOf(back)).toBe('ONLINE');
    expect(h.events.hostEvents('edge-1')).toEqual(['edge-1 STATUS_CHANGED:ONLINE']);
  });

  it('does not bring an OFFLINE host back for a late heartbeat older than the OFFLINE window', async () => {
    h.clock.advance(60_000);
    await h.hosts.markStale();
    h.events.clear();
    const host = await h.hosts.heartbeat('edge-1', { at: h.clock.iso(-30_000), usage: { cpuPercent: 1, memoryPercent: 1 } });
    expect(h.hosts.statusOf(host)).toBe('OFFLINE');
    expect(host.lastHeartbeatAt).toBe(h.clock.iso(-30_000));
    expect(h.events.hostEvents('edge-1')).toEqual(['edge-1 HEARTBEAT:OFFLINE']);
  });

  it('answers NotFoundError for a host that never registered and ValidationError for bad input, writing nothing', async () => {
    expect(await rejection(h.hosts.heartbeat('edge-9', { at: h.clock.iso(), usage: null }))).toBeInstanceOf(NotFoundError);
    const bad = await rejection(h.hosts.heartbeat('edge-1', { at: h.clock.iso(), usage: { cpuPercent: 101, memoryPercent: 1 } }));
    expect(bad).toMatchObject({ field: 'usage.cpuPercent' });
    expect(await rejection(h.hosts.heartbeat('edge-1', { at: 'yesterday', usage: null }))).toMatchObject({ field: 'at' });
    expect(await rejection(h.hosts.heartbeat('EDGE', { at: h.clock.iso(), usage: null }))).toBeInstanceOf(ValidationError);
    expect(h.events.published).toEqual([]);
  });
});

describe('HostService.setDrain, list and get', () => {
  let h: Harness;
  beforeEach(async () => {
    h = setup();
    await h.hosts.register(hello('edge-1'));
    h.events.clear();
  });

  it('drains for an admin (DRAINING, STATUS_CHANGED, audited), and a second identical call changes nothing', async () => {
    const drained = await h.hosts.setDrain(adam, 'edge-1', true);
    expect(drained.draining).toBe(true);
    expect(h.hosts.statusOf(drained)).toBe('DRAINING');
    expect(await h.hosts.setDrain(adam, 'edge-1', true)).toStrictEqual(drained);
    expect(h.events.hostEvents('edge-1')).toEqual(['edge-1 STATUS_CHANGED:DRAINING']);
    const undrained = await h.hosts.setDrain(adam, 'edge-1', false);
    expect(h.hosts.statusOf(undrained)).toBe('ONLINE');
    const audit = (await h.auditLog.list({}, 10)).items.map((e) => [e.action, e.result, e.target?.id, e.details.drain]);
    expect(audit).toContainEqual(['host.drain', 'SUCCESS', 'edge-1', true]);
    expect(audit).toContainEqual(['host.drain', 'SUCCESS', 'edge-1', false]);
  });

  it('refuses operators and users with ForbiddenError, changing nothing (the API layer audits role refusals)', async () => {
    expect(await rejection(h.hosts.setDrain(olga, 'edge-1', true))).toBeInstanceOf(ForbiddenError);
    expect(await rejection(h.hosts.setDrain(alice, 'edge-1', true))).toBeInstanceOf(ForbiddenError);
    expect((await h.store.findById('edge-1'))?.draining).toBe(false);
    expect(h.events.published).toEqual([]);
    expect(await h.auditLog.list({}, 10)).toMatchObject({ items: [] });
  });

  it('answers NotFoundError for an unknown host', async () => {
    expect(await rejection(h.hosts.setDrain(adam, 'edge-9', true))).toBeInstanceOf(NotFoundError);
  });

  it('shows an OFFLINE draining host as OFFLINE with draining true', async () => {
    await h.hosts.setDrain(adam, 'edge-1', true);
    h.clock.advance(16_000);
    await h.hosts.markStale();
    const host = await h.hosts.get(olga, 'edge-1');
    expect([h.hosts.statusOf(host), host.draining]).toEqual(['OFFLINE', true]);
  });

  it('lets operators and admins list and read hosts; users get ForbiddenError', async () => {
    await h.hosts.register(hello('core-1'));
    expect((await h.hosts.list(olga)).map((x) => x.id)).toEqual(['core-1', 'edge-1']);
    expect((await h.hosts.get(adam, 'edge-1')).id).toBe('edge-1');
    expect(await rejection(h.hosts.list(alice))).toBeInstanceOf(ForbiddenError);
    expect(await rejection(h.hosts.get(alice, 'edge-1'))).toBeInstanceOf(ForbiddenError);
    expect(await h.hosts.getMany(alice, ['edge-1'])).toEqual([null]);
    expect((await h.hosts.getMany(olga, ['edge-1', 'nope'])).map((x) => x?.id ?? null)).toEqual(['edge-1', null]);
  });

  it('refuses sessions on a draining or OFFLINE host with a ConflictError that says why', async () => {
    await h.hosts.checkAcceptsSessions('edge-1');
    await h.hosts.checkAcceptsSessions('not-registered');
    await h.hosts.setDrain(adam, 'edge-1', true);
    const draining = await rejection(h.hosts.checkAcceptsSessions('edge-1'));
    expect(draining).toBeInstanceOf(ConflictError);
    expect((draining as Error).message).toMatch(/edge-1 is draining/);
    h.clock.advance(16_000);
    const offline = await rejection(h.hosts.checkAcceptsSessions('edge-1'));
    expect((offline as Error).message).toMatch(/edge-1 is offline/);
  });
});

describe('placement of new servers', () => {
  let h: Harness;
  beforeEach(() => {
    h = setup();
  });

  it('puts a server on the host with the most free capacity, with that host’s address and lowest port', async () => {
    await h.hosts.register(hello('small', { capacity: { maxServers: 3, cpuCount: 2, memoryMb: 4096 } }));
    await h.hosts.register(
      hello('large', { portRange: { from: 40000, to: 40019 }, capacity: { maxServers: 8, cpuCount: 2, memoryMb: 4096 } }),
    );
    const server = await h.servers.create(alice, { name: 'first' });
    expect(server).toMatchObject({ hostId: 'large', host: 'large.rdp.test', port: 40000 });
    expect((await h.claims.list('')).map((c) => c.key).sort()).toEqual([
      'port:large:40000',
      expect.stringMatching(/^slot:host:large:[0-7]$/),
      expect.stringMatching(/^slot:servers:\d+$/),
    ]);
  });

  it('spreads servers so the free capacities even out: large 8 and small 3 take 6 and 1 of 7', async () => {
    await h.hosts.register(hello('small', { capacity: { maxServers: 3, cpuCount: 2, memoryMb: 4096 } }));
    await h.hosts.register(hello('large', { capacity: { maxServers: 8, cpuCount: 2, memoryMb: 4096 } }));
    const placed = [];
    for (let i = 0; i < 7; i++) placed.push((await h.servers.create(alice, { name: `s${i}` })).hostId);
    // free: large 8, small 3 -> large until 3 and 3, then ties go to the lower load, then id: large.
    expect(placed).toEqual(['large', 'large', 'large', 'large', 'large', 'large', 'small']);
    const loads = await Promise.all((await h.store.list()).map((x) => h.placement.load(x)));
    expect(loads).toEqual([
      { servers: 6, free: 2 },
      { servers: 1, free: 2 },
    ]);
  });

  it('breaks a tie of free capacity by the lower reported load, a host without a reading last', async () => {
    await h.hosts.register(hello('aa'));
    await h.hosts.register(hello('bb'));
    await h.hosts.register(hello('cc'));
    await h.hosts.heartbeat('bb', { at: h.clock.iso(), usage: { cpuPercent: 20, memoryPercent: 30 } });
    await h.hosts.heartbeat('cc', { at: h.clock.iso(), usage: { cpuPercent: 10, memoryPercent: 5 } });
    expect((await h.servers.create(alice, { name: 'x' })).hostId).toBe('cc');
  });

  it('gives two hosts the same port numbers: ports are per host', async () => {
    await h.hosts.register(hello('aa'));
    await h.hosts.register(hello('bb'));
    const a = await h.servers.create(alice, { name: 'a', hostId: 'aa' });
    const b = await h.servers.create(alice, { name: 'b', hostId: 'bb' });
    expect([a.hostId, a.port, b.hostId, b.port]).toEqual(['aa', 40000, 'bb', 40000]);
  });

  it('places on a named host even when another has more room, and refuses a draining or OFFLINE named host', async () => {
    await h.hosts.register(hello('aa', { capacity: { maxServers: 2, cpuCount: 1, memoryMb: 1 } }));
    await h.hosts.register(hello('bb'));
    expect((await h.servers.create(alice, { name: 'x', hostId: 'aa' })).hostId).toBe('aa');
    await h.hosts.setDrain(adam, 'aa', true);
    const drained = await rejection(h.servers.create(alice, { name: 'y', hostId: 'aa' }));
    expect(drained).toBeInstanceOf(PlacementError);
    expect((drained as PlacementError).hosts).toEqual([
      { hostId: 'aa', reason: 'DRAINING', detail: 'is draining: an admin stopped new placements there' },
    ]);
    expect(await h.claims.list('slot:servers:')).toHaveLength(1);
  });

  it('refuses an unknown or malformed hostId with ValidationError on hostId, claiming nothing', async () => {
    await h.hosts.register(hello('aa'));
    expect(await rejection(h.servers.create(alice, { name: 'x', hostId: 'zz' }))).toMatchObject({ field: 'hostId' });
    expect(await rejection(h.servers.create(alice, { name: 'x', hostId: 'Not A Host' }))).toMatchObject({ field: 'hostId' });
    expect(await h.claims.list('')).toEqual([]);
  });

  it('names each host with its reason when none can take a server: offline, draining, ports exhausted, at capacity', async () => {
    await h.hosts.register(hello('gone'));
    await h.hosts.register(hello('drained'));
    await h.hosts.register(hello('ports', { portRange: { from: 40000, to: 40000 } }));
    await h.hosts.register(hello('capped', { capacity: { maxServers: 1, cpuCount: 1, memoryMb: 1 } }));
    h.clock.advance(10_000);
    for (const id of ['drained', 'ports', 'capped']) await h.hosts.heartbeat(id, { at: h.clock.iso(), usage: null });
    await h.hosts.setDrain(adam, 'drained', true);
    h.clock.advance(6_000);
    for (const id of ['drained', 'ports', 'capped']) await h.hosts.heartbeat(id, { at: h.clock.iso(), usage: null });
    await h.servers.create(alice, { name: 'p', hostId: 'ports' });
    await h.servers.create(alice, { name: 'c', hostId: 'capped' });
    const err = await rejection(h.servers.create(alice, { name: 'none' }));
    expect(err).toBeInstanceOf(PlacementError);
    expect((err as PlacementError).code).toBe('PLACEMENT_REFUSED');
    expect((err as PlacementError).hosts.map((r) => [r.hostId, r.reason])).toEqual([
      ['capped', 'AT_CAPACITY'],
      ['drained', 'DRAINING'],
      ['gone', 'OFFLINE'],
      ['ports', 'PORTS_EXHAUSTED'],
    ]);
    expect((err as Error).message).toContain('capped has its maximum of 1 servers');
    expect(await h.claims.list('slot:servers:')).toHaveLength(2);
  });

  it('answers PortExhaustedError (as before hosts) when the only host has no free port', async () => {
    await h.hosts.register(hello('only', { portRange: { from: 40000, to: 40001 } }));
    await h.servers.create(alice, { name: 'a' });
    await h.servers.create(alice, { name: 'b' });
    const err = await rejection(h.servers.create(alice, { name: 'c' }));
    expect(err).toBeInstanceOf(PortExhaustedError);
    expect(err).toMatchObject({ host: 'only', from: 40000, to: 40001 });
  });

  it('answers PlacementError with no hosts when none is registered', async () => {
    const err = await rejection(h.servers.create(alice, { name: 'x' }));
    expect(err).toBeInstanceOf(PlacementError);
    expect((err as PlacementError).hosts).toEqual([]);
    expect((err as Error).message).toMatch(/no RDP host is registered/);
  });

  it('holds a host cap exactly under 30 concurrent creates, and a delete gives its port and host slot back', async () => {
    await h.hosts.register(hello('aa', { capacity: { maxServers: 4, cpuCount: 1, memoryMb: 1 } }));
    await h.hosts.register(hello('bb', { capacity: { maxServers: 3, cpuCount: 1, memoryMb: 1 } }));
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => h.servers.create(alice, { name: `c${i}` })));
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(ok.filter((s) => s.hostId === 'aa')).toHaveLength(4);
    expect(ok.filter((s) => s.hostId === 'bb')).toHaveLength(3);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(PlacementError);
    const victim = ok.find((s) => s.hostId === 'bb');
    if (!victim) throw new Error('no server on bb');
    await h.servers.delete(alice, victim.id);
    expect(await h.claims.count('slot:host:bb:')).toBe(2);
    expect(await h.claims.count('port:bb:')).toBe(2);
    expect((await h.servers.create(alice, { name: 'again' })).hostId).toBe('bb');
  });
});

describe('a create whose insert reply is lost', () => {
  it('succeeds when the server was stored after all, and keeps the claims when that cannot be told', async () => {
    const h = setup();
    await h.hosts.register(hello('aa'));
    const realInsert = h.serverStore.insert.bind(h.serverStore);
    // The insert lands, then the reply is lost.
    h.serverStore.insert = async (server) => {
      await realInsert(server);
      throw new Error('connection reset');
    };
    const landed = await h.servers.create(alice, { name: 'landed' });
    expect(await h.serverStore.findById(landed.id)).toStrictEqual(landed);
    expect(await h.claims.list(`port:aa:${landed.port}`)).toHaveLength(1);

    // Nothing can be read back either: the claims stay for the reconciler, not for a second server.
    const realFind = h.serverStore.findById.bind(h.serverStore);
    h.serverStore.findById = async () => {
      throw new Error('database unreachable');
    };
    const err = await rejection(h.servers.create(alice, { name: 'unknown' }));
    expect((err as Error).name).toBe('ServiceUnavailableError');
    expect(await h.claims.count('port:aa:')).toBe(2);
    expect(await h.claims.count('slot:servers:')).toBe(2);

    // The insert surely failed (nothing stored, reads work): everything is given back.
    h.serverStore.findById = realFind;
    h.serverStore.insert = async () => {
      throw new Error('duplicate key');
    };
    expect(await rejection(h.servers.create(alice, { name: 'failed' }))).toMatchObject({ message: 'duplicate key' });
    expect(await h.claims.count('port:aa:')).toBe(2);
  });
});
