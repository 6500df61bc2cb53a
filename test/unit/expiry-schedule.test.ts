import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExpirySchedule, type Scheduled } from '../../src/app/expiry-schedule.js';

interface Item extends Scheduled {
  name: string;
}

describe('ExpirySchedule: many deadlines behind one timer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const setup = () => {
    const expired: string[] = [];
    const schedule = new ExpirySchedule<Item>((item) => expired.push(item.name));
    return { expired, schedule };
  };

  it('expires items in deadline order whatever order they were set in, with one timer pending', () => {
    const { expired, schedule } = setup();
    const now = Date.now();
    for (const [i, ms] of [50, 10, 40, 20, 30, 10].entries()) schedule.set({ name: `${ms}-${i}` }, now + ms);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(10);
    expect(expired.sort()).toEqual(['10-1', '10-5']);
    vi.advanceTimersByTime(25);
    expect(expired.slice(2)).toEqual(['20-3', '30-4']);
    vi.advanceTimersByTime(100);
    expect(expired.slice(4)).toEqual(['40-2', '50-0']);
    expect(schedule.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('moves a deadline (earlier or later) and forgets a deleted item', () => {
    const { expired, schedule } = setup();
    const now = Date.now();
    const a: Item = { name: 'a' };
    const b: Item = { name: 'b' };
    const c: Item = { name: 'c' };
    schedule.set(a, now + 100);
    schedule.set(b, now + 200);
    schedule.set(c, now + 300);
    schedule.set(c, now + 50);
    schedule.set(a, now + 400);
    schedule.delete(b);
    schedule.delete(b);
    expect(schedule.size).toBe(2);
    vi.advanceTimersByTime(60);
    expect(expired).toEqual(['c']);
    vi.advanceTimersByTime(300);
    expect(expired).toEqual(['c']);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual(['c', 'a']);
  });

  it('waits for a deadline beyond setTimeout’s range in steps, and clear stops everything', () => {
    const { expired, schedule } = setup();
    const far: Item = { name: 'far' };
    const day = 24 * 3600 * 1000;
    schedule.set(far, Date.now() + 30 * day);
    vi.advanceTimersByTime(25 * day);
    expect(expired).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(5 * day);
    expect(expired).toEqual(['far']);
    const other: Item = { name: 'other' };
    schedule.set(other, Date.now() + 10);
    schedule.clear();
    vi.advanceTimersByTime(100);
    expect(expired).toEqual(['far']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses a deadline that is not a finite time and changes nothing', () => {
    const { schedule } = setup();
    const item: Item = { name: 'x' };
    expect(() => schedule.set(item, Number.NaN)).toThrow(/finite time/);
    expect(schedule.size).toBe(0);
    expect(item.expiresAt).toBeUndefined();
  });
});
