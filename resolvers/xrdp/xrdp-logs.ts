import { XRDP_LOG_LEVELS, type XrdpLogLevel, type XrdpLogLine } from '../../src/domain/xrdp/xrdp-log.js';
import { DEFAULT_LOG_LINES, MAX_LOG_LINES, type XrdpLogBatch } from '../../src/domain/xrdp/xrdp-log-service.js';
import { builder } from '../builder.js';
import { RdpServerRef } from '../server/server-type.js';
import { viewerOf } from '../viewer.js';
import { XrdpLogLevelEnum } from './xrdp-config.js';

const LINE_LEVEL_DESCRIPTIONS: Record<XrdpLogLevel, string> = {
  CORE: 'Always written (startup, fatal problems).',
  ERROR: 'A failure.',
  WARN: 'A problem xrdp recovered from.',
  INFO: 'A normal event: connection, login, session.',
  DEBUG: 'Detail for troubleshooting.',
  TRACE: 'The finest detail.',
};

export const XrdpLogLineLevelEnum = builder.enumType('XrdpLogLineLevel', {
  description: 'Severity of one xrdp log line, most severe first.',
  values: Object.fromEntries(XRDP_LOG_LEVELS.map((l) => [l, { value: l, description: LINE_LEVEL_DESCRIPTIONS[l] }])) as Record<
    XrdpLogLevel,
    { value: XrdpLogLevel; description: string }
  >,
});

export const XrdpLogLineRef = builder.objectRef<XrdpLogLine>('XrdpLogLine').implement({
  description: "One line of an xrdp instance's log.",
  fields: (t) => ({
    time: t.expose('time', {
      type: 'DateTime',
      description: 'When it was written (xrdp logs whole seconds of local time; given here in UTC).',
    }),
    level: t.expose('level', { type: XrdpLogLineLevelEnum, description: 'Severity.' }),
    message: t.exposeString('message', { description: 'The text, with continuation lines joined by newlines.' }),
    pid: t.int({
      nullable: true,
      description: 'The xrdp process that wrote it (one per connection), when the log records it.',
      resolve: (l) => l.pid ?? null,
    }),
  }),
});

builder.objectField(RdpServerRef, 'logs', (t) =>
  t.field({
    type: [XrdpLogLineRef],
    description: `The last lines of this server's xrdp log, oldest first; empty when it never ran.`,
    args: {
      last: t.arg.int({
        required: false,
        defaultValue: DEFAULT_LOG_LINES,
        description: `How many lines, 0 to ${MAX_LOG_LINES}.`,
      }),
      level: t.arg({
        type: XrdpLogLevelEnum,
        required: false,
        description: 'Only lines at this level or more severe (CORE lines always pass); all levels when left out.',
      }),
    },
    resolve: (server, { last, level }, ctx) =>
      ctx.services.xrdpLogs.serverLogs(server.id, last ?? DEFAULT_LOG_LINES, level ?? 'TRACE'),
  }),
);

export const XrdpLogEventKindEnum = builder.enumType('XrdpLogEventKind', {
  description: 'What a serverLogs event carries.',
  values: {
    SNAPSHOT: {
      value: 'SNAPSHOT',
      description:
        'The last lines of the log (as RdpServer.logs): replace what is shown. Sent first, and again after lines may have been missed.',
    },
    LINES: { value: 'LINES', description: 'New lines, as xrdp wrote them: append them.' },
  },
});

export const XrdpLogEventRef = builder.objectRef<XrdpLogBatch>('XrdpLogEvent').implement({
  description: "Lines of a server's xrdp log, from serverLogs.",
  fields: (t) => ({
    kind: t.field({ type: XrdpLogEventKindEnum, description: 'Snapshot or new lines.', resolve: (e) => e.kind }),
    lines: t.field({
      type: [XrdpLogLineRef],
      description: 'Oldest first, each at the level asked for or more severe.',
      resolve: (e) => e.lines,
    }),
    at: t.field({ type: 'DateTime', description: 'When the event was sent.', resolve: (e) => e.at }),
  }),
});

builder.subscriptionField('serverLogs', (t) =>
  t.field({
    type: XrdpLogEventRef,
    description:
      "A server's xrdp log, live: its last lines first (SNAPSHOT, as RdpServer.logs), then each batch of lines as xrdp writes them (LINES), filtered by level; a new SNAPSHOT after lines may have been missed (the event bus was away). The log is followed once per server and replica, however many subscribe: tailed where it is written (this process, or with RDP_HOSTS=agents the agent of the server's host, while a replica has subscribers). Whoever may see the server (else NOT_FOUND, as for a missing one). Ends when the server is deleted.",
    authScopes: { authenticated: true },
    args: {
      serverId: t.arg.id({ required: true, description: 'Server id.' }),
      last: t.arg.int({
        required: false,
        defaultValue: DEFAULT_LOG_LINES,
        description: `How many lines the SNAPSHOT holds, 0 to ${MAX_LOG_LINES}.`,
      }),
      level: t.arg({
        type: XrdpLogLevelEnum,
        required: false,
        description: 'Only lines at this level or more severe (CORE lines always pass); all levels when left out.',
      }),
    },
    subscribe: async (_root, { serverId, last, level }, ctx) => {
      const viewer = viewerOf(ctx);
      const id = String(serverId);
      await ctx.services.servers.get(viewer, id);
      const exists = async () => (await ctx.services.servers.getMany(viewer, [id]))[0] != null;
      return ctx.services.xrdpLogs.follow(id, last ?? DEFAULT_LOG_LINES, level ?? 'TRACE', exists);
    },
    resolve: (event) => event,
  }),
);
