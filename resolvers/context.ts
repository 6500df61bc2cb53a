import type DataLoader from 'dataloader';
import type { Viewer } from '../src/domain/auth/viewer.js';
import type { RdpServer } from '../src/domain/servers/server.js';
import type { ServerService } from '../src/domain/servers/server-service.js';
import type { RdpSession } from '../src/domain/sessions/session.js';
import type { SessionService } from '../src/domain/sessions/session-service.js';
import type { EventBus } from '../src/domain/shared/event-publisher.js';
import type { XrdpConfigService } from '../src/domain/xrdp/xrdp-config-service.js';
import type { XrdpHostService } from '../src/domain/xrdp/xrdp-host.js';
import type { XrdpLogService } from '../src/domain/xrdp/xrdp-log-service.js';

export interface Services {
  servers: ServerService;
  sessions: SessionService;
  xrdpConfig: XrdpConfigService;
  xrdpHost: XrdpHostService;
  xrdpLogs: XrdpLogService;
}

/** Per-request context: the caller, the services and request-scoped loaders. */
export interface GraphQLContext {
  viewer: Viewer | null;
  requestId: string;
  services: Services;
  events: EventBus;
  loaders: {
    server: DataLoader<string, RdpServer | null>;
    /** Live sessions of a server, by server id. */
    liveSessionsByServer: DataLoader<string, RdpSession[]>;
  };
}
