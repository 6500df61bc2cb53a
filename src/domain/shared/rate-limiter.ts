/** A token bucket: `ratePerMinute` tokens a minute, holding at most `burst`. */
export interface RateRule {
  ratePerMinute: number;
  burst: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Seconds until `cost` tokens are available again (0 when allowed). */
  retryAfterSeconds: number;
  remaining: number;
}

/** Shared across replicas when backed by Redis. Takes all of `cost` or nothing. */
export interface RateLimiter {
  consume(key: string, cost: number, rule: RateRule): Promise<RateDecision>;
}

export const RATE_GROUPS = ['servers', 'sessions', 'xrdp', 'resources'] as const;
export type RateGroup = (typeof RATE_GROUPS)[number];

/** Requests a minute per user and group (README, RATE_LIMIT_*); bursts are twice that. */
export const DEFAULT_RATES: Record<RateGroup, number> = { servers: 100, sessions: 200, xrdp: 50, resources: 300 };

/** Pure token-bucket arithmetic shared by the in-memory limiter and tests. */
export function takeTokens(
  state: { tokens: number; at: number } | undefined,
  now: number,
  cost: number,
  rule: RateRule,
): { state: { tokens: number; at: number }; decision: RateDecision } {
  const perMs = rule.ratePerMinute / 60_000;
  const tokens = state ? Math.min(rule.burst, state.tokens + (now - state.at) * perMs) : rule.burst;
  if (tokens >= cost) {
    return {
      state: { tokens: tokens - cost, at: now },
      decision: { allowed: true, retryAfterSeconds: 0, remaining: Math.floor(tokens - cost) },
    };
  }
  const wait = cost > rule.burst ? 60 : Math.ceil((cost - tokens) / perMs / 1000);
  return {
    state: { tokens, at: now },
    decision: { allowed: false, retryAfterSeconds: Math.max(1, wait), remaining: Math.floor(tokens) },
  };
}
