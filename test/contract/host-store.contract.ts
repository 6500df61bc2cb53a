import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Host } from '../../src/domain/hosts/host.js';
import type { HostStore } from '../../src/domain/hosts/host-store.js';

export interface HostStoreFixture {
  store: HostStore;
  cleanup(): Promise<void>;
}

/** A fully populated host; fields differ from any default so a dropped field shows. */
export function aHost(overrides: Partial<Host> & { id: string }): Host {
  return {
    name: `host ${overrides.id}`,
    labels: { 'topology.kubernetes.io/zone': 'eu-1a', gpu: 'none', empty: '' },
    connected: true,
    draining: false,
    drainDeadline: null,
    lastHeartbeatAt: '2025-03-01T10:00:00.123Z',
    agentVersion: '1.2.3',
    rdpAddress: `${overrides.id}.rdp.example.test`,
    portRange: { from: 40000, to: 40099 },
    capacity: { maxServers: 37, cpuCount: 16, memoryMb: 65536 },
    usage: { cpuPercent: 12.5, memoryPercent: 40.25, at: '2025-03-01T10:00:00.123Z' },
    createdAt: '2025-03-01T09:00:00.001Z',
    updatedAt: '2025-03-01T10:00:00.123Z',
    version: 1,
    ...overrides,
  };
}

/** The shared contract every HostStore adapter must pass. */
export function hostStoreContract(name: string, makeStore: () => Promise<HostStoreFixture>): void {
  describe(`HostStore contract: ${name}`, () => {
    let store: HostStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('round-trips a host with labels (dotted and slashed keys, an empty value), usage and millisecond dates', async () => {
      const host = aHost({ id: 'host-a' });
      expect(await store.insert(host)).toBe(true);
      expect(await store.findById('host-a')).toStrictEqual(host);
    });

    it('round-trips a host that never sent a heartbeat, with no labels, no usage, draining and offline', async () => {
      const host = aHost({ id: 'host-b', labels: {}, usage: null, lastHeartbeatAt: null, connected: false, draining: true });
      expect(await store.insert(host)).toBe(true);
      expect(await store.findById('host-b')).toStrictEqual(host);
    });

    it('refuses a second insert with the same id (false) and keeps the first', async () => {
      const first = aHost({ id: 'host-dup', name: 'first' });
      expect(await store.insert(first)).toBe(true);
      expect(await store.insert(aHost({ id: 'host-dup', name: 'second' }))).toBe(false);
      expect(await store.findById('host-dup')).toStrictEqual(first);
    });

    it('lets exactly one of 10 concurrent inserts of the same id win', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.insert(aHost({ id: 'host-race', name: `writer ${i}` }))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.findById('host-race'))?.name).toBe(`writer ${results.indexOf(true)}`);
    });

    it('returns null for a missing id, and findByIds skips missing ids', async () => {
      await store.insert(aHost({ id: 'host-1' }));
      await store.insert(aHost({ id: 'host-2' }));
      expect(await store.findById('host-9')).toBeNull();
      const found = await store.findByIds(['host-2', 'host-9', 'host-1']);
      expect(found.map((h) => h.id).sort()).toEqual(['host-1', 'host-2']);
      expect(await store.findByIds([])).toEqual([]);
    });

    it('lists every host ordered by id', async () => {
      for (const id of ['host-c', 'host-a', 'b-host', 'host-b']) await store.insert(aHost({ id }));
      expect((await store.list()).map((h) => h.id)).toEqual(['b-host', 'host-a', 'host-b', 'host-c']);
    });

    it('lists nothing from an empty store', async () => {
      expect(await store.list()).toEqual([]);
    });

    it('keeps no reference to the inserted or returned object', async () => {
      const host = aHost({ id: 'host-copy' });
      await store.insert(host);
      host.labels.gpu = 'mutated';
      host.capacity.maxServers = 1;
      const read = await store.findById('host-copy');
      expect(read?.labels.gpu).toBe('none');
      expect(read?.capacity.maxServers).toBe(37);
      if (read?.usage) read.usage.cpuPercent = 99;
      expect((await store.findById('host-copy'))?.usage?.cpuPercent).toBe(12.5);
    });

    describe('compareAndSet', () => {
      it('writes every changed field when the version matches, including usage and labels back to empty', async () => {
        const v1 = aHost({ id: 'host-cas' });
        await store.insert(v1);
        const v2: Host = {
          ...v1,
          labels: {},
          connected: false,
          draining: true,
          drainDeadline: { deadline: '2025-03-01T12:00:00.250Z', stopServers: true, by: 'adam' },
          usage: null,
          lastHeartbeatAt: '2025-03-01T10:00:15.001Z',
          portRange: { from: 41000, to: 41010 },
          capacity: { maxServers: 3, cpuCount: 2, memoryMb: 2048 },
          updatedAt: '2025-03-01T10:00:15.002Z',
          version: 2,
        };
        expect(await store.compareAndSet(v2, 1)).toBe(true);
        expect(await store.findById('host-cas')).toStrictEqual(v2);
      });

      it('refuses a stale or future expected version and an unknown id, changing nothing', async () => {
        const v1 = aHost({ id: 'host-stale' });
        await store.insert(v1);
        const v2 = { ...v1, name: 'v2', version: 2 };
        expect(await store.compareAndSet(v2, 1)).toBe(true);
        expect(await store.compareAndSet({ ...v1, name: 'stale', version: 2 }, 1)).toBe(false);
        expect(await store.compareAndSet({ ...v1, name: 'future', version: 6 }, 5)).toBe(false);
        expect(await store.findById('host-stale')).toStrictEqual(v2);
        expect(await store.compareAndSet(aHost({ id: 'host-ghost', version: 2 }), 1)).toBe(false);
        expect(await store.findById('host-ghost')).toBeNull();
      });

      it('lets exactly one of 20 concurrent writers with the same expected version win, round after round', async () => {
        const v1 = aHost({ id: 'host-race-cas' });
        await store.insert(v1);
        for (let version = 1; version <= 3; version++) {
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              store.compareAndSet({ ...v1, name: `round ${version} writer ${i}`, version: version + 1 }, version),
            ),
          );
          const winners = results.flatMap((ok, i) => (ok ? [i] : []));
          expect(winners, `round ${version}`).toHaveLength(1);
          expect(await store.findById('host-race-cas')).toMatchObject({
            name: `round ${version} writer ${winners[0]}`,
            version: version + 1,
          });
        }
      });
    });
  });
}
