/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** What happened to an alert. */
export type AlertEventKind =
  /** It was raised. */
  | 'RAISED'
  /** It was resolved, by itself or by an operator. */
  | 'RESOLVED'
  /** Open when the subscription started (or resynced). */
  | 'SNAPSHOT';

/** Which resource crossed its threshold. */
export type AlertResource =
  /** CPU percent (threshold 80). */
  | 'CPU'
  /** Disk percent (threshold 90). */
  | 'DISK'
  /** Memory percent (threshold 80). */
  | 'MEMORY'
  /** Network Mbps in the busier direction (threshold 1000). */
  | 'NETWORK';

/** How serious an alert is. */
export type AlertSeverity =
  /** A percentage at or above 95, or any disk alert. */
  | 'CRITICAL'
  /** A value is above its threshold. */
  | 'HIGH'
  /** Informational. */
  | 'LOW'
  /** Worth a look. */
  | 'MEDIUM';

/** Outcome of an audited action. */
export type AuditResult =
  /** The action was refused: no or a bad token, a missing role, a limit, a rate limit, or another user’s object. */
  | 'DENIED'
  /** The action was attempted and failed (conflict, bad input, runtime or database problem). */
  | 'FAILURE'
  /** The action was carried out. */
  | 'SUCCESS';

/** What happened to a server. */
export type ServerEventKind =
  /** The server was created. */
  | 'CREATED'
  /** It was deleted; the stream ends. */
  | 'DELETED'
  /** Its drain's deadline came: the sessions left were ended (and, with stopServer, it stopped). */
  | 'DRAINED'
  /** Its drain was cancelled: it takes new sessions again. */
  | 'DRAIN_CANCELLED'
  /** A countdown step of its drain (DRAIN_NOTICE_SECONDS; `drain` has the seconds left). */
  | 'DRAIN_NOTICE'
  /** A drain started or was rescheduled (`drain` has the countdown). */
  | 'DRAIN_STARTED'
  /** The state when the subscription started. */
  | 'SNAPSHOT'
  /** Its status changed. */
  | 'STATUS_CHANGED'
  /** Its settings changed. */
  | 'UPDATED';

/** Lifecycle of an RDP server. */
export type ServerStatus =
  /** The process died or a start failed; see statusMessage. */
  | 'ERROR'
  /** Set by an admin; hides the status it had (it comes back when maintenance ends). No new sessions; only an admin may start, stop or restart it meanwhile, and deleting it needs force. */
  | 'MAINTENANCE'
  /** Accepting RDP connections. */
  | 'RUNNING'
  /** The xrdp instance is starting. */
  | 'STARTING'
  /** Not running (the state of a new server). */
  | 'STOPPED'
  /** The xrdp instance is stopping. */
  | 'STOPPING';

/** Lifecycle of a session: ACTIVE (new) and DISCONNECTED alternate; TERMINATED is final. */
export type SessionStatus =
  /** Admitted; a client may be connected. After IDLE_TIMEOUT without keyboard or pointer input on the desktop, its client is disconnected. */
  | 'ACTIVE'
  /** No client connected; the desktop keeps running for a reconnect with the same account, and the session is ended DISCONNECTED_SESSION_TIMEOUT after the client left. */
  | 'DISCONNECTED'
  /** Ended for good. */
  | 'TERMINATED';

export type ConsoleViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleViewerQuery = { viewer: { userId: string, username: string, roles: Array<string> } };

export type ConsoleFleetQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type ConsoleFleetQuery = { servers: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, name: string, owner: string, host: string, port: number, status: ServerStatus, statusMessage: string | null, updatedAt: string, sessions: Array<{ id: string }> } }> } };

export type FleetServerFragment = { id: string, name: string, owner: string, host: string, port: number, status: ServerStatus, statusMessage: string | null, updatedAt: string, sessions: Array<{ id: string }> };

export type ConsoleServerQueryVariables = Exact<{
  id: string | number;
}>;


export type ConsoleServerQuery = { server: { description: string, createdAt: string, createdBy: string, lastStartedAt: string | null, lastStoppedAt: string | null, uptimeSeconds: number | null, id: string, name: string, owner: string, host: string, port: number, status: ServerStatus, statusMessage: string | null, updatedAt: string, sessions: Array<{ id: string, username: string, status: SessionStatus, owner: string, createdAt: string }> } | null };

export type ConsoleServerEventsSubscriptionVariables = Exact<{
  serverId: string | number;
}>;


export type ConsoleServerEventsSubscription = { serverEvents: { kind: ServerEventKind, server: { id: string, name: string, owner: string, host: string, port: number, status: ServerStatus, statusMessage: string | null, updatedAt: string, sessions: Array<{ id: string }> } } };

