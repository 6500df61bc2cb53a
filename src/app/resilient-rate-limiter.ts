import type { RateDecision, RateLimiter, RateRule } from '../domain/shared/rate-limiter.js';

/**
 * Uses the shared (Redis) limiter, and this replica's own buckets when Redis does not answer
 * within `timeoutMs`: requests keep flowing while Redis is down, limited per replica meanwhile.
 */
export function createResilientRateLimiter(
  primary: RateLimiter,
  fallback: RateLimiter,
  onFallback: (err: unknown) => void,
  timeoutMs = 250,
): RateLimiter {
  return {
    async consume(key: string, cost: number, rule: RateRule): Promise<RateDecision> {
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          primary.consume(key, cost, rule),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`rate limiter did not answer in ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
      } catch (err) {
        onFallback(err);
        return fallback.consume(key, cost, rule);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
