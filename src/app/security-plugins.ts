import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Introspection off on every transport. Yoga's own plugin keys on the HTTP request, so a
 * WebSocket operation would still introspect; a validation rule has no transport.
 */
const disableIntrospection: Plugin = {
  onValidate({ addValidationRule }) {
    addValidationRule(NoSchemaIntrospectionCustomRule);
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
 * How the cost limit weighs a document: an object field 1, a scalar 0.1 (read from an object
 * already loaded), and a field with a `first`/`last` that many times its selection (literals here,
 * variables in variable-cost-plugin.ts). No
 * extra factor per level of nesting: armor's default 1.5 per level made `servers(first: 100)` with
 * every scalar of a server cost 13,888, refused under a limit meant for runaway nesting of lists.
 */
export const QUERY_COST = { objectCost: 1, scalarCost: 0.1, depthCostFactor: 1 } as const;

/**
 * Armor refuses with "Syntax Error: ..." and no code. Its refusals are re-issued as
 * QUERY_TOO_COMPLEX with a plain message: as a validation error where there is a validation
 * context (depth, aliases, directives, cost), thrown from the parser otherwise (tokens).
 */
export function refuseAs(limit: string) {
  return {
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) => {
        const detail = error.message.replace(/^Syntax Error: /, '');
        const refusal = new GraphQLError(`Query refused, too complex (${limit}): ${detail} Ask for less in one operation.`, {
          extensions: { code: 'QUERY_TOO_COMPLEX', limit },
        });
        if (context) context.reportError(refusal);
        else throw refusal;
      },
    ],
  };
}

/**
 * The envelop plugins that guard parse and validate. They run inside yoga's pipeline, which the
 * WebSocket path uses too, so both transports refuse the same documents before any resolver.
 */
export function createSecurityPlugins(options: { production: boolean }): Plugin[] {
  const plugins: Plugin[] = [
    EnvelopArmorPlugin({
      maxDepth: { n: QUERY_LIMITS.maxDepth, ignoreIntrospection: true, ...refuseAs('maxDepth') },
      maxAliases: { n: QUERY_LIMITS.maxAliases, allowList: [], ...refuseAs('maxAliases') },
      maxDirectives: { n: QUERY_LIMITS.maxDirectives, ...refuseAs('maxDirectives') },
      maxTokens: { n: QUERY_LIMITS.maxTokens, ...refuseAs('maxTokens') },
      costLimit: { maxCost: QUERY_LIMITS.maxCost, ignoreIntrospection: true, ...QUERY_COST, ...refuseAs('maxCost') },
      // "Did you mean ..." maps the schema for a stranger; only production hides it.
      blockFieldSuggestion: { enabled: options.production },
    }) as Plugin,
    useCSRFPrevention({ requestHeaders: ['x-graphql-csrf', 'x-graphql-yoga-csrf'] }),
  ];
  if (options.production) plugins.push(disableIntrospection);
  return plugins;
}
