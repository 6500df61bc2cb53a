import { describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../../src/adapters/memory/memory-audit-log.js';
import { createDeniedRecorder } from '../../src/app/audit-plugin.js';
import { sanitizeDetails } from '../../src/domain/audit/audit-event.js';
import { type AuditEntry, AuditService, audited, outcomeOf } from '../../src/domain/audit/audit-service.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import {
  ConflictError,
  ForbiddenError,
  LimitExceededError,
  NotFoundError,
  ServiceUnavailableError,
  UnauthenticatedError,
  ValidationError,
} from '../../src/domain/shared/errors.js';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz';
const actor = { userId: 'alice', name: 'alice', ip: '127.0.0.1' };
const viewer = (roles: Viewer['roles']): Viewer => ({ userId: 'v', username: 'v', roles, permissions: [] });

function recorder() {
  const entries: AuditEntry[] = [];
  return { entries, record: async (e: AuditEntry) => void entries.push(e) };
}

describe('sanitizeDetails', () => {
  it('drops secret-named keys at any depth and masks token-shaped strings', () => {
    expect(
      sanitizeDetails({
        password: 'hunter2',
        credentialHash: 'scrypt$abc',
        nested: { token: 'x', Authorization: 'Bearer y', kept: 1, header: `Bearer ${JWT}` },
        list: [{ secret: 's', ok: true }],
      }),
    ).toEqual({ nested: { kept: 1, header: 'Bearer [redacted]' }, list: [{ ok: true }] });
  });

  it('keeps JSON only, bounded in size and depth, with keys a document store accepts', () => {
    const out = sanitizeDetails({
      'a.b': 1,
      $where: 2,
      fn: () => 1,
      big: 'x'.repeat(2000),
      deep: { a: { b: { c: { d: { e: 1 } } } } },
      nan: Number.NaN,
      many: Array.from({ length: 80 }, (_, i) => i),
    });
    expect(out.a_b).toBe(1);
    expect(out._where).toBe(2);
    expect(out.fn).toBeUndefined();
    expect(String(out.big).length).toBeLessThanOrEqual(501);
    expect(JSON.stringify(out.deep)).toBe('{"a":{"b":{"c":{}}}}');
    expect(out.nan).toBeNull();
    expect(out.many).toHaveLength(50);
  });
});

describe('outcomeOf', () => {
  it('classifies refusals as DENIED, other failures as FAILURE, and leaves auth and outages to others', () => {
    expect(outcomeOf(new LimitExceededError('maxServers', 3, 'full'))).toEqual({
      result: 'DENIED',
      details: { code: 'LIMIT_EXCEEDED', limit: 'maxServers', max: 3 },
    });
    expect(outcomeOf(new NotFoundError('server', 'x', true))).toEqual({ result: 'DENIED', details: { code: 'NOT_OWNER' } });
    expect(outcomeOf(new NotFoundError('server', 'x'))?.result).toBe('FAILURE');
    expect(outcomeOf(new ConflictError('busy'))).toEqual({ result: 'FAILURE', details: { code: 'CONFLICT', message: 'busy' } });
    expect(outcomeOf(new ValidationError('name', 'is blank'))).toEqual({
      result: 'FAILURE',
      details: { code: 'BAD_USER_INPUT', field: 'name' },
    });
    expect(outcomeOf(new Error('boom'))).toEqual({ result: 'FAILURE', details: { code: 'INTERNAL' } });
    expect(outcomeOf(new ForbiddenError('reading audit events', 'operator'))).toBeNull();
    expect(outcomeOf(new UnauthenticatedError())).toBeNull();
    expect(outcomeOf(new ServiceUnavailableError())).toBeNull();
  });
});

describe('audited', () => {
  it('records SUCCESS with what the result says, and passes the result through', async () => {
    const r = recorder();
    const out = await audited(
      r,
      { actor, action: 'server.start', target: { type: 'server', id: 's1', name: null }, details: { force: true } },
      async () => ({ id: 's1', name: 'one' }),
      (s) => ({ target: { type: 'server', id: s.id, name: s.name }, details: { status: 'RUNNING' } }),
    );
    expect(out).toEqual({ id: 's1', name: 'one' });
    expect(r.entries).toEqual([
      {
        actor,
        action: 'server.start',
        target: { type: 'server', id: 's1', name: 'one' },
        result: 'SUCCESS',
        details: { force: true, status: 'RUNNING' },
      },
    ]);
  });

  it('records a refusal and rethrows it; an auth refusal is rethrown unrecorded', async () => {
    const r = recorder();
    const what = { actor, action: 'server.create', target: null };
    await expect(audited(r, what, () => Promise.reject(new LimitExceededError('maxServers', 1, 'full')))).rejects.toThrow('full');
    await expect(
      audited(r, what, () => Promise.reject(new ForbiddenError('reading audit events', 'operator'))),
    ).rejects.toBeInstanceOf(ForbiddenError);
    expect(r.entries.map((e) => e.result)).toEqual(['DENIED']);
  });
});

describe('AuditService', () => {
  const clock = { now: () => new Date('2026-01-01T00:00:00.000Z') };
  let n = 0;
  const make = (log = new MemoryAuditLog()) =>
    new AuditService({ log, clock, newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}` });

  it('stores cleaned details with id and time; a failing store never fails the caller', async () => {
    const log = new MemoryAuditLog();
    await make(log).record({ actor, action: 'x', result: 'SUCCESS', details: { password: 'p', ok: 1 } });
    expect((await log.list({}, 10)).items[0]).toMatchObject({
      time: '2026-01-01T00:00:00.000Z',
      details: { ok: 1 },
      target: null,
    });
    const errors: unknown[] = [];
    const broken = new AuditService({
      log: {
        ...log,
        append: () => Promise.reject(new Error('down')),
        list: log.list,
        count: log.count,
        deleteBefore: log.deleteBefore,
      },
      clock,
      newId: () => 'id',
      onError: (err) => errors.push(err),
    });
    await expect(broken.record({ actor, action: 'x', result: 'SUCCESS' })).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
  });

  it('lets operators and admins read, nobody else; validates paging and the window', async () => {
    const service = make();
    await expect(service.list(viewer(['user']), {}, { first: 10 })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(service.list(viewer(['operator']), {}, { first: 10 })).resolves.toMatchObject({ totalCount: 0 });
    await expect(service.list(viewer(['admin']), {}, { first: 101 })).rejects.toBeInstanceOf(ValidationError);
    await expect(service.list(viewer(['admin']), {}, { first: 1, after: 'nope' })).rejects.toBeInstanceOf(ValidationError);
    await expect(
      service.list(viewer(['admin']), { since: '2026-01-02T00:00:00.000Z', until: '2026-01-01T00:00:00.000Z' }, { first: 1 }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('createDeniedRecorder', () => {
  it('records one refusal per actor, action and code a window, then says how many it held back', async () => {
    const r = recorder();
    const denied = createDeniedRecorder(r, 50);
    const entry = { actor, action: 'api.servers', target: null, result: 'DENIED' as const, details: { code: 'RATE_LIMITED' } };
    for (let i = 0; i < 5; i++) denied(entry);
    denied({ ...entry, actor: { ...actor, userId: 'bob' } });
    expect(r.entries).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, 60));
    denied(entry);
    expect(r.entries.at(-1)?.details).toEqual({ code: 'RATE_LIMITED', repeated: 4 });
  });
});
