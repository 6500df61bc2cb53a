import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryClaimStore } from '../../src/adapters/memory/memory-claim-store.js';
import { MemoryServerStore } from '../../src/adapters/memory/memory-server-store.js';
import { MemorySessionStore } from '../../src/adapters/memory/memory-session-store.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import { defaultResourceLimits, type ResourceLimits, staticLimitsProvider } from '../../src/domain/resources/resource-limits.js';
import type { RdpServer } from '../../src/domain/servers/server.js';
import { ServerService } from '../../src/domain/servers/server-service.js';
import { verifyPassword } from '../../src/domain/sessions/credentials.js';
import type { CredentialMode, RdpSession } from '../../src/domain/sessions/session.js';
import type { SessionEvent } from '../../src/domain/sessions/session-events.js';
import { SessionService } from '../../src/domain/sessions/session-service.js';
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from '../../src/domain/shared/errors.js';
import type { XrdpSessionEvent } from '../../src/domain/xrdp/xrdp-session-events.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { FakeSessionHost } from '../support/fake-session-host.js';
import { FakeClock, RecordingPublisher, rejection } from '../support/service-fixtures.js';

const alice: Viewer = { userId: 'alice', username: 'alice', roles: ['user'], permissions: [] };
const bob: Viewer = { userId: 'bob', username: 'bob', roles: ['user'], permissions: [] };
const carol: Viewer = { userId: 'carol', username: 'carol', roles: ['user'], permissions: [] };
const olga: Viewer = { userId: 'olga', username: 'olga', roles: ['operator'], permissions: [] };
const adam: Viewer = { userId: 'adam', username: 'adam', roles: ['admin'], permissions: [] };
// Users see (and so are admitted onto) only their own servers; operators share servers.
const op = (name: string): Viewer => ({ userId: name, username: name, roles: ['operator'], permissions: [] });
const [otto, oscar, olive] = [op('otto'), op('oscar'), op('olive')];

const HOST = 'rdp.test';
const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const IDLE_S = 1800;
const MAX_S = 3600;
const DISCONNECTED_S = 900;
const SLOTS = 'slot:sessions:';

class Recorder extends RecordingPublisher {
  /** Session events published under the session's own id, in order. */
  sessionEvents(id?: string): SessionEvent[] {
    return this.published.flatMap((e) =>
      e.topic === 'session:changed' && !/^(server|owner):/.test(e.id) && (id === undefined || e.id === id) ? [e.payload] : [],
    );
  }
  kinds(id?: string): string[] {
    return this.sessionEvents(id).map((e) => `${e.kind}:${e.session.status}`);
  }
}

interface SetupOptions {
  limits?: ResourceLimits;
  defaultCredentialMode?: CredentialMode;
  withAccounts?: boolean;
  credentialTtlSeconds?: number;
  idleSeconds?: number;
}

function setup(options: SetupOptions = {}) {
  const clock = new FakeClock(T0);
  const serverStore = new MemoryServerStore();
  const store = new MemorySessionStore();
  const claims = new MemoryClaimStore(clock);
  const events = new Recorder();
  const runtime = new FakeServerRuntime();
  const accounts = new FakeSessionAccounts();
  const host = new FakeSessionHost();
  const limits = staticLimitsProvider(options.limits ?? defaultResourceLimits({ sessionTimeoutSeconds: MAX_S }));
  const metrics = { created: 0, terminated: [] as string[] };
  let nextServer = 0;
  let nextSession = 0;
  const sessions = new SessionService({
    store,
    claims,
    servers: serverStore,
    events,
    limits,
    clock,
    newId: () => `5e550000-0000-4000-8000-${String(++nextSession).padStart(12, '0')}`,
    timeouts: { idleSeconds: options.idleSeconds ?? IDLE_S, sessionSeconds: MAX_S, disconnectedSeconds: DISCONNECTED_S },
    defaultCredentialMode: options.defaultCredentialMode ?? 'EPHEMERAL',
    ...(options.withAccounts === false ? {} : { accounts }),
    ...(options.credentialTtlSeconds !== undefined ? { credentialTtlSeconds: options.credentialTtlSeconds } : {}),
    host,
    metrics: {
      created: () => void metrics.created++,
      terminated: (reason) => void metrics.terminated.push(reason),
    },
  });
  const servers = new ServerService({
    store: serverStore,
    claims,
    runtime,
    events,
    limits,
    clock,
    newId: () => `00000000-0000-4000-8000-${String(++nextServer).padStart(12, '0')}`,
    portRange: { from: 33890, to: 33999 },
    host: HOST,
    sessions,
  });
  return { clock, serverStore, store, claims, events, runtime, accounts, host, limits, metrics, servers, sessions };
}

type Harness = ReturnType<typeof setup>;

async function runningServer(
  h: Harness,
  viewer: Viewer = alice,
  configuration: Record<string, unknown> = {},
): Promise<RdpServer> {
  const created = await h.servers.create(viewer, { name: 'desk', configuration });
  return h.servers.start(viewer, created.id);
}

/** Every stored session, any status. */
async function allSessions(h: Harness): Promise<RdpSession[]> {
  return (await h.store.list({}, 100)).items;
}

/** The owners of the session slot claims, sorted, with each owner repeated once per claim. */
async function slotOwners(h: Harness): Promise<string[]> {
  return (await h.claims.list(SLOTS)).map((c) => c.owner).sort();
}

/** Each live session holds exactly its three slots, and nobody else holds any. */
async function expectClaimsOfLiveSessionsOnly(h: Harness): Promise<void> {
  const live = (await allSessions(h)).filter((s) => s.status !== 'TERMINATED');
  expect(await slotOwners(h)).toEqual(live.flatMap((s) => [s.id, s.id, s.id]).sort());
}

function xrdp(serverId: string, kind: XrdpSessionEvent['kind'], user: string, display: number | null = 10): XrdpSessionEvent {
  return { serverId, kind, user, display, clientAddress: '192.0.2.7:50000', at: '2025-01-01T00:00:00.000Z' };
}

