import type { ExecutionResult } from 'graphql';
import type { WebSocket } from 'ws';
import type { EventBus } from '../domain/shared/event-publisher.js';
import { BusStream, currentSequence, type IdleDecision } from './bus-stream.js';
import { sendSplicedText } from './ws-frame.js';

type Step = IteratorResult<ExecutionResult>;

export interface FanoutOptions {
  /** Bytes queued for a client before `onSlowConsumer` is called instead of sending more. */
  maxBufferedBytes: number;
  /** Closes a client that reads too slowly (a resync close code). */
  onSlowConsumer(socket: WebSocket): void;
}

/** What one subscribe operation brings to the fan-out: its socket, id and selection. */
export interface ShareRequest {
  socket: WebSocket;
  id: string;
  /** Document, operation, variables and visibility: subscribers with equal keys see equal results. */
  selectionKey: string;
  /** The bus streams its subscribe resolver opened (through `tap`). */
  streams: AsyncIterator<unknown>[];
  /** graphql-ws keeps these for the life of the operation; the context is let go on joining a group. */
  args: { contextValue?: unknown; rootValue?: unknown };
}

const OPEN = 1;

/**
 * Subscribers of one stream with the same selection and visibility: ONE upstream (the first
 * subscriber's resolver stream, through yoga's enveloped subscribe, so masking and the request
 * scope apply once), ONE execution and ONE JSON serialization per event, and a frame written to
 * each member's socket with its own id spliced in. A member gets only results of items that
 * arrived after it joined (`joinedSeq`); everything before came through its own stream.
 */
class Group {
  readonly members = new Set<SharedSubscription>();

  constructor(
    private readonly groups: Map<string, Group>,
    private readonly key: string,
    private readonly upstream: AsyncIterator<ExecutionResult>,
    private readonly stream: BusStream<unknown, unknown>,
    private readonly options: FanoutOptions,
  ) {}

  /** Takes over the founder's pending pull of the upstream. */
  start(first: Promise<Step>): void {
    this.pull(first);
  }

  private pull(step: Promise<Step>): void {
    step.then(
      (s) => this.onStep(s),
      (err: unknown) => this.close((m) => m.fail(err)),
    );
  }

  private onStep(step: Step): void {
    if (step.done) {
      this.close((m) => m.finish());
      return;
    }
    if (this.members.size === 0) return;
    const seq = this.stream.lastSeq;
    const json = Buffer.from(JSON.stringify(step.value));
    const { maxBufferedBytes, onSlowConsumer } = this.options;
    for (const m of this.members) {
      if (m.joinedSeq >= seq) continue;
      const socket = m.socket;
      if (socket.readyState !== OPEN) continue;
      if (socket.bufferedAmount > maxBufferedBytes) {
        onSlowConsumer(socket);
        continue;
      }
      sendSplicedText(socket, m.prefix, json);
    }
    this.pull(this.upstream.next());
  }

  private close(each: (m: SharedSubscription) => void): void {
    if (this.groups.get(this.key) === this) this.groups.delete(this.key);
    const members = [...this.members];
    this.members.clear();
    for (const m of members) each(m);
  }

  remove(member: SharedSubscription): void {
    if (!this.members.delete(member) || this.members.size > 0) return;
    if (this.groups.get(this.key) === this) this.groups.delete(this.key);
    // Ends the resolver's wait for the next event; its generator then finishes and cleans up.
    this.stream.end();
    this.upstream.return?.().catch(() => undefined);
  }
}

/**
 * One subscriber as graphql-ws sees it: its own resolver stream until that stream is caught up
 * (the snapshot and anything queued behind it sent), then a member of a group. From then on
 * graphql-ws's loop waits on one parked promise, settled only when the group ends or the client
 * completes; the per-subscriber iterator chain and context are released.
 */
class SharedSubscription implements AsyncIterableIterator<ExecutionResult> {
  readonly socket: WebSocket;
  /** `{"id":<id>,"type":"next","payload":` — the frame minus the shared payload and closing brace. */
  readonly prefix: Buffer;
  joinedSeq = 0;
  private own: AsyncIterator<ExecutionResult> | null;
  private stream: BusStream<unknown, unknown> | null;
  private request: ShareRequest | null;
  private inflight: Promise<Step> | null = null;
  /** Set while own.next() runs: a hand-over inside it must wait for the promise it returns. */
  private pulling = false;
  private founding: Group | null = null;
  private group: Group | null = null;
  private parked: { resolve(step: Step): void; reject(err: unknown): void } | null = null;
  private ended: { error?: unknown } | null = null;

  constructor(
    private readonly fanout: SubscriptionFanout,
    own: AsyncIterator<ExecutionResult>,
    stream: BusStream<unknown, unknown>,
    request: ShareRequest,
  ) {
    this.socket = request.socket;
    this.prefix = Buffer.from(`{"id":${JSON.stringify(request.id)},"type":"next","payload":`);
    this.own = own;
    this.stream = stream;
    this.request = request;
    stream.onIdle = () => this.handOver();
  }

