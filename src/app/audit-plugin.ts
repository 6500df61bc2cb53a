import { type DocumentNode, Kind } from 'graphql';
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../../resolvers/index.js';
import { type AuditActor, actorOf } from '../domain/audit/audit-event.js';
import type { AuditEntry, AuditRecorder } from '../domain/audit/audit-service.js';
import { DomainError } from '../domain/shared/errors.js';
import { isGraphQLError, unwrap } from './error-masking.js';
import { rootFieldCalls } from './rate-limit-plugin.js';

/** Root fields whose domain action has a name of its own; others are audited as `api.<field>`. */
const FIELD_ACTIONS: Record<string, string> = {
  createServer: 'server.create',
  updateServer: 'server.update',
  deleteServer: 'server.delete',
  startServer: 'server.start',
  stopServer: 'server.stop',
  restartServer: 'server.restart',
  setServerMaintenance: 'server.maintenance',
  drainServer: 'server.drain',
  cancelServerDrain: 'server.drain.cancel',
  createSession: 'session.create',
  connectSession: 'session.connect',
  disconnectSession: 'session.disconnect',
  terminateSession: 'session.terminate',
  reissueCredentials: 'session.reissue',
  updateXrdpConfig: 'xrdp.config.update',
  controlXrdpService: 'xrdp.service.control',
  updateResourceLimits: 'limits.update',
  resolveAlert: 'alert.resolve',
  setHostDrain: 'host.drain',
};

/** The name of the document's operation when it has exactly one (clients often send no operationName). */
function operationNameOf(document: DocumentNode): string | null {
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const only = operations.length === 1 ? operations[0] : undefined;
  return only && only.kind === Kind.OPERATION_DEFINITION ? (only.name?.value ?? null) : null;
}

export const actionOfField = (field: string): string => FIELD_ACTIONS[field] ?? `api.${field}`;

const DENIED_CODES = new Set(['FORBIDDEN', 'UNAUTHENTICATED', 'RATE_LIMITED']);

function codeOf(error: unknown): string | null {
  const original = unwrap(error);
  if (original instanceof DomainError) return original.code;
  if (isGraphQLError(original)) {
    const code = original.extensions?.code;
    return typeof code === 'string' ? code : null;
  }
  return null;
}

/**
 * Refusals are recorded, but not one per request: a client hammering with a bad token or past its
 * rate limit must not turn into as many database writes. Per actor (or address), action and code,
 * one event a window; the next one says how many were held back.
 */
export function createDeniedRecorder(audit: AuditRecorder, windowMs = 1000) {
  const last = new Map<string, { at: number; held: number }>();
  return (entry: AuditEntry & { result: 'DENIED' }): void => {
    const code = typeof entry.details?.code === 'string' ? entry.details.code : '';
    const key = `${entry.actor.userId ?? `ip:${entry.actor.ip ?? '?'}`}|${entry.action}|${code}`;
    const now = Date.now();
    const seen = last.get(key);
    if (seen && now - seen.at < windowMs) {
      seen.held++;
      return;
    }
    if (last.size > 10_000) last.clear();
    last.set(key, { at: now, held: 0 });
    const repeated = seen?.held ?? 0;
    void audit.record(repeated > 0 ? { ...entry, details: { ...entry.details, repeated } } : entry);
  };
}

/**
 * Records DENIED for FORBIDDEN and UNAUTHENTICATED on protected fields and for RATE_LIMITED
 * operations, with the field's action and the operation's name, on HTTP and WebSocket alike.
 * Runs before the rate limiter in the plugin list, so it sees the result the limiter sets.
 * Domain actions (including limit refusals and hidden objects) are audited by the services.
 */
export function createAuditPlugin(options: { denied: ReturnType<typeof createDeniedRecorder> }): Plugin<GraphQLContext> {
  const inspect = (
    ctx: GraphQLContext,
    document: DocumentNode,
    operationName: string | null | undefined,
    errors: readonly unknown[] | undefined,
  ) => {
    if (!errors?.length) return;
    const calls = rootFieldCalls(document, operationName);
    const operation = operationName ?? operationNameOf(document);
    const fieldOf = new Map(calls.map((f) => [f.alias?.value ?? f.name.value, f.name.value]));
    const actor: AuditActor = actorOf(ctx.viewer, ctx.clientIp);
    const done = new Set<string>();
    for (const error of errors) {
      const code = codeOf(error);
      if (!code || !DENIED_CODES.has(code)) continue;
      const path = (error as { path?: readonly (string | number)[] }).path;
      const key = typeof path?.[0] === 'string' ? path[0] : undefined;
      const field = key !== undefined ? (fieldOf.get(key) ?? key) : (calls[0]?.name.value ?? 'unknown');
      if (done.has(`${field}|${code}`)) continue;
      done.add(`${field}|${code}`);
      const extensions = isGraphQLError(error) ? error.extensions : undefined;
      options.denied({
        actor,
        action: actionOfField(field),
        target: { type: 'api', id: field, name: operation },
        result: 'DENIED',
        details: {
          code,
          ...(key === undefined ? { fields: [...new Set(calls.map((f) => f.name.value))] } : {}),
          ...(code === 'RATE_LIMITED' ? { group: extensions?.group ?? null, retryAfter: extensions?.retryAfter ?? null } : {}),
        },
      });
    }
  };
  return {
    onExecute({ args }) {
      return {
        onExecuteDone: (payload) =>
          handleStreamOrSingleExecutionResult(payload, ({ result }) =>
            inspect(args.contextValue, args.document, args.operationName, result.errors),
          ),
      };
    },
    onSubscribe({ args }) {
      return {
        onSubscribeResult: (payload) =>
          handleStreamOrSingleExecutionResult(payload, ({ result }) =>
            inspect(args.contextValue, args.document, args.operationName, result.errors),
          ),
      };
    },
  };
}
