import type DataLoader from 'dataloader';
import type { Viewer } from '../src/domain/auth/viewer.js';
import type { RdpServer } from '../src/domain/servers/server.js';
import type { ServerService } from '../src/domain/servers/server-service.js';
import type { EventBus } from '../src/domain/shared/event-publisher.js';

export interface Services {
  servers: ServerService;
}

/** Per-request context: the caller, the services and request-scoped loaders. */
export interface GraphQLContext {
  viewer: Viewer | null;
  requestId: string;
  services: Services;
  events: EventBus;
  loaders: {
    server: DataLoader<string, RdpServer | null>;
  };
}
