import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { type ArgumentNode, BREAK, type DocumentNode, GraphQLError, Kind, validate, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { QUERY_COST, QUERY_LIMITS, refuseAs } from './security-plugins.js';

/** Whether any `first`/`last` of the document is a variable; documents are parsed once and cached by yoga. */
const sizedByVariables = new WeakMap<DocumentNode, boolean>();

function hasVariablePageSize(document: DocumentNode): boolean {
  let found = sizedByVariables.get(document);
  if (found === undefined) {
    found = false;
    visit(document, {
      Argument(node) {
        if ((node.name.value === 'first' || node.name.value === 'last') && node.value.kind === Kind.VARIABLE) {
          found = true;
          return BREAK;
        }
        return undefined;
      },
    });
    sizedByVariables.set(document, found);
  }
  return found;
}

/** The document with each `first`/`last` given by an integer variable written in as a literal. */
export function withPageSizesInlined(document: DocumentNode, variables: Readonly<Record<string, unknown>> | null | undefined) {
  if (!hasVariablePageSize(document)) return null;
  // A variable left out takes its default from the operation (`$n: Int = 100`).
  const defaults = new Map<string, number>();
  visit(document, {
    VariableDefinition(node) {
      if (node.defaultValue?.kind === Kind.INT) defaults.set(node.variable.name.value, Number(node.defaultValue.value));
    },
  });
  let inlined = false;
  const out = visit(document, {
    Argument(node): ArgumentNode | undefined {
      if ((node.name.value !== 'first' && node.name.value !== 'last') || node.value.kind !== Kind.VARIABLE) return undefined;
      const value = variables?.[node.value.name.value] ?? defaults.get(node.value.name.value);
      if (typeof value !== 'number' || !Number.isInteger(value)) return undefined;
      inlined = true;
      return { ...node, value: { kind: Kind.INT, value: String(value) } };
    },
  });
  return inlined ? out : null;
}

const costRule = costLimitRule({
  maxCost: QUERY_LIMITS.maxCost,
  ignoreIntrospection: true,
  ...QUERY_COST,
  ...refuseAs('maxCost'),
});

/**
 * The cost limit runs at validation, which yoga caches per document and which cannot see
 * variables: `servers(first: $n)` would weigh as one server whatever $n is. Before execution,
 * a document whose page sizes come from variables is weighed again with their values.
 */
export function createVariableCostPlugin(): Plugin {
  const check = (args: { schema: Parameters<typeof validate>[0]; document: DocumentNode; variableValues?: unknown }) => {
    const inlined = withPageSizesInlined(args.document, args.variableValues as Record<string, unknown> | null | undefined);
    if (!inlined) return [];
    // A request error, as when the limit refuses at validation (400 under graphql-response+json).
    return validate(args.schema, inlined, [costRule]).map(
      (e) =>
        new GraphQLError(e.message, {
          nodes: e.nodes ?? null,
          extensions: { ...e.extensions, http: { spec: true, status: 400 } },
        }),
    );
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}
