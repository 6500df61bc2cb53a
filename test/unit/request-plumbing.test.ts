import type { IncomingMessage } from 'node:http';
import { MongoNetworkError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { guardUnavailable } from '../../src/adapters/mongo/unavailable-guard.js';
import { clientIp } from '../../src/app/client-ip.js';
import { createEventBus } from '../../src/app/pubsub.js';
import { requestIdFrom } from '../../src/app/request-scope.js';
import type { ServerEvent } from '../../src/domain/servers/server-events.js';
import { ServiceUnavailableError } from '../../src/domain/shared/errors.js';

const req = (remoteAddress: string | undefined, xff?: string | string[]) =>
  ({ socket: { remoteAddress }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as IncomingMessage;

describe('clientIp', () => {
  it('is the socket peer unless the proxy is trusted, then the entry the proxy appended', () => {
    expect(clientIp(req('::ffff:10.0.0.5', '1.2.3.4'), false)).toBe('10.0.0.5');
    expect(clientIp(req('10.0.0.5', '6.6.6.6, 198.51.100.7'), true)).toBe('198.51.100.7');
    expect(clientIp(req('10.0.0.5', ['6.6.6.6', '2001:db8::1']), true)).toBe('2001:db8::1');
    expect(clientIp(req('10.0.0.5', 'not-an-ip'), true)).toBe('10.0.0.5');
    expect(clientIp(req(undefined), false)).toBeNull();
    expect(clientIp(undefined, true)).toBeNull();
  });
});

describe('requestIdFrom', () => {
  it('keeps a sane caller id and replaces anything else', () => {
    expect(requestIdFrom('abc-123')).toBe('abc-123');
    expect(requestIdFrom(['first', 'second'])).toBe('first');
    expect(requestIdFrom('has spaces')).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom(`${'x'.repeat(65)}`)).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('EventBus.watch', () => {
  const event = (name: string) => ({ kind: 'UPDATED', server: { name }, at: '' }) as unknown as ServerEvent;

  it('merges resyncs into the changes; a change awaited when a resync comes is not lost', async () => {
    const listeners = new Set<() => void>();
    const target = Object.assign(new EventTarget(), {
      onResync: (l: () => void) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    });
    const bus = createEventBus(target);
    const it = bus.watch('server:changed', 's1')[Symbol.asyncIterator]();
    const first = it.next();
    for (const l of listeners) l();
    expect((await first).value).toEqual({ kind: 'resync' });
    bus.publish('server:changed', 's1', event('a'));
    expect((await it.next()).value).toEqual({ kind: 'event', event: event('a') });
    // A resync while nobody is waiting is delivered on the next call.
    for (const l of listeners) l();
    expect((await it.next()).value).toEqual({ kind: 'resync' });
    await it.return?.();
    expect(listeners.size).toBe(0);
  });
});

describe('guardUnavailable', () => {
  it('fails at once while unreachable and turns driver outage errors into ServiceUnavailableError', async () => {
    let reachable = true;
    const store = {
      calls: 0,
      async find() {
        this.calls++;
        return 'found';
      },
      async broken() {
        throw new MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27017');
      },
      async other() {
        throw new Error('E11000 duplicate key');
      },
    };
    const guarded = guardUnavailable(store, () => reachable);
    expect(await guarded.find()).toBe('found');
    expect(store.calls).toBe(1);
    await expect(guarded.broken()).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(guarded.other()).rejects.toThrow('E11000');
    reachable = false;
    await expect(guarded.find()).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(store.calls).toBe(1);
  });
});
