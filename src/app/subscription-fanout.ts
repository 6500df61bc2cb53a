/**
 * The subscription fan-out: the one place where WebSocket subscribers share work. Its contract:
 *
 * - WHAT is shared: once a subscriber's own stream is caught up (its snapshot and anything queued
 *   behind it sent through graphql-ws as usual), its upstream — the subscribe resolver's one bus
 *   stream, executed through yoga's enveloped subscribe, so masking and the request scope apply —,
 *   the execution of each event and its JSON serialization. Snapshots and everything before the
 *   hand-over stay per subscriber; so does a subscription whose resolver opened anything but
 *   exactly one bus stream.
 * - KEYED BY the bus channel (`<topic>:<id>`) and the selection key: document text, operation
 *   name, variables (JSON) and `visibilityKey(viewer)` (src/domain/auth/viewer.ts): subscribers
 *   with equal keys would be sent equal results, so one result serves them all.
 * - WRITTEN as each member's graphql-transport-ws message `{"id":<id>,"type":"next","payload":
 *   <shared JSON>}` (byte for byte what graphql-ws's stringifyMessage makes of it), in ONE
 *   write of a whole WebSocket frame to the TCP socket that ws's public `handleUpgrade` callback
 *   handed to `createFanoutServer`. ws frames a message as a header and a body written corked
 *   (a writev per message); with one small frame per subscriber per event that syscall is most
 *   of the fan-out's cost (bench P2's limit rows). This is safe because this module creates the
 *   WebSocketServer itself: permessage-deflate off, and nothing sends a Blob (graphql-ws sends
 *   strings, this module Buffers), so ws writes every frame of its own synchronously and frames
 *   never interleave. A socket not accepted here gets `ws.send`.
 * - HELD per member, once it joined (with ShareRequest.detach, as ws-server does): the member
 *   object in its group and nothing else. The operation leaves graphql-ws (removed from its
 *   context, graphql-ws ends its loop without a message); the caller answers the client's
 *   complete and sends the complete or error when the group ends (`onDetachedEnd`).
 *
 * test/unit/ws-fanout-contract.test.ts fails when an upgrade of ws or graphql-ws changes any of
 * that: the message bytes, deflate staying off, whole frames interleaving with ws's own sends,
 * pings and close in order, graphql-ws ending an operation removed from its context silently.
 */
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExecutionResult } from 'graphql';
import { type WebSocket, WebSocketServer } from 'ws';
import type { EventBus } from '../domain/shared/event-publisher.js';
import { BusStream, currentSequence, type IdleDecision } from './bus-stream.js';

/** The TCP socket under each WebSocket accepted by createFanoutServer (ws's upgrade callback gives it). */
const tcpSockets = new WeakMap<WebSocket, Duplex>();

/**
 * A WebSocketServer on `path` of the HTTP server whose sockets the fan-out may write whole frames
 * to: permessage-deflate is off (the frames are written uncompressed), each accepted connection's
 * TCP socket is remembered, and an upgrade to any other path is refused with 400, as ws does.
 */
export function createFanoutServer(httpServer: HttpServer, options: { path: string; maxPayload: number }): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: options.maxPayload });
  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = (req.url ?? '/').split('?', 1)[0];
    if (pathname !== options.path) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      tcpSockets.set(ws, socket);
      wss.emit('connection', ws, req);
    });
  });
  return wss;
}

const CLOSING_BRACE = 0x7d;
const FIN_TEXT = 0x81;

/**
 * Writes the text message `prefix + payload + "}"` as one whole frame straight to the client's TCP
 * socket (see the contract above), or through ws.send for a socket not accepted here.
 */
export function sendSplicedText(socket: WebSocket, prefix: Buffer, payload: Buffer): void {
  const raw = tcpSockets.get(socket);
  const length = prefix.length + payload.length + 1;
  if (!raw || raw.destroyed) {
    socket.send(Buffer.concat([prefix, payload, Buffer.from('}')]), { binary: false });
    return;
  }
  const head = length <= 125 ? 2 : length <= 0xffff ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + length);
  frame[0] = FIN_TEXT;
  if (head === 2) {
    frame[1] = length;
  } else if (head === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  prefix.copy(frame, head);
  payload.copy(frame, head + prefix.length);
  frame[head + length - 1] = CLOSING_BRACE;
  raw.write(frame);
}

/** `{"id":<id>,"type":"next","payload":` — a member's frame minus the shared payload and closing brace. */
export function nextMessagePrefix(id: string): Buffer {
  return Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
}

type Step = IteratorResult<ExecutionResult>;

export interface FanoutOptions {
  /** Bytes queued for a client before `onSlowConsumer` is called instead of sending more. */
  maxBufferedBytes: number;
  /** Closes a client that reads too slowly (a resync close code). */
  onSlowConsumer(socket: WebSocket): void;
  /** Told the number of shared streams (groups) whenever it changes. */
  onGroupCount?(groups: number): void;
  /**
   * A detached member's group ended (`error`: it failed): the caller sends the complete or error
   * message graphql-ws would have sent, and forgets the operation.
   */
  onDetachedEnd?(member: DetachedMember, error?: unknown): void;
}

