import type { ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { createEventBus } from '../../src/app/pubsub.js';
import { SubscriptionFanout } from '../../src/app/subscription-fanout.js';
import type { ServerEvent } from '../../src/domain/servers/server-events.js';
import type { EventBus } from '../../src/domain/shared/event-publisher.js';

const event = (name: string) => ({ kind: 'UPDATED', server: { name }, at: '' }) as unknown as ServerEvent;

class FakeSocket {
  readyState = 1;
  bufferedAmount = 0;
  readonly frames: unknown[] = [];
  send(data: Buffer) {
    this.frames.push(JSON.parse(data.toString()));
  }
}

function resyncingTarget() {
  const listeners = new Set<() => void>();
  const target = Object.assign(new EventTarget(), {
    onResync: (l: () => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  });
  const resync = () => {
    for (const l of [...listeners]) l();
  };
  return { target, resync };
}

const tick = () => new Promise((r) => setImmediate(r));

/**
 * One subscriber as ws-server wires it: a resolver-like generator (snapshot, then its bus stream),
 * an execution per value (counted), shared through the fan-out, and driven the way graphql-ws
 * drives it (its own results are "sent" by the loop, the group writes to the socket).
 */
function subscribe(fanout: SubscriptionFanout, bus: EventBus, id: string, executions: { n: number }, key = 'k') {
  const socket = new FakeSocket();
  const streams: AsyncIterator<unknown>[] = [];
  const events = fanout.tap(bus, streams);
  const changes = events.watch('server:changed', 's1')[Symbol.asyncIterator]();
  async function* resolver(): AsyncGenerator<ExecutionResult> {
    try {
      yield { data: { name: 'SNAPSHOT' } };
      while (true) {
        const next = await changes.next();
        if (next.done) return;
        executions.n++;
        yield { data: { name: next.value.kind === 'resync' ? 'SNAPSHOT' : next.value.event.server.name } };
      }
    } finally {
      await changes.return?.();
    }
  }
  const shared = fanout.share(resolver(), { socket: socket as unknown as WebSocket, id, selectionKey: key, streams, args: {} });
  let ended = false;
  const loop = (async () => {
    // graphql-ws serializes each result before it asks for the next.
    for await (const result of shared) socket.frames.push(JSON.parse(JSON.stringify({ id, type: 'next', payload: result })));
    ended = true;
  })();
  return {
    socket,
    stop: () => (shared as AsyncIterableIterator<ExecutionResult>).return?.(),
    loop,
    get ended() {
      return ended;
    },
    names: () => socket.frames.map((f) => (f as { payload: { data: { name: string } } }).payload.data.name),
  };
}

describe('SubscriptionFanout', () => {
  it('subscribers with one selection share one execution per event; each frame carries its own id', async () => {
    const bus = createEventBus();
    const fanout = new SubscriptionFanout({ maxBufferedBytes: 1024, onSlowConsumer: () => undefined });
    const executions = { n: 0 };
    const a = subscribe(fanout, bus, 'a', executions);
    const b = subscribe(fanout, bus, 'b"quoted', executions);
    await tick();
    expect(fanout.size).toBe(1);
    bus.publish('server:changed', 's1', event('one'));
    bus.publish('server:changed', 's1', event('two'));
    await tick();
    expect(a.names()).toEqual(['SNAPSHOT', 'one', 'two']);
    expect(b.names()).toEqual(['SNAPSHOT', 'one', 'two']);
    expect(b.socket.frames[1]).toEqual({ id: 'b"quoted', type: 'next', payload: { data: { name: 'one' } } });
    expect(executions.n).toBe(2);
    await a.stop();
    await b.stop();
  });

  it('a subscriber that joins with events queued behind its snapshot gets each of them once, then the shared ones', async () => {
    const bus = createEventBus();
    const fanout = new SubscriptionFanout({ maxBufferedBytes: 1024, onSlowConsumer: () => undefined });
    const executions = { n: 0 };
    const a = subscribe(fanout, bus, 'a', executions);
    await tick();
    // b's stream is open and fills before it is pulled at all.
    const b = subscribe(fanout, bus, 'b', executions);
    bus.publish('server:changed', 's1', event('one'));
    await tick();
    bus.publish('server:changed', 's1', event('two'));
    await tick();
    expect(a.names()).toEqual(['SNAPSHOT', 'one', 'two']);
    expect(b.names()).toEqual(['SNAPSHOT', 'one', 'two']);
    await a.stop();
    await b.stop();
  });

  it('a resync reaches every member as a fresh snapshot; different keys are different groups', async () => {
    const { target, resync } = resyncingTarget();
    const bus = createEventBus(target);
    const fanout = new SubscriptionFanout({ maxBufferedBytes: 1024, onSlowConsumer: () => undefined });
    const executions = { n: 0 };
    const a = subscribe(fanout, bus, 'a', executions);
    const b = subscribe(fanout, bus, 'b', executions);
    const c = subscribe(fanout, bus, 'c', executions, 'other visibility');
    await tick();
    expect(fanout.size).toBe(2);
    resync();
    await tick();
    for (const s of [a, b, c]) expect(s.names()).toEqual(['SNAPSHOT', 'SNAPSHOT']);
    expect(executions.n).toBe(2);
    for (const s of [a, b, c]) await s.stop();
  });

  it('a slow member is handed to onSlowConsumer and skipped; closed sockets get nothing', async () => {
    const bus = createEventBus();
    const slow: unknown[] = [];
    const fanout = new SubscriptionFanout({ maxBufferedBytes: 1024, onSlowConsumer: (s) => slow.push(s) });
    const executions = { n: 0 };
    const a = subscribe(fanout, bus, 'a', executions);
    const b = subscribe(fanout, bus, 'b', executions);
    const c = subscribe(fanout, bus, 'c', executions);
    await tick();
    b.socket.bufferedAmount = 4096;
    c.socket.readyState = 2;
    bus.publish('server:changed', 's1', event('one'));
    await tick();
    expect(a.names()).toEqual(['SNAPSHOT', 'one']);
    expect(b.names()).toEqual(['SNAPSHOT']);
    expect(c.names()).toEqual(['SNAPSHOT']);
    expect(slow).toEqual([b.socket]);
    for (const s of [a, b, c]) await s.stop();
  });

  it("a result graphql-ws was handed is emptied once it asks for the next (its loop keeps the last one for the subscription's life)", async () => {
    const bus = createEventBus();
    const fanout = new SubscriptionFanout({ maxBufferedBytes: 1024, onSlowConsumer: () => undefined });
    const streams: AsyncIterator<unknown>[] = [];
    const changes = fanout.tap(bus, streams).watch('server:changed', 's1')[Symbol.asyncIterator]();
    async function* resolver(): AsyncGenerator<ExecutionResult> {
      yield { data: { name: 'SNAPSHOT' }, extensions: { x: 1 } };
      while (!(await changes.next()).done) yield { data: { name: 'changed' } };
    }
    const socket = new FakeSocket();
    const it = fanout
      .share(resolver(), { socket: socket as unknown as WebSocket, id: '1', selectionKey: 'k', streams, args: {} })
      [Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value).toEqual({ data: { name: 'SNAPSHOT' }, extensions: { x: 1 } });
    const next = it.next();
    expect(first.value).toEqual({ data: undefined, extensions: undefined });
    await tick();
    // Caught up: it joined the group, which writes to the socket from now on.
    expect(fanout.size).toBe(1);
    bus.publish('server:changed', 's1', event('one'));
    await tick();
    expect(socket.frames).toEqual([{ id: '1', type: 'next', payload: { data: { name: 'changed' } } }]);
    await it.return?.();
    expect(await next).toEqual({ done: true, value: undefined });
  });

  it('the last member leaving ends the upstream and its bus stream; a member leaving ends its own loop only', async () => {
    const target = new EventTarget();
    let listeners = 0;
    const add = target.addEventListener.bind(target);
    const remove = target.removeEventListener.bind(target);
    target.addEventListener = (...args: Parameters<EventTarget['addEventListener']>) => {
      listeners++;
      add(...args);
    };
    target.removeEventListener = (...args: Parameters<EventTarget['removeEventListener']>) => {
      listeners--;
      remove(...args);
    };
    const bus = createEventBus(target as never);
    const fanout = new SubscriptionFanout({ maxBufferedBytes: 1024, onSlowConsumer: () => undefined });
    const executions = { n: 0 };
    const a = subscribe(fanout, bus, 'a', executions);
    const b = subscribe(fanout, bus, 'b', executions);
    await tick();
    expect(listeners).toBe(1);
    await a.stop();
    await a.loop;
    expect(a.ended).toBe(true);
    bus.publish('server:changed', 's1', event('one'));
    await tick();
    expect(b.names()).toEqual(['SNAPSHOT', 'one']);
    expect(a.names()).toEqual(['SNAPSHOT']);
    await b.stop();
    await b.loop;
    expect(fanout.size).toBe(0);
    await tick();
    expect(listeners).toBe(0);
  });
});
