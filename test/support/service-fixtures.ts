import type { Clock } from '../../src/domain/shared/clock.js';
import type { EventPublisher, Topic, TopicMap } from '../../src/domain/shared/event-publisher.js';

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  constructor(public t: number) {}
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
  iso(offsetMs = 0): string {
    return new Date(this.t + offsetMs).toISOString();
  }
}

export type Published = { [K in Topic]: { topic: K; id: string; payload: TopicMap[K] } }[Topic];

/**
 * An EventPublisher that keeps a copy of everything published, in order; test files extend it
 * with readers for the topics they assert on.
 */
export class RecordingPublisher implements EventPublisher {
  readonly published: Published[] = [];
  publish<T extends Topic>(topic: T, id: string, payload: TopicMap[T]): void {
    this.published.push({ topic, id, payload: structuredClone(payload) } as Published);
  }
  /** The payloads of `topic` (under `id` when given), in order. */
  of<T extends Topic>(topic: T, id?: string): TopicMap[T][] {
    return this.published.flatMap((p) =>
      p.topic === topic && (id === undefined || p.id === id) ? [p.payload as TopicMap[T]] : [],
    );
  }
  clear(): void {
    this.published.length = 0;
  }
}

/** The error `promise` rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
