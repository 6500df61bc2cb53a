import { builder } from './builder.js';
import './errors.js';
import './viewer.js';
import './audit/index.js';
import './server/index.js';
import './host/index.js';
import './fleet/index.js';
import './session/index.js';
import './pool/index.js';
import './resources/index.js';
import './xrdp/xrdp-config.js';
import './xrdp/xrdp-logs.js';
import './xrdp/xrdp-service.js';
import './xrdp/xrdp-session-events.js';
import './live/live-status.js';

export type { GraphQLContext, PrefetchingLoader, RequestLog, Services } from './context.js';

export const schema = builder.toSchema({ sortSchema: true });
