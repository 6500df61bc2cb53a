import { builder } from './builder.js';
import './errors.js';
import './viewer.js';
import './server/index.js';
import './session/index.js';
import './xrdp/xrdp-config.js';

export type { GraphQLContext, Services } from './context.js';

export const schema = builder.toSchema({ sortSchema: true });
