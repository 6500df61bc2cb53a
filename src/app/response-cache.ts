import { createHash } from 'node:crypto';
import {
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  getOperationAST,
  Kind,
  OperationTypeNode,
  print,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import type { GraphQLContext } from '../../resolvers/index.js';
import { visibilityKey } from '../domain/auth/viewer.js';
import type { CachedKind, Generations } from './cache-generations.js';

/**
 * The root fields whose answers may be cached, and the stores each reads (what the caller may see
 * included: a user's servers and pools follow their assignments).
 */
export const CACHEABLE_ROOTS: Readonly<Record<string, readonly CachedKind[]>> = {
  servers: ['servers', 'assignments'],
  sessions: ['sessions'],
  pools: ['pools', 'assignments'],
};

const NONE: readonly CachedKind[] = [];
const fields = (names: string, kinds = NONE) => Object.fromEntries(names.split(' ').map((n) => [n, kinds]));
const connection = fields('edges pageInfo totalCount');
const edge = fields('cursor node');

/**
 * Every field a cached document may select below those roots, by type, with the stores its value
 * is read from beyond its parent's (values copied from the parent object need none). A field that
 * is not here makes the document uncacheable; UNCACHEABLE_FIELDS says why for those left out on
 * purpose, and test/unit/response-cache.test.ts fails when a field reachable from a root is in
 * neither list.
 */
export const FIELD_DEPENDENCIES: Readonly<Record<string, Readonly<Record<string, readonly CachedKind[]>>>> = {
  RdpServerConnection: connection,
  RdpSessionConnection: connection,
  PoolServerConnection: connection,
  RdpServerEdge: edge,
  RdpSessionEdge: edge,
  PoolServerEdge: edge,
  PageInfo: fields('endCursor hasNextPage hasPreviousPage startCursor'),
  RdpServer: {
    ...fields(
      'configuration createdAt createdBy description drain drainDeadline draining host hostId id lastStartedAt lastStoppedAt name owner poolId port resources status statusMessage updatedAt',
    ),
    sessions: ['sessions'],
    pool: ['pools', 'assignments'],
  },
  ServerConfiguration: fields('audio clipboard colorDepth desktop driveRedirection maxSessions printerRedirection resolution'),
  ServerResources: fields('bandwidthMbps cpuLimit diskLimitMb memoryLimitMb'),
  ServerDrain: fields('completedAt deadline origin startedAt startedBy stopServer'),
  RdpSession: {
    ...fields(
      'clientInfo connectedAt createdAt credentialExpiresAt credentialMode display id idleDeadline lastActivityAt owner serverId sessionDeadline status terminatedAt terminationReason username',
    ),
    server: ['servers', 'assignments'],
  },
  ClientInfo: fields('clientIp clientName clientVersion colorDepth resolution'),
  Pool: {
    ...fields('createdAt createdBy defaultCredentialMode description id maxSessions name placementPolicy updatedAt'),
    liveSessions: ['sessions'],
    assignments: ['assignments'],
    servers: ['servers', 'assignments'],
  },
  Assignment: fields('createdAt createdBy id principal principalType targetId targetType'),
};

/** Fields reachable from the cacheable roots whose values change without a store write. */
export const UNCACHEABLE_FIELDS: Readonly<Record<string, string>> = {
  'RdpServer.uptimeSeconds': 'computed from the clock at each read',
  'RdpServer.usage': 'the latest resource sample, and only while it is at most three intervals old (the clock)',
  'RdpSession.usage': 'the latest resource sample, and only while it is at most three intervals old (the clock)',
  'RdpServer.logs': "read from the host's xrdp log, not from a store",
  'RdpServer.placement': 'a host: heartbeats, usage and status by the clock (OFFLINE after silence)',
  'ServerResources.enforced': "the host's cgroup capability, not a store",
  'ServerResources.enforcedBy': "the host's cgroup capability, not a store",
  'ServerResources.notEnforcedReason': "the host's cgroup capability, not a store",
};

/** A cacheable operation: the stores it reads and an id of its document and operation. */
export interface CachePlan {
  kinds: readonly CachedKind[];
  id: string;
}

/** The directives that only choose selections by the variables (part of the key). */
const SELECTION_DIRECTIVES = new Set(['include', 'skip']);

/**
 * Whether the operation may be cached and what it reads: a query whose root fields are all in
 * CACHEABLE_ROOTS and whose every field (fragments included) is in FIELD_DEPENDENCIES, with no
 * directive other than @include and @skip. Null otherwise.
 */
export function planOf(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): CachePlan | null {
  const op = getOperationAST(document, operationName);
  if (!op || op.operation !== OperationTypeNode.QUERY) return null;
  const queryType = schema.getQueryType();
  const kinds = new Set<CachedKind>();
  let cacheable = true;
  let roots = 0;
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      [Kind.DIRECTIVE](node) {
        if (!SELECTION_DIRECTIVES.has(node.name.value)) cacheable = false;
      },
      [Kind.FIELD](node) {
        const name = node.name.value;
        if (name === '__typename') return false;
        const parent = typeInfo.getParentType();
        const deps = !parent ? undefined : parent === queryType ? CACHEABLE_ROOTS[name] : FIELD_DEPENDENCIES[parent.name]?.[name];
        if (!deps) {
          cacheable = false;
          return false;
        }
        if (parent === queryType) roots++;
        for (const k of deps) kinds.add(k);
        return undefined;
      },
    }),
  );
  if (!cacheable || roots === 0) return null;
  const id = createHash('sha256')
    .update(`${operationName ?? ''}\n${print(document)}`)
    .digest('base64url');
  return { kinds: [...kinds].sort(), id };
}

