import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { type DocumentNode, GraphQLError, Kind, NoSchemaIntrospectionCustomRule, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { isAdmin, type Viewer } from '../domain/auth/viewer.js';

/**
 * Introspection off on every transport. Yoga's own plugin keys on the HTTP request, so a
 * WebSocket operation would still introspect; a validation rule has no transport.
 */
const disableIntrospection: Plugin = {
  onValidate({ addValidationRule }) {
    addValidationRule(NoSchemaIntrospectionCustomRule);
  },
};

const introspects = new WeakMap<DocumentNode, boolean>();

/** Whether a document reads the schema (__schema or __type; __typename is not introspection). */
function asksIntrospection(document: DocumentNode): boolean {
  let found = introspects.get(document);
  if (found === undefined) {
    found = false;
    visit(document, {
      [Kind.FIELD](node) {
        if (node.name.value === '__schema' || node.name.value === '__type') {
          found = true;
          return false;
        }
        return undefined;
      },
    });
    introspects.set(document, found);
  }
  return found;
}

/**
 * Production with GraphiQL on: introspection for admins only, so GraphiQL has its docs and
 * completion for them. Validation runs before the viewer is known, so this checks at execution,
 * on both transports (the WebSocket path executes through yoga's pipeline too).
 */
const introspectionForAdminsOnly: Plugin = {
  onExecute({ args, setResultAndStopExecution }) {
    if (!asksIntrospection(args.document)) return;
    const viewer = (args.contextValue as { viewer?: Viewer | null }).viewer;
    if (viewer && isAdmin(viewer)) return;
    setResultAndStopExecution({
      errors: [
        new GraphQLError('GraphQL introspection is allowed to admins only in production.', {
          extensions: { code: 'FORBIDDEN' },
        }),
      ],
    });
  },
};

/** Query limits that fit every query the console and GraphiQL send, with headroom. */
export const QUERY_LIMITS = {
  maxDepth: 12,
  maxAliases: 15,
  maxDirectives: 10,
  maxTokens: 2500,
  maxCost: 5000,
} as const;

/**
 * The envelop plugins that guard parse and validate. They run inside yoga's pipeline, which the
 * WebSocket path uses too, so both transports refuse the same documents before any resolver.
 */
export function createSecurityPlugins(options: { production: boolean; graphiql?: boolean }): Plugin[] {
  const plugins: Plugin[] = [
    EnvelopArmorPlugin({
      maxDepth: { n: QUERY_LIMITS.maxDepth, ignoreIntrospection: true },
      maxAliases: { n: QUERY_LIMITS.maxAliases, allowList: [] },
      maxDirectives: { n: QUERY_LIMITS.maxDirectives },
      maxTokens: { n: QUERY_LIMITS.maxTokens },
      costLimit: { maxCost: QUERY_LIMITS.maxCost, ignoreIntrospection: true },
      // "Did you mean ..." maps the schema for a stranger; only production hides it.
      blockFieldSuggestion: { enabled: options.production },
    }) as Plugin,
    useCSRFPrevention({ requestHeaders: ['x-graphql-csrf', 'x-graphql-yoga-csrf'] }),
  ];
  if (options.production) plugins.push(options.graphiql ? introspectionForAdminsOnly : disableIntrospection);
  return plugins;
}
