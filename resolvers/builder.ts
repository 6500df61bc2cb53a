import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin, { type AuthFailure, AuthScopeFailureType } from '@pothos/plugin-scope-auth';
import { isAdmin, isOperator } from '../src/domain/auth/viewer.js';
import { ForbiddenError, UnauthenticatedError } from '../src/domain/shared/errors.js';
import type { GraphQLContext } from './context.js';

/** The least role that would have passed the failed scopes: named in FORBIDDEN so a person knows whom to ask. */
function requiredRole(failure: AuthFailure): 'operator' | 'admin' | null {
  const scopes: string[] = [];
  const walk = (f: AuthFailure) => {
    if (f.kind === AuthScopeFailureType.AuthScope) scopes.push(f.scope);
    else if (f.kind === AuthScopeFailureType.AnyAuthScopes || f.kind === AuthScopeFailureType.AllAuthScopes)
      f.failures.forEach(walk);
  };
  walk(failure);
  return scopes.includes('operator') ? 'operator' : scopes.includes('admin') ? 'admin' : null;
}

/**
 * Marks a field as reading the parent's property of the same name, as Pothos' `t.expose*` do:
 * Pothos then gives it no resolver (graphql's default one), so graphql-jit compiles the read
 * inline. Only for properties that hold plain values (never a promise or a function).
 */
const exposes = (property: string) => ({ pothosExposedField: property });

/** The one schema builder: configuration only; types live in the area files. */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  AuthScopes: { authenticated: boolean; operator: boolean; admin: boolean };
  Scalars: { DateTime: { Input: string; Output: string } };
  DefaultFieldNullability: false;
}>({
  plugins: [ScopeAuthPlugin, ErrorsPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({
      authenticated: ctx.viewer !== null,
      operator: ctx.viewer !== null && isOperator(ctx.viewer),
      admin: ctx.viewer !== null && isAdmin(ctx.viewer),
    }),
    unauthorizedError: (_parent, ctx, info, result) => {
      if (!ctx.viewer) return new UnauthenticatedError();
      const role = requiredRole(result.failure);
      return role ? new ForbiddenError(info.fieldName, role) : new ForbiddenError(`${info.fieldName} is not allowed`);
    },
  },
  errors: { defaultTypes: [] },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    nodeTypeOptions: { description: 'An object with a globally unique id.' },
    pageInfoTypeOptions: { description: 'Where a page of a connection sits in the whole list.' },
    hasNextPageFieldOptions: { description: 'Whether more items follow this page.' },
    hasPreviousPageFieldOptions: { description: 'Whether items precede this page.' },
    startCursorFieldOptions: { description: 'Cursor of the first item of this page.' },
    endCursorFieldOptions: { description: 'Cursor of the last item of this page; pass it as `after` for the next page.' },
    // edges, pageInfo and node read the property of their name (the relay plugin gives each a
    // resolver doing just that): marked as exposed, they take the default resolver, which
    // graphql-jit reads inline instead of calling a function with a resolve info per item.
    edgesFieldOptions: { description: 'The items of this page with their cursors.', extensions: exposes('edges') },
    pageInfoFieldOptions: { description: 'Where this page sits in the whole list.', extensions: exposes('pageInfo') },
    cursorFieldOptions: { description: 'Opaque position of this item in the list.' },
    nodeFieldOptions: { description: 'The item.', extensions: exposes('node') },
  },
});

builder.queryType({ description: 'Reads.' });
builder.mutationType({ description: 'Changes.' });
builder.subscriptionType({ description: 'Live streams; each sends the current state first, then changes.' });

builder.scalarType('DateTime', {
  description: 'An ISO-8601 UTC timestamp, e.g. 2026-11-26T22:39:09.000Z.',
  serialize: (v) => String(v),
  parseValue: (v) => {
    if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) throw new TypeError('DateTime must be an ISO-8601 string');
    return new Date(v).toISOString();
  },
});
