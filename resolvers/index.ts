import { builder } from './builder.js';
import './errors.js';
import './viewer.js';
import './server/index.js';

export type { GraphQLContext, Services } from './context.js';

export const schema = builder.toSchema({ sortSchema: true });
