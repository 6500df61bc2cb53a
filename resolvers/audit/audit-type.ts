import {
  AUDIT_ACTIONS,
  AUDIT_RESULTS,
  type AuditActor,
  type AuditDetailValue,
  type AuditEvent,
  type AuditResult,
  type AuditTarget,
} from '../../src/domain/audit/audit-event.js';
import { builder } from '../builder.js';

const RESULT_DESCRIPTIONS: Record<AuditResult, string> = {
  SUCCESS: 'The action was carried out.',
  FAILURE: 'The action was attempted and failed (conflict, bad input, runtime or database problem).',
  DENIED: 'The action was refused: no or a bad token, a missing role, a limit, a rate limit, or another user’s object.',
};

export const AuditResultEnum = builder.enumType('AuditResult', {
  description: 'Outcome of an audited action.',
  values: Object.fromEntries(AUDIT_RESULTS.map((r) => [r, { value: r, description: RESULT_DESCRIPTIONS[r] }])) as Record<
    AuditResult,
    { value: AuditResult; description: string }
  >,
});

const AuditActorRef = builder.objectRef<AuditActor>('AuditActor').implement({
  description: 'Who acted.',
  fields: (t) => ({
    userId: t.exposeString('userId', {
      nullable: true,
      description: 'User id from the token; `system` for the service itself; null when unauthenticated.',
    }),
    name: t.exposeString('name', { nullable: true, description: 'User name from the token.' }),
    ip: t.exposeString('ip', { nullable: true, description: 'Address the request came from.' }),
  }),
});

const AuditTargetRef = builder.objectRef<AuditTarget>('AuditTarget').implement({
  description: 'What the action was about.',
  fields: (t) => ({
    type: t.exposeString('type', {
      description: 'server, session, xrdp_config, xrdp_service, resource_limits, or api (a GraphQL field).',
    }),
    id: t.exposeString('id', { nullable: true, description: 'Its id (the field name for api); null when not known.' }),
    name: t.exposeString('name', { nullable: true, description: 'Its name when known (the operation name for api).' }),
  }),
});

interface DetailEntry {
  key: string;
  value: AuditDetailValue;
}

const AuditDetailRef = builder.objectRef<DetailEntry>('AuditDetail').implement({
  description: 'One detail of an audit event.',
  fields: (t) => ({
    key: t.exposeString('key', { description: 'Name of the detail, e.g. code, reason, changes.' }),
    value: t.string({
      description: 'Its value: strings as they are, anything else as JSON.',
      resolve: (d) => (typeof d.value === 'string' ? d.value : JSON.stringify(d.value)),
    }),
  }),
});

export const AuditEventRef = builder.objectRef<AuditEvent>('AuditEvent').implement({
  description: 'A recorded action, refusal or authorization failure. Never holds a password, token or credential hash.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'UUID of the event.' }),
    time: t.expose('time', { type: 'DateTime', description: 'When it happened.' }),
    actor: t.expose('actor', { type: AuditActorRef, description: 'Who acted.' }),
    action: t.exposeString('action', {
      description: `What was done: ${AUDIT_ACTIONS.join(', ')}, or api.<field> for a refused GraphQL field.`,
    }),
    target: t.expose('target', { type: AuditTargetRef, nullable: true, description: 'What it was done to.' }),
    result: t.expose('result', { type: AuditResultEnum, description: 'How it ended.' }),
    details: t.field({
      type: [AuditDetailRef],
      description: 'More about it, e.g. the error code, the fields changed, the limit hit.',
      resolve: (e) => Object.entries(e.details).map(([key, value]) => ({ key, value })),
    }),
  }),
});
