import type { Viewer } from '../../src/domain/auth/viewer.js';
import {
  ALERT_RESOURCES,
  ALERT_SEVERITIES,
  type Alert,
  type AlertEvent,
  type AlertResource,
  type AlertSeverity,
} from '../../src/domain/resources/alert.js';
import type { AlertService } from '../../src/domain/resources/alert-service.js';
import { ConflictError, NotFoundError, ValidationError } from '../../src/domain/shared/errors.js';
import type { Watched } from '../../src/domain/shared/event-publisher.js';
import { encodeCursor, MAX_PAGE_SIZE } from '../../src/domain/shared/page.js';
import { builder } from '../builder.js';
import { toConnection } from '../connection.js';
import { viewerOf } from '../viewer.js';
import { SubjectKindEnum } from './usage-types.js';

const SEVERITY_DESCRIPTIONS: Record<AlertSeverity, string> = {
  LOW: 'Informational.',
  MEDIUM: 'Worth a look.',
  HIGH: 'A value is above its threshold.',
  CRITICAL: 'A percentage at or above 95, or any disk alert.',
};

const RESOURCE_DESCRIPTIONS: Record<AlertResource, string> = {
  CPU: 'CPU percent (threshold 80).',
  MEMORY: 'Memory percent (threshold 80).',
  DISK: 'Disk percent (threshold 90).',
  NETWORK: 'Network Mbps in the busier direction (threshold 1000).',
};

export const AlertSeverityEnum = builder.enumType('AlertSeverity', {
  description: 'How serious an alert is.',
  values: Object.fromEntries(ALERT_SEVERITIES.map((s) => [s, { value: s, description: SEVERITY_DESCRIPTIONS[s] }])) as Record<
    AlertSeverity,
    { value: AlertSeverity; description: string }
  >,
});

export const AlertResourceEnum = builder.enumType('AlertResource', {
  description: 'Which resource crossed its threshold.',
  values: Object.fromEntries(ALERT_RESOURCES.map((r) => [r, { value: r, description: RESOURCE_DESCRIPTIONS[r] }])) as Record<
    AlertResource,
    { value: AlertResource; description: string }
  >,
});

export const AlertRef = builder.objectRef<Alert>('Alert').implement({
  description: 'A resource of a host, server or session above its threshold; at most one unresolved per subject and resource.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'UUID of the alert.' }),
    severity: t.expose('severity', { type: AlertSeverityEnum, description: 'How serious.' }),
    resource: t.expose('resource', { type: AlertResourceEnum, description: 'Which resource.' }),
    subjectKind: t.expose('subjectKind', { type: SubjectKindEnum, description: 'What it is about.' }),
    subjectId: t.exposeID('subjectId', { description: 'Server id, session id or `host:<name>`.' }),
    subjectName: t.exposeString('subjectName', {
      nullable: true,
      description: "The server's name, the session's account or the host name, when raised.",
    }),
    host: t.exposeString('host', { description: 'Host whose collector raised it.' }),
    threshold: t.exposeFloat('threshold', { description: 'The threshold (percent; Mbps for NETWORK).' }),
    value: t.exposeFloat('value', { description: 'The value that crossed it.' }),
    message: t.exposeString('message', { description: 'What happened, for people.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was raised.' }),
    resolved: t.boolean({ description: 'Whether it is resolved.', resolve: (a) => a.resolvedAt !== null }),
    resolvedAt: t.expose('resolvedAt', { type: 'DateTime', nullable: true, description: 'When it was resolved.' }),
    resolvedBy: t.exposeString('resolvedBy', {
      nullable: true,
      description: 'User id of the operator who resolved it; null while open or when it resolved itself.',
    }),
  }),
});

const AlertFilterInput = builder.inputType('AlertFilter', {
  description: 'Narrows the alerts; all given conditions apply.',
  fields: (t) => ({
    severity: t.field({ type: AlertSeverityEnum, required: false, description: 'Only this severity.' }),
    resolved: t.boolean({ required: false, description: 'true: resolved only; false: open only.' }),
    subject: t.id({ required: false, description: 'Only alerts of this server, session or `host:<name>`.' }),
  }),
});

