import { type GraphQLSchema, getOperationAST, OperationTypeNode } from 'graphql';
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';
import type { Metrics } from '../../monitoring/metrics.js';
import type { GraphQLContext } from '../../resolvers/index.js';
import { rootFieldCalls } from './rate-limit-plugin.js';

const INTROSPECTION = new Set(['__typename', '__schema', '__type']);

/**
 * The label of a root field: its name when the schema's root type has it, else `other`. Labels
 * thus come from the schema, never from the client (operation names and aliases are free text).
 */
function fieldLabel(schema: GraphQLSchema, type: OperationTypeNode, name: string): string {
  if (INTROSPECTION.has(name)) return name;
  const root = schema.getRootType(type);
  return root?.getFields()[name] ? name : 'other';
}

/**
 * Per-operation metrics: each executed operation counts once per root field it selects
 * (`createServer`, `servers`, ...; aliases of one field count once), with its result (`ok`, or
 * `error` when the response carries errors: a refusal by the rate limiter or a masked failure; a
 * typed error in a result union is `ok`). Queries and mutations are timed; subscriptions are
 * counted when they start. Placed before the rate limiter, so refused operations are counted.
 */
export function createOperationMetricsPlugin(
  metrics: Pick<Metrics, 'operationsTotal' | 'operationDuration'>,
): Plugin<GraphQLContext> {
  const labelsOf = (schema: GraphQLSchema, document: Parameters<typeof rootFieldCalls>[0], operationName?: string | null) => {
    const op = getOperationAST(document, operationName);
    if (!op) return null;
    const fields = [
      ...new Set(rootFieldCalls(document, operationName).map((f) => fieldLabel(schema, op.operation, f.name.value))),
    ];
    return { type: op.operation, fields };
  };
  return {
    onExecute({ args }) {
      const labels = labelsOf(args.schema, args.document, args.operationName);
      // Subscription events may run through execute too; a subscription is counted once, below.
      if (!labels || labels.type === OperationTypeNode.SUBSCRIPTION) return;
      const started = process.hrtime.bigint();
      return {
        onExecuteDone: (payload) =>
          handleStreamOrSingleExecutionResult(payload, ({ result }) => {
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            const outcome = result.errors?.length ? 'error' : 'ok';
            for (const field of labels.fields) {
              metrics.operationsTotal.inc({ type: labels.type, field, result: outcome });
              metrics.operationDuration.observe({ type: labels.type, field }, seconds);
            }
          }),
      };
    },
    onSubscribe({ args }) {
      const labels = labelsOf(args.schema, args.document, args.operationName);
      if (!labels || labels.type !== OperationTypeNode.SUBSCRIPTION) return;
      return {
        onSubscribeResult: ({ result }) => {
          const outcome = 'errors' in result && result.errors?.length ? 'error' : 'ok';
          for (const field of labels.fields) metrics.operationsTotal.inc({ type: labels.type, field, result: outcome });
        },
      };
    },
  };
}