describe('SessionService.create: admission', () => {
  let h: Harness;
  let server: RdpServer;
  beforeEach(async () => {
    h = setup();
    server = await runningServer(h);
    h.events.clear();
  });

  it('admits onto a RUNNING server: stores an ACTIVE session, publishes CREATED by id and by server, counts it, holds 3 slots', async () => {
    const { session, connection } = await h.sessions.create(alice, {
      serverId: server.id,
      clientInfo: { clientName: 'laptop', clientVersion: '3.5', clientIp: '192.0.2.7', resolution: '1280x720', colorDepth: 16 },
    });
    const now = h.clock.iso();
    expect(session).toStrictEqual({
      id: '5e550000-0000-4000-8000-000000000001',
      serverId: server.id,
      hostId: server.hostId,
      owner: 'alice',
      createdBy: 'alice',
      status: 'ACTIVE',
      terminationReason: null,
      clientInfo: { clientName: 'laptop', clientVersion: '3.5', clientIp: '192.0.2.7', resolution: '1280x720', colorDepth: 16 },
      credentialMode: 'EPHEMERAL',
      username: connection.username,
      credentialHash: expect.stringMatching(/^sha256\$/),
      credentialExpiresAt: h.clock.iso(3600_000),
      credentialDeadline: h.clock.iso(3600_000),
      display: null,
      slots: { global: expect.any(Number), server: expect.any(Number), user: expect.any(Number) },
      createdAt: now,
      connectedAt: null,
      lastActivityAt: now,
      terminatedAt: null,
      idleDeadline: h.clock.iso(IDLE_S * 1000),
      sessionDeadline: h.clock.iso(MAX_S * 1000),
      version: 1,
    });
    expect(await h.store.findById(session.id)).toStrictEqual(session);
    const published = h.events.published.filter((e) => e.topic === 'session:changed');
    expect(published.map((e) => e.id)).toEqual([session.id, `server:${server.id}`, `owner:${session.owner}`]);
    expect(h.events.published.filter((e) => e.topic === 'fleet:changed').map((e) => e.payload)).toEqual([
      { subject: 'SERVER', change: 'SESSIONS_CHANGED', serverId: server.id, server: null, at: expect.any(String) },
    ]);
    expect(h.events.sessionEvents()).toEqual([{ kind: 'CREATED', session: { ...session, credentialHash: null }, at: now }]);
    expect(h.metrics.created).toBe(1);
    const claims = (await h.claims.list(SLOTS)).map((c) => c.key).sort();
    expect(claims).toEqual(
      [
        `slot:sessions:global:${session.slots.global}`,
        `slot:sessions:server:${server.id}:${session.slots.server}`,
        `slot:sessions:user:alice:${session.slots.user}`,
      ].sort(),
    );
    expect(session.slots.global).toBeLessThan(100);
    expect(session.slots.server).toBeLessThan(10);
    expect(session.slots.user).toBeLessThan(10);
  });

  it('caps the session deadline at perSession.maxDurationSeconds when that is below the session timeout', async () => {
    const limits = await h.limits.get();
    h.limits.set({ ...limits, perSession: { ...limits.perSession, maxDurationSeconds: 600 } });
    const { session } = await h.sessions.create(alice, { serverId: server.id });
    expect(session.sessionDeadline).toBe(h.clock.iso(600_000));
  });

  for (const status of ['STOPPED', 'MAINTENANCE'] as const) {
    it(`refuses a ${status} server with a ConflictError: nothing stored, no event, no account, no claim`, async () => {
      if (status === 'STOPPED') await h.servers.stop(alice, server.id);
      else await h.servers.setMaintenance(adam, server.id, true);
      h.events.clear();
      const err = await rejection(h.sessions.create(alice, { serverId: server.id }));
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as Error).message).toContain(status.toLowerCase());
      expect(await allSessions(h)).toEqual([]);
      expect(h.events.published).toEqual([]);
      expect(h.accounts.created).toEqual([]);
      expect(await h.claims.list(SLOTS)).toEqual([]);
      expect(h.metrics.created).toBe(0);
    });
  }

  it("answers another user's server and a missing one alike with NotFoundError", async () => {
    const hidden = await rejection(h.sessions.create(bob, { serverId: server.id }));
    const missing = await rejection(h.sessions.create(bob, { serverId: 'no-such-server' }));
    expect(hidden).toBeInstanceOf(NotFoundError);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((hidden as NotFoundError).entity).toBe('server');
    expect(await allSessions(h)).toEqual([]);
    expect(await h.claims.list(SLOTS)).toEqual([]);
  });

  it("lets an operator open a session on another user's server", async () => {
    const { session } = await h.sessions.create(olga, { serverId: server.id });
    expect(session.owner).toBe('olga');
  });
});

describe('SessionService.create: caps', () => {
  function withLimits(patch: { perUser?: number; global?: number }): Harness {
    const base = defaultResourceLimits({ sessionTimeoutSeconds: MAX_S });
    return setup({
      limits: {
        ...base,
        global: { ...base.global, maxSessions: patch.global ?? base.global.maxSessions },
        perUser: { maxSessions: patch.perUser ?? base.perUser.maxSessions },
      },
    });
  }

  it('refuses past perUser.maxSessions with limit user.maxSessions; other users are still admitted', async () => {
    const h = withLimits({ perUser: 2 });
    const server = await runningServer(h, alice);
    const other = await runningServer(h, alice);
    await h.sessions.create(alice, { serverId: server.id });
    await h.sessions.create(alice, { serverId: other.id });
    const accountsBefore = h.accounts.created.length;
    const err = await rejection(h.sessions.create(alice, { serverId: server.id }));
    expect(err).toBeInstanceOf(LimitExceededError);
    expect(err).toMatchObject({ limit: 'user.maxSessions', max: 2, code: 'LIMIT_EXCEEDED' });
    expect(h.accounts.created.length).toBe(accountsBefore);
    await expectClaimsOfLiveSessionsOnly(h);
    await h.sessions.create(olga, { serverId: server.id });
    expect(await h.store.count({})).toBe(3);
    await expectClaimsOfLiveSessionsOnly(h);
  });

  it("refuses past the server's configuration.maxSessions with limit server.maxSessions; another server still admits", async () => {
    const h = withLimits({});
    const small = await runningServer(h, olga, { maxSessions: 2 });
    const other = await runningServer(h, olga);
    await h.sessions.create(otto, { serverId: small.id });
    await h.sessions.create(oscar, { serverId: small.id });
    const err = await rejection(h.sessions.create(olive, { serverId: small.id }));
    expect(err).toMatchObject({ limit: 'server.maxSessions', max: 2 });
    expect(err).toBeInstanceOf(LimitExceededError);
    await expectClaimsOfLiveSessionsOnly(h);
    await h.sessions.create(olive, { serverId: other.id });
    await expectClaimsOfLiveSessionsOnly(h);
  });

  it('refuses past global.maxSessions with limit maxSessions across servers and users', async () => {
    const h = withLimits({ global: 2 });
    const one = await runningServer(h, alice);
    const two = await runningServer(h, bob);
    const three = await runningServer(h, carol);
    await h.sessions.create(alice, { serverId: one.id });
    await h.sessions.create(bob, { serverId: two.id });
    h.events.clear();
    const err = await rejection(h.sessions.create(carol, { serverId: three.id }));
    expect(err).toMatchObject({ limit: 'maxSessions', max: 2 });
    expect(err).toBeInstanceOf(LimitExceededError);
    expect(h.events.published).toEqual([]);
    expect(h.metrics.created).toBe(2);
    await expectClaimsOfLiveSessionsOnly(h);
  });

  it('gives the slots back on terminate, so a user at the cap is admitted again', async () => {
    const h = withLimits({ perUser: 1 });
    const server = await runningServer(h, alice);
    const { session } = await h.sessions.create(alice, { serverId: server.id });
    await expect(h.sessions.create(alice, { serverId: server.id })).rejects.toMatchObject({ limit: 'user.maxSessions' });
    await h.sessions.terminate(alice, session.id);
    await h.sessions.create(alice, { serverId: server.id });
    await expectClaimsOfLiveSessionsOnly(h);
  });

  it('gives the slots back when the account cannot be made, and stores nothing', async () => {
    const h = withLimits({});
    const server = await runningServer(h, alice);
    h.accounts.createFailure = new Error('useradd failed');
    h.events.clear();
    await expect(h.sessions.create(alice, { serverId: server.id })).rejects.toThrow('useradd failed');
    expect(await h.claims.list(SLOTS)).toEqual([]);
    expect(await allSessions(h)).toEqual([]);
    expect(h.events.published).toEqual([]);
  });
});

