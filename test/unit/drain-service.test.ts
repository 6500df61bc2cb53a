import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryClaimStore } from '../../src/adapters/memory/memory-claim-store.js';
import { MemoryHostStore } from '../../src/adapters/memory/memory-host-store.js';
import { MemoryServerStore } from '../../src/adapters/memory/memory-server-store.js';
import { MemorySessionStore } from '../../src/adapters/memory/memory-session-store.js';
import type { AuditEntry, AuditRecorder } from '../../src/domain/audit/audit-service.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import { HostPlacement } from '../../src/domain/hosts/host-placement.js';
import { HostService } from '../../src/domain/hosts/host-service.js';
import { defaultResourceLimits, staticLimitsProvider } from '../../src/domain/resources/resource-limits.js';
import { DrainService } from '../../src/domain/servers/drain-service.js';
import type { RdpServer } from '../../src/domain/servers/server.js';
import { ServerDrainingError } from '../../src/domain/servers/server-drain.js';
import type { ServerEvent } from '../../src/domain/servers/server-events.js';
import { ServerService } from '../../src/domain/servers/server-service.js';
import type { SessionEvent } from '../../src/domain/sessions/session-events.js';
import { SessionService } from '../../src/domain/sessions/session-service.js';
import { ConflictError, ForbiddenError, ValidationError } from '../../src/domain/shared/errors.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { FakeSessionHost } from '../support/fake-session-host.js';
import { FakeClock, RecordingPublisher, rejection } from '../support/service-fixtures.js';

const alice: Viewer = { userId: 'alice', username: 'alice', roles: ['user'], permissions: [] };
const olga: Viewer = { userId: 'olga', username: 'olga', roles: ['operator'], permissions: [] };
const adam: Viewer = { userId: 'adam', username: 'adam', roles: ['admin'], permissions: [] };

const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const MIN = 60_000;

class Recorder extends RecordingPublisher {
  serverEvents(): ServerEvent[] {
    return this.published.flatMap((e) => (e.topic === 'server:changed' ? [e.payload] : []));
  }
  /** Drain kinds of server events with their seconds left. */
  serverDrainKinds(): string[] {
    return this.serverEvents().flatMap((e) => (e.drain ? [`${e.kind}:${e.drain.secondsLeft}`] : []));
  }
  /** Session events under the session's own id. */
  sessionEvents(id?: string): SessionEvent[] {
    return this.published.flatMap((e) =>
      e.topic === 'session:changed' && !e.id.includes(':') && (id === undefined || e.id === id) ? [e.payload] : [],
    );
  }
  /** DRAIN_NOTICE / DRAIN_CANCELLED of one session with the seconds left. */
  notices(id: string): string[] {
    return this.sessionEvents(id).flatMap((e) => (e.drain ? [`${e.kind}:${e.drain.secondsLeft}`] : []));
  }
}

class RecordingAudit implements AuditRecorder {
  readonly entries: AuditEntry[] = [];
  async record(entry: AuditEntry): Promise<void> {
    this.entries.push(entry);
  }
  actions(): string[] {
    return this.entries.map((e) => `${e.action}:${e.result}`);
  }
}

