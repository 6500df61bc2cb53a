import type { Viewer } from '../src/domain/auth/viewer.js';
import { UnauthenticatedError } from '../src/domain/shared/errors.js';
import { builder } from './builder.js';
import type { GraphQLContext } from './context.js';

/** The caller; fields guarded by `authenticated` never reach here without one. */
export function viewerOf(ctx: GraphQLContext): Viewer {
  if (!ctx.viewer) throw new UnauthenticatedError();
  return ctx.viewer;
}

export const ViewerRef = builder.objectRef<Viewer>('Viewer').implement({
  description: 'The authenticated caller, as the token describes them.',
  fields: (t) => ({
    userId: t.exposeString('userId', { description: 'User id (the token subject).' }),
    username: t.exposeString('username', { description: 'User name.' }),
    email: t.exposeString('email', { nullable: true, description: 'E-mail address, when the token has one.' }),
    roles: t.exposeStringList('roles', { description: 'Roles: user, operator, admin.' }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    description: 'Who the API thinks you are.',
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => viewerOf(ctx),
  }),
);
