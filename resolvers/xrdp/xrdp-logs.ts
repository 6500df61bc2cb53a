import { XRDP_LOG_LEVELS, type XrdpLogLevel, type XrdpLogLine } from '../../src/domain/xrdp/xrdp-log.js';
import { DEFAULT_LOG_LINES, MAX_LOG_LINES } from '../../src/domain/xrdp/xrdp-log-service.js';
import { builder } from '../builder.js';
import { RdpServerRef } from '../server/server-type.js';
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