function setup() {
  const clock = new FakeClock(T0);
  const serverStore = new MemoryServerStore();
  const store = new MemorySessionStore();
  const hostStore = new MemoryHostStore();
  const claims = new MemoryClaimStore(clock);
  const events = new Recorder();
  const audit = new RecordingAudit();
  const runtime = new FakeServerRuntime();
  const limits = staticLimitsProvider(defaultResourceLimits({ sessionTimeoutSeconds: 86_400 }));
  let n = 0;
  const newId = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  const sessions = new SessionService({
    store,
    claims,
    servers: serverStore,
    events,
    limits,
    clock,
    newId,
    timeouts: { idleSeconds: 7200, sessionSeconds: 86_400 },
    defaultCredentialMode: 'EPHEMERAL',
    accounts: new FakeSessionAccounts(),
    host: new FakeSessionHost(),
    audit,
  });
  const servers = new ServerService({
    store: serverStore,
    claims,
    runtime,
    events,
    limits,
    clock,
    newId,
    portRange: { from: 33890, to: 33999 },
    host: 'local',
    sessions,
    audit,
  });
  const hosts = new HostService({
    store: hostStore,
    events,
    clock,
    heartbeatIntervalSeconds: 5,
    placement: new HostPlacement({ hosts: hostStore, claims, clock, heartbeatIntervalSeconds: 5 }),
  });
  /** One replica's drain service; several share the stores as replicas share the database. */
  const replica = () =>
    new DrainService({
      store: serverStore,
      sessions,
      stopServer: (id) => servers.stopForDrain(id),
      events,
      clock,
      newId,
      noticeSteps: [900, 300, 60],
      hosts,
      audit,
    });
  return { clock, serverStore, store, hostStore, events, audit, runtime, sessions, servers, hosts, drains: replica(), replica };
}

type Harness = ReturnType<typeof setup>;

async function runningServer(h: Harness): Promise<RdpServer> {
  const created = await h.servers.create(alice, { name: 'desk' });
  return h.servers.start(alice, created.id);
}

describe('DrainService: drainServer and admission', () => {
  let h: Harness;
  let server: RdpServer;
  let active: string;
  let away: string;
  beforeEach(async () => {
    h = setup();
    server = await runningServer(h);
    active = (await h.sessions.create(alice, { serverId: server.id })).session.id;
    away = (await h.sessions.create(alice, { serverId: server.id })).session.id;
    await h.sessions.disconnect(alice, away);
    h.events.clear();
  });

  it('drains at once: RUNNING with its drain stored, DRAIN_STARTED, a notice to ACTIVE sessions only, audited', async () => {
    const deadline = h.clock.iso(20 * MIN);
    const drained = await h.drains.drain(olga, server.id, { deadline });
    expect(drained).toMatchObject({
      status: 'RUNNING',
      version: server.version + 1,
      drain: {
        origin: 'SERVER',
        deadline,
        stopServer: false,
        startedBy: 'olga',
        startedAt: h.clock.iso(),
        noticeStep: 1200,
        actionStartedAt: null,
        completedAt: null,
      },
    });
    expect(await h.serverStore.findById(server.id)).toStrictEqual(drained);
    expect(h.events.serverDrainKinds()).toEqual(['DRAIN_STARTED:1200']);
    expect(h.events.notices(active)).toEqual(['DRAIN_NOTICE:1200']);
    expect(h.events.sessionEvents(active)[0]?.drain).toEqual({
      serverId: server.id,
      deadline,
      secondsLeft: 1200,
      stopServer: false,
    });
    expect(h.events.notices(away)).toEqual([]);
    // Fleet lists learn that it drains (UPDATED with the server); notices move no session count.
    const fleet = h.events.published.flatMap((e) => (e.topic === 'fleet:changed' ? [e.payload] : []));
    expect(fleet.map((f) => `${f.change}:${f.server?.drain?.deadline ?? null}`)).toEqual([`UPDATED:${deadline}`]);
    expect(h.audit.actions()).toContain('server.drain:SUCCESS');
  });

  it('refuses new sessions with SERVER_DRAINING naming the server and the deadline; running ones continue', async () => {
    const deadline = h.clock.iso(20 * MIN);
    await h.drains.drain(olga, server.id, { deadline });
    const err = await rejection(h.sessions.create(alice, { serverId: server.id }));
    expect(err).toBeInstanceOf(ServerDrainingError);
    expect(err).toMatchObject({ code: 'SERVER_DRAINING', serverId: server.id, deadline });
    expect((err as Error).message).toContain(deadline);
    expect((err as Error).message).toContain('draining');
    expect((await h.store.findById(active))?.status).toBe('ACTIVE');
    expect(await h.store.count({ serverId: server.id })).toBe(2);
  });

  it('refuses users (FORBIDDEN), a deadline now or past or over 30 days ahead (BAD_USER_INPUT), changing nothing', async () => {
    expect(await rejection(h.drains.drain(alice, server.id, { deadline: h.clock.iso(MIN) }))).toBeInstanceOf(ForbiddenError);
    for (const deadline of [h.clock.iso(), h.clock.iso(-MIN), h.clock.iso(31 * 24 * 60 * MIN), 'soon']) {
      expect(await rejection(h.drains.drain(olga, server.id, { deadline }))).toBeInstanceOf(ValidationError);
    }
    expect(await h.serverStore.findById(server.id)).toStrictEqual(server);
    expect(h.events.published).toEqual([]);
  });

  it('cancel restores admission, publishes DRAIN_CANCELLED to the server and ACTIVE sessions; a second cancel is a CONFLICT', async () => {
    await h.drains.drain(olga, server.id, { deadline: h.clock.iso(20 * MIN) });
    h.events.clear();
    const cancelled = await h.drains.cancel(olga, server.id);
    expect(cancelled.drain).toBeNull();
    expect(h.events.serverDrainKinds()).toEqual(['DRAIN_CANCELLED:1200']);
    expect(h.events.notices(active)).toEqual(['DRAIN_CANCELLED:1200']);
    expect((await h.sessions.create(alice, { serverId: server.id })).session.status).toBe('ACTIVE');
    expect(await rejection(h.drains.cancel(olga, server.id))).toBeInstanceOf(ConflictError);
    expect(await rejection(h.drains.cancel(alice, server.id))).toBeInstanceOf(ForbiddenError);
  });
});

