import type { Clock } from '../../domain/shared/clock.js';
import { type RateDecision, type RateLimiter, type RateRule, takeTokens } from '../../domain/shared/rate-limiter.js';

/** Buckets in this process only (the embedded default without Redis). */
export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly clock: Clock) {}

  async consume(key: string, cost: number, rule: RateRule): Promise<RateDecision> {
    const { state, decision } = takeTokens(this.buckets.get(key), this.clock.now().getTime(), cost, rule);
    this.buckets.set(key, state);
    if (this.buckets.size > 100_000) this.buckets.clear();
    return decision;
  }
}
