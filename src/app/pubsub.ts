import { createPubSub } from 'graphql-yoga';
import type { BusStatus, EventBus, TopicMap, Watched } from '../domain/shared/event-publisher.js';
import { BusStream, nextSequence } from './bus-stream.js';

/** Yoga's publish-args shape derived from the domain topic map: every topic is keyed by an id. */
type PubSubArgs = { [K in keyof TopicMap]: [id: string, payload: TopicMap[K]] };
type EventTarget = NonNullable<Parameters<typeof createPubSub<PubSubArgs>>[0]>['eventTarget'];

/** Where word of a possible loss comes from: the Redis event target after a reconnection. */
export interface ResyncSource {
  onResync(listener: () => void): () => void;
}

/** Where word of the connection comes from: the Redis event target (the in-process bus is always connected). */
export interface ConnectionSource {
  isConnected(): boolean;
  onConnectionChange(listener: (connected: boolean) => void): () => void;
}

type AnyStream = BusStream<unknown, unknown>;

const RESYNC: Watched<keyof TopicMap> = { kind: 'resync' };

/**
 * Yoga's pubsub behind the domain's EventBus: in-process, or across replicas with Redis.
 *
 * Publishing goes through yoga's pubsub (the channel is `<topic>:<id>`, as before). Subscribing
 * does not use its Repeater per subscriber: the bus adds one listener per channel to the event
 * target and fans each event out to its streams itself, so 10,000 subscribers of one server are
 * one listener (no MaxListenersExceededWarning, no Redis SUBSCRIBE per subscriber) and an event
 * costs a queue push per subscriber. One resync listener serves every watching stream.
 */
export function createEventBus(eventTarget?: EventTarget & Partial<ResyncSource & ConnectionSource>): EventBus {
  const target = eventTarget ?? new globalThis.EventTarget();
  const crossReplica = eventTarget?.isConnected !== undefined;
  let status: BusStatus = { connected: eventTarget?.isConnected?.() ?? true, crossReplica, since: new Date().toISOString() };
  const statusListeners = new Set<(status: BusStatus) => void>();
  eventTarget?.onConnectionChange?.((connected) => {
    status = { connected, crossReplica, since: new Date().toISOString() };
    for (const listener of [...statusListeners]) listener(status);
  });
  const pubsub = createPubSub<PubSubArgs>({ eventTarget: target as EventTarget });
  const channels = new Map<string, { listener: (event: Event) => void; streams: Set<AnyStream> }>();
  const watching = new Set<AnyStream>();
  let stopResyncs: (() => void) | null = null;

  const detach = (channel: string) => (stream: AnyStream) => {
    const entry = channels.get(channel);
    if (watching.delete(stream) && watching.size === 0) {
      stopResyncs?.();
      stopResyncs = null;
    }
    if (!entry?.streams.delete(stream) || entry.streams.size > 0) return;
    channels.delete(channel);
    target.removeEventListener(channel, entry.listener);
  };

  const open = (channel: string, stream: AnyStream, watch: boolean) => {
    let entry = channels.get(channel);
    if (!entry) {
      const streams = new Set<AnyStream>();
      const listener = (event: Event) => {
        const seq = nextSequence();
        const detail = (event as CustomEvent).detail as unknown;
        for (const s of streams) s.push(seq, detail);
      };
      entry = { listener, streams };
      channels.set(channel, entry);
      target.addEventListener(channel, listener);
    }
    entry.streams.add(stream);
    if (watch) {
      watching.add(stream);
      if (!stopResyncs && eventTarget?.onResync) {
        stopResyncs = eventTarget.onResync(() => {
          const seq = nextSequence();
          for (const s of watching) s.resync(seq);
        });
      }
    }
    return stream;
  };

  const identity = <T>(value: T) => value;
  const asWatched = (event: unknown) => ({ kind: 'event', event }) as Watched<keyof TopicMap>;

  return {
    status: () => status,
    onStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
    publish: (topic, id, payload) => (pubsub.publish as (t: string, i: string, p: unknown) => void)(topic, id, payload),
    subscribe: <T extends keyof TopicMap>(topic: T, id: string): AsyncIterable<TopicMap[T]> => {
      const channel = `${topic}:${id}`;
      return {
        [Symbol.asyncIterator]: () =>
          open(
            channel,
            new BusStream<unknown, unknown>(channel, identity, undefined, detach(channel)),
            false,
          ) as unknown as AsyncIterator<TopicMap[T]>,
      };
    },
    watch: <T extends keyof TopicMap>(topic: T, id: string): AsyncIterable<Watched<T>> => {
      const channel = `${topic}:${id}`;
      return {
        [Symbol.asyncIterator]: () =>
          open(
            channel,
            new BusStream<unknown, unknown>(channel, asWatched, RESYNC, detach(channel)),
            true,
          ) as unknown as AsyncIterator<Watched<T>>,
      };
    },
  };
}
