import {
  XRDP_SESSION_EVENT_KINDS,
  type XrdpSessionEvent,
  type XrdpSessionEventKind,
} from '../../src/domain/xrdp/xrdp-session-events.js';
import { builder } from '../builder.js';
import { viewerOf } from '../viewer.js';

const KIND_DESCRIPTIONS: Record<XrdpSessionEventKind, string> = {
  LOGIN_SUCCEEDED: 'A client logged in and is connected to its desktop (xrdp: login successful, then connected ok).',
  LOGIN_FAILED: 'A login was refused (wrong password or unknown user); the client stays at the login dialog.',
  CONNECTED: 'sesman attached a client to a session: a new one (created) or an existing one (reconnected).',
  DISCONNECTED: 'The client of a logged-in connection went away; the session stays until it ends.',
  SESSION_ENDED: 'sesman ended the session: its window manager exited or it was ended on purpose.',
};

export const XrdpSessionEventKindEnum = builder.enumType('XrdpSessionEventKind', {
  description: 'What xrdp or sesman reported about a login or session.',
  values: Object.fromEntries(XRDP_SESSION_EVENT_KINDS.map((k) => [k, { value: k, description: KIND_DESCRIPTIONS[k] }])) as Record<
    XrdpSessionEventKind,
    { value: XrdpSessionEventKind; description: string }
  >,
});

export const XrdpSessionEventRef = builder.objectRef<XrdpSessionEvent>('XrdpSessionEvent').implement({
  description: "A login or session change on one server, read from xrdp's and sesman's logs as it happens.",
  fields: (t) => ({
    serverId: t.exposeID('serverId', { description: 'The server whose xrdp instance served the client.' }),
    kind: t.expose('kind', { type: XrdpSessionEventKindEnum, description: 'What happened.' }),
    user: t.exposeString('user', { description: 'The Linux user name the client logged in as.' }),
    display: t.exposeInt('display', { nullable: true, description: 'X display number of the session; null for a failed login.' }),
    clientAddress: t.exposeString('clientAddress', {
      nullable: true,
      description: 'The RDP client as ip:port, when the logs name it.',
    }),
    at: t.expose('at', {
      type: 'DateTime',
      description: 'When it happened (the log line, to the second), or when it was noticed.',
    }),
  }),
});

/** Ends the event stream's source when the subscriber goes. */
async function* events(source: AsyncIterator<XrdpSessionEvent>): AsyncGenerator<XrdpSessionEvent> {
  try {
    while (true) {
      const next = await source.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await source.return?.();
  }
}

builder.subscriptionField('xrdpSessionEvents', (t) =>
  t.field({
    type: XrdpSessionEventRef,
    description:
      'Logins, failed logins, connects, disconnects and session ends on one server, as they happen. Events are not replayed: one missed while disconnected is gone.',
    authScopes: { authenticated: true },
    args: { serverId: t.arg.id({ required: true, description: 'Server id.' }) },
    subscribe: async (_root, { serverId }, ctx) => {
      const viewer = viewerOf(ctx);
      const id = String(serverId);
      // Listen first, then authorize by reading the server: a hidden server fails exactly as a
      // missing one does, and nothing published in between is lost.
      const source = ctx.events.subscribe('xrdp:session-event', id)[Symbol.asyncIterator]();
      try {
        await ctx.services.servers.get(viewer, id);
        return events(source);
      } catch (err) {
        await source.return?.();
        throw err;
      }
    },
    resolve: (event) => event,
  }),
);