export interface ResponseCacheCounters {
  hit(): void;
  miss(): void;
  bypass(): void;
}

export interface ResponseCacheOptions {
  generations: Generations;
  /** Bytes of cached answers (and their keys) kept at most; the least recently used go first. */
  maxBytes: number;
  counters: ResponseCacheCounters;
}

/**
 * How long an answer is kept at most. Not needed for exactness while every write's bump reaches
 * Redis; it bounds the one case where one cannot (a replica that reaches MongoDB but not Redis
 * while the others reach both, or one that dies between a write and its bump).
 */
export const MAX_AGE_MS = 60_000;

export type ResponseCache = ReturnType<typeof createResponseCache>;

/** The cache of one replica: answers as JSON text, keyed by plan, visibility, variables and generations. */
export function createResponseCache(options: ResponseCacheOptions) {
  const entries = new LRUCache<string, string>({
    maxSize: options.maxBytes,
    // UTF-16 in memory: two bytes a character, the key's included.
    sizeCalculation: (json, key) => 2 * (json.length + key.length),
    ttl: MAX_AGE_MS,
  });
  options.generations.onReset(() => entries.clear());
  const plans = new WeakMap<DocumentNode, Map<string, CachePlan | null>>();
  const cachedPlanOf = (schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined) => {
    let byName = plans.get(document);
    if (!byName) {
      byName = new Map();
      plans.set(document, byName);
    }
    const name = operationName ?? '';
    let plan = byName.get(name);
    if (plan === undefined) {
      plan = planOf(schema, document, operationName);
      byName.set(name, plan);
    }
    return plan;
  };
  return { entries, generations: options.generations, counters: options.counters, planOf: cachedPlanOf };
}

type SerializedResult = ExecutionResult & { stringify?: (result: ExecutionResult) => string };

/** An answer whose JSON text is already there: yoga writes it as it is (its `stringify`). */
function fromJson(json: string, data?: unknown): SerializedResult {
  let parsed = data;
  return {
    // Read only where the result is not sent as text (over WebSocket, graphql-ws serializes it).
    get data() {
      parsed ??= (JSON.parse(json) as { data: unknown }).data;
      return parsed as ExecutionResult['data'];
    },
    stringify: () => json,
  };
}

/**
 * The response cache in yoga's pipeline. It sits after the plugins that guard and account for
 * every operation (armor, CSRF, audit, metrics, rate limits, variables and cost), so a hit is
 * refused, limited, counted and audited as an execution is; it only replaces execution. Queries
 * of signed-in callers only; a result with errors or extensions is never stored.
 */
export function createResponseCachePlugin(cache: ResponseCache): Plugin<GraphQLContext> {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const viewer = args.contextValue.viewer;
      if (!viewer) return;
      const plan = cache.planOf(args.schema, args.document, args.operationName);
      if (!plan) return;
      const generations = await cache.generations.read(plan.kinds);
      if (generations === null) {
        cache.counters.bypass();
        return;
      }
      const key = `${generations}\n${visibilityKey(viewer)}\n${plan.id}\n${JSON.stringify(args.variableValues ?? {})}`;
      const json = cache.entries.get(key);
      if (json !== undefined) {
        cache.counters.hit();
        setResultAndStopExecution(fromJson(json));
        return;
      }
      cache.counters.miss();
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result) || result.errors?.length || result.extensions) return;
          const serialized = result as SerializedResult;
          const text = (serialized.stringify ?? JSON.stringify)(result);
          cache.entries.set(key, text);
          setResult(fromJson(text, result.data));
        },
      };
    },
  };
}
