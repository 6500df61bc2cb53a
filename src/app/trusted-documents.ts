import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
// Written by npm run console:codegen from the console's operations (checked by schema:check).
import persisted from '../console/src/gql/persisted-documents.json' with { type: 'json' };

/**
 * The console's operations by their sha256 (the trusted documents). Clients send
 * `extensions.persistedQuery { version: 1, sha256Hash }` instead of the text; with `only` (the
 * TRUSTED_DOCUMENTS_ONLY setting) nothing else is executed, on HTTP and WebSocket alike.
 */
export interface TrustedDocuments {
  only: boolean;
  lookup(id: string): string | null;
}

const byHash = new Map<string, string>(
  Object.entries(persisted as Record<string, string>).map(([id, text]) => [id.replace(/^sha256:/, ''), text]),
);

export function trustedDocuments(only: boolean): TrustedDocuments {
  return { only, lookup: (id) => byHash.get(id.replace(/^sha256:/, '')) ?? null };
}

export const TRUSTED_ERRORS = {
  notFound: { message: 'This operation is not one of the trusted documents.', code: 'PERSISTED_QUERY_NOT_FOUND' },
  only: {
    message: 'Only trusted documents are accepted here (TRUSTED_DOCUMENTS_ONLY): send extensions.persistedQuery, not a query.',
    code: 'PERSISTED_QUERY_ONLY',
  },
} as const;

const error = (e: { message: string; code: string }) => new GraphQLError(e.message, { extensions: { code: e.code } });

/** HTTP: yoga's persisted-operations plugin over the list. */
export function trustedDocumentsPlugin(trusted: TrustedDocuments): Plugin {
  return usePersistedOperations({
    getPersistedOperation: (key) => trusted.lookup(key),
    allowArbitraryOperations: !trusted.only,
    customErrors: {
      notFound: { message: TRUSTED_ERRORS.notFound.message, extensions: { code: TRUSTED_ERRORS.notFound.code } },
      persistedQueryOnly: { message: TRUSTED_ERRORS.only.message, extensions: { code: TRUSTED_ERRORS.only.code } },
    },
  }) as Plugin;
}

/** WebSocket: the text a subscribe message stands for, or the error that refuses it. */
export function resolveDocument(
  trusted: TrustedDocuments,
  payload: { query: string; extensions?: Record<string, unknown> | null },
): { query: string } | GraphQLError {
  const pq = payload.extensions?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | undefined;
  if (pq && pq.version === 1 && typeof pq.sha256Hash === 'string') {
    const text = trusted.lookup(pq.sha256Hash);
    return text === null ? error(TRUSTED_ERRORS.notFound) : { query: text };
  }
  if (trusted.only) return error(TRUSTED_ERRORS.only);
  return { query: payload.query };
}
