/**
 * Deadlines for many items behind ONE timer: a binary min-heap of the items by deadline, and a
 * timer for the earliest only. The WebSocket server closes each connection when its token
 * expires; a Timeout (and its closure) per connection was about 0.3 KB of every idle
 * subscription (bench P2). An item carries its own deadline and heap slot, so it costs one array
 * element here and nothing else.
 */

/** What the schedule keeps on each item: its deadline (ms since the epoch) and its heap index. */
export interface Scheduled {
  expiresAt?: number | undefined;
  /** The item's index in the schedule's heap; -1 or undefined when not scheduled. */
  expirySlot?: number | undefined;
}

/** setTimeout's longest delay (about 24.8 days); a later deadline is waited for in steps. */
const MAX_DELAY_MS = 2_147_483_647;

export class ExpirySchedule<T extends Scheduled> {
  private readonly heap: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The deadline the timer is set for (Infinity: no timer). */
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(
    /** Called once for each item whose deadline has passed (it is no longer scheduled). */
    private readonly onExpire: (item: T) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Items scheduled now. */
  get size(): number {
    return this.heap.length;
  }

  /** Sets (or moves) the item's deadline. */
  set(item: T, at: number): void {
    if (!Number.isFinite(at)) throw new RangeError(`an expiry must be a finite time, not ${at}`);
    item.expiresAt = at;
    const slot = item.expirySlot;
    if (slot !== undefined && slot >= 0 && this.heap[slot] === item) {
      this.siftUp(slot);
      this.siftDown(item.expirySlot ?? slot);
    } else {
      item.expirySlot = this.heap.length;
      this.heap.push(item);
      this.siftUp(this.heap.length - 1);
    }
    this.arm();
  }

  /** Forgets the item's deadline (a closed connection); nothing happens if it has none. */
  delete(item: T): void {
    const slot = item.expirySlot;
    if (slot === undefined || slot < 0 || this.heap[slot] !== item) return;
    item.expirySlot = -1;
    const last = this.heap.pop() as T;
    if (slot < this.heap.length) {
      this.heap[slot] = last;
      last.expirySlot = slot;
      this.siftUp(slot);
      this.siftDown(last.expirySlot ?? slot);
    }
    this.arm();
  }

  /** Stops the timer and forgets every item. */
  clear(): void {
    for (const item of this.heap) item.expirySlot = -1;
    this.heap.length = 0;
    this.arm();
  }

  private expire(): void {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.now();
    const due: T[] = [];
    for (let top = this.heap[0]; top !== undefined && (top.expiresAt ?? 0) <= now; top = this.heap[0]) {
      this.delete(top);
      due.push(top);
    }
    this.arm();
    for (const item of due) this.onExpire(item);
  }

  /** Keeps the one timer set for the earliest deadline. */
  private arm(): void {
    const first = this.heap[0];
    const at = first?.expiresAt ?? Number.POSITIVE_INFINITY;
    if (at === this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = at;
    if (at === Number.POSITIVE_INFINITY) return;
    this.timer = setTimeout(() => this.expire(), Math.min(MAX_DELAY_MS, Math.max(0, at - this.now())));
    this.timer.unref();
  }

  private less(a: number, b: number): boolean {
    return (this.heap[a]?.expiresAt ?? 0) < (this.heap[b]?.expiresAt ?? 0);
  }

  private swap(a: number, b: number): void {
    const heap = this.heap;
    const x = heap[a] as T;
    const y = heap[b] as T;
    heap[a] = y;
    heap[b] = x;
    y.expirySlot = a;
    x.expirySlot = b;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.less(right, left) ? right : left;
      if (!this.less(child, i)) return;
      this.swap(child, i);
      i = child;
    }
  }
}