describe('DrainService: the timeline (injected clock)', () => {
  let h: Harness;
  let server: RdpServer;
  let active: string;
  let away: string;
  beforeEach(async () => {
    h = setup();
    server = await runningServer(h);
    active = (await h.sessions.create(alice, { serverId: server.id })).session.id;
    away = (await h.sessions.create(alice, { serverId: server.id })).session.id;
    await h.sessions.disconnect(alice, away);
  });

  it('notices at the start, 15, 5 and 1 minute before, each once; at the deadline the sessions end DRAINED and it keeps draining', async () => {
    await h.drains.drain(olga, server.id, { deadline: h.clock.iso(20 * MIN) });
    expect((await h.drains.tick()).notices).toBe(0);
    h.clock.advance(5 * MIN - 1000);
    expect((await h.drains.tick()).notices).toBe(0);
    h.clock.advance(1000);
    expect((await h.drains.tick()).notices).toBe(1);
    expect((await h.drains.tick()).notices).toBe(0);
    h.clock.advance(10 * MIN + 2000);
    await h.drains.tick();
    h.clock.advance(4 * MIN);
    await h.drains.tick();
    expect(h.events.notices(active)).toEqual(['DRAIN_NOTICE:1200', 'DRAIN_NOTICE:900', 'DRAIN_NOTICE:298', 'DRAIN_NOTICE:58']);
    expect(h.events.notices(away)).toEqual([]);
    expect((await h.store.findById(active))?.status).toBe('ACTIVE');

    h.clock.advance(57_000);
    expect(await h.drains.tick()).toMatchObject({ notices: 0, drained: [] });
    h.clock.advance(1000);
    expect(await h.drains.tick()).toMatchObject({ drained: [server.id] });
    for (const id of [active, away]) {
      expect(await h.store.findById(id)).toMatchObject({ status: 'TERMINATED', terminationReason: 'DRAINED' });
    }
    const after = await h.serverStore.findById(server.id);
    expect(after).toMatchObject({ status: 'RUNNING', drain: { completedAt: h.clock.iso() } });
    expect(h.events.serverDrainKinds()).toEqual([
      'DRAIN_STARTED:1200',
      'DRAIN_NOTICE:900',
      'DRAIN_NOTICE:298',
      'DRAIN_NOTICE:58',
      'DRAINED:0',
    ]);
    expect(h.audit.entries.find((e) => e.action === 'server.drained')).toMatchObject({
      result: 'SUCCESS',
      details: { sessionsEnded: 2, stopServer: false },
    });
    // Done once: later rounds do nothing, and the drained server still takes no sessions.
    h.clock.advance(10 * MIN);
    expect(await h.drains.tick()).toMatchObject({ notices: 0, drained: [] });
    expect(await rejection(h.sessions.create(alice, { serverId: server.id }))).toBeInstanceOf(ServerDrainingError);
    await h.drains.cancel(olga, server.id);
    expect((await h.sessions.create(alice, { serverId: server.id })).session.status).toBe('ACTIVE');
  });

  it('steps missed while no replica ran collapse into one notice, the latest', async () => {
    await h.drains.drain(olga, server.id, { deadline: h.clock.iso(20 * MIN) });
    h.clock.advance(19 * MIN + 30_000);
    expect((await h.drains.tick()).notices).toBe(1);
    expect(h.events.notices(active)).toEqual(['DRAIN_NOTICE:1200', 'DRAIN_NOTICE:30']);
  });

  it('a drain shorter than a step starts below it: a 2-minute drain notices at 120 s and 60 s only', async () => {
    await h.drains.drain(olga, server.id, { deadline: h.clock.iso(2 * MIN) });
    h.clock.advance(MIN);
    await h.drains.tick();
    expect(h.events.notices(active)).toEqual(['DRAIN_NOTICE:120', 'DRAIN_NOTICE:60']);
  });

  it('with stopServer the server stops after its sessions ended DRAINED (not SERVER_STOPPED)', async () => {
    await h.drains.drain(olga, server.id, { deadline: h.clock.iso(MIN), stopServer: true });
    h.clock.advance(MIN);
    await h.drains.tick();
    expect(await h.store.findById(active)).toMatchObject({ terminationReason: 'DRAINED' });
    expect(await h.serverStore.findById(server.id)).toMatchObject({ status: 'STOPPED', drain: { stopServer: true } });
    expect(h.runtime.running.has(server.id)).toBe(false);
    expect(h.audit.entries.filter((e) => e.action === 'server.stop').map((e) => e.actor.userId)).toEqual(['system']);
  });

  it('a reschedule restarts the countdown under a new drain id; the old deadline passes without effect', async () => {
    const first = await h.drains.drain(olga, server.id, { deadline: h.clock.iso(MIN) });
    const second = await h.drains.drain(olga, server.id, { deadline: h.clock.iso(30 * MIN) });
    expect(second.drain?.id).not.toBe(first.drain?.id);
    h.clock.advance(2 * MIN);
    expect((await h.drains.tick()).drained).toEqual([]);
    expect((await h.store.findById(active))?.status).toBe('ACTIVE');
  });

  it('two replicas at the deadline: the action runs once (one DRAINED event, each session ended once)', async () => {
    for (let i = 0; i < 5; i++) await h.sessions.create(alice, { serverId: server.id });
    await h.drains.drain(olga, server.id, { deadline: h.clock.iso(MIN), stopServer: true });
    h.clock.advance(MIN);
    h.events.clear();
    const [a, b] = await Promise.all([h.replica().tick(), h.drains.tick()]);
    expect([...a.drained, ...b.drained]).toEqual([server.id]);
    expect(h.events.serverEvents().filter((e) => e.kind === 'DRAINED')).toHaveLength(1);
    const ended = h.events.sessionEvents().filter((e) => e.kind === 'TERMINATED');
    expect(ended).toHaveLength(7);
    expect(new Set(ended.map((e) => e.session.id)).size).toBe(7);
    expect(h.runtime.operations().filter((op) => op.startsWith('stop'))).toHaveLength(1);
  });

  it('a deadline action left by a replica that died is taken over once DRAIN_ACTION_RETRY_MS old', async () => {
    await h.drains.drain(olga, server.id, { deadline: h.clock.iso(MIN) });
    h.clock.advance(MIN);
    const s = (await h.serverStore.findById(server.id)) as RdpServer;
    const marked = { ...s, drain: s.drain && { ...s.drain, actionStartedAt: h.clock.iso() }, version: s.version + 1 };
    expect(await h.serverStore.compareAndSet(marked, s.version)).toBe(true);
    expect(await rejection(h.drains.cancel(olga, server.id))).toBeInstanceOf(ConflictError);
    expect((await h.drains.tick()).drained).toEqual([]);
    h.clock.advance(2 * MIN);
    expect((await h.drains.tick()).drained).toEqual([server.id]);
    expect(await h.store.findById(active)).toMatchObject({ terminationReason: 'DRAINED' });
  });
});