describe('SessionService.create: credentials', () => {
  let h: Harness;
  let server: RdpServer;
  beforeEach(async () => {
    h = setup();
    server = await runningServer(h);
    h.events.clear();
  });

  it('EPHEMERAL: makes an rdp-xxxxxxxx account with a 20-character password, returned once, stored only as a salted hash', async () => {
    const { session, connection } = await h.sessions.create(alice, { serverId: server.id, credentialMode: 'EPHEMERAL' });
    expect(connection.username).toMatch(/^rdp-[0-9a-f]{8}$/);
    expect(connection.password).toMatch(/^[A-Za-z2-9]{20}$/);
    const password = connection.password ?? '';
    expect(h.accounts.created).toEqual([{ username: connection.username, password }]);
    expect(session.username).toBe(connection.username);
    expect(session.credentialMode).toBe('EPHEMERAL');
    const hash = (await h.store.findById(session.id))?.credentialHash ?? '';
    expect(hash).toMatch(/^sha256\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword(password, hash)).toBe(true);
    expect(await verifyPassword(`${password}x`, hash)).toBe(false);
    // The password is nowhere: not in the stored session, the claims or any event.
    expect(JSON.stringify(await allSessions(h))).not.toContain(password);
    expect(JSON.stringify(await h.claims.list(''))).not.toContain(password);
    expect(JSON.stringify(h.events.published)).not.toContain(password);
    for (const e of h.events.published) if (e.topic === 'session:changed') expect(e.payload.session.credentialHash).toBeNull();
  });

  it('EPHEMERAL: keeps the hash out of every later event as well (connect, disconnect, terminate)', async () => {
    const { session } = await h.sessions.create(alice, { serverId: server.id });
    await h.sessions.disconnect(alice, session.id);
    await h.sessions.connect(alice, session.id);
    await h.sessions.terminate(alice, session.id);
    const stored = (await h.store.findById(session.id))?.credentialHash ?? '';
    expect(stored).not.toBe('');
    expect(h.events.kinds()).toEqual([
      'CREATED:ACTIVE',
      'DISCONNECTED:DISCONNECTED',
      'CONNECTED:ACTIVE',
      'TERMINATED:TERMINATED',
    ]);
    for (const e of h.events.published) if (e.topic === 'session:changed') expect(e.payload.session.credentialHash).toBeNull();
    expect(JSON.stringify(h.events.published)).not.toContain(stored);
  });

  it('gives each EPHEMERAL session its own account and password', async () => {
    const a = await h.sessions.create(alice, { serverId: server.id });
    const b = await h.sessions.create(alice, { serverId: server.id });
    expect(a.connection.username).not.toBe(b.connection.username);
    expect(a.connection.password).not.toBe(b.connection.password);
  });

  it('HOST_ACCOUNT: logs in as the viewer, no password, no hash, no account made', async () => {
    const { session, connection } = await h.sessions.create(alice, { serverId: server.id, credentialMode: 'HOST_ACCOUNT' });
    expect(connection).toMatchObject({ username: 'alice', password: null, host: HOST, port: server.port });
    expect(session).toMatchObject({ credentialMode: 'HOST_ACCOUNT', username: 'alice', credentialHash: null });
    expect(h.accounts.created).toEqual([]);
    await h.sessions.terminate(alice, session.id);
    expect(h.accounts.removed).toEqual([]);
  });

  it('HOST_ACCOUNT: one live session per account and server; a second is a ConflictError that holds nothing', async () => {
    const first = await h.sessions.create(alice, { serverId: server.id, credentialMode: 'HOST_ACCOUNT' });
    const claimsBefore = (await h.claims.list(SLOTS)).map((c) => c.key).sort();
    const err = await rejection(h.sessions.create(alice, { serverId: server.id, credentialMode: 'HOST_ACCOUNT' }));
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain('host account "alice"');
    expect((await h.claims.list(SLOTS)).map((c) => c.key).sort()).toEqual(claimsBefore);
    expect((await allSessions(h)).map((s) => s.id)).toEqual([first.session.id]);
    // EPHEMERAL sessions have accounts of their own; another server is another desktop.
    await h.sessions.create(alice, { serverId: server.id, credentialMode: 'EPHEMERAL' });
    const other = await runningServer(h);
    await h.sessions.create(alice, { serverId: other.id, credentialMode: 'HOST_ACCOUNT' });
    // Once the first ends, the account may have a session on this server again.
    await h.sessions.terminate(alice, first.session.id);
    const again = await h.sessions.create(alice, { serverId: server.id, credentialMode: 'HOST_ACCOUNT' });
    expect(again.session.status).toBe('ACTIVE');
  });

  it('HOST_ACCOUNT: a username that is not a Linux account name is a ValidationError on credentialMode', async () => {
    const odd: Viewer = { userId: 'alice', username: 'Alice Smith', roles: ['user'], permissions: [] };
    const err = await rejection(h.sessions.create(odd, { serverId: server.id, credentialMode: 'HOST_ACCOUNT' }));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe('credentialMode');
    expect(await allSessions(h)).toEqual([]);
    expect(await h.claims.list(SLOTS)).toEqual([]);
  });

  it('defaults to the configured mode; EPHEMERAL without an accounts adapter is a ValidationError', async () => {
    const hostOnly = setup({ defaultCredentialMode: 'HOST_ACCOUNT', withAccounts: false });
    const s = await runningServer(hostOnly);
    const { connection } = await hostOnly.sessions.create(alice, { serverId: s.id });
    expect(connection).toMatchObject({ username: 'alice', password: null });
    const err = await rejection(hostOnly.sessions.create(alice, { serverId: s.id, credentialMode: 'EPHEMERAL' }));
    expect(err).toMatchObject({ field: 'credentialMode' });
    const defaulted = await h.sessions.create(alice, { serverId: server.id });
    expect(defaulted.session.credentialMode).toBe('EPHEMERAL');
  });

  it('connection: host, port, expiry in 1 h, and a CRLF .rdp file with the address and account but no password', async () => {
    const { connection } = await h.sessions.create(alice, {
      serverId: server.id,
      clientInfo: { resolution: '1280x720', colorDepth: 16 },
    });
    expect(connection).toMatchObject({ host: HOST, port: server.port, expiresAt: h.clock.iso(3600_000) });
    const file = connection.rdpFile;
    expect(file.endsWith('\r\n')).toBe(true);
    expect(file.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
    const lines = file.split('\r\n').slice(0, -1);
    expect(lines).toContain(`full address:s:${HOST}:${server.port}`);
    expect(lines).toContain(`username:s:${connection.username}`);
    expect(lines).toContain('desktopwidth:i:1280');
    expect(lines).toContain('desktopheight:i:720');
    expect(lines).toContain('session bpp:i:16');
    expect(file).not.toContain(connection.password ?? 'no password');
    expect(file.toLowerCase()).not.toContain('password');
  });

  it(".rdp file falls back to the server's resolution and colour depth", async () => {
    const custom = await runningServer(h, alice, { resolution: '1600x900', colorDepth: 32 });
    const { connection } = await h.sessions.create(alice, { serverId: custom.id });
    expect(connection.rdpFile).toContain('desktopwidth:i:1600\r\ndesktopheight:i:900\r\nsession bpp:i:32\r\n');
  });
});

describe('SessionService.create: validation', () => {
  let h: Harness;
  let server: RdpServer;
  beforeEach(async () => {
    h = setup();
    server = await runningServer(h);
    h.events.clear();
  });

  const bad: [string, Record<string, unknown>, string][] = [
    ['clientIp not an address', { clientIp: '999.1.1.1' }, 'clientInfo.clientIp'],
    ['clientName of 256 characters', { clientName: 'n'.repeat(256) }, 'clientInfo.clientName'],
    ['clientName with a control character', { clientName: 'a\nb' }, 'clientInfo.clientName'],
    ['clientVersion of 51 characters', { clientVersion: 'v'.repeat(51) }, 'clientInfo.clientVersion'],
    ['colorDepth 8', { colorDepth: 8 }, 'clientInfo.colorDepth'],
    ['resolution abc', { resolution: 'abc' }, 'clientInfo.resolution'],
    ['resolution 100x100', { resolution: '100x100' }, 'clientInfo.resolution'],
  ];
  for (const [what, clientInfo, field] of bad) {
    it(`${what} is a ValidationError naming ${field}; nothing stored, no event, no account, no claim`, async () => {
      const err = await rejection(h.sessions.create(alice, { serverId: server.id, clientInfo }));
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe(field);
      expect(await allSessions(h)).toEqual([]);
      expect(h.events.published).toEqual([]);
      expect(h.accounts.created).toEqual([]);
      expect(await h.claims.list(SLOTS)).toEqual([]);
    });
  }

  it('accepts the boundaries: 255-character clientName, 50-character version, IPv6, 200x8192, depth 32', async () => {
    const clientInfo = {
      clientName: 'n'.repeat(255),
      clientVersion: 'v'.repeat(50),
      clientIp: '2001:db8::1',
      resolution: '200x8192',
      colorDepth: 32,
    };
    const { session } = await h.sessions.create(alice, { serverId: server.id, clientInfo });
    expect(session.clientInfo).toEqual(clientInfo);
  });

  it('treats explicit nulls (GraphQL omitted fields) as absent', async () => {
    const { session } = await h.sessions.create(alice, {
      serverId: server.id,
      credentialMode: null,
      clientInfo: { clientName: null, clientIp: null },
    });
    expect(session.clientInfo).toEqual({
      clientName: null,
      clientVersion: null,
      clientIp: null,
      resolution: null,
      colorDepth: null,
    });
  });
});

describe('SessionService: connect, disconnect, terminate', () => {
  let h: Harness;
  let server: RdpServer;
  let session: RdpSession;
  beforeEach(async () => {
    h = setup();
    server = await runningServer(h);
    ({ session } = await h.sessions.create(alice, { serverId: server.id }));
    h.events.clear();
  });

  it('connect on an ACTIVE session is a CONFLICT and changes nothing', async () => {
    await expect(h.sessions.connect(alice, session.id)).rejects.toBeInstanceOf(ConflictError);
    expect(await h.store.findById(session.id)).toStrictEqual(session);
    expect(h.events.published).toEqual([]);
  });

  it('disconnect -> DISCONNECTED ending after the disconnected timeout; again is a CONFLICT; connect -> ACTIVE with fresh activity', async () => {
    h.clock.advance(60_000);
    const disconnected = await h.sessions.disconnect(alice, session.id);
    expect(disconnected).toMatchObject({ status: 'DISCONNECTED', idleDeadline: h.clock.iso(DISCONNECTED_S * 1000), version: 2 });
    expect(await h.store.findById(session.id)).toStrictEqual(disconnected);
    await expect(h.sessions.disconnect(alice, session.id)).rejects.toBeInstanceOf(ConflictError);
    h.clock.advance(60_000);
    const connected = await h.sessions.connect(alice, session.id);
    expect(connected).toMatchObject({
      status: 'ACTIVE',
      lastActivityAt: h.clock.iso(),
      idleDeadline: h.clock.iso(IDLE_S * 1000),
      version: 3,
    });
    expect(h.events.kinds(session.id)).toEqual(['DISCONNECTED:DISCONNECTED', 'CONNECTED:ACTIVE']);
  });

  it('terminate by the owner: TERMINATED with reason USER, account removed, 3 slots freed, counted once, one event', async () => {
    h.clock.advance(5000);
    const ended = await h.sessions.terminate(alice, session.id);
    expect(ended).toMatchObject({
      status: 'TERMINATED',
      terminationReason: 'USER',
      terminatedAt: h.clock.iso(),
      idleDeadline: null,
      version: 2,
    });
    expect(await h.store.findById(session.id)).toStrictEqual(ended);
    expect(h.accounts.removed).toEqual([session.username]);
    expect(h.accounts.existing.size).toBe(0);
    expect(h.host.ended).toEqual([]);
    expect(await h.claims.list(SLOTS)).toEqual([]);
    expect(h.metrics.terminated).toEqual(['USER']);
    expect(h.events.kinds()).toEqual(['TERMINATED:TERMINATED']);
  });

  it('terminate by an operator records ADMIN', async () => {
    const ended = await h.sessions.terminate(olga, session.id);
    expect(ended.terminationReason).toBe('ADMIN');
    expect(h.metrics.terminated).toEqual(['ADMIN']);
  });

  it('after TERMINATED, connect, disconnect and terminate are each a CONFLICT and nothing more is counted', async () => {
    await h.sessions.terminate(alice, session.id);
    for (const call of [
      () => h.sessions.connect(alice, session.id),
      () => h.sessions.disconnect(alice, session.id),
      () => h.sessions.terminate(alice, session.id, true),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(ConflictError);
    }
    expect(h.metrics.terminated).toEqual(['USER']);
    expect(h.accounts.removed).toHaveLength(1);
    expect(h.events.kinds()).toEqual(['TERMINATED:TERMINATED']);
  });

  it('a connected client needs force; with force the host is told to end the display', async () => {
    await h.sessions.applyXrdpEvent(xrdp(server.id, 'LOGIN_SUCCEEDED', session.username, 12));
    h.host.run({ serverId: server.id, user: session.username, display: 12 }, { clientConnected: true, idleMs: 0 });
    const before = await h.store.findById(session.id);
    const err = await rejection(h.sessions.terminate(alice, session.id));
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain('force');
    expect(await h.store.findById(session.id)).toStrictEqual(before);
    expect(h.metrics.terminated).toEqual([]);
    const ended = await h.sessions.terminate(alice, session.id, true);
    expect(ended.status).toBe('TERMINATED');
    expect(h.host.ended).toEqual([{ serverId: server.id, user: session.username, display: 12 }]);
    expect(h.accounts.removed).toEqual([session.username]);
    expect(await h.claims.list(SLOTS)).toEqual([]);
  });

  it('a DISCONNECTED session that once had a client ends without force', async () => {
    await h.sessions.applyXrdpEvent(xrdp(server.id, 'LOGIN_SUCCEEDED', session.username, 12));
    await h.sessions.applyXrdpEvent(xrdp(server.id, 'DISCONNECTED', session.username, 12));
    const ended = await h.sessions.terminate(alice, session.id);
    expect(ended.status).toBe('TERMINATED');
  });

  it("another user's session answers NotFoundError exactly like a missing one, for every operation", async () => {
    const ops = [
      (id: string) => h.sessions.get(bob, id),
      (id: string) => h.sessions.connect(bob, id),
      (id: string) => h.sessions.disconnect(bob, id),
      (id: string) => h.sessions.terminate(bob, id, true),
    ];
    for (const op of ops) {
      const hidden = await rejection(op(session.id));
      const missing = await rejection(op('00000000-0000-4000-8000-00000000dead'));
      expect(hidden).toBeInstanceOf(NotFoundError);
      expect(missing).toBeInstanceOf(NotFoundError);
      expect((hidden as Error).message.replace(session.id, 'X')).toBe(
        (missing as Error).message.replace(/\S+ not found/, 'X not found'),
      );
    }
    expect(await h.store.findById(session.id)).toStrictEqual(session);
    expect(await h.sessions.get(olga, session.id)).toStrictEqual(session);
  });

  it('50 concurrent terminates: one wins, 49 CONFLICT, one event, counted once, slots freed once', async () => {
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => h.sessions.terminate(alice, session.id, true)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(refused).toHaveLength(49);
    for (const r of refused) expect(r).toBeInstanceOf(ConflictError);
    expect(h.metrics.terminated).toEqual(['USER']);
    expect(h.events.kinds()).toEqual(['TERMINATED:TERMINATED']);
    expect(h.accounts.removed).toEqual([session.username]);
  });
});

describe('SessionService: list, get and byServers', () => {
  it('users list their own sessions, even on their own server; operators all; filters and pages apply', async () => {
    const h = setup();
    const server = await runningServer(h, alice);
    const bobs = await runningServer(h, bob);
    const a1 = (await h.sessions.create(alice, { serverId: server.id })).session;
    h.clock.advance(1);
    const o1 = (await h.sessions.create(otto, { serverId: server.id })).session;
    h.clock.advance(1);
    const b1 = (await h.sessions.create(bob, { serverId: bobs.id })).session;
    h.clock.advance(1);
    const a2 = (await h.sessions.create(alice, { serverId: server.id })).session;
    await h.sessions.terminate(alice, a2.id);

    const mine = await h.sessions.list(alice, {}, { first: 10 });
    expect(mine.items.map((s) => s.id)).toEqual([a1.id, a2.id]);
    expect(mine.totalCount).toBe(2);
    const onMyServer = await h.sessions.list(alice, { serverId: server.id }, { first: 10 });
    expect(onMyServer.items.map((s) => s.id)).toEqual([a1.id, a2.id]);
    const snoop = await h.sessions.list(alice, { userId: 'bob' }, { first: 10 });
    expect(snoop).toEqual({ items: [], hasNextPage: false, totalCount: 0 });
    const all = await h.sessions.list(olga, {}, { first: 2 });
    expect(all.items.map((s) => s.id)).toEqual([a1.id, o1.id]);
    expect(all).toMatchObject({ hasNextPage: true, totalCount: 4 });
    const live = await h.sessions.list(olga, { status: 'ACTIVE', serverId: server.id }, { first: 10 });
    expect(live.items.map((s) => s.id)).toEqual([a1.id, o1.id]);
    const bobsOnly = await h.sessions.list(olga, { userId: 'bob' }, { first: 10 });
    expect(bobsOnly.items.map((s) => s.id)).toEqual([b1.id]);
    await expect(h.sessions.list(alice, {}, { first: 101 })).rejects.toMatchObject({ field: 'first' });
    await expect(h.sessions.list(alice, {}, { first: 10, after: 'garbage' })).rejects.toMatchObject({ field: 'after' });
  });

  it('byServers answers per server, only the sessions the viewer may see', async () => {
    const h = setup();
    const one = await runningServer(h, alice);
    const two = await runningServer(h, bob);
    const a = (await h.sessions.create(alice, { serverId: one.id })).session;
    const o = (await h.sessions.create(otto, { serverId: one.id })).session;
    const b = (await h.sessions.create(bob, { serverId: two.id })).session;
    const ids = (rows: RdpSession[][]) => rows.map((r) => r.map((s) => s.id));
    expect(ids(await h.sessions.byServers(olga, [one.id, two.id, 'none'], ['ACTIVE']))).toEqual([[a.id, o.id], [b.id], []]);
    expect(ids(await h.sessions.byServers(alice, [one.id, two.id], ['ACTIVE']))).toEqual([[a.id], []]);
    expect(await h.sessions.getMany(alice, [b.id, a.id, 'none'])).toEqual([null, a, null]);
  });
});

describe('SessionService.terminateAll through ServerService.stop', () => {
  it('stop without force is a CONFLICT while sessions live; with force every live session ends with SERVER_STOPPED', async () => {
    const h = setup();
    const server = await runningServer(h, olga);
    const other = await runningServer(h, olga);
    const live = [
      (await h.sessions.create(otto, { serverId: server.id })).session,
      (await h.sessions.create(oscar, { serverId: server.id })).session,
      (await h.sessions.create(olive, { serverId: server.id })).session,
    ];
    await h.sessions.disconnect(oscar, live[1]?.id ?? '');
    const ended = (await h.sessions.create(otto, { serverId: server.id })).session;
    await h.sessions.terminate(otto, ended.id);
    const elsewhere = (await h.sessions.create(otto, { serverId: other.id })).session;
    h.metrics.terminated.length = 0;
    h.accounts.removed.length = 0;
    h.events.clear();

    await expect(h.servers.stop(olga, server.id)).rejects.toBeInstanceOf(ConflictError);
    expect((await h.servers.get(olga, server.id)).status).toBe('RUNNING');
    expect(h.metrics.terminated).toEqual([]);

    const stopped = await h.servers.stop(olga, server.id, true);
    expect(stopped.status).toBe('STOPPED');
    for (const s of live) {
      expect(await h.store.findById(s.id)).toMatchObject({ status: 'TERMINATED', terminationReason: 'SERVER_STOPPED' });
    }
    expect((await h.store.findById(ended.id))?.terminationReason).toBe('USER');
    expect((await h.store.findById(elsewhere.id))?.status).toBe('ACTIVE');
    expect(h.metrics.terminated).toEqual(['SERVER_STOPPED', 'SERVER_STOPPED', 'SERVER_STOPPED']);
    expect(h.events.kinds().filter((k) => k.startsWith('TERMINATED'))).toHaveLength(3);
    expect(h.accounts.removed.sort()).toEqual(live.map((s) => s.username).sort());
    await expectClaimsOfLiveSessionsOnly(h);
    await expect(h.sessions.create(otto, { serverId: server.id })).rejects.toBeInstanceOf(ConflictError);
  });
});

describe('SessionService.applyXrdpEvent', () => {
  let h: Harness;
  let server: RdpServer;
  let session: RdpSession;
  beforeEach(async () => {
    h = setup();
    server = await runningServer(h);
    ({ session } = await h.sessions.create(alice, { serverId: server.id }));
    h.events.clear();
  });

  it('LOGIN_SUCCEEDED for the account -> ACTIVE with the display and connectedAt; DISCONNECTED; a reconnect keeps connectedAt', async () => {
    h.clock.advance(10_000);
    const loginAt = h.clock.iso();
    const connected = await h.sessions.applyXrdpEvent(xrdp(server.id, 'LOGIN_SUCCEEDED', session.username, 10));
    expect(connected).toMatchObject({
      id: session.id,
      status: 'ACTIVE',
      display: 10,
      connectedAt: loginAt,
      lastActivityAt: loginAt,
      idleDeadline: h.clock.iso(IDLE_S * 1000),
    });
    expect(await h.store.findById(session.id)).toStrictEqual(connected);

    h.clock.advance(10_000);
    const gone = await h.sessions.applyXrdpEvent(xrdp(server.id, 'DISCONNECTED', session.username, 10));
    expect(gone).toMatchObject({ status: 'DISCONNECTED', idleDeadline: h.clock.iso(DISCONNECTED_S * 1000), display: 10 });

    h.clock.advance(10_000);
    const back = await h.sessions.applyXrdpEvent(xrdp(server.id, 'CONNECTED', session.username, 11));
    expect(back).toMatchObject({ status: 'ACTIVE', display: 11, connectedAt: loginAt, lastActivityAt: h.clock.iso() });
    expect(h.events.kinds(session.id)).toEqual(['CONNECTED:ACTIVE', 'DISCONNECTED:DISCONNECTED', 'CONNECTED:ACTIVE']);
  });

  it('a host event keyed by its id is applied once: redelivered or older ones change nothing', async () => {
    const login = xrdp(server.id, 'LOGIN_SUCCEEDED', session.username, 10);
    await h.sessions.applyXrdpEvent(login, 'host-a/1000-1');
    // Redelivered after a replica died between applying and acknowledging it.
    await h.sessions.applyXrdpEvent(login, 'host-a/1000-1');
    await h.sessions.applyXrdpEvent(xrdp(server.id, 'DISCONNECTED', session.username, 10), 'host-a/999-7');
    expect(h.events.kinds(session.id)).toEqual(['CONNECTED:ACTIVE']);
    expect((await h.store.findById(session.id))?.lastHostEvent).toBe('host-a/1000-1');
    await h.sessions.applyXrdpEvent(xrdp(server.id, 'DISCONNECTED', session.username, 10), 'host-a/1000-2');
    expect(h.events.kinds(session.id)).toEqual(['CONNECTED:ACTIVE', 'DISCONNECTED:DISCONNECTED']);
  });

  it('LOGIN_FAILED changes nothing and publishes nothing', async () => {
    expect(await h.sessions.applyXrdpEvent(xrdp(server.id, 'LOGIN_FAILED', session.username, null))).toBeNull();
    expect(await h.store.findById(session.id)).toStrictEqual(session);
    expect(h.events.published).toEqual([]);
  });

  it('events for unknown accounts, another server, or a terminated session answer null', async () => {
    expect(await h.sessions.applyXrdpEvent(xrdp(server.id, 'LOGIN_SUCCEEDED', 'rdp-ffffffff'))).toBeNull();
    expect(await h.sessions.applyXrdpEvent(xrdp('other-server', 'LOGIN_SUCCEEDED', session.username))).toBeNull();
    await h.sessions.terminate(alice, session.id);
    h.events.clear();
    expect(await h.sessions.applyXrdpEvent(xrdp(server.id, 'LOGIN_SUCCEEDED', session.username))).toBeNull();
    expect(h.events.published).toEqual([]);
  });

  it('SESSION_ENDED terminates the session once', async () => {
    const ended = await h.sessions.applyXrdpEvent(xrdp(server.id, 'SESSION_ENDED', session.username, 10));
    expect(ended).toMatchObject({ status: 'TERMINATED' });
    expect(await h.sessions.applyXrdpEvent(xrdp(server.id, 'SESSION_ENDED', session.username, 10))).toBeNull();
    expect(h.metrics.terminated).toHaveLength(1);
    expect(await h.claims.list(SLOTS)).toEqual([]);
  });
});

describe('SessionService.sweep', () => {
  let h: Harness;
  let server: RdpServer;
  let session: RdpSession;
  beforeEach(async () => {
    h = setup();
    server = await runningServer(h);
    ({ session } = await h.sessions.create(alice, { serverId: server.id }));
    h.events.clear();
  });

  it('the one-time password expires: the account is locked once, the session and its desktop go on', async () => {
    const short = setup({ credentialTtlSeconds: 600 });
    const srv = await runningServer(short);
    const { session: s } = await short.sessions.create(alice, { serverId: srv.id });
    const host = await short.sessions.create(alice, { serverId: srv.id, credentialMode: 'HOST_ACCOUNT' });
    expect(host.session.credentialDeadline).toBeNull();
    short.events.clear();
    short.clock.advance(600_000 - 1);
    expect(await short.sessions.sweep()).toEqual({ terminated: 0, disconnected: 0, credentialsLocked: 0 });
    expect(short.accounts.locked).toEqual([]);
    short.clock.advance(1);
    const sweeps = await Promise.all([short.sessions.sweep(), short.sessions.sweep()]);
    expect(sweeps.reduce((n, r) => n + r.credentialsLocked, 0)).toBe(1);
    expect(await short.sessions.sweep()).toEqual({ terminated: 0, disconnected: 0, credentialsLocked: 0 });
    // Locking is idempotent, so two sweepers may both lock; the recorded transition is one.
    expect(new Set(short.accounts.locked)).toEqual(new Set([s.username]));
    expect(short.events.kinds()).toEqual(['UPDATED:ACTIVE']);
    expect(await short.store.findById(s.id)).toMatchObject({ status: 'ACTIVE', credentialDeadline: null });
    expect(short.accounts.removed).toEqual([]);
  });

  it('a lock that fails is retried by the next sweep and does not stop the others', async () => {
    const short = setup({ credentialTtlSeconds: 600 });
    const srv = await runningServer(short);
    const first = await short.sessions.create(alice, { serverId: srv.id });
    const second = await short.sessions.create(alice, { serverId: srv.id });
    const lock = short.accounts.lock.bind(short.accounts);
    let failing: string | null = first.session.username;
    short.accounts.lock = async (name) => {
      if (name === failing) throw new Error('usermod: cannot lock');
      return lock(name);
    };
    short.clock.advance(600_000);
    await expect(short.sessions.sweep()).rejects.toThrow('cannot lock');
    expect(short.accounts.locked).toEqual([second.session.username]);
    failing = null;
    expect(await short.sessions.sweep()).toEqual({ terminated: 0, disconnected: 0, credentialsLocked: 1 });
    expect(short.accounts.locked).toEqual([second.session.username, first.session.username]);
  });

  it('reissueCredentials: record first, then the password; a sweep whose lock lands on the reissued password lifts it again', async () => {
    const short = setup({ credentialTtlSeconds: 600 });
    const srv = await runningServer(short);
    const { session: s } = await short.sessions.create(alice, { serverId: srv.id });
    short.clock.advance(600_000);
    // The sweep read the expired deadline; the owner reissues before its lock lands.
    const lock = short.accounts.lock.bind(short.accounts);
    let reissued: string | null = null;
    short.accounts.lock = async (name) => {
      if (reissued === null) reissued = (await short.sessions.reissueCredentials(alice, s.id)).connection.password;
      return lock(name);
    };
    expect(await short.sessions.sweep()).toEqual({ terminated: 0, disconnected: 0, credentialsLocked: 0 });
    expect(short.accounts.passwordsSet).toEqual([{ username: s.username, password: reissued }]);
    expect(short.accounts.locked).toEqual([s.username]);
    expect(short.accounts.unlocked).toEqual([s.username]);
    const stored = await short.store.findById(s.id);
    expect(stored?.credentialDeadline).toBe(new Date(short.clock.now().getTime() + 600_000).toISOString());
    // The new deadline is the sweeper's again.
    short.clock.advance(600_000);
    expect(await short.sessions.sweep()).toEqual({ terminated: 0, disconnected: 0, credentialsLocked: 1 });
    expect(short.accounts.unlocked).toEqual([s.username]);
  });

  it('reissueCredentials: a password the host refuses leaves the record as it was and the error stands', async () => {
    const { session: s } = await h.sessions.create(alice, { serverId: server.id });
    const before = await h.store.findById(s.id);
    h.accounts.setPassword = async () => {
      throw new Error('chpasswd failed');
    };
    await expect(h.sessions.reissueCredentials(alice, s.id)).rejects.toThrow('chpasswd failed');
    const after = await h.store.findById(s.id);
    expect({ ...after, version: 0 }).toEqual({ ...before, version: 0 });
  });

  it('does nothing before a deadline, even exactly one millisecond before', async () => {
    h.clock.advance(IDLE_S * 1000 - 1);
    expect(await h.sessions.sweep()).toEqual({ terminated: 0, disconnected: 0, credentialsLocked: 0 });
    expect(h.events.published).toEqual([]);
  });

  it('past the idle deadline: DISCONNECTED once; a second sweep does nothing', async () => {
    h.clock.advance(IDLE_S * 1000 + 1);
    expect(await h.sessions.sweep()).toEqual({ terminated: 0, disconnected: 1, credentialsLocked: 0 });
    expect(await h.store.findById(session.id)).toMatchObject({
      status: 'DISCONNECTED',
      idleDeadline: h.clock.iso(DISCONNECTED_S * 1000),
    });
    expect(await h.sessions.sweep()).toEqual({ terminated: 0, disconnected: 0, credentialsLocked: 0 });
    expect(h.events.kinds()).toEqual(['DISCONNECTED:DISCONNECTED']);
    expect(h.metrics.terminated).toEqual([]);
    await expectClaimsOfLiveSessionsOnly(h);
  });

  it('activity moves the idle deadline: a connect just before it keeps the session ACTIVE', async () => {
    await h.sessions.disconnect(alice, session.id);
    h.clock.advance(IDLE_S * 1000 - 1000);
    await h.sessions.connect(alice, session.id);
    h.clock.advance(2000);
    expect(await h.sessions.sweep()).toEqual({ terminated: 0, disconnected: 0, credentialsLocked: 0 });
  });

  it('past the session deadline: TERMINATED with SESSION_TIMEOUT once, account removed, slots freed, counted once', async () => {
    h.clock.advance(MAX_S * 1000);
    expect(await h.sessions.sweep()).toEqual({ terminated: 1, disconnected: 0, credentialsLocked: 0 });
    expect(await h.store.findById(session.id)).toMatchObject({
      status: 'TERMINATED',
      terminationReason: 'SESSION_TIMEOUT',
      terminatedAt: h.clock.iso(),
    });
    expect(await h.sessions.sweep()).toEqual({ terminated: 0, disconnected: 0, credentialsLocked: 0 });
    expect(h.metrics.terminated).toEqual(['SESSION_TIMEOUT']);
    expect(h.events.kinds()).toEqual(['TERMINATED:TERMINATED']);
    expect(h.accounts.removed).toEqual([session.username]);
    expect(await h.claims.list(SLOTS)).toEqual([]);
  });

  it('terminates a DISCONNECTED session at its session deadline too', async () => {
    await h.sessions.disconnect(alice, session.id);
    h.clock.advance(MAX_S * 1000 + 1);
    expect(await h.sessions.sweep()).toEqual({ terminated: 1, disconnected: 0, credentialsLocked: 0 });
  });

  it('five concurrent sweeps over 20 due sessions end each once', async () => {
    const base = defaultResourceLimits({ sessionTimeoutSeconds: MAX_S });
    h.limits.set({ ...base, perUser: { maxSessions: 100 } });
    const big = await runningServer(h, alice, { maxSessions: 100 });
    for (let i = 0; i < 19; i++) await h.sessions.create(alice, { serverId: big.id });
    h.events.clear();
    h.clock.advance(MAX_S * 1000 + 1);
    const results = await Promise.all(Array.from({ length: 5 }, () => h.sessions.sweep()));
    expect(results.reduce((n, r) => n + r.terminated, 0)).toBe(20);
    expect(h.metrics.terminated).toHaveLength(20);
    expect(h.events.kinds()).toHaveLength(20);
    expect(h.accounts.removed).toHaveLength(20);
    expect(await h.claims.list(SLOTS)).toEqual([]);
  });

  it('respects its limit per sweep', async () => {
    await h.sessions.create(alice, { serverId: server.id });
    await h.sessions.create(alice, { serverId: server.id });
    h.clock.advance(MAX_S * 1000);
    expect(await h.sessions.sweep(2)).toEqual({ terminated: 2, disconnected: 0, credentialsLocked: 0 });
    expect(await h.sessions.sweep(2)).toEqual({ terminated: 1, disconnected: 0, credentialsLocked: 0 });
  });
});

describe('SessionService.reconcileClaims', () => {
  it('frees slots older than 60 s whose session is missing or TERMINATED; keeps fresh ones and live sessions', async () => {
    const h = setup();
    const server = await runningServer(h);
    const live = (await h.sessions.create(alice, { serverId: server.id })).session;
    const ended = (await h.sessions.create(alice, { serverId: server.id })).session;
    await h.sessions.terminate(alice, ended.id);
    // A replica that died: one claimed and never wrote, one ended a session but never gave its slots back.
    expect(await h.claims.tryClaim('slot:sessions:global:500', 'never-written')).toBe(true);
    expect(await h.claims.tryClaim('slot:sessions:user:alice:500', 'never-written')).toBe(true);
    expect(await h.claims.tryClaim('slot:sessions:global:501', ended.id)).toBe(true);
    expect(await h.claims.tryClaim('slot:servers:49', 'not-a-session-claim')).toBe(true);

    h.clock.advance(60_000);
    expect(await h.sessions.reconcileClaims()).toBe(0);
    h.clock.advance(1);
    expect(await h.claims.tryClaim('slot:sessions:global:502', 'fresh')).toBe(true);
    expect(await h.sessions.reconcileClaims()).toBe(3);
    expect(await slotOwners(h)).toEqual(['fresh', live.id, live.id, live.id].sort());
    expect((await h.claims.list('slot:servers:')).map((c) => c.owner)).toContain('not-a-session-claim');

    h.clock.advance(60_001);
    expect(await h.sessions.reconcileClaims()).toBe(1);
    expect(await slotOwners(h)).toEqual([live.id, live.id, live.id]);
  });

  it('an orphaned global slot counts against the cap until it is freed', async () => {
    const base = defaultResourceLimits({ sessionTimeoutSeconds: MAX_S });
    const h = setup({ limits: { ...base, global: { ...base.global, maxSessions: 2 } } });
    const server = await runningServer(h);
    expect(await h.claims.tryClaim('slot:sessions:global:0', 'dead-replica')).toBe(true);
    await h.sessions.create(alice, { serverId: server.id });
    await expect(h.sessions.create(alice, { serverId: server.id })).rejects.toMatchObject({ limit: 'maxSessions' });
    h.clock.advance(61_000);
    expect(await h.sessions.reconcileClaims()).toBe(1);
    await h.sessions.create(alice, { serverId: server.id });
    await expectClaimsOfLiveSessionsOnly(h);
  });
});

describe('SessionService with the host: what really runs decides', () => {
  let h: Harness;
  let server: RdpServer;
  let session: RdpSession;
  let desk: { serverId: string; user: string; display: number };
  /** A logged-in session on display 12 whose client is connected and whose user just typed. */
  async function loggedIn(harness: Harness): Promise<void> {
    h = harness;
    server = await runningServer(h);
    ({ session } = await h.sessions.create(alice, { serverId: server.id }));
    desk = { serverId: server.id, user: session.username, display: 12 };
    session = (await h.sessions.applyXrdpEvent(xrdp(server.id, 'LOGIN_SUCCEEDED', session.username, 12))) ?? session;
    h.host.run(desk, { clientConnected: true, idleMs: 0 });
    h.events.clear();
  }
  const report = (idleMs: number | null, clientConnected = true, over: Partial<typeof desk> = {}) => ({
    ...desk,
    ...over,
    idleMs,
    clientConnected,
  });
  beforeEach(() => loggedIn(setup()));

  it('applyActivity: input moves lastActivityAt and the idle deadline once (UPDATED); the same report again changes nothing', async () => {
    h.clock.advance(600_000);
    expect(await h.sessions.applyActivity([report(5000)])).toBe(1);
    const moved = await h.store.findById(session.id);
    expect(moved).toMatchObject({
      status: 'ACTIVE',
      lastActivityAt: h.clock.iso(-5000),
      idleDeadline: h.clock.iso(IDLE_S * 1000 - 5000),
      version: session.version + 1,
    });
    expect(await h.sessions.applyActivity([report(5000)])).toBe(0);
    expect(await h.store.findById(session.id)).toStrictEqual(moved);
    expect(h.events.kinds()).toEqual(['UPDATED:ACTIVE']);
  });

  it('applyActivity: a move under 30 s is not written, older input never moves it back, other desktops and absent clients are ignored', async () => {
    h.clock.advance(29_999);
    expect(await h.sessions.applyActivity([report(0)])).toBe(0);
    h.clock.advance(1);
    expect(await h.sessions.applyActivity([report(0)])).toBe(1);
    h.clock.advance(60_000);
    expect(await h.sessions.applyActivity([report(120_000)])).toBe(0);
    expect(
      await h.sessions.applyActivity([
        report(0, true, { display: 13 }),
        report(0, true, { serverId: 'another-server' }),
        report(0, true, { user: 'rdp-ffffffff' }),
        report(0, false),
        report(null),
      ]),
    ).toBe(0);
    expect(h.events.kinds()).toEqual(['UPDATED:ACTIVE']);
  });

  it('applyActivity: a DISCONNECTED record with a client and input since the disconnect is ACTIVE again; a report measured before the disconnect is not', async () => {
    h.clock.advance(10_000);
    const before = h.clock.now();
    h.clock.advance(1000);
    await h.sessions.applyXrdpEvent(xrdp(server.id, 'DISCONNECTED', session.username, 12));
    h.clock.advance(1000);
    // Measured before the disconnect, delivered after it: the client was still there then.
    expect(await h.sessions.applyActivity([report(500)], before)).toBe(0);
    expect(await h.sessions.applyActivity([report(5000)])).toBe(0);
    expect((await h.store.findById(session.id))?.status).toBe('DISCONNECTED');
    expect(await h.sessions.applyActivity([report(200)])).toBe(1);
    expect(await h.store.findById(session.id)).toMatchObject({
      status: 'ACTIVE',
      lastActivityAt: h.clock.iso(-200),
      idleDeadline: h.clock.iso(IDLE_S * 1000 - 200),
    });
    expect(h.events.kinds()).toEqual(['DISCONNECTED:DISCONNECTED', 'CONNECTED:ACTIVE']);
  });

  it('sweep at the idle deadline: recent input on the desktop keeps the session ACTIVE and moves the deadline', async () => {
    h.host.run(desk, { clientConnected: true, idleMs: 4000 });
    h.clock.advance(IDLE_S * 1000);
    expect(await h.sessions.sweep()).toEqual({ terminated: 0, disconnected: 0, credentialsLocked: 0 });
    expect(await h.store.findById(session.id)).toMatchObject({
      status: 'ACTIVE',
      lastActivityAt: h.clock.iso(-4000),
      idleDeadline: h.clock.iso(IDLE_S * 1000 - 4000),
    });
    expect(h.host.dropped).toEqual([]);
    expect(h.events.kinds()).toEqual(['UPDATED:ACTIVE']);
  });

  it('sweep at the idle deadline: no input for IDLE_TIMEOUT drops the client for real, the desktop stays, DISCONNECTED until the disconnected timeout', async () => {
    h.host.run(desk, { clientConnected: true, idleMs: IDLE_S * 1000 });
    h.clock.advance(IDLE_S * 1000);
    expect(await h.sessions.sweep()).toEqual({ terminated: 0, disconnected: 1, credentialsLocked: 0 });
    expect(h.host.dropped).toEqual([desk]);
    expect(h.host.state(desk)).toEqual({ clientConnected: false, idleMs: IDLE_S * 1000 });
    expect(h.host.ended).toEqual([]);
    expect(await h.store.findById(session.id)).toMatchObject({
      status: 'DISCONNECTED',
      idleDeadline: h.clock.iso(DISCONNECTED_S * 1000),
    });
    expect(await h.sessions.sweep()).toEqual({ terminated: 0, disconnected: 0, credentialsLocked: 0 });
    expect(h.events.kinds()).toEqual(['DISCONNECTED:DISCONNECTED']);
  });

  it('sweep at the disconnected deadline: ends the session with IDLE_TIMEOUT (desktop, account, slots), once', async () => {
    await h.sessions.applyXrdpEvent(xrdp(server.id, 'DISCONNECTED', session.username, 12));
    h.host.run(desk, { clientConnected: false, idleMs: 1000 });
    h.clock.advance(DISCONNECTED_S * 1000 - 1);
    expect(await h.sessions.sweep()).toEqual({ terminated: 0, disconnected: 0, credentialsLocked: 0 });
    h.clock.advance(1);
    const sweeps = await Promise.all([h.sessions.sweep(), h.sessions.sweep()]);
    expect(sweeps.reduce((n, r) => n + r.terminated, 0)).toBe(1);
    expect(await h.store.findById(session.id)).toMatchObject({ status: 'TERMINATED', terminationReason: 'IDLE_TIMEOUT' });
    expect(h.host.ended).toEqual([desk]);
    expect(h.accounts.removed).toEqual([session.username]);
    expect(await h.claims.list(SLOTS)).toEqual([]);
    expect(h.metrics.terminated).toEqual(['IDLE_TIMEOUT']);
  });

  it('sweep at the disconnected deadline: a client that is connected after all keeps it (CONNECTED), it is not ended', async () => {
    await h.sessions.applyXrdpEvent(xrdp(server.id, 'DISCONNECTED', session.username, 12));
    h.clock.advance(DISCONNECTED_S * 1000);
    h.host.run(desk, { clientConnected: true, idleMs: 3000 });
    expect(await h.sessions.sweep()).toEqual({ terminated: 0, disconnected: 0, credentialsLocked: 0 });
    expect(await h.store.findById(session.id)).toMatchObject({
      status: 'ACTIVE',
      lastActivityAt: h.clock.iso(-3000),
      idleDeadline: h.clock.iso(IDLE_S * 1000 - 3000),
    });
    expect(h.host.ended).toEqual([]);
  });

  it('sweep: a host that cannot be asked changes nothing (the sweep fails); the next sweep acts', async () => {
    h.host.run(desk, { clientConnected: true, idleMs: IDLE_S * 1000 });
    h.clock.advance(IDLE_S * 1000);
    h.host.failure = new Error('host unreachable');
    await expect(h.sessions.sweep()).rejects.toThrow('host unreachable');
    expect(await h.store.findById(session.id)).toStrictEqual(session);
    expect(h.events.published).toEqual([]);
    h.host.failure = null;
    expect(await h.sessions.sweep()).toEqual({ terminated: 0, disconnected: 1, credentialsLocked: 0 });
  });

  it('a working user is never disconnected: input every 2 s through 10 idle timeouts keeps the session ACTIVE with few events', async () => {
    const short = setup({ idleSeconds: 60 });
    await loggedIn(short);
    for (let t = 0; t < 600_000; t += 2000) {
      h.clock.advance(2000);
      h.host.run(desk, { clientConnected: true, idleMs: 1000 });
      // Reports every 10 s, sweeps every 5 s.
      if (t % 10_000 === 0) await h.sessions.applyActivity([report(1000)]);
      if (t % 4000 === 0) await h.sessions.sweep();
    }
    expect((await h.store.findById(session.id))?.status).toBe('ACTIVE');
    expect(h.host.dropped).toEqual([]);
    // lastActivityAt is written in 15 s steps (a quarter of the 60 s timeout): about one event in 20 s.
    const kinds = h.events.kinds();
    expect(new Set(kinds)).toEqual(new Set(['UPDATED:ACTIVE']));
    expect(kinds.length).toBeLessThanOrEqual(600 / 15);
    expect(kinds.length).toBeGreaterThanOrEqual(600 / 30);
  });

  it('terminate without force refuses while a client is really connected, though the record says DISCONNECTED', async () => {
    const current = (await h.store.findById(session.id)) as RdpSession;
    const wrong = { ...current, status: 'DISCONNECTED' as const, version: current.version + 1 };
    expect(await h.store.compareAndSet(wrong, current.version)).toBe(true);
    const err = await rejection(h.sessions.terminate(alice, session.id));
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain('force');
    expect(await h.store.findById(session.id)).toStrictEqual(wrong);
    expect(h.host.ended).toEqual([]);
    expect(h.accounts.removed).toEqual([]);
    expect((await h.sessions.terminate(alice, session.id, true)).status).toBe('TERMINATED');
    expect(h.host.ended).toEqual([desk]);
  });

  it('terminate without force: refused when the host cannot tell; allowed when no client is there, though the record says ACTIVE', async () => {
    h.host.failure = new Error('host unreachable');
    const err = await rejection(h.sessions.terminate(alice, session.id));
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toMatch(/cannot tell.*host unreachable.*force/);
    h.host.failure = null;
    h.host.run(desk, { clientConnected: false, idleMs: 0 });
    expect((await h.store.findById(session.id))?.status).toBe('ACTIVE');
    expect(await h.sessions.terminate(alice, session.id)).toMatchObject({ status: 'TERMINATED', terminationReason: 'USER' });
  });

  it('disconnect drops the client for real and keeps the desktop; a DISCONNECTED record with a client still drops it; without one it is a CONFLICT', async () => {
    h.clock.advance(1000);
    const gone = await h.sessions.disconnect(alice, session.id);
    expect(gone).toMatchObject({ status: 'DISCONNECTED', idleDeadline: h.clock.iso(DISCONNECTED_S * 1000), display: 12 });
    expect(h.host.dropped).toEqual([desk]);
    expect(h.host.ended).toEqual([]);
    expect(h.host.state(desk)?.clientConnected).toBe(false);

    // The client came back without the record knowing: disconnect drops it again.
    h.host.run(desk, { clientConnected: true, idleMs: 0 });
    expect(await h.sessions.disconnect(alice, session.id)).toStrictEqual(gone);
    expect(h.host.dropped).toEqual([desk, desk]);
    await expect(h.sessions.disconnect(alice, session.id)).rejects.toBeInstanceOf(ConflictError);
    expect(h.events.kinds()).toEqual(['DISCONNECTED:DISCONNECTED']);
  });

  it('disconnect: a host that fails leaves the record as it was', async () => {
    h.host.failure = new Error('host unreachable');
    await expect(h.sessions.disconnect(alice, session.id)).rejects.toThrow('host unreachable');
    expect(await h.store.findById(session.id)).toStrictEqual(session);
    expect(h.events.published).toEqual([]);
  });
});
