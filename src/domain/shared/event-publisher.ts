/**
 * The typed topic map: each topic is keyed by an id and carries one payload type. Payloads are
 * plain JSON so they cross Redis unchanged.
 */
import type { FleetEvent, FleetUsageRound } from '../fleet/fleet-events.js';
import type { HostEvent } from '../hosts/host-events.js';
import type { AlertEvent } from '../resources/alert.js';
import type { ResourceSampleEvent } from '../resources/resource-events.js';
import type { ServerEvent } from '../servers/server-events.js';
import type { SessionEvent } from '../sessions/session-events.js';
import type { XrdpLogLine } from '../xrdp/xrdp-log.js';
import type { XrdpSessionEvent } from '../xrdp/xrdp-session-events.js';

export interface TopicMap {
  'server:changed': ServerEvent;
  /** Keyed by session id, by `server:<serverId>` for a server's sessions and by `owner:<userId>` for a user's. */
  'session:changed': SessionEvent;
  /** Logins and session changes seen in xrdp's and sesman's logs, keyed by server id. */
  'xrdp:session-event': XrdpSessionEvent;
  /** Each new resource sample, keyed by subject id (server, session or `host:<name>`). */
  'resource:sample': ResourceSampleEvent;
  /** Alerts raised and resolved, keyed `all`. */
  'alert:changed': AlertEvent;
  /** Host registrations, heartbeats, status and drain changes, keyed by host id and by `all`. */
  'host:changed': HostEvent;
  /** Servers created, changed or deleted and their live session counts moving, keyed `all`. */
  'fleet:changed': FleetEvent;
  /** Each collection round's server samples of one host, in one message, keyed `all`. */
  'fleet:usage': FleetUsageRound;
  /** New lines of a server's xrdp log, keyed by server id: in a cluster, from its host's agent while a replica follows it. */
  'xrdp:log-lines': { serverId: string; lines: XrdpLogLine[] };
}

export type Topic = keyof TopicMap;

export interface EventPublisher {
  publish<T extends Topic>(topic: T, id: string, payload: TopicMap[T]): void;
}

/** A change, or word that changes may have been missed (the cross-replica bus reconnected). */
export type Watched<T extends Topic> = { kind: 'event'; event: TopicMap[T] } | { kind: 'resync' };

/**
 * Whether events of every replica reach this one. `crossReplica` is false for the in-process bus
 * (no REDIS_URL), which is always connected.
 */
export interface BusStatus {
  connected: boolean;
  crossReplica: boolean;
  /** When `connected` last changed (or the bus started). */
  since: string;
}

/** Publishing plus subscribing by topic and id; what subscriptions read from. */
export interface EventBus extends EventPublisher {
  /** The bus's connection now. */
  status(): BusStatus;
  /**
   * Told each change of status(). A change back to connected comes before the resyncs of the
   * `watch` streams it causes.
   */
  onStatus(listener: (status: BusStatus) => void): () => void;
  subscribe<T extends Topic>(topic: T, id: string): AsyncIterable<TopicMap[T]>;
  /**
   * The changes of `subscribe`, plus a `resync` whenever messages may have been lost in between
   * (Redis pub/sub delivers at most once): a live view answers it with a fresh snapshot.
   */
  watch<T extends Topic>(topic: T, id: string): AsyncIterable<Watched<T>>;
}
