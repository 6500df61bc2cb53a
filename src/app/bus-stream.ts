/**
 * Every item a bus hands out (an event arriving on a topic, a resync) gets the next number of one
 * process-wide sequence, stamped once when it arrives, whichever streams it goes to. Two streams
 * of the same topic therefore agree on which items came before a given moment: that is what lets
 * a subscriber leave its own stream and join a shared one without a gap or a repeat.
 */
let sequence = 0;

export function nextSequence(): number {
  return ++sequence;
}

/** The number of the latest item handed to any stream. */
export function currentSequence(): number {
  return sequence;
}

/** Answered by whoever consumes a stream when it is caught up and about to wait. */
export type IdleDecision = 'wait' | 'end';

/**
 * One subscriber's view of one topic: a plain queue filled synchronously by the bus (no
 * Repeater, no promise per event unless the consumer is waiting). With `resyncs`, a resync
 * marker jumps the queue (the snapshot it causes covers everything queued), and several collapse
 * into one.
 */
export class BusStream<T, R = T> implements AsyncIterableIterator<R> {
  private readonly queue: { seq: number; value: T }[] = [];
  private missedSeq = 0;
  private waiting: ((step: IteratorResult<R>) => void) | null = null;
  private ended = false;
  /** The sequence number of the item handed out last (0 before the first). */
  lastSeq = 0;
  /** Called when the consumer has taken everything there is and asks for more. */
  onIdle: (() => IdleDecision) | null = null;

  constructor(
    /** The bus channel (`<topic>:<id>`) this stream listens to. */
    readonly channel: string,
    private readonly wrap: (value: T) => R,
    private readonly resyncValue: R | undefined,
    private readonly detach: (stream: BusStream<T, R>) => void,
  ) {}

  /** From the bus: an event of this stream's topic. */
  push(seq: number, value: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      this.lastSeq = seq;
      resolve({ done: false, value: this.wrap(value) });
      return;
    }
    this.queue.push({ seq, value });
  }

  /** From the bus: messages may have been lost. Ignored by streams without resyncs. */
  resync(seq: number): void {
    if (this.ended || this.resyncValue === undefined) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      this.lastSeq = seq;
      resolve({ done: false, value: this.resyncValue });
      return;
    }
    this.missedSeq = seq;
  }

  next(): Promise<IteratorResult<R>> {
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    if (this.missedSeq > 0 && this.resyncValue !== undefined) {
      this.lastSeq = this.missedSeq;
      this.missedSeq = 0;
      return Promise.resolve({ done: false, value: this.resyncValue });
    }
    const item = this.queue.shift();
    if (item) {
      this.lastSeq = item.seq;
      return Promise.resolve({ done: false, value: this.wrap(item.value) });
    }
    if (this.onIdle?.() === 'end') {
      this.end();
      return Promise.resolve({ done: true, value: undefined });
    }
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Stops listening; a pending next() resolves done (an async generator awaiting it can finish). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.length = 0;
    this.onIdle = null;
    this.detach(this);
    const resolve = this.waiting;
    this.waiting = null;
    resolve?.({ done: true, value: undefined });
  }

  return(): Promise<IteratorResult<R>> {
    this.end();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
