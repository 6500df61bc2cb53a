import { describe, expect, it } from 'vitest';
import { MemoryClaimStore } from '../../src/adapters/memory/memory-claim-store.js';
import { MemoryServerStore } from '../../src/adapters/memory/memory-server-store.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import { defaultResourceLimits, staticLimitsProvider } from '../../src/domain/resources/resource-limits.js';
import type { RdpServer } from '../../src/domain/servers/server.js';
import { ServerService } from '../../src/domain/servers/server-service.js';
import { HostUnavailableError } from '../../src/domain/shared/errors.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';

const alice: Viewer = { userId: 'alice', username: 'alice', roles: ['user'], permissions: [] };

function setup() {
  const store = new MemoryServerStore();
  const runtime = new FakeServerRuntime();
  let now = Date.parse('2026-01-01T00:00:00Z');
  let n = 0;
  const service = new ServerService({
    store,
    claims: new MemoryClaimStore({ now: () => new Date(now) }),
    runtime,
    events: { publish: () => {} },
    limits: staticLimitsProvider(defaultResourceLimits()),
    clock: { now: () => new Date(now) },
    newId: () => `s${++n}`,
    portRange: { from: 33890, to: 33899 },
    host: 'here',
  });
  /** What a replica killed right after its first write leaves: the record in `status`, nothing more. */
  const abandon = async (id: string, status: RdpServer['status']) => {
    const server = (await store.findById(id)) as RdpServer;
    const next = { ...server, status, updatedAt: new Date(now).toISOString(), version: server.version + 1 };
    expect(await store.compareAndSet(next, server.version)).toBe(true);
  };
  return { service, store, runtime, abandon, advance: (ms: number) => (now += ms) };
}

describe('starts and stops a dead API replica left unfinished', () => {
  it('an old STARTING record follows the host: RUNNING when its instance runs, ERROR when not; young ones are left to their replica', async () => {
    const { service, runtime, abandon, advance } = setup();
    const ran = await service.create(alice, { name: 'ran' });
    const never = await service.create(alice, { name: 'never' });
    const young = await service.create(alice, { name: 'young' });
    // The start command ran on the host for `ran`; `never`'s replica died before sending it.
    await abandon(ran.id, 'STARTING');
    runtime.running.add(ran.id);
    await abandon(never.id, 'STARTING');
    advance(61_000);
    await abandon(young.id, 'STARTING');

    // Nothing else moves them: a start is refused while the record says STARTING.
    await expect(service.start(alice, never.id)).rejects.toThrow(/already starting/);

    expect(await service.settleAbandoned(60_000)).toEqual({ running: [ran.id], notRunning: [never.id] });
    expect(await service.get(alice, ran.id)).toMatchObject({ status: 'RUNNING' });
    expect(await service.get(alice, never.id)).toMatchObject({
      status: 'ERROR',
      statusMessage: 'its start did not finish (the API replica running it stopped)',
    });
    expect((await service.get(alice, young.id)).status).toBe('STARTING');
    // Settled, the failed one starts again.
    expect((await service.start(alice, never.id)).status).toBe('RUNNING');
  });

  it('an old STOPPING record is STOPPED when the instance is gone and RUNNING when it still runs', async () => {
    const { service, runtime, abandon, advance } = setup();
    const gone = await service.create(alice, { name: 'gone' });
    const still = await service.create(alice, { name: 'still' });
    await service.start(alice, gone.id);
    await service.start(alice, still.id);
    await abandon(gone.id, 'STOPPING');
    runtime.running.delete(gone.id);
    await abandon(still.id, 'STOPPING');
    advance(61_000);
    expect(await service.settleAbandoned(60_000)).toEqual({ running: [still.id], notRunning: [gone.id] });
    expect((await service.get(alice, gone.id)).status).toBe('STOPPED');
    expect((await service.get(alice, still.id)).status).toBe('RUNNING');
    expect((await service.stop(alice, still.id)).status).toBe('STOPPED');
  });

  it('a host that does not answer leaves the record for its agent hello to reconcile', async () => {
    const { service, runtime, abandon, advance } = setup();
    const s = await service.create(alice, { name: 's' });
    await abandon(s.id, 'STARTING');
    advance(61_000);
    runtime.isRunning = async () => {
      throw new HostUnavailableError('h', 'its agent is OFFLINE');
    };
    expect(await service.settleAbandoned(60_000)).toEqual({ running: [], notRunning: [] });
    expect((await service.get(alice, s.id)).status).toBe('STARTING');
  });
});
