import DataLoader from 'dataloader';
import type { GraphQLContext, RequestLog } from '../../resolvers/index.js';
import type { Viewer } from '../domain/auth/viewer.js';
import type { RdpServer } from '../domain/servers/server.js';
import { LIVE_STATUSES } from '../domain/sessions/session.js';
import { UnauthenticatedError } from '../domain/shared/errors.js';
import type { Container } from './container.js';
import { type Logger, requestLogger } from './logger.js';
import { PrefetchedDataLoader } from './prefetching-loader.js';
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
      fleetViews: container.fleetViews,
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
  #knownServers: (readonly RdpServer[])[] = [];
  #host?: Loaders['host'];
  #liveSessionsByServer?: Loaders['liveSessionsByServer'];
  #usage?: Loaders['usage'];

  constructor(
    private readonly container: Container,
    private readonly viewer: Viewer | null,
  ) {}

  get server(): Loaders['server'] {
    const { container, viewer } = this;
    if (!this.#server) {
      this.#server = new DataLoader(async (ids: readonly string[]) => {
        if (!viewer) return ids.map(() => null);
        return container.servers.getMany(viewer, ids);
      });
      for (const page of this.#knownServers) this.primeEach(this.#server, page);
      this.#knownServers = [];
    }
    return this.#server;
  }

  primeServers(servers: readonly RdpServer[]): void {
    if (this.#server) this.primeEach(this.#server, servers);
    else this.#knownServers.push(servers);
  }

  private primeEach(loader: Loaders['server'], servers: readonly RdpServer[]): void {
    for (const server of servers) loader.prime(server.id, server);
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
    this.#liveSessionsByServer ??= new PrefetchedDataLoader(async (ids: readonly string[]) => {
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

/**
 * The operation's logger, a child of the service's carrying its request id, made at its first
 * line: most operations log nothing, and a pino child (bindings, redaction) costs more than the
 * rest of the context.
 */
class LazyRequestLog implements RequestLog {
  #child?: Logger;

  constructor(
    private readonly logger: Logger,
    private readonly requestId: string,
  ) {}

  private get child(): Logger {
    this.#child ??= requestLogger(this.logger, this.requestId);
    return this.#child;
  }

  info(obj: object, msg?: string): void {
    this.child.info(obj, msg);
  }

  warn(obj: object, msg?: string): void {
    this.child.warn(obj, msg);
  }

  error(obj: object, msg?: string): void {
    this.child.error(obj, msg);
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
    log: new LazyRequestLog(container.logger, requestId),
    services: servicesOf(container),
    events: container.events,
    loaders: new RequestLoaders(container, viewer),
  };
}
