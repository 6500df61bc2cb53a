/**
 * The typed topic map: each topic is keyed by an id and carries one payload type. Payloads are
 * plain JSON so they cross Redis unchanged.
 */
import type { ServerEvent } from '../servers/server-events.js';

export interface TopicMap {
  'server:changed': ServerEvent;
}

export type Topic = keyof TopicMap;

export interface EventPublisher {
  publish<T extends Topic>(topic: T, id: string, payload: TopicMap[T]): void;
}

/** Publishing plus subscribing by topic and id; what subscriptions read from. */
export interface EventBus extends EventPublisher {
  subscribe<T extends Topic>(topic: T, id: string): AsyncIterable<TopicMap[T]>;
}
