/**
 * The typed topic map: each topic is keyed by an id and carries one payload type. Payloads are
 * plain JSON so they cross Redis unchanged.
 */
import type { ServerEvent } from '../servers/server-events.js';
import type { SessionEvent } from '../sessions/session-events.js';
import type { XrdpSessionEvent } from '../xrdp/xrdp-session-events.js';

export interface TopicMap {
  'server:changed': ServerEvent;
  /** Keyed by session id, and by `server:<serverId>` for a server's sessions. */
  'session:changed': SessionEvent;
  /** Logins and session changes seen in xrdp's and sesman's logs, keyed by server id. */
  'xrdp:session-event': XrdpSessionEvent;
}

export type Topic = keyof TopicMap;

export interface EventPublisher {
  publish<T extends Topic>(topic: T, id: string, payload: TopicMap[T]): void;
}

/** Publishing plus subscribing by topic and id; what subscriptions read from. */
export interface EventBus extends EventPublisher {
  subscribe<T extends Topic>(topic: T, id: string): AsyncIterable<TopicMap[T]>;
}
