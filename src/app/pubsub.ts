import { createPubSub } from 'graphql-yoga';
import type { EventBus, Topic, TopicMap, Watched } from '../domain/shared/event-publisher.js';

/** Yoga's publish-args shape derived from the domain topic map: every topic is keyed by an id. */
type PubSubArgs = { [K in keyof TopicMap]: [id: string, payload: TopicMap[K]] };
type EventTarget = NonNullable<Parameters<typeof createPubSub<PubSubArgs>>[0]>['eventTarget'];

/** Where word of a possible loss comes from: the Redis event target after a reconnection. */
export interface ResyncSource {
  onResync(listener: () => void): () => void;
}

/**
 * Changes of one topic with `resync` markers merged in. A resync that arrives while a change is
 * awaited wins the race; the awaited change is kept for the next call, so none is dropped.
 */
function watched<T extends Topic>(
  changes: AsyncIterable<TopicMap[T]>,
  resyncs: ResyncSource | undefined,
): AsyncIterable<Watched<T>> {
  return {
    [Symbol.asyncIterator]() {
      const inner = changes[Symbol.asyncIterator]();
      let missed = false;
      let wake: (() => void) | null = null;
      const off =
        resyncs?.onResync(() => {
          missed = true;
          wake?.();
        }) ?? (() => undefined);
      let pending: Promise<IteratorResult<TopicMap[T]>> | null = null;
      const resync = (): IteratorResult<Watched<T>> => {
        missed = false;
        return { done: false, value: { kind: 'resync' } };
      };
      return {
        async next(): Promise<IteratorResult<Watched<T>>> {
          if (missed) return resync();
          pending ??= inner.next();
          const woken = new Promise<'resync'>((resolve) => {
            wake = () => resolve('resync');
          });
          const first = await Promise.race([pending, woken]);
          wake = null;
          if (first === 'resync') return resync();
          pending = null;
          if (first.done) {
            off();
            return { done: true, value: undefined };
          }
          return { done: false, value: { kind: 'event', event: first.value } };
        },
        async return(): Promise<IteratorResult<Watched<T>>> {
          off();
          await inner.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/** Yoga's pubsub behind the domain's EventBus: in-process, or across replicas with Redis. */
export function createEventBus(eventTarget?: EventTarget & Partial<ResyncSource>): EventBus {
  const pubsub = createPubSub<PubSubArgs>(eventTarget ? { eventTarget } : {});
  const resyncs: ResyncSource | undefined = eventTarget?.onResync
    ? { onResync: (l) => eventTarget.onResync?.(l) ?? (() => undefined) }
    : undefined;
  // Generic over the topic, yoga's conditional argument types do not narrow; the map is the same.
  const subscribe = <T extends keyof TopicMap>(topic: T, id: string) =>
    (pubsub.subscribe as (t: string, i: string) => AsyncIterable<TopicMap[T]>)(topic, id);
  return {
    publish: (topic, id, payload) => (pubsub.publish as (t: string, i: string, p: unknown) => void)(topic, id, payload),
    subscribe,
    watch: (topic, id) => watched(subscribe(topic, id), resyncs),
  };
}
