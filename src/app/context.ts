import DataLoader from 'dataloader';
import type { GraphQLContext } from '../../resolvers/index.js';
import type { Viewer } from '../domain/auth/viewer.js';
import { LIVE_STATUSES } from '../domain/sessions/session.js';
import { UnauthenticatedError } from '../domain/shared/errors.js';
import type { Container } from './container.js';
import { requestLogger } from './logger.js';
import { requestIdFrom } from './request-scope.js';

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

/** Where an operation came from. */
export interface RequestOrigin {
  /** The caller's X-Request-Id, or the id the HTTP layer gave the request; a new one when absent. */
  requestId?: string | null | undefined;
  ip?: string | null | undefined;
}

/** The services are the container's: one object for every context. */
const servicesByContainer = new WeakMap<Container, GraphQLContext['services']>();

function servicesOf(container: Container): GraphQLContext['services'] {
  let services = servicesByContainer.get(container);
  if (!services) {
    services = {
      audit: container.audit,
      servers: container.servers,
      drains: container.drains,
      sessions: container.sessions,
      hosts: container.hosts,
      pools: container.pools,
      broker: container.broker,
      xrdpConfig: container.xrdpConfig,
      xrdpHost: container.xrdpHost,
      xrdpLogs: container.xrdpLogs,
      usage: container.resources.usage,
      alerts: container.resources.alerts,
      limits: container.limits,
    };
    servicesByContainer.set(container, services);
  }
  return services;
}

type Loaders = GraphQLContext['loaders'];

/**
 * An operation's DataLoaders, each made when a resolver first asks for it: a context lives as
 * long as its subscription, and most operations use one loader or none.
 */
class RequestLoaders implements Loaders {
  #server?: Loaders['server'];
  #host?: Loaders['host'];
  #liveSessionsByServer?: Loaders['liveSessionsByServer'];
  #usage?: Loaders['usage'];

  constructor(
    private readonly container: Container,
    private readonly viewer: Viewer | null,
  ) {}

  get server(): Loaders['server'] {
    const { container, viewer } = this;
    this.#server ??= new DataLoader(async (ids: readonly string[]) => {
      if (!viewer) return ids.map(() => null);
      return container.servers.getMany(viewer, ids);
    });
    return this.#server;
  }

  get host(): Loaders['host'] {
    const { container, viewer } = this;
    this.#host ??= new DataLoader(async (ids: readonly string[]) => {
      if (!viewer) return ids.map(() => null);
      return container.hosts.getMany(viewer, ids);
    });
    return this.#host;
  }

  get liveSessionsByServer(): Loaders['liveSessionsByServer'] {
    const { container, viewer } = this;
    this.#liveSessionsByServer ??= new DataLoader(async (ids: readonly string[]) => {
      if (!viewer) return ids.map(() => []);
      return container.sessions.byServers(viewer, ids, LIVE_STATUSES);
    });
    return this.#liveSessionsByServer;
  }

  get usage(): Loaders['usage'] {
    const { container } = this;
    // The parent server or session was authorized when it was read.
    this.#usage ??= new DataLoader((ids: readonly string[]) => container.resources.usage.current(ids));
    return this.#usage;
  }
}

/** One context per operation: the caller (with their address), services, a logger and fresh DataLoaders. */
export function buildContext(container: Container, caller: Viewer | null, origin: RequestOrigin = {}): GraphQLContext {
  const requestId = requestIdFrom(origin.requestId);
  const clientIp = origin.ip ?? null;
  // The address travels with the viewer so services can put it in the audit.
  const viewer = caller ? { ...caller, ip: clientIp } : null;
  return {
    viewer,
    requestId,
    clientIp,
    log: requestLogger(container.logger, requestId),
    services: servicesOf(container),
    events: container.events,
    loaders: new RequestLoaders(container, viewer),
  };
}