builder.queryField('alerts', (t) =>
  t.connection(
    {
      type: AlertRef,
      description:
        'Alerts, newest first: operators see all, users those of their own servers and sessions. `first` is at most 100 (default 20).',
      authScopes: { authenticated: true },
      args: { filter: t.arg({ type: AlertFilterInput, required: false, description: 'Narrows the list.' }) },
      resolve: async (_root, args, ctx) => {
        if (args.last != null || args.before != null) {
          throw new ValidationError(args.last != null ? 'last' : 'before', 'only forward pagination (first, after) is supported');
        }
        const f = args.filter;
        const page = await ctx.services.alerts.list(
          viewerOf(ctx),
          {
            severity: f?.severity ?? undefined,
            resolved: f?.resolved ?? undefined,
            subjectId: f?.subject != null ? String(f.subject) : undefined,
          },
          { first: args.first ?? 20, after: args.after ?? undefined },
        );
        return toConnection(page, args.after);
      },
    },
    {
      name: 'AlertConnection',
      description: 'A page of alerts.',
      fields: (c) => ({
        totalCount: c.int({
          description: 'How many alerts match the filter in all.',
          resolve: (conn) => (conn as unknown as { totalCount: number }).totalCount,
        }),
      }),
    },
    { name: 'AlertEdge', description: 'An alert in a page.' },
  ),
);

builder.mutationField('resolveAlert', (t) =>
  t.field({
    type: AlertRef,
    description:
      'Marks an alert resolved (operators and admins; audited as alert.resolve). While the value stays above the threshold, the same alert is not raised again.',
    authScopes: { operator: true },
    errors: {
      types: [NotFoundError, ConflictError],
      union: { name: 'ResolveAlertResult', description: 'Outcome of resolveAlert.' },
      result: { name: 'ResolveAlertSuccess', description: 'resolveAlert succeeded.' },
      dataField: { name: 'alert', description: 'The alert after the change.' },
    },
    args: { id: t.arg.id({ required: true, description: 'Alert id.' }) },
    resolve: (_root, { id }, ctx) => ctx.services.alerts.resolve(viewerOf(ctx), String(id)),
  }),
);

export const AlertEventKindEnum = builder.enumType('AlertEventKind', {
  description: 'What happened to an alert.',
  values: {
    SNAPSHOT: { description: 'Open when the subscription started (or resynced).' },
    RAISED: { description: 'It was raised.' },
    RESOLVED: { description: 'It was resolved, by itself or by an operator.' },
  } as const,
});

type AlertEventShape = Omit<AlertEvent, 'kind'> & { kind: AlertEvent['kind'] | 'SNAPSHOT' };

const AlertEventRef = builder.objectRef<AlertEventShape>('AlertEvent').implement({
  description: 'An alert raised or resolved.',
  fields: (t) => ({
    kind: t.expose('kind', { type: AlertEventKindEnum, description: 'What happened.' }),
    alert: t.expose('alert', { type: AlertRef, description: 'The alert after it happened.' }),
    at: t.expose('at', { type: 'DateTime', description: 'When it happened.' }),
  }),
});

/** Open alerts first (SNAPSHOT), then changes, each filtered by severity and visibility. */
async function* openThenChanges(
  alerts: AlertService,
  viewer: Viewer,
  severity: AlertSeverity | undefined,
  changes: AsyncIterator<Watched<'alert:changed'>>,
): AsyncGenerator<AlertEventShape> {
  const wanted = (a: Alert) => (severity === undefined || a.severity === severity) && alerts.visible(viewer, a);
  // Every open alert, page by page: at most one is open per subject and resource, so the whole
  // set is bounded by the fleet, and a console must not miss the ones past the first page.
  const snapshot = async function* () {
    const at = new Date().toISOString();
    let after: string | undefined;
    do {
      const open = await alerts.list(viewer, { resolved: false, severity }, { first: MAX_PAGE_SIZE, after });
      for (const alert of open.items) yield { kind: 'SNAPSHOT' as const, alert, at };
      const last = open.items.at(-1);
      after = open.hasNextPage && last ? encodeCursor(last) : undefined;
    } while (after !== undefined);
  };
  try {
    yield* snapshot();
    while (true) {
      const next = await changes.next();
      if (next.done) return;
      if (next.value.kind === 'resync') {
        yield* snapshot();
        continue;
      }
      if (wanted(next.value.event.alert)) yield next.value.event;
    }
  } finally {
    await changes.return?.();
  }
}

builder.subscriptionField('alertEvents', (t) =>
  t.field({
    type: AlertEventRef,
    description:
      'Every open alert the caller may see (SNAPSHOT, all of them, not only a first page), then each alert raised or resolved that the caller may see.',
    authScopes: { authenticated: true },
    args: { severity: t.arg({ type: AlertSeverityEnum, required: false, description: 'Only this severity.' }) },
    subscribe: (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      const changes = ctx.events.watch('alert:changed', 'all')[Symbol.asyncIterator]();
      return openThenChanges(ctx.services.alerts, viewer, args.severity ?? undefined, changes);
    },
    resolve: (event) => event,
  }),
);
