import { describe, expect, it } from 'vitest';
import { MemoryLimitsStore } from '../../src/adapters/memory/memory-limits-store.js';
import { MemorySampleStore } from '../../src/adapters/memory/memory-sample-store.js';
import type { AuditEntry } from '../../src/domain/audit/audit-service.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import { HostAdmission } from '../../src/domain/resources/host-admission.js';
import { hostSubjectId } from '../../src/domain/resources/resource-collector.js';
import { defaultResourceLimits } from '../../src/domain/resources/resource-limits.js';
import { ResourceLimitsService } from '../../src/domain/resources/resource-limits-service.js';
import { ConflictError, ForbiddenError, LimitExceededError, ValidationError } from '../../src/domain/shared/errors.js';
import { FakeClock, figures } from '../support/resource-fixtures.js';

const T0 = Date.parse('2026-11-26T12:00:00.000Z');
const admin: Viewer = { userId: 'root', username: 'root', roles: ['admin'], permissions: [] };
const olga: Viewer = { userId: 'olga', username: 'olga', roles: ['operator'], permissions: [] };
const alice: Viewer = { userId: 'alice', username: 'alice', roles: ['user'], permissions: [] };

function setup(store = new MemoryLimitsStore()) {
  const clock = new FakeClock(T0);
  const audited: AuditEntry[] = [];
  const service = new ResourceLimitsService({
    store,
    clock,
    defaults: defaultResourceLimits({ maxServers: 7 }),
    audit: { record: async (e) => void audited.push(e) },
  });
  return { service, store, clock, audited };
}

describe('ResourceLimitsService', () => {
  it('the environment defaults are version 0 until an admin changes something', async () => {
    const { service } = setup();
    expect(await service.read(olga)).toMatchObject({ version: 0, updatedBy: 'system', limits: { global: { maxServers: 7 } } });
    await expect(service.read(alice)).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('admins change any subset; the change is stored as the next version, audited with what changed', async () => {
    const { service, store, audited } = setup();
    const v1 = await service.update(admin, { global: { maxTotalCpu: 70 }, perUser: { maxSessions: 3 } });
    expect(v1).toMatchObject({ version: 1, updatedBy: 'root', updatedAt: '2026-11-26T12:00:00.000Z' });
    expect(v1.limits.global).toEqual({ ...defaultResourceLimits({ maxServers: 7 }).global, maxTotalCpu: 70 });
    expect(v1.limits.perUser.maxSessions).toBe(3);
    expect(await store.latest()).toEqual(v1);
    expect((await service.get()).global.maxTotalCpu).toBe(70);
    expect(audited.at(-1)).toMatchObject({
      action: 'limits.update',
      result: 'SUCCESS',
      target: { type: 'resource_limits', id: 'global' },
      details: {
        version: 1,
        changes: [
          { field: 'global.maxTotalCpu', from: 80, to: 70 },
          { field: 'perUser.maxSessions', from: 10, to: 3 },
        ],
      },
    });
  });

  it('refuses operators and users, bad values and unknown fields', async () => {
    const { service, audited } = setup();
    await expect(service.update(olga, { global: { maxTotalCpu: 70 } })).rejects.toBeInstanceOf(ForbiddenError);
    const bad = await service.update(admin, { global: { maxTotalCpu: 101 } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as ValidationError).field).toBe('global.maxTotalCpu');
    await expect(service.update(admin, { perServer: { maxMemoryMb: 100 } })).rejects.toBeInstanceOf(ValidationError);
    await expect(service.update(admin, { global: { nope: 1 } })).rejects.toBeInstanceOf(ValidationError);
    expect(audited.map((a) => a.result)).toEqual(['FAILURE', 'FAILURE', 'FAILURE']);
    expect((await service.read(olga)).version).toBe(0);
  });

  it('expectedVersion: a stale one is a CONFLICT; of concurrent changes on one version exactly one wins', async () => {
    const { service, store } = setup();
    await service.update(admin, { global: { maxServers: 8 } }, 0);
    await expect(service.update(admin, { global: { maxServers: 9 } }, 0)).rejects.toBeInstanceOf(ConflictError);
    // Two replicas (two services, one store) change version 1 at once.
    const other = setup(store).service;
    const outcomes = await Promise.allSettled([
      service.update(admin, { global: { maxServers: 10 } }, 1),
      other.update(admin, { global: { maxServers: 11 } }, 1),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect((await store.latest())?.version).toBe(2);
  });

  it("another replica's change applies here within cacheMs; set() applies here at once and is stored", async () => {
    const { service, store } = setup();
    await service.get();
    const other = setup(store).service;
    await other.update(admin, { global: { maxSessions: 5 } });
    expect((await service.get()).global.maxSessions).toBe(100);
    await new Promise((r) => setTimeout(r, 1050));
    expect((await service.get()).global.maxSessions).toBe(5);
    const pending = service.set({ ...(await service.get()), perUser: { maxSessions: 1 } });
    expect((await service.get()).perUser.maxSessions).toBe(1);
    await pending;
    expect((await store.latest())?.limits.perUser.maxSessions).toBe(1);
  });
});

describe('HostAdmission', () => {
  function gate(maxAgeMs = 90_000) {
    const clock = new FakeClock(T0);
    const samples = new MemorySampleStore();
    const limits = setup().service;
    const admission = new HostAdmission({ samples, limits, clock, hostSubject: hostSubjectId, maxAgeMs });
    const hostSample = (cpu: number, mem: number, at = T0) =>
      samples.append([
        {
          subjectKind: 'HOST',
          subjectId: 'host:h1',
          at: new Date(at).toISOString(),
          ...figures({ cpuPercent: cpu, memoryPercent: mem }),
        },
      ]);
    return { admission, hostSample, clock, limits };
  }

  it('refuses while the latest host sample is above maxTotalCpu or maxTotalMemory, with the numbers', async () => {
    const g = gate();
    await g.admission.check('session', 'h1');
    await g.hostSample(80, 80);
    await g.admission.check('session', 'h1');
    await g.hostSample(93.4, 10);
    const err = await g.admission.check('session', 'h1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimitExceededError);
    expect(err).toMatchObject({
      limit: 'maxTotalCpu',
      max: 80,
      message:
        'host h1 is at 93% CPU, above the 80% limit (maxTotalCpu): new sessions are refused until it falls; ' +
        'raise global.maxTotalCpu with updateResourceLimits (MAX_CPU_USAGE sets the default), or set REFUSE_ON_HOST_OVERLOAD=false to admit regardless',
    });
    await g.hostSample(10, 85);
    await expect(g.admission.check('server start', 'h1')).rejects.toMatchObject({
      limit: 'maxTotalMemory',
      max: 80,
      setting: expect.stringContaining('MAX_MEMORY_USAGE') as string,
    });
    // Another host's figures do not count here.
    await g.admission.check('session', 'h2');
  });

  it('follows the stored limits, and admits when the sample is stale (monitoring gap)', async () => {
    const g = gate();
    await g.hostSample(85, 10);
    await g.limits.update(admin, { global: { maxTotalCpu: 90 } });
    await g.admission.check('session', 'h1');
    await g.limits.update(admin, { global: { maxTotalCpu: 50 } });
    await expect(g.admission.check('session', 'h1')).rejects.toBeInstanceOf(LimitExceededError);
    g.clock.advance(90_001);
    await g.admission.check('session', 'h1');
  });
});
