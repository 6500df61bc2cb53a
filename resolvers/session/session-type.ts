import {
  type ClientInfo,
  type ConnectionInfo,
  CREDENTIAL_MODES,
  type RdpSession,
  SESSION_STATUSES,
  TERMINATION_REASONS,
} from '../../src/domain/sessions/session.js';
import type { SessionEvent } from '../../src/domain/sessions/session-events.js';
import { builder } from '../builder.js';
import { DrainNoticeRef, RdpServerRef } from '../server/server-type.js';

const enumValues = <T extends string>(values: readonly T[], describe: (v: T) => string) =>
  Object.fromEntries(values.map((v) => [v, { value: v, description: describe(v) }])) as Record<
    T,
    { value: T; description: string }
  >;

export const SessionStatusEnum = builder.enumType('SessionStatus', {
  description: 'Lifecycle of a session: ACTIVE (new) and DISCONNECTED alternate; TERMINATED is final.',
  values: enumValues(SESSION_STATUSES, (v) =>
    v === 'ACTIVE'
      ? 'Admitted; a client may be connected. After IDLE_TIMEOUT without keyboard or pointer input on the desktop, its client is disconnected.'
      : v === 'DISCONNECTED'
        ? 'No client connected; the desktop keeps running for a reconnect with the same account, and the session is ended DISCONNECTED_SESSION_TIMEOUT after the client left.'
        : 'Ended for good.',
  ),
});

export const TerminationReasonEnum = builder.enumType('TerminationReason', {
  description: 'Why a session ended.',
  values: enumValues(TERMINATION_REASONS, (v) =>
    v === 'IDLE_TIMEOUT'
      ? 'Ended: no client came back within DISCONNECTED_SESSION_TIMEOUT after it left or was disconnected for lack of input.'
      : v === 'DRAINED'
        ? "Ended at its server's drain deadline (drainServer, or its host's drain with a deadline)."
        : `Ended: ${v.toLowerCase().replace('_', ' ')}.`,
  ),
});

export const CredentialModeEnum = builder.enumType('CredentialMode', {
  description: 'How the RDP client logs in.',
  values: enumValues(CREDENTIAL_MODES, (v) =>
    v === 'HOST_ACCOUNT'
      ? "With the user's own account on the host and its password."
      : 'With a Linux account made for this session and a one-time password; removed when the session ends.',
  ),
});

export const ClientInfoRef = builder.objectRef<ClientInfo>('ClientInfo').implement({
  description: 'What the client said about itself at admission.',
  fields: (t) => ({
    clientName: t.exposeString('clientName', { nullable: true, description: 'Client name, up to 255 characters.' }),
    clientVersion: t.exposeString('clientVersion', { nullable: true, description: 'Client version, up to 50 characters.' }),
    clientIp: t.exposeString('clientIp', { nullable: true, description: 'Client IPv4 or IPv6 address.' }),
    resolution: t.exposeString('resolution', { nullable: true, description: 'Requested resolution, WxH.' }),
    colorDepth: t.exposeInt('colorDepth', { nullable: true, description: 'Requested colour depth.' }),
  }),
});

export const ConnectionInfoRef = builder.objectRef<ConnectionInfo>('ConnectionInfo').implement({
  description: 'Everything an RDP client needs. Shown once, at admission; the password is not stored.',
  fields: (t) => ({
    host: t.exposeString('host', { description: 'Host to connect to.' }),
    port: t.exposeInt('port', { description: 'RDP port.' }),
    username: t.exposeString('username', { description: 'Account to log in as.' }),
    password: t.exposeString('password', {
      nullable: true,
      description: 'One-time password (EPHEMERAL); null for HOST_ACCOUNT, where your own password applies.',
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'When the credential stops working.' }),
    rdpFile: t.exposeString('rdpFile', {
      description:
        "Body of a .rdp file for this connection (CRLF lines `name:type:value`, no password in it): address, user name, window size and colour depth, and clipboard, audio, drive and printer redirection as the server's configuration allows them.",
    }),
  }),
});

