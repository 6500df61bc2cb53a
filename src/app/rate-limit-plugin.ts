import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../../resolvers/index.js';
import type { RateGroup, RateLimiter, RateRule } from '../domain/shared/rate-limiter.js';

/** Which rate group a root field belongs to; null for fields that are never limited. */
export function rateGroupOf(field: string): RateGroup | null {
  if (field.startsWith('__') || field === 'viewer') return null;
  if (/session/i.test(field) && !/xrdpSession/i.test(field)) return 'sessions';
  // The broker admits sessions: the same budget as createSession.
  if (field === 'connect') return 'sessions';
  if (/xrdp/i.test(field)) return 'xrdp';
  if (/resource|alert|usage|limit/i.test(field)) return 'resources';
  if (/server/i.test(field)) return 'servers';
  return 'servers';
}

/** Root field calls of the operation, aliases counted one by one, fragments flattened. */
export function rootFieldCalls(document: DocumentNode, operationName?: string | null): FieldNode[] {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const op = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  if (!op) return [];
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((f) => [f.name.value, f]),
  );
  const out: FieldNode[] = [];
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) out.push(s);
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet);
      else {
        const f = fragments.get(s.name.value);
        if (f && !seen.has(f.name.value)) {
          seen.add(f.name.value);
          walk(f.selectionSet);
        }
      }
    }
  };
  walk(op.selectionSet);
  return out;
}

export interface RateLimitOptions {
  limiter: RateLimiter;
  rules: Record<RateGroup, RateRule>;
  onLimited?: (info: { group: RateGroup; key: string; retryAfterSeconds: number }) => void;
}

/**
 * Per user and operation group, counted per root field call so aliases count, in buckets shared
 * by every replica. Runs in yoga's envelop pipeline, so HTTP and WebSocket are limited alike.
 */
export function createRateLimitPlugin(options: RateLimitOptions): Plugin<GraphQLContext> {
  const check = async (document: DocumentNode, operationName: string | null | undefined, ctx: GraphQLContext) => {
    const costs = new Map<RateGroup, number>();
    for (const field of rootFieldCalls(document, operationName)) {
      const group = rateGroupOf(field.name.value);
      if (group) costs.set(group, (costs.get(group) ?? 0) + 1);
    }
    const who = ctx.viewer ? `user:${ctx.viewer.userId}` : 'anonymous';
    for (const [group, cost] of costs) {
      const key = `${group}:${who}`;
      const decision = await options.limiter.consume(key, cost, options.rules[group]);
      if (!decision.allowed) {
        options.onLimited?.({ group, key, retryAfterSeconds: decision.retryAfterSeconds });
        const retryAfter = decision.retryAfterSeconds;
        return new GraphQLError(`rate limit for ${group} exceeded; retry after ${retryAfter}s`, {
          // `http` makes yoga answer 429 with Retry-After; the WebSocket path drops it and keeps retryAfter.
          extensions: {
            code: 'RATE_LIMITED',
            retryAfter,
            group,
            http: { status: 429, headers: { 'Retry-After': String(retryAfter) } },
          },
        });
      }
    }
    return null;
  };
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const error = await check(args.document, args.operationName, args.contextValue);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const error = await check(args.document, args.operationName, args.contextValue);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
