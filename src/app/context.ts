import { randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import type { GraphQLContext } from '../../resolvers/index.js';
import type { Viewer } from '../domain/auth/viewer.js';
import { LIVE_STATUSES } from '../domain/sessions/session.js';
import { UnauthenticatedError } from '../domain/shared/errors.js';
import type { Container } from './container.js';

/** Reads `Bearer <token>`; null when absent, an error when present but not a bearer token. */
export function bearerToken(header: string | null | undefined): string | null {
  if (header === null || header === undefined || header === '') return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m?.[1]) throw new UnauthenticatedError('Authorization must be "Bearer <token>"');
  return m[1];
}

export async function viewerFromHeader(
  container: Container,
  header: string | null | undefined,
): Promise<(Viewer & { expiresAt: Date }) | null> {
  const token = bearerToken(header);
  return token ? container.tokenVerifier.verify(token) : null;
}

/** One context per operation: the caller, services and fresh DataLoaders. */
export function buildContext(container: Container, viewer: Viewer | null, requestId?: string | null): GraphQLContext {
  return {
    viewer,
    requestId: requestId && /^[\w.:-]{1,64}$/.test(requestId) ? requestId : randomUUID(),
    services: {
      servers: container.servers,
      sessions: container.sessions,
      xrdpConfig: container.xrdpConfig,
      xrdpHost: container.xrdpHost,
      xrdpLogs: container.xrdpLogs,
    },
    events: container.events,
    loaders: {
      server: new DataLoader(async (ids: readonly string[]) => {
        if (!viewer) return ids.map(() => null);
        return container.servers.getMany(viewer, ids);
      }),
      liveSessionsByServer: new DataLoader(async (ids: readonly string[]) => {
        if (!viewer) return ids.map(() => []);
        return container.sessions.byServers(viewer, ids, LIVE_STATUSES);
      }),
    },
  };
}
