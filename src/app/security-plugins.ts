import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
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
 * The envelop plugins that guard parse and validate. They run inside yoga's pipeline, which the
 * WebSocket path uses too, so both transports refuse the same documents before any resolver.
 */
export function createSecurityPlugins(options: { production: boolean }): Plugin[] {
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
  if (options.production) plugins.push(disableIntrospection);
  return plugins;
}