  next(): Promise<Step> {
    const own = this.own;
    if (!own || this.group) return this.park();
    this.pulling = true;
    let inflight: Promise<Step>;
    try {
      inflight = own.next();
    } finally {
      this.pulling = false;
    }
    this.inflight = inflight;
    if (this.founding) {
      this.founding.start(inflight);
      this.founding = null;
    }
    // The caller waits on the parked promise: after a hand-over it stays parked until the group
    // ends or the client leaves, whatever the own stream does.
    const parked = this.park();
    inflight.then(
      (step) => {
        if (!this.group) this.unpark()?.resolve(step);
      },
      (err: unknown) => {
        if (!this.group) this.unpark()?.reject(err);
      },
    );
    return parked;
  }

  private unpark() {
    const parked = this.parked;
    this.parked = null;
    return parked;
  }

  /** The stream has nothing queued and the resolver waits: join (or found) the group. */
  private handOver(): IdleDecision {
    const { stream, request, own } = this;
    const inflight = this.pulling ? null : this.inflight;
    if (!stream || !request || !own) return 'wait';
    stream.onIdle = null;
    this.joinedSeq = currentSequence();
    this.request = null;
    this.stream = null;
    this.own = null;
    this.inflight = null;
    const { group, founded } = this.fanout.join(this, request.selectionKey, own, stream);
    this.group = group;
    if (!founded) {
      // graphql-ws holds the operation's arguments until it ends; a member no longer needs them
      // (a founder's stream, which executes with them, now feeds the group).
      request.args.contextValue = undefined;
      request.args.rootValue = undefined;
      return 'end';
    }
    // The resolver's wait is the founder's pending pull: the group takes it over.
    if (this.pulling) this.founding = group;
    else if (inflight) group.start(inflight);
    return 'wait';
  }

  private park(): Promise<Step> {
    if (this.ended) {
      return this.ended.error === undefined
        ? Promise.resolve({ done: true, value: undefined })
        : Promise.reject(this.ended.error);
    }
    return new Promise((resolve, reject) => {
      this.parked = { resolve, reject };
    });
  }

  /** The group's stream ended: graphql-ws completes the operation. */
  finish(): void {
    this.settle({});
  }

  /** The group's stream failed: graphql-ws sends the error. */
  fail(error: unknown): void {
    this.settle({ error: error ?? new Error('subscription failed') });
  }

  private settle(ended: { error?: unknown }): void {
    if (this.ended) return;
    this.ended = ended;
    const parked = this.unpark();
    if (!parked) return;
    if (ended.error === undefined) parked.resolve({ done: true, value: undefined });
    else parked.reject(ended.error);
  }

  async return(): Promise<Step> {
    const { group, own, stream } = this;
    this.group = null;
    this.own = null;
    this.stream = null;
    this.request = null;
    this.finish();
    group?.remove(this);
    if (own) {
      stream?.end();
      await own.return?.();
    }
    return { done: true, value: undefined };
  }

  async throw(error: unknown): Promise<Step> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Shares subscription streams among subscribers on one server. `tap` goes into each subscribe's
 * context (it records the bus streams the resolver opens); `share` wraps the subscribe result.
 * A subscription that opened exactly one bus stream is shareable; anything else stays on its own
 * path, untouched.
 */
export class SubscriptionFanout {
  private readonly groups = new Map<string, Group>();

  constructor(private readonly options: FanoutOptions) {}

  /** The context's bus for one subscribe: the same bus, noting each stream opened through it. */
  tap(events: EventBus, streams: AsyncIterator<unknown>[]): EventBus {
    const record = <T>(iterable: AsyncIterable<T>): AsyncIterable<T> => ({
      [Symbol.asyncIterator]: () => {
        const it = iterable[Symbol.asyncIterator]();
        streams.push(it);
        return it;
      },
    });
    return {
      publish: (topic, id, payload) => events.publish(topic, id, payload),
      subscribe: (topic, id) => record(events.subscribe(topic, id)),
      watch: (topic, id) => record(events.watch(topic, id)),
    };
  }

  share(result: AsyncIterable<ExecutionResult>, request: ShareRequest): AsyncIterable<ExecutionResult> {
    const [stream, ...more] = request.streams;
    request.streams = [];
    if (!(stream instanceof BusStream) || more.length > 0) return result;
    return new SharedSubscription(this, result[Symbol.asyncIterator](), stream, request);
  }

  /** Adds a caught-up subscriber to its group, founding it with the subscriber's stream if none. */
  join(
    member: SharedSubscription,
    selectionKey: string,
    own: AsyncIterator<ExecutionResult>,
    stream: BusStream<unknown, unknown>,
  ): { group: Group; founded: boolean } {
    const key = `${selectionKey}\u0000${stream.channel}`;
    let group = this.groups.get(key);
    const founded = !group;
    if (!group) {
      group = new Group(this.groups, key, own, stream, this.options);
      this.groups.set(key, group);
    }
    group.members.add(member);
    return { group, founded };
  }

  /** Groups open now (for tests). */
  get size(): number {
    return this.groups.size;
  }
}