export type ConsoleCreateServerMutationVariables = Exact<{
  name: string;
}>;


export type ConsoleCreateServerMutation = { createServer:
    | { __typename: 'CreateServerSuccess', server: { id: string, name: string, owner: string, host: string, port: number, status: ServerStatus, statusMessage: string | null, updatedAt: string, sessions: Array<{ id: string }> } }
    | { __typename: 'LimitExceededError', code: string, message: string }
    | { __typename: 'PlacementError', code: string, message: string }
    | { __typename: 'PortExhaustedError', code: string, message: string }
   };

export type ConsoleStartServerMutationVariables = Exact<{
  id: string | number;
}>;


export type ConsoleStartServerMutation = { startServer:
    | { __typename: 'ConflictError', code: string, message: string }
    | { __typename: 'LimitExceededError', code: string, message: string }
    | { __typename: 'NotFoundError', code: string, message: string }
    | { __typename: 'RuntimeFailureError', code: string, message: string }
    | { __typename: 'RuntimeUnavailableError', code: string, message: string }
    | { __typename: 'StartServerSuccess', server: { id: string, name: string, owner: string, host: string, port: number, status: ServerStatus, statusMessage: string | null, updatedAt: string, sessions: Array<{ id: string }> } }
   };

export type ConsoleStopServerMutationVariables = Exact<{
  id: string | number;
}>;


export type ConsoleStopServerMutation = { stopServer:
    | { __typename: 'ConflictError', code: string, message: string }
    | { __typename: 'NotFoundError', code: string, message: string }
    | { __typename: 'RuntimeFailureError', code: string, message: string }
    | { __typename: 'RuntimeUnavailableError', code: string, message: string }
    | { __typename: 'StopServerSuccess', server: { id: string, name: string, owner: string, host: string, port: number, status: ServerStatus, statusMessage: string | null, updatedAt: string, sessions: Array<{ id: string }> } }
   };

export type ConsoleSessionsQueryVariables = Exact<{
  first?: number | null | undefined;
}>;


export type ConsoleSessionsQuery = { sessions: { totalCount: number, edges: Array<{ node: { id: string, username: string, owner: string, status: SessionStatus, serverId: string, createdAt: string, server: { name: string } | null } }> } };

export type ConsoleCreateSessionMutationVariables = Exact<{
  serverId: string | number;
}>;


export type ConsoleCreateSessionMutation = { createSession:
    | { __typename: 'ConflictError', code: string, message: string }
    | { __typename: 'CreateSessionSuccess', session: { id: string, status: SessionStatus }, connection: { host: string, port: number, username: string, password: string | null, expiresAt: string, rdpFile: string } }
    | { __typename: 'LimitExceededError', code: string, message: string }
    | { __typename: 'NotFoundError', code: string, message: string }
    | { __typename: 'ServerDrainingError', code: string, message: string }
   };

export type ConsoleTerminateSessionMutationVariables = Exact<{
  id: string | number;
}>;


export type ConsoleTerminateSessionMutation = { terminateSession:
    | { __typename: 'ConflictError', code: string, message: string }
    | { __typename: 'NotFoundError', code: string, message: string }
    | { __typename: 'TerminateSessionSuccess' }
   };

export type ConsoleAlertsQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleAlertsQuery = { alerts: { edges: Array<{ node: { id: string, severity: AlertSeverity, message: string, resource: AlertResource, subjectId: string, resolved: boolean, createdAt: string } }> } };

export type ConsoleAlertEventsSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type ConsoleAlertEventsSubscription = { alertEvents: { kind: AlertEventKind, alert: { id: string } } };

export type ConsoleResolveAlertMutationVariables = Exact<{
  id: string | number;
}>;


export type ConsoleResolveAlertMutation = { resolveAlert:
    | { __typename: 'ConflictError', code: string, message: string }
    | { __typename: 'NotFoundError', code: string, message: string }
    | { __typename: 'ResolveAlertSuccess' }
   };

export type ConsoleAuditQueryVariables = Exact<{
  action?: string | null | undefined;
}>;


export type ConsoleAuditQuery = { auditEvents: { edges: Array<{ node: { id: string, time: string, action: string, result: AuditResult, actor: { userId: string | null, name: string | null, ip: string | null }, target: { type: string, id: string | null, name: string | null } | null } }> } };

