import type { Redis } from 'ioredis';

type Listener = (event: CustomEvent) => void;
type ListenerArg = ((event: CustomEvent) => void) | { handleEvent(event: CustomEvent): void } | null;

export interface RedisEventTargetOptions {
  publisher: Redis;
  subscriber: Redis;
  /** Told when a publish or subscribe fails (Redis down); the event is dropped, never thrown. */
  onError?: (err: unknown, what: 'publish' | 'subscribe') => void;
}

export interface RedisEventTarget {
  addEventListener(topic: string, callback: ListenerArg): void;
  removeEventListener(topic: string, callback: ListenerArg): void;
  dispatchEvent(event: CustomEvent): boolean;
  /**
   * Called each time the subscriber connection came up (back, or for the first time after a
   * start without Redis) and every topic was subscribed again: messages published while it was
   * down were lost (pub/sub delivers at most once), so live views should send a fresh snapshot.
   * Returns a function that removes the listener.
   */
  onResync(listener: () => void): () => void;
  /**
   * Whether events of every replica reach this one now: both connections are up and every topic
   * is subscribed again. False from the moment either connection drops (publishes of this and
   * other replicas are lost meanwhile) until the subscriber's topics are back.
   */
  isConnected(): boolean;
  /** Told each change of isConnected(), true only after the topics are subscribed again and before the resync. */
  onConnectionChange(listener: (connected: boolean) => void): () => void;
}

const callbackOf = (arg: ListenerArg): Listener | null =>
  arg === null ? null : typeof arg === 'function' ? arg : (event) => arg.handleEvent(event);

/**
 * yoga's pub/sub event target over two Redis connections, built to live through Redis outages:
 * a publish never throws or waits (the publisher has no offline queue and a command timeout), a
 * subscribe that could not be sent is sent again on reconnection, and every connection of the
 * subscriber (including the first one, when Redis was not there at start) subscribes all topics
 * itself and then announces a resync.
 */
export function createRedisEventTarget(options: RedisEventTargetOptions): RedisEventTarget {
  const { publisher, subscriber, onError } = options;
  const listeners = new Map<string, Map<ListenerArg, Listener>>();
  const resyncListeners = new Set<() => void>();
  const connectionListeners = new Set<(connected: boolean) => void>();
  // The subscriber's topics are subscribed (on a subscriber ready now, there are none yet).
  let subscribed = subscriber.status === 'ready';
  let connected = subscribed && publisher.status === 'ready';
  const update = () => {
    const now = subscribed && publisher.status === 'ready' && subscriber.status === 'ready';
    if (now === connected) return;
    connected = now;
    for (const listener of [...connectionListeners]) listener(now);
  };
  subscriber.on('close', () => {
    subscribed = false;
    update();
  });
  publisher.on('close', update);
  publisher.on('ready', update);

  subscriber.on('message', (channel: string, message: string) => {
    const forTopic = listeners.get(channel);
    if (!forTopic) return;
    let detail: unknown = null;
    try {
      detail = message === '' ? null : JSON.parse(message);
    } catch (err) {
      onError?.(err, 'subscribe');
      return;
    }
    for (const listener of [...forTopic.values()]) listener(new CustomEvent(channel, { detail }));
  });

  const subscribe = (topics: string[]) =>
    topics.length === 0
      ? Promise.resolve()
      : subscriber.subscribe(...topics).then(
          () => undefined,
          // Not connected: the 'ready' handler subscribes every topic again.
          (err: unknown) => onError?.(err, 'subscribe'),
        );

  // A 'ready' always follows a time without the subscriber (built on a ready connection, this
  // target sees one only after a reconnection), in which publishes from any replica were lost.
  subscriber.on('ready', () => {
    void subscribe([...listeners.keys()]).then(() => {
      subscribed = subscriber.status === 'ready';
      update();
      for (const listener of [...resyncListeners]) listener();
    });
  });

  return {
    addEventListener(topic, arg) {
      const callback = callbackOf(arg);
      if (!callback) return;
      let forTopic = listeners.get(topic);
      if (!forTopic) {
        forTopic = new Map();
        listeners.set(topic, forTopic);
        void subscribe([topic]);
      }
      forTopic.set(arg, callback);
    },
    removeEventListener(topic, arg) {
      const forTopic = listeners.get(topic);
      if (!forTopic?.delete(arg) || forTopic.size > 0) return;
      listeners.delete(topic);
      subscriber.unsubscribe(topic).catch(() => undefined);
    },
    dispatchEvent(event) {
      const body = event.detail === undefined ? '' : JSON.stringify(event.detail);
      publisher.publish(event.type, body).catch((err: unknown) => onError?.(err, 'publish'));
      return true;
    },
    onResync(listener) {
      resyncListeners.add(listener);
      return () => resyncListeners.delete(listener);
    },
    isConnected: () => connected,
    onConnectionChange(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
  };
}