/** A member the caller took over from graphql-ws (ShareRequest.detach). */
export interface DetachedMember {
  readonly socket: WebSocket;
  readonly id: string;
  /** Leaves its group without a message (the client completed it, or its socket closed). */
  leave(): void;
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
  /**
   * Called as the subscriber joins its group: the caller takes the operation over from graphql-ws
   * (it removes the operation from graphql-ws's context, whose loop is then ended without a
   * message, and answers the client's complete for it itself). From then on the member is one
   * small object in its group: no suspended graphql-ws handler, iterator or promise per
   * subscriber. Without it, graphql-ws's loop waits on a parked promise until the end.
   */
  detach?(member: DetachedMember): void;
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
    this.forget();
    const members = [...this.members];
    this.members.clear();
    for (const m of members) each(m);
  }

  private forget(): void {
    if (this.groups.get(this.key) !== this) return;
    this.groups.delete(this.key);
    this.options.onGroupCount?.(this.groups.size);
  }

  remove(member: SharedSubscription): void {
    if (!this.members.delete(member) || this.members.size > 0) return;
    this.forget();
    // Ends the resolver's wait for the next event; its generator then finishes and cleans up.
    this.stream.end();
    this.upstream.return?.().catch(() => undefined);
  }
}

/**
 * One subscriber as graphql-ws sees it: its own resolver stream until that stream is caught up
 * (the snapshot and anything queued behind it sent), then a member of a group; the per-subscriber
 * iterator chain and context are released. Detached (ShareRequest.detach), graphql-ws's loop is
 * told done and the member is only its group's; otherwise graphql-ws's loop waits on one parked
 * promise, settled only when the group ends or the client completes.
 */
class SharedSubscription implements AsyncIterableIterator<ExecutionResult>, DetachedMember {
  readonly socket: WebSocket;
  readonly id: string;
  /** Taken over by the caller (ShareRequest.detach): graphql-ws's loop is told done, the group's end goes to onDetachedEnd. */
  private detached = false;
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
  /**
   * The result handed to graphql-ws last (our shallow copy). graphql-ws's subscribe loop keeps
   * its last result in a variable of its suspended frame for the subscription's life — for a
   * member that is its snapshot — so once graphql-ws has sent it and asks for the next, the copy
   * is emptied.
   */
  private lent: { -readonly [K in keyof ExecutionResult]?: ExecutionResult[K] } | null = null;

  constructor(
    private readonly fanout: SubscriptionFanout,
    own: AsyncIterator<ExecutionResult>,
    stream: BusStream<unknown, unknown>,
    request: ShareRequest,
  ) {
    this.socket = request.socket;
    this.id = request.id;
    this.prefix = nextMessagePrefix(request.id);
    this.own = own;
    this.stream = stream;
    this.request = request;
    stream.onIdle = () => this.handOver();
  }

  next(): Promise<Step> {
    this.release();
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
        if (!this.group) this.unpark()?.resolve(this.lend(step));
      },
      (err: unknown) => {
        if (!this.group) this.unpark()?.reject(err);
      },
    );
    return parked;
  }

  /** The step as graphql-ws gets it: the result as a copy of our own, emptied once it is sent. */
  private lend(step: Step): Step {
    if (step.done) return step;
    const copy = { ...step.value };
    this.lent = copy;
    return { done: false, value: copy };
  }

  /** graphql-ws sent the last result and asks for the next: empty the copy it still holds. */
  private release(): void {
    const lent = this.lent;
    if (!lent) return;
    this.lent = null;
    for (const key of Object.keys(lent) as (keyof ExecutionResult)[]) lent[key] = undefined;
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
    if (request.detach) {
      request.detach(this);
      this.detached = true;
      // graphql-ws's loop ends (told done); a pull it has not made yet gets done at once (park).
      this.unpark()?.resolve({ done: true, value: undefined });
    }
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
    if (this.detached) return Promise.resolve({ done: true, value: undefined });
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
    if (this.detached) {
      this.group = null;
      this.fanout.detachedEnded(this, ended.error);
      return;
    }
    const parked = this.unpark();
    if (!parked) return;
    if (ended.error === undefined) parked.resolve({ done: true, value: undefined });
    else parked.reject(ended.error);
  }

  async return(): Promise<Step> {
    this.release();
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

  /** A detached member leaves its group without a message. */
  leave(): void {
    if (!this.detached || this.ended) return;
    this.ended = {};
    const group = this.group;
    this.group = null;
    group?.remove(this);
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
      status: () => events.status(),
      onStatus: (listener) => events.onStatus(listener),
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
      this.options.onGroupCount?.(this.groups.size);
    }
    group.members.add(member);
    return { group, founded };
  }

  /** A detached member's group ended. */
  detachedEnded(member: DetachedMember, error: unknown): void {
    this.options.onDetachedEnd?.(member, error);
  }

  /** Groups open now (for tests). */
  get size(): number {
    return this.groups.size;
  }
}
