import { ValidationError } from '../../src/domain/shared/errors.js';
import { builder } from '../builder.js';
import { toConnection } from '../connection.js';
import { viewerOf } from '../viewer.js';
import { AuditEventRef, AuditResultEnum } from './audit-type.js';

const AuditEventFilterInput = builder.inputType('AuditEventFilter', {
  description: 'Narrows the audit events; all given conditions apply.',
  fields: (t) => ({
    action: t.string({ required: false, description: 'Exactly this action, e.g. server.delete.' }),
    actorId: t.string({ required: false, description: 'Done by this user id.' }),
    targetId: t.string({ required: false, description: 'Done to this object id.' }),
    result: t.field({ type: AuditResultEnum, required: false, description: 'With this outcome.' }),
    since: t.field({ type: 'DateTime', required: false, description: 'At or after this time.' }),
    until: t.field({ type: 'DateTime', required: false, description: 'Before this time.' }),
  }),
});

builder.queryField('auditEvents', (t) =>
  t.connection(
    {
      type: AuditEventRef,
      description: 'Audit events, newest first (operators and admins). `first` is at most 100 (default 20). Kept a year.',
      authScopes: { operator: true },
      args: { filter: t.arg({ type: AuditEventFilterInput, required: false, description: 'Narrows the list.' }) },
      resolve: async (_root, args, ctx) => {
        if (args.last != null || args.before != null) {
          throw new ValidationError(args.last != null ? 'last' : 'before', 'only forward pagination (first, after) is supported');
        }
        const f = args.filter;
        const page = await ctx.services.audit.list(
          viewerOf(ctx),
          {
            action: f?.action ?? undefined,
            actorId: f?.actorId ?? undefined,
            targetId: f?.targetId ?? undefined,
            result: f?.result ?? undefined,
            since: f?.since ?? undefined,
            until: f?.until ?? undefined,
          },
          { first: args.first ?? 20, after: args.after ?? undefined },
        );
        return toConnection(page, args.after, (node) => ({ createdAt: node.time, id: node.id }));
      },
    },
    {
      name: 'AuditEventConnection',
      description: 'A page of audit events.',
      fields: (c) => ({
        totalCount: c.int({
          description: 'How many events match the filter in all.',
          resolve: (conn) => (conn as unknown as { totalCount: number }).totalCount,
        }),
      }),
    },
    { name: 'AuditEventEdge', description: 'An audit event in a page.' },
  ),
);