describe('DrainService: host drains with a deadline', () => {
  let h: Harness;
  let server: RdpServer;
  let active: string;
  beforeEach(async () => {
    h = setup();
    await h.hosts.register({
      id: 'local',
      name: 'local',
      labels: {},
      agentVersion: '1',
      rdpAddress: 'local',
      portRange: { from: 33890, to: 33999 },
      capacity: { maxServers: 10, cpuCount: 2, memoryMb: 4096 },
    });
    server = await runningServer(h);
    active = (await h.sessions.create(alice, { serverId: server.id })).session.id;
  });

  it("reach the host's servers (origin HOST) with the countdown, end at the deadline, and end with the host's drain", async () => {
    const deadline = h.clock.iso(10 * MIN);
    const host = await h.hosts.setDrain(adam, 'local', true, { deadline, stopServers: false });
    expect(host.drainDeadline).toEqual({ deadline, stopServers: false, by: 'adam' });
    await h.drains.applyHostDrains();
    expect(await h.serverStore.findById(server.id)).toMatchObject({ drain: { origin: 'HOST', deadline, startedBy: 'adam' } });
    expect(h.events.notices(active)).toEqual(['DRAIN_NOTICE:600']);
    // Applying again changes nothing; the server's own cancel is refused while the host drains.
    await h.drains.applyHostDrains();
    expect(h.events.notices(active)).toEqual(['DRAIN_NOTICE:600']);
    expect(await rejection(h.drains.cancel(olga, server.id))).toMatchObject({ message: expect.stringContaining('setHostDrain') });

    await h.hosts.setDrain(adam, 'local', false);
    await h.drains.tick();
    expect((await h.serverStore.findById(server.id))?.drain).toBeNull();
    expect(h.events.notices(active)).toEqual(['DRAIN_NOTICE:600', 'DRAIN_CANCELLED:600']);
  });

  it('refuse a deadline without drain, stopServers without a deadline and a past deadline (BAD_USER_INPUT)', async () => {
    expect(await rejection(h.hosts.setDrain(adam, 'local', false, { deadline: h.clock.iso(MIN) }))).toBeInstanceOf(
      ValidationError,
    );
    expect(await rejection(h.hosts.setDrain(adam, 'local', true, { stopServers: true }))).toBeInstanceOf(ValidationError);
    expect(await rejection(h.hosts.setDrain(adam, 'local', true, { deadline: h.clock.iso(-1) }))).toBeInstanceOf(ValidationError);
    expect((await h.hostStore.findById('local'))?.draining).toBe(false);
  });

  it('a host drain without a deadline ends nothing and sends no notice', async () => {
    await h.hosts.setDrain(adam, 'local', true);
    h.clock.advance(60 * MIN);
    await h.drains.tick();
    expect((await h.serverStore.findById(server.id))?.drain).toBeNull();
    expect(h.events.notices(active)).toEqual([]);
    expect((await h.store.findById(active))?.status).toBe('ACTIVE');
  });
});
