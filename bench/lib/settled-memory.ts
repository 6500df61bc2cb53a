import { getHeapSpaceStatistics } from 'node:v8';

/**
 * This process's memory after a full GC, once RSS has settled. A full GC frees heap pages, but
 * V8 (and malloc) hand them back to the OS on background threads: RSS read at once still counts
 * them, and how many depends on how much garbage the last phase left (after 10,000 subscribers
 * connected through Redis, 60 MB more than in process, gone 100 ms later). So this waits until
 * RSS has not fallen for one interval (at most `maxMs`), and collects again while that frees
 * more than 1% of the heap, then reads the figures.
 */
export interface SettledMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /**
   * V8's young generation (new space), resident: a buffer V8 grows and shrinks by allocation
   * rate, not by what the process holds. Whether a GC shrinks it varies from run to run (tens of
   * MB), so figures per connection subtract it (P2).
   */
  newSpace: number;
}

const INTERVAL_MS = 100;

export async function settledMemory(maxMs = 2000): Promise<SettledMemory> {
  const gc = (globalThis as { gc?: () => void }).gc;
  let heapUsed = Number.POSITIVE_INFINITY;
  // Rounds of GC and settling until a GC frees no more than 1% of the heap: objects that die within
  // a moment of the last connection (through Redis, about 1 KB a subscriber) go in the next round.
  for (let round = 0; round < 3; round++) {
    gc?.();
    gc?.();
    let rss = process.memoryUsage.rss();
    for (let waited = 0; waited < maxMs; waited += INTERVAL_MS) {
      await new Promise((r) => setTimeout(r, INTERVAL_MS));
      const next = process.memoryUsage.rss();
      if (next >= rss) break;
      rss = next;
    }
    const used = process.memoryUsage().heapUsed;
    if (!gc || used > 0.99 * heapUsed) break;
    heapUsed = used;
  }
  const m = process.memoryUsage();
  const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.physical_space_size ?? 0;
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    newSpace,
  };
}
