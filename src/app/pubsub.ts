import { createPubSub } from 'graphql-yoga';
import type { EventBus, TopicMap } from '../domain/shared/event-publisher.js';

/** Yoga's publish-args shape derived from the domain topic map: every topic is keyed by an id. */
type PubSubArgs = { [K in keyof TopicMap]: [id: string, payload: TopicMap[K]] };
type EventTarget = NonNullable<Parameters<typeof createPubSub<PubSubArgs>>[0]>['eventTarget'];

/** Yoga's pubsub behind the domain's EventBus: in-process, or across replicas with Redis. */
export function createEventBus(eventTarget?: EventTarget): EventBus {
  const pubsub = createPubSub<PubSubArgs>(eventTarget ? { eventTarget } : {});
  return {
    publish: (topic, id, payload) => (pubsub.publish as (t: string, i: string, p: unknown) => void)(topic, id, payload),
    // Generic over the topic, yoga's conditional argument types do not narrow; the map is the same.
    subscribe: <T extends keyof TopicMap>(topic: T, id: string) =>
      (pubsub.subscribe as (t: string, i: string) => AsyncIterable<TopicMap[T]>)(topic, id),
  };
}
