import { describe, expect, it } from 'vitest';
import { GroupCommit, GroupedReads } from '../../src/adapters/mongo/group-commit.js';

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

  it('reads made in one turn of the event loop go in one query, the first one included', async () => {
    const reads: string[][] = [];
    const reader = new GroupedReads<number>(async (keys) => {
      reads.push(keys);
      return new Map(keys.map((k) => [k, k.length]));
    });
    expect(await Promise.all(['a', 'bb', 'a', 'ccc'].map((k) => reader.load(k)))).toEqual([1, 2, 1, 3]);
    expect(reads).toEqual([['a', 'bb', 'ccc']]);
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
    // The next turn: the first read is in flight, so these wait for the next one.
    await new Promise((r) => setImmediate(r));
    const queued = [reader.load('yy'), reader.load('zzz')];
    await expect(first).rejects.toThrow('down');
    expect(await Promise.all(queued)).toEqual([2, 3]);
  });
});

describe('GroupCommit', () => {
  it('settles each submit with its own outcome; a batch that throws fails only its items', async () => {
    const batches: number[][] = [];
    let throwNext = false;
    const commit = new GroupCommit<number, string>(async (items) => {
      batches.push(items);
      await new Promise((r) => setTimeout(r, 2));
      if (throwNext) {
        throwNext = false;
        throw new Error('batch down');
      }
      return items.map((n) => (n % 3 === 0 ? { ok: false, error: new Error(`no ${n}`) } : { ok: true, value: `v${n}` }));
    }, 4);
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => commit.submit(i + 1)));
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : String((o.reason as Error).message)))).toEqual([
      'v1',
      'v2',
      'no 3',
      'v4',
      'v5',
      'no 6',
      'v7',
      'v8',
      'no 9',
      'v10',
    ]);
    // The first alone, then the rest in batches of at most 4.
    expect(batches).toEqual([[1], [2, 3, 4, 5], [6, 7, 8, 9], [10]]);
    throwNext = true;
    const [failed, next] = await Promise.allSettled([commit.submit(11), commit.submit(13)]);
    expect(failed).toMatchObject({ status: 'rejected', reason: new Error('batch down') });
    expect(next).toEqual({ status: 'fulfilled', value: 'v13' });
  });
});