export const RdpSessionRef = builder.objectRef<RdpSession>('RdpSession').implement({
  description: "A user's admitted session on an RDP server.",
  fields: (t) => ({
    id: t.exposeID('id', { description: 'UUID of the session.' }),
    server: t.field({
      type: RdpServerRef,
      nullable: true,
      description: 'The server it runs on (null when the caller may not see it).',
      resolve: (s, _args, ctx) => ctx.loaders.server.load(s.serverId),
    }),
    serverId: t.exposeID('serverId', { description: 'Id of the server it runs on.' }),
    owner: t.exposeString('owner', { description: 'User id the session belongs to.' }),
    status: t.expose('status', { type: SessionStatusEnum, description: 'Lifecycle status.' }),
    terminationReason: t.expose('terminationReason', {
      type: TerminationReasonEnum,
      nullable: true,
      description: 'Why it ended, once TERMINATED.',
    }),
    credentialMode: t.expose('credentialMode', {
      type: CredentialModeEnum,
      description: 'How the client logs in.',
    }),
    username: t.exposeString('username', { description: 'Linux account of the session.' }),
    display: t.exposeInt('display', { nullable: true, description: 'X display of the live xrdp session, once logged in.' }),
    clientInfo: t.expose('clientInfo', { type: ClientInfoRef, description: 'What the client said about itself.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was admitted.' }),
    connectedAt: t.expose('connectedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When a client first logged in.',
    }),
    lastActivityAt: t.expose('lastActivityAt', {
      type: 'DateTime',
      description:
        "Last keyboard or pointer input on the desktop (its X server's idle time, kept to within 30 s), or the last login, reconnect or connect.",
    }),
    terminatedAt: t.expose('terminatedAt', { type: 'DateTime', nullable: true, description: 'When it ended.' }),
    credentialExpiresAt: t.expose('credentialExpiresAt', {
      type: 'DateTime',
      description: 'When the admission credential expires.',
    }),
    idleDeadline: t.expose('idleDeadline', {
      type: 'DateTime',
      nullable: true,
      description:
        'ACTIVE: when its client is disconnected unless there is input on the desktop before then (the host is asked again first). DISCONNECTED: when it is ended unless a client comes back.',
    }),
    sessionDeadline: t.expose('sessionDeadline', {
      type: 'DateTime',
      description: 'When the session is terminated at the latest (maximum duration).',
    }),
  }),
});

export const SessionEventKindEnum = builder.enumType('SessionEventKind', {
  description: 'What happened to a session.',
  values: {
    SNAPSHOT: { description: 'The state when the subscription started.' },
    CREATED: { description: 'It was admitted.' },
    CONNECTED: { description: 'A client logged in or reconnected.' },
    DISCONNECTED: { description: 'The client went away, or was disconnected after IDLE_TIMEOUT without input.' },
    TERMINATED: { description: 'It ended for good.' },
    UPDATED: { description: 'Other details changed (input on the desktop moved lastActivityAt and idleDeadline, ...).' },
    DRAIN_NOTICE: {
      description:
        'Its server drains: the session ends at `drain.deadline` (`drain.secondsLeft` from now). Sent to ACTIVE sessions when the drain starts and at each DRAIN_NOTICE_SECONDS step; the session itself is unchanged.',
    },
    DRAIN_CANCELLED: { description: "Its server's drain was cancelled: the session is no longer ended at the deadline." },
  } as const,
});

export type SessionEventShape = Omit<SessionEvent, 'kind'> & { kind: SessionEvent['kind'] | 'SNAPSHOT' };

export const SessionEventRef = builder.objectRef<SessionEventShape>('SessionEvent').implement({
  description: 'A change to one session.',
  fields: (t) => ({
    kind: t.expose('kind', { type: SessionEventKindEnum, description: 'What happened.' }),
    session: t.expose('session', { type: RdpSessionRef, description: 'The session after the change.' }),
    at: t.expose('at', { type: 'DateTime', description: 'When it happened.' }),
    drain: t.field({
      type: DrainNoticeRef,
      nullable: true,
      description: 'The countdown, on DRAIN_NOTICE and DRAIN_CANCELLED; null otherwise.',
      resolve: (e) => e.drain ?? null,
    }),
  }),
});

/** What createSession returns when admitted. */
export interface Admission {
  session: RdpSession;
  connection: ConnectionInfo;
}

export const CreateSessionSuccessRef = builder.objectRef<Admission>('CreateSessionSuccess').implement({
  description: 'Admitted: the session and, once, how to connect.',
  fields: (t) => ({
    session: t.expose('session', { type: RdpSessionRef, description: 'The new session.' }),
    connection: t.expose('connection', {
      type: ConnectionInfoRef,
      description: 'How to connect; shown only here.',
    }),
  }),
});

export const ReissueCredentialsSuccessRef = builder.objectRef<Admission>('ReissueCredentialsSuccess').implement({
  description: 'A new one-time password: the previous one no longer logs in.',
  fields: (t) => ({
    session: t.expose('session', { type: RdpSessionRef, description: 'The session with its new expiry.' }),
    connection: t.expose('connection', {
      type: ConnectionInfoRef,
      description: 'How to connect with the new password; shown only here.',
    }),
  }),
});
