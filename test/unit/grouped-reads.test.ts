import { describe, expect, it } from 'vitest';
import { GroupedReads } from '../../src/adapters/mongo/grouped-reads.js';

describe('GroupedReads', () => {
  it('reads a lone key at once and a burst in few reads, each read issued after its callers asked', async () => {
    const reads: string[][] = [];
    let version = 0;
    const reader = new GroupedReads<string>(async (keys) => {
      reads.push(keys);
      const seen = version;
      await new Promise((r) => setTimeout(r, 5));
      return new Map(keys.filter((k) => k !== 'missing').map((k) => [k, `${k}@${seen}`]));
    });
    expect(await reader.load('a')).toBe('a@0');
    expect(reads).toEqual([['a']]);

    const burst = Promise.all(Array.from({ length: 300 }, (_, i) => reader.load(i % 3 === 0 ? 'missing' : `k${i % 5}`)));
    // A change made while the first read of the burst is in flight is seen by every later caller.
    version = 1;
    const late = reader.load('k1');
    const results = await burst;
    expect(results.filter((r) => r === null)).toHaveLength(100);
    expect(await late).toBe('k1@1');
    expect(reads.length).toBeLessThanOrEqual(3);
    for (const keys of reads) expect(new Set(keys).size).toBe(keys.length);
  });

  it('a failed read fails only the callers it carried', async () => {
    let fail = true;
    const reader = new GroupedReads<number>(async (keys) => {
      await new Promise((r) => setTimeout(r, 2));
      if (fail) {
        fail = false;
        throw new Error('down');
      }
      return new Map(keys.map((k) => [k, k.length]));
    });
    const first = reader.load('x');
    const queued = [reader.load('yy'), reader.load('zzz')];
    await expect(first).rejects.toThrow('down');
    expect(await Promise.all(queued)).toEqual([2, 3]);
  });
});