export type ConsoleLimitsQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleLimitsQuery = { resourceLimits: { version: number, updatedAt: string, updatedBy: string, perUser: { maxSessions: number }, global: { maxServers: number, maxSessions: number, maxTotalCpu: number, maxTotalMemory: number } } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const FleetServerFragmentDoc = new TypedDocumentString(`
    fragment FleetServer on RdpServer {
  id
  name
  owner
  host
  port
  status
  statusMessage
  updatedAt
  sessions {
    id
  }
}
    `, {"fragmentName":"FleetServer"}) as unknown as TypedDocumentString<FleetServerFragment, unknown>;
export const ConsoleViewerDocument = new TypedDocumentString(`
    query ConsoleViewer {
  viewer {
    userId
    username
    roles
  }
}
    `, {"hash":"sha256:3f72c4171a0de27fe66e1c304679522b9a59820a40611f7c8bc9a852d12afb3b"}) as unknown as TypedDocumentString<ConsoleViewerQuery, ConsoleViewerQueryVariables>;
export const ConsoleFleetDocument = new TypedDocumentString(`
    query ConsoleFleet($first: Int, $after: String) {
  servers(first: $first, after: $after) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        ...FleetServer
      }
    }
  }
}
    fragment FleetServer on RdpServer {
  id
  name
  owner
  host
  port
  status
  statusMessage
  updatedAt
  sessions {
    id
  }
}`, {"hash":"sha256:ec817606177ca9196b5cb150864e6ea12cbf4eadc2fc47c90a63bf8a7569a30d"}) as unknown as TypedDocumentString<ConsoleFleetQuery, ConsoleFleetQueryVariables>;
export const ConsoleServerDocument = new TypedDocumentString(`
    query ConsoleServer($id: ID!) {
  server(id: $id) {
    ...FleetServer
    description
    createdAt
    createdBy
    lastStartedAt
    lastStoppedAt
    uptimeSeconds
    sessions {
      id
      username
      status
      owner
      createdAt
    }
  }
}
    fragment FleetServer on RdpServer {
  id
  name
  owner
  host
  port
  status
  statusMessage
  updatedAt
  sessions {
    id
  }
}`, {"hash":"sha256:49aa23aa490e882e158e07e83a13503e4e48c355f2562a792a6de2bc9c6de829"}) as unknown as TypedDocumentString<ConsoleServerQuery, ConsoleServerQueryVariables>;
export const ConsoleServerEventsDocument = new TypedDocumentString(`
    subscription ConsoleServerEvents($serverId: ID!) {
  serverEvents(serverId: $serverId) {
    kind
    server {
      ...FleetServer
    }
  }
}
    fragment FleetServer on RdpServer {
  id
  name
  owner
  host
  port
  status
  statusMessage
  updatedAt
  sessions {
    id
  }
}`, {"hash":"sha256:eb80e042f4b1e2cdfd0f415797e44ec76fe4eb8fdf9c72eb0de2426169831da5"}) as unknown as TypedDocumentString<ConsoleServerEventsSubscription, ConsoleServerEventsSubscriptionVariables>;
export const ConsoleCreateServerDocument = new TypedDocumentString(`
    mutation ConsoleCreateServer($name: String!) {
  createServer(input: {name: $name}) {
    __typename
    ... on CreateServerSuccess {
      server {
        ...FleetServer
      }
    }
    ... on Error {
      code
      message
    }
  }
}
    fragment FleetServer on RdpServer {
  id
  name
  owner
  host
  port
  status
  statusMessage
  updatedAt
  sessions {
    id
  }
}`, {"hash":"sha256:e7405075b343bab557b753aa5cba83311e9ffa96df3ad73525e9388fb5981b6b"}) as unknown as TypedDocumentString<ConsoleCreateServerMutation, ConsoleCreateServerMutationVariables>;
export const ConsoleStartServerDocument = new TypedDocumentString(`
    mutation ConsoleStartServer($id: ID!) {
  startServer(id: $id) {
    __typename
    ... on StartServerSuccess {
      server {
        ...FleetServer
      }
    }
    ... on Error {
      code
      message
    }
  }
}
    fragment FleetServer on RdpServer {
  id
  name
  owner
  host
  port
  status
  statusMessage
  updatedAt
  sessions {
    id
  }
}`, {"hash":"sha256:9937100f3d7e149f91a9edd94322cd328269dbe00dab161ae94e5a5a86fffcc9"}) as unknown as TypedDocumentString<ConsoleStartServerMutation, ConsoleStartServerMutationVariables>;
export const ConsoleStopServerDocument = new TypedDocumentString(`
    mutation ConsoleStopServer($id: ID!) {
  stopServer(id: $id, force: true) {
    __typename
    ... on StopServerSuccess {
      server {
        ...FleetServer
      }
    }
    ... on Error {
      code
      message
    }
  }
}
    fragment FleetServer on RdpServer {
  id
  name
  owner
  host
  port
  status
  statusMessage
  updatedAt
  sessions {
    id
  }
}`, {"hash":"sha256:4bf350303d58dafdc763877093519443f48452b020824171506450246536bde5"}) as unknown as TypedDocumentString<ConsoleStopServerMutation, ConsoleStopServerMutationVariables>;
export const ConsoleSessionsDocument = new TypedDocumentString(`
    query ConsoleSessions($first: Int) {
  sessions(first: $first) {
    totalCount
    edges {
      node {
        id
        username
        owner
        status
        serverId
        createdAt
        server {
          name
        }
      }
    }
  }
}
    `, {"hash":"sha256:278c49d7cc5ff3cc4d056627c1a943f08a53c69e500f7a2ef4d65fce3a097310"}) as unknown as TypedDocumentString<ConsoleSessionsQuery, ConsoleSessionsQueryVariables>;
export const ConsoleCreateSessionDocument = new TypedDocumentString(`
    mutation ConsoleCreateSession($serverId: ID!) {
  createSession(input: {serverId: $serverId}) {
    __typename
    ... on CreateSessionSuccess {
      session {
        id
        status
      }
      connection {
        host
        port
        username
        password
        expiresAt
        rdpFile
      }
    }
    ... on Error {
      code
      message
    }
  }
}
    `, {"hash":"sha256:557795a46495e8a1902fef797607255171e5aad3277365523537946bdbb6df02"}) as unknown as TypedDocumentString<ConsoleCreateSessionMutation, ConsoleCreateSessionMutationVariables>;
export const ConsoleTerminateSessionDocument = new TypedDocumentString(`
    mutation ConsoleTerminateSession($id: ID!) {
  terminateSession(id: $id, force: true) {
    __typename
    ... on Error {
      code
      message
    }
  }
}
    `, {"hash":"sha256:401a7c98662db7bf03842e63db98d9d6d3f8631d0d6fbc4d9ca12469c5a0f286"}) as unknown as TypedDocumentString<ConsoleTerminateSessionMutation, ConsoleTerminateSessionMutationVariables>;
export const ConsoleAlertsDocument = new TypedDocumentString(`
    query ConsoleAlerts {
  alerts(first: 50) {
    edges {
      node {
        id
        severity
        message
        resource
        subjectId
        resolved
        createdAt
      }
    }
  }
}
    `, {"hash":"sha256:0f0c55332aa6b2dff11fa5b30878937e5b3bcd1e65f95f474693e5a6a38cab1d"}) as unknown as TypedDocumentString<ConsoleAlertsQuery, ConsoleAlertsQueryVariables>;
export const ConsoleAlertEventsDocument = new TypedDocumentString(`
    subscription ConsoleAlertEvents {
  alertEvents {
    kind
    alert {
      id
    }
  }
}
    `, {"hash":"sha256:8888df1957f4ad5f4ae9e7efe927103ea328b1d50f7a376628f35539817b5fa8"}) as unknown as TypedDocumentString<ConsoleAlertEventsSubscription, ConsoleAlertEventsSubscriptionVariables>;
export const ConsoleResolveAlertDocument = new TypedDocumentString(`
    mutation ConsoleResolveAlert($id: ID!) {
  resolveAlert(id: $id) {
    __typename
    ... on Error {
      code
      message
    }
  }
}
    `, {"hash":"sha256:f147923a01880e707bf06c5df5d182405438fef5cb0926e1a5dc54a6727de361"}) as unknown as TypedDocumentString<ConsoleResolveAlertMutation, ConsoleResolveAlertMutationVariables>;
export const ConsoleAuditDocument = new TypedDocumentString(`
    query ConsoleAudit($action: String) {
  auditEvents(first: 50, filter: {action: $action}) {
    edges {
      node {
        id
        time
        action
        result
        actor {
          userId
          name
          ip
        }
        target {
          type
          id
          name
        }
      }
    }
  }
}
    `, {"hash":"sha256:8dffbcf37352ca382c96d90018b493f49739ccbdf249620832e384a8e9c59b7b"}) as unknown as TypedDocumentString<ConsoleAuditQuery, ConsoleAuditQueryVariables>;
export const ConsoleLimitsDocument = new TypedDocumentString(`
    query ConsoleLimits {
  resourceLimits {
    version
    updatedAt
    updatedBy
    perUser {
      maxSessions
    }
    global {
      maxServers
      maxSessions
      maxTotalCpu
      maxTotalMemory
    }
  }
}
    `, {"hash":"sha256:4d637e20d59147bfa8cef0ee62173c7f2af4b0014a520b2d8896b173bdfdd8ed"}) as unknown as TypedDocumentString<ConsoleLimitsQuery, ConsoleLimitsQueryVariables>;