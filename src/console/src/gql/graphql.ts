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

/** Who gets the use of what. */
export type AssignInput = {
  /** User id (token subject) or group name, 1-255 characters. */
  principal: string;
  /** User or group. */
  principalType: PrincipalType;
  /** Id of the pool or server (it must exist). */
  targetId: string | number;
  /** Pool or server. */
  targetType: AssignmentTargetType;
};

/** What an assignment gives the use of. */
export type AssignmentTargetType =
  /** A pool: every server in it, through connect. */
  | 'POOL'
  /** One server. */
  | 'SERVER';

/** Outcome of an audited action. */
export type AuditResult =
  /** The action was refused: no or a bad token, a missing role, a limit, a rate limit, or another user’s object. */
  | 'DENIED'
  /** The action was attempted and failed (conflict, bad input, runtime or database problem). */
  | 'FAILURE'
  /** The action was carried out. */
  | 'SUCCESS';

/** A new pool. */
export type CreatePoolInput = {
  /** Credential mode of sessions connect admits here; omitted: the service's default. */
  defaultCredentialMode?: CredentialMode | null | undefined;
  /** Free text, up to 1000 characters. */
  description?: string | null | undefined;
  /** Session cap of the whole pool, 1-100000; omitted: none. */
  maxSessions?: number | null | undefined;
  /** Display name, 1-255 characters after trimming. */
  name: string;
  /** Default BREADTH_FIRST. */
  placementPolicy?: PlacementPolicy | null | undefined;
};

/** How the RDP client logs in. */
export type CredentialMode =
  /** With a Linux account made for this session and a one-time password; removed when the session ends. */
  | 'EPHEMERAL'
  /** With the user's own account on the host and its password. */
  | 'HOST_ACCOUNT';

/** The replica's link to the event bus that carries every live update. */
export type EventBusState =
  /** Events of every replica reach this one: subscriptions are complete. */
  | 'CONNECTED'
  /** The bus (Redis) is away: no event reaches the subscriptions of this replica, from any replica, and what changes meanwhile is not sent. They stay open; on the change back to CONNECTED each one that starts with a SNAPSHOT sends a new one. */
  | 'RECONNECTING';

/** What happened to an object of the fleet. */
export type FleetEventKind =
  /** It was created. */
  | 'CREATED'
  /** It was deleted (the object as it last was). */
  | 'DELETED'
  /** Its live sessions changed: one was admitted, connected, disconnected or ended; the counts are new. */
  | 'SESSIONS_CHANGED'
  /** Its state when the subscription started, or again after events may have been lost. */
  | 'SNAPSHOT'
  /** Its status changed. */
  | 'STATUS_CHANGED'
  /** Its settings changed, or its drain started, reached its deadline or was cancelled (see the server's `draining`). */
  | 'UPDATED';

/** Why a fleetUsage message was sent. */
export type FleetUsageKind =
  /** A collection round's samples (one host's round in a cluster). */
  | 'ROUND'
  /** The newest current sample of each server when the subscription started, or again after samples may have been lost. */
  | 'SNAPSHOT';

/** What happened to a host. */
export type HostEventKind =
  /** A heartbeat: new lastHeartbeatAt and usage. */
  | 'HEARTBEAT'
  /** Its agent registered for the first time. */
  | 'REGISTERED'
  /** The state when the subscription started (or after a resync). */
  | 'SNAPSHOT'
  /** It came online, went OFFLINE, or its drain flag changed. */
  | 'STATUS_CHANGED'
  /** Its agent registered again and reported different facts (name, labels, ports, capacity...). */
  | 'UPDATED';

/** Whether a host takes new servers and sessions. */
export type HostStatus =
  /** Online, but an admin set drain: running servers and sessions continue, nothing new goes here. */
  | 'DRAINING'
  /** No heartbeat for 3 heartbeat intervals (draining or not); its servers are kept and shown, nothing new goes here. */
  | 'OFFLINE'
  /** Heartbeating and not draining: new servers and sessions may be placed here. */
  | 'ONLINE';

/** How the broker picks a server of a pool for a new session. */
export type PlacementPolicy =
  /** The server with the fewest sessions first (ties at random): sessions spread over the servers. */
  | 'BREADTH_FIRST'
  /** The fullest server that still has room first (by name, then id): a server fills before the next is used. */
  | 'DEPTH_FIRST';

/** Who an assignment is for. */
export type PrincipalType =
  /** Every user whose token lists this group in the GROUPS_CLAIM claim. */
  | 'GROUP'
  /** A user, by user id (the token subject). */
  | 'USER';

/** Why a resourceUsage message was sent. */
export type ResourceUsageEventKind =
  /** A new sample. */
  | 'SAMPLE'
  /** The newest sample when the subscription started (or resynced); may be null. */
  | 'SNAPSHOT';

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

/** What a resource sample or alert is about. */
export type SubjectKind =
  /** A host running RDP servers (subject id `host:<name>`). */
  | 'HOST'
  /** An RDP server: its xrdp processes and its sessions. */
  | 'SERVER'
  /** A session's processes: X server, window manager and what runs in it. */
  | 'SESSION';

/** Changes to a pool; omitted fields keep their value. */
export type UpdatePoolInput = {
  /** True: the service's default mode (not with defaultCredentialMode). */
  clearDefaultCredentialMode?: boolean | null | undefined;
  /** True: no pool cap (not with maxSessions). */
  clearMaxSessions?: boolean | null | undefined;
  /** Credential mode of new sessions. */
  defaultCredentialMode?: CredentialMode | null | undefined;
  /** Free text, up to 1000 characters. */
  description?: string | null | undefined;
  /** Session cap, 1-100000. Lowering it below the live sessions ends none; new ones wait for room. */
  maxSessions?: number | null | undefined;
  /** Display name, 1-255 characters after trimming. */
  name?: string | null | undefined;
  /** Placement of new sessions. */
  placementPolicy?: PlacementPolicy | null | undefined;
};

/** Changes to the xrdp configuration, applied over the latest version; running instances get them on restart. */
export type UpdateXrdpConfigInput = {
  /** Listener, TLS and logging. */
  global?: XrdpGlobalConfigInput | null | undefined;
  /** Compression and caches. */
  performance?: XrdpPerformanceConfigInput | null | undefined;
  /** Authentication and timeouts. */
  security?: XrdpSecurityConfigInput | null | undefined;
};

/** How far back resource history goes. */
export type UsageWindow =
  /** The last 7 days (per-minute averages, at most 300 points). */
  | 'D7'
  /** The last hour (raw samples, averaged into at most 300 points). */
  | 'H1'
  /** The last 6 hours (per-minute averages, at most 300 points). */
  | 'H6'
  /** The last 24 hours (per-minute averages, at most 300 points). */
  | 'H24';

/** How users prove who they are. */
export type XrdpAuthentication =
  /** A password and a client certificate. */
  | 'BOTH'
  /** A client certificate. */
  | 'CERTIFICATE'
  /** A password. */
  | 'PASSWORD';

/** Minimum encryption for classic RDP security (xrdp's crypt_level). */
export type XrdpEncryptionLevel =
  /** crypt_level=high. */
  | 'HIGH'
  /** crypt_level=low. */
  | 'LOW'
  /** crypt_level=medium. */
  | 'MEDIUM';

/** Listener, TLS and logging changes; omitted fields keep their value. */
export type XrdpGlobalConfigInput = {
  /** PEM certificate for every instance: an absolute path of letters, digits, ., _, - and /, at most 255 bytes, no .. segment. Set with keyPath; both are read at once and must be readable by the service, PEM, and match (else BAD_USER_INPUT naming the field). Instances started afterwards present it. The empty string (for both) goes back to generated certificates. */
  certificatePath?: string | null | undefined;
  /** Unencrypted PEM private key of certificatePath, with the same path rules; the empty string clears it. */
  keyPath?: string | null | undefined;
  /** Log level. */
  logLevel?: XrdpLogLevel | null | undefined;
  /** Most sessions at once, 1-1000. */
  maxConnections?: number | null | undefined;
  /**
   * Not used; only its current value is accepted.
   * @deprecated No effect: each server listens on its own port from RDP_PORT_RANGE; there is no host-wide RDP port. Changing it is refused (BAD_USER_INPUT); it will be removed.
   */
  port?: number | null | undefined;
  /** Require TLS. */
  useTls?: boolean | null | undefined;
};

/** What a serverLogs event carries. */
export type XrdpLogEventKind =
  /** New lines, as xrdp wrote them: append them. */
  | 'LINES'
  /** The last lines of the log (as RdpServer.logs): replace what is shown. Sent first, and again after lines may have been missed. */
  | 'SNAPSHOT';

/** How much xrdp and sesman write to their logs. */
export type XrdpLogLevel =
  /** Everything, for troubleshooting. */
  | 'DEBUG'
  /** Failures only. */
  | 'ERROR'
  /** Connections, logins and other normal events. */
  | 'INFO'
  /** Problems xrdp recovered from, and worse. */
  | 'WARN';

/** Severity of one xrdp log line, most severe first. */
export type XrdpLogLineLevel =
  /** Always written (startup, fatal problems). */
  | 'CORE'
  /** Detail for troubleshooting. */
  | 'DEBUG'
  /** A failure. */
  | 'ERROR'
  /** A normal event: connection, login, session. */
  | 'INFO'
  /** The finest detail. */
  | 'TRACE'
  /** A problem xrdp recovered from. */
  | 'WARN';

/** Compression and cache changes; omitted fields keep their value. */
export type XrdpPerformanceConfigInput = {
  /** Bitmap cache. */
  bitmapCache?: boolean | null | undefined;
  /** Bitmap and bulk compression. */
  compression?: boolean | null | undefined;
  /**
   * Not used; only its current value is accepted.
   * @deprecated No effect: xrdp 0.9.21 has no setting for the glyph cache; the client negotiates it. Changing it is refused (BAD_USER_INPUT); it will be removed.
   */
  glyphCache?: boolean | null | undefined;
  /**
   * Not used; only its current value is accepted.
   * @deprecated No effect: xrdp 0.9.21 has no setting for the bitmap cache size; the client negotiates it. Changing it is refused (BAD_USER_INPUT); it will be removed.
   */
  maxBitmapCacheSize?: number | null | undefined;
};

/** Authentication, timeout and encryption changes; omitted fields keep their value. */
export type XrdpSecurityConfigInput = {
  /**
   * Not used; only its current value is accepted.
   * @deprecated No effect: xrdp 0.9.21 authenticates users by password (PAM) only; it has no client certificate login. Changing it is refused (BAD_USER_INPUT); it will be removed.
   */
  authentication?: XrdpAuthentication | null | undefined;
  /** Minimum encryption level. */
  encryptionLevel?: XrdpEncryptionLevel | null | undefined;
  /** Seconds, 60-7200, less than sessionTimeout. */
  idleTimeout?: number | null | undefined;
  /** Seconds, 300-86400. */
  sessionTimeout?: number | null | undefined;
};

export type ConsoleViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleViewerQuery = { viewer: { userId: string, username: string, roles: Array<string> } };

export type ConsoleFleetQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type ConsoleFleetQuery = { servers: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, name: string, owner: string, host: string, port: number, status: ServerStatus, statusMessage: string | null, updatedAt: string, sessions: Array<{ id: string }>, usage: { at: string, cpuPercent: number | null, memoryPercent: number | null } | null } }> } };

export type FleetServerFragment = { id: string, name: string, owner: string, host: string, port: number, status: ServerStatus, statusMessage: string | null, updatedAt: string, sessions: Array<{ id: string }>, usage: { at: string, cpuPercent: number | null, memoryPercent: number | null } | null };

export type ConsoleServerQueryVariables = Exact<{
  id: string | number;
}>;


export type ConsoleServerQuery = { server: { description: string, createdAt: string, createdBy: string, lastStartedAt: string | null, lastStoppedAt: string | null, uptimeSeconds: number | null, id: string, name: string, owner: string, host: string, port: number, status: ServerStatus, statusMessage: string | null, updatedAt: string, sessions: Array<{ id: string, username: string, status: SessionStatus, owner: string, createdAt: string }>, usage: { at: string, cpuPercent: number | null, memoryPercent: number | null } | null } | null };

export type ConsoleServerEventsSubscriptionVariables = Exact<{
  serverId: string | number;
}>;


export type ConsoleServerEventsSubscription = { serverEvents: { kind: ServerEventKind, server: { id: string, name: string, owner: string, host: string, port: number, status: ServerStatus, statusMessage: string | null, updatedAt: string, sessions: Array<{ id: string }>, usage: { at: string, cpuPercent: number | null, memoryPercent: number | null } | null } } };

export type ConsoleFleetEventsSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type ConsoleFleetEventsSubscription = { fleetEvents: { kind: FleetEventKind, at: string, activeSessions: number, disconnectedSessions: number, server: { id: string, name: string, owner: string, host: string, port: number, status: ServerStatus, statusMessage: string | null, updatedAt: string } | null } };

export type ConsoleFleetUsageSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type ConsoleFleetUsageSubscription = { fleetUsage: { kind: FleetUsageKind, at: string, samples: Array<{ subjectId: string, at: string, cpuPercent: number | null, memoryPercent: number | null }> } };

export type ConsoleCreateServerMutationVariables = Exact<{
  name: string;
}>;


export type ConsoleCreateServerMutation = { createServer:
    | { __typename: 'CreateServerSuccess', server: { id: string, name: string, owner: string, host: string, port: number, status: ServerStatus, statusMessage: string | null, updatedAt: string, sessions: Array<{ id: string }>, usage: { at: string, cpuPercent: number | null, memoryPercent: number | null } | null } }
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
    | { __typename: 'StartServerSuccess', server: { id: string, name: string, owner: string, host: string, port: number, status: ServerStatus, statusMessage: string | null, updatedAt: string, sessions: Array<{ id: string }>, usage: { at: string, cpuPercent: number | null, memoryPercent: number | null } | null } }
   };

export type ConsoleStopServerMutationVariables = Exact<{
  id: string | number;
}>;


export type ConsoleStopServerMutation = { stopServer:
    | { __typename: 'ConflictError', code: string, message: string }
    | { __typename: 'NotFoundError', code: string, message: string }
    | { __typename: 'RuntimeFailureError', code: string, message: string }
    | { __typename: 'RuntimeUnavailableError', code: string, message: string }
    | { __typename: 'StopServerSuccess', server: { id: string, name: string, owner: string, host: string, port: number, status: ServerStatus, statusMessage: string | null, updatedAt: string, sessions: Array<{ id: string }>, usage: { at: string, cpuPercent: number | null, memoryPercent: number | null } | null } }
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

export type ConsoleRestartServerMutationVariables = Exact<{
  id: string | number;
}>;


export type ConsoleRestartServerMutation = { restartServer:
    | { __typename: 'ConflictError', code: string, message: string }
    | { __typename: 'NotFoundError', code: string, message: string }
    | { __typename: 'RestartServerSuccess', server: { id: string, name: string, owner: string, host: string, port: number, status: ServerStatus, statusMessage: string | null, updatedAt: string, sessions: Array<{ id: string }>, usage: { at: string, cpuPercent: number | null, memoryPercent: number | null } | null } }
    | { __typename: 'RuntimeFailureError', code: string, message: string }
    | { __typename: 'RuntimeUnavailableError', code: string, message: string }
   };

export type ConsoleUsageQueryVariables = Exact<{
  subjectId: string | number;
  window?: UsageWindow | null | undefined;
}>;


export type ConsoleUsageQuery = { resourceUsage: { subjectId: string, subjectKind: SubjectKind, window: UsageWindow, from: string, to: string, points: Array<{ at: string, cpuPercent: number | null, memoryPercent: number | null, networkInKbps: number | null, networkOutKbps: number | null }> } | null };

export type ConsoleUsageLiveSubscriptionVariables = Exact<{
  subjectId: string | number;
}>;


export type ConsoleUsageLiveSubscription = { resourceUsage: { kind: ResourceUsageEventKind, sample: { at: string, cpuPercent: number | null, memoryPercent: number | null, networkInKbps: number | null, networkOutKbps: number | null } | null } };

export type ConsoleHostsQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleHostsQuery = { hosts: Array<{ id: string, name: string, status: HostStatus, draining: boolean, rdpAddress: string, agentVersion: string, serverCount: number, freeCapacity: number, lastHeartbeatAt: string | null, labels: Array<{ key: string, value: string }>, capacity: { cpuCount: number, memoryMb: number, maxServers: number }, portRange: { from: number, to: number }, usage: { at: string, cpuPercent: number, memoryPercent: number } | null }> };

export type ConsoleHostFragment = { id: string, name: string, status: HostStatus, draining: boolean, rdpAddress: string, agentVersion: string, serverCount: number, freeCapacity: number, lastHeartbeatAt: string | null, labels: Array<{ key: string, value: string }>, capacity: { cpuCount: number, memoryMb: number, maxServers: number }, portRange: { from: number, to: number }, usage: { at: string, cpuPercent: number, memoryPercent: number } | null };

export type ConsoleHostOneQueryVariables = Exact<{
  id: string | number;
}>;


export type ConsoleHostOneQuery = { host: { id: string, name: string, status: HostStatus, draining: boolean, rdpAddress: string, agentVersion: string, serverCount: number, freeCapacity: number, lastHeartbeatAt: string | null, servers: { totalCount: number, edges: Array<{ node: { id: string, name: string, status: ServerStatus, port: number } }> }, labels: Array<{ key: string, value: string }>, capacity: { cpuCount: number, memoryMb: number, maxServers: number }, portRange: { from: number, to: number }, usage: { at: string, cpuPercent: number, memoryPercent: number } | null } | null };

export type ConsoleHostEventsSubscriptionVariables = Exact<{
  hostId?: string | number | null | undefined;
}>;


export type ConsoleHostEventsSubscription = { hostEvents: { kind: HostEventKind, host: { id: string, name: string, status: HostStatus, draining: boolean, rdpAddress: string, agentVersion: string, serverCount: number, freeCapacity: number, lastHeartbeatAt: string | null, labels: Array<{ key: string, value: string }>, capacity: { cpuCount: number, memoryMb: number, maxServers: number }, portRange: { from: number, to: number }, usage: { at: string, cpuPercent: number, memoryPercent: number } | null } } };

export type ConsoleSetHostDrainMutationVariables = Exact<{
  hostId: string | number;
  drain: boolean;
}>;


export type ConsoleSetHostDrainMutation = { setHostDrain:
    | { __typename: 'NotFoundError', code: string, message: string }
    | { __typename: 'SetHostDrainSuccess', host: { id: string, name: string, status: HostStatus, draining: boolean, rdpAddress: string, agentVersion: string, serverCount: number, freeCapacity: number, lastHeartbeatAt: string | null, labels: Array<{ key: string, value: string }>, capacity: { cpuCount: number, memoryMb: number, maxServers: number }, portRange: { from: number, to: number }, usage: { at: string, cpuPercent: number, memoryPercent: number } | null } }
   };

export type ConsoleLiveStatusSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type ConsoleLiveStatusSubscription = { liveStatus: { eventBus: EventBusState } };

export type ConsoleServerLogsSubscriptionVariables = Exact<{
  serverId: string | number;
  level?: XrdpLogLevel | null | undefined;
}>;


export type ConsoleServerLogsSubscription = { serverLogs: { kind: XrdpLogEventKind, lines: Array<{ time: string, level: XrdpLogLineLevel, pid: number | null, message: string }> } };

export type ConsoleXrdpConfigQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleXrdpConfigQuery = { xrdpConfig: { version: number, updatedAt: string, updatedBy: string, config: { global: { logLevel: XrdpLogLevel, maxConnections: number, useTls: boolean, certificatePath: string | null, keyPath: string | null }, security: { encryptionLevel: XrdpEncryptionLevel, idleTimeout: number, sessionTimeout: number }, performance: { bitmapCache: boolean, compression: boolean } } }, xrdpConfigHistory: Array<{ version: number, updatedAt: string, updatedBy: string, config: { global: { logLevel: XrdpLogLevel, maxConnections: number, useTls: boolean, certificatePath: string | null, keyPath: string | null }, security: { encryptionLevel: XrdpEncryptionLevel, idleTimeout: number, sessionTimeout: number }, performance: { bitmapCache: boolean, compression: boolean } } }> };

export type ConsoleXrdpConfigVersionFragment = { version: number, updatedAt: string, updatedBy: string, config: { global: { logLevel: XrdpLogLevel, maxConnections: number, useTls: boolean, certificatePath: string | null, keyPath: string | null }, security: { encryptionLevel: XrdpEncryptionLevel, idleTimeout: number, sessionTimeout: number }, performance: { bitmapCache: boolean, compression: boolean } } };

export type ConsoleUpdateXrdpConfigMutationVariables = Exact<{
  input: UpdateXrdpConfigInput;
}>;


export type ConsoleUpdateXrdpConfigMutation = { updateXrdpConfig:
    | { __typename: 'ConflictError', code: string, message: string }
    | { __typename: 'UpdateXrdpConfigSuccess', config: { version: number, updatedAt: string, updatedBy: string, config: { global: { logLevel: XrdpLogLevel, maxConnections: number, useTls: boolean, certificatePath: string | null, keyPath: string | null }, security: { encryptionLevel: XrdpEncryptionLevel, idleTimeout: number, sessionTimeout: number }, performance: { bitmapCache: boolean, compression: boolean } } } }
   };

export type ConsoleSessionQueryVariables = Exact<{
  id: string | number;
}>;


export type ConsoleSessionQuery = { session: { id: string, username: string, status: SessionStatus, serverId: string, createdAt: string, server: { name: string } | null } | null };

export type ConsolePoolsQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsolePoolsQuery = { pools: Array<{ id: string, name: string, description: string, placementPolicy: PlacementPolicy, maxSessions: number | null, defaultCredentialMode: CredentialMode | null, liveSessions: number, serverCount: { totalCount: number } }> };

export type ConsolePoolFragment = { id: string, name: string, description: string, placementPolicy: PlacementPolicy, maxSessions: number | null, defaultCredentialMode: CredentialMode | null, liveSessions: number, serverCount: { totalCount: number } };

export type ConsolePoolPageQueryVariables = Exact<{
  id: string | number;
}>;


export type ConsolePoolPageQuery = { pool: { createdAt: string, createdBy: string, id: string, name: string, description: string, placementPolicy: PlacementPolicy, maxSessions: number | null, defaultCredentialMode: CredentialMode | null, liveSessions: number, members: { edges: Array<{ node: { id: string, name: string, status: ServerStatus, host: string, port: number } }> }, assignments: Array<{ id: string, principal: string, principalType: PrincipalType, createdAt: string, createdBy: string }>, serverCount: { totalCount: number } } | null, allServers: { edges: Array<{ node: { id: string, name: string, poolId: string | null } }> } };

export type ConsoleCreatePoolMutationVariables = Exact<{
  input: CreatePoolInput;
}>;


export type ConsoleCreatePoolMutation = { createPool: { __typename: 'CreatePoolSuccess', pool: { id: string, name: string } } };

export type ConsoleUpdatePoolMutationVariables = Exact<{
  id: string | number;
  input: UpdatePoolInput;
}>;


export type ConsoleUpdatePoolMutation = { updatePool:
    | { __typename: 'ConflictError', code: string, message: string }
    | { __typename: 'NotFoundError', code: string, message: string }
    | { __typename: 'UpdatePoolSuccess', pool: { id: string, name: string, description: string, placementPolicy: PlacementPolicy, maxSessions: number | null, defaultCredentialMode: CredentialMode | null, liveSessions: number, serverCount: { totalCount: number } } }
   };

export type ConsoleDeletePoolMutationVariables = Exact<{
  id: string | number;
  force?: boolean | null | undefined;
}>;


export type ConsoleDeletePoolMutation = { deletePool:
    | { __typename: 'ConflictError', code: string, message: string }
    | { __typename: 'DeletePoolSuccess' }
    | { __typename: 'NotFoundError', code: string, message: string }
   };

export type ConsoleSetServerPoolMutationVariables = Exact<{
  serverId: string | number;
  poolId?: string | number | null | undefined;
}>;


export type ConsoleSetServerPoolMutation = { setServerPool:
    | { __typename: 'ConflictError', code: string, message: string }
    | { __typename: 'NotFoundError', code: string, message: string }
    | { __typename: 'SetServerPoolSuccess' }
   };

export type ConsoleAssignMutationVariables = Exact<{
  input: AssignInput;
}>;


export type ConsoleAssignMutation = { assign:
    | { __typename: 'AssignSuccess' }
    | { __typename: 'ConflictError', code: string, message: string }
    | { __typename: 'NotFoundError', code: string, message: string }
   };

export type ConsoleUnassignMutationVariables = Exact<{
  id: string | number;
}>;


export type ConsoleUnassignMutation = { unassign:
    | { __typename: 'NotFoundError', code: string, message: string }
    | { __typename: 'UnassignSuccess' }
   };

export type ConsoleMyPoolsQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleMyPoolsQuery = { viewer: { assignments: Array<{ id: string, targetType: AssignmentTargetType, targetId: string }> }, pools: Array<{ id: string, name: string, description: string }> };

export type ConsoleConnectPoolMutationVariables = Exact<{
  poolId: string | number;
}>;


export type ConsoleConnectPoolMutation = { connect:
    | { __typename: 'ConflictError', code: string, message: string }
    | { __typename: 'ConnectSuccess', reason: string, reconnected: boolean, server: { name: string }, connection: { host: string, port: number, username: string, password: string | null, expiresAt: string, rdpFile: string } }
    | { __typename: 'LimitExceededError', code: string, message: string }
    | { __typename: 'NotFoundError', code: string, message: string }
    | { __typename: 'ServerDrainingError', code: string, message: string }
   };

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
  usage {
    at
    cpuPercent
    memoryPercent
  }
}
    `, {"fragmentName":"FleetServer"}) as unknown as TypedDocumentString<FleetServerFragment, unknown>;
export const ConsoleHostFragmentDoc = new TypedDocumentString(`
    fragment ConsoleHost on Host {
  id
  name
  status
  draining
  rdpAddress
  agentVersion
  serverCount
  freeCapacity
  lastHeartbeatAt
  labels {
    key
    value
  }
  capacity {
    cpuCount
    memoryMb
    maxServers
  }
  portRange {
    from
    to
  }
  usage {
    at
    cpuPercent
    memoryPercent
  }
}
    `, {"fragmentName":"ConsoleHost"}) as unknown as TypedDocumentString<ConsoleHostFragment, unknown>;
export const ConsoleXrdpConfigVersionFragmentDoc = new TypedDocumentString(`
    fragment ConsoleXrdpConfigVersion on XrdpConfigVersion {
  version
  updatedAt
  updatedBy
  config {
    global {
      logLevel
      maxConnections
      useTls
      certificatePath
      keyPath
    }
    security {
      encryptionLevel
      idleTimeout
      sessionTimeout
    }
    performance {
      bitmapCache
      compression
    }
  }
}
    `, {"fragmentName":"ConsoleXrdpConfigVersion"}) as unknown as TypedDocumentString<ConsoleXrdpConfigVersionFragment, unknown>;
export const ConsolePoolFragmentDoc = new TypedDocumentString(`
    fragment ConsolePool on Pool {
  id
  name
  description
  placementPolicy
  maxSessions
  defaultCredentialMode
  liveSessions
  serverCount: servers(first: 1) {
    totalCount
  }
}
    `, {"fragmentName":"ConsolePool"}) as unknown as TypedDocumentString<ConsolePoolFragment, unknown>;
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
  usage {
    at
    cpuPercent
    memoryPercent
  }
}`, {"hash":"sha256:c5c43ee12f2235471bfb86ae8c0f98dd3b6191f5cb83ba285a03cba16a507f6f"}) as unknown as TypedDocumentString<ConsoleFleetQuery, ConsoleFleetQueryVariables>;
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
  usage {
    at
    cpuPercent
    memoryPercent
  }
}`, {"hash":"sha256:2c1d997c88bec78a6604d81f49d5c959f7817d73e797ca4aa20c1ac7c4041759"}) as unknown as TypedDocumentString<ConsoleServerQuery, ConsoleServerQueryVariables>;
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
  usage {
    at
    cpuPercent
    memoryPercent
  }
}`, {"hash":"sha256:b00d93a07efe0f142954bac0280336236778aa8fc20b82c63b4d010ed865ba18"}) as unknown as TypedDocumentString<ConsoleServerEventsSubscription, ConsoleServerEventsSubscriptionVariables>;
export const ConsoleFleetEventsDocument = new TypedDocumentString(`
    subscription ConsoleFleetEvents {
  fleetEvents {
    kind
    at
    activeSessions
    disconnectedSessions
    server {
      id
      name
      owner
      host
      port
      status
      statusMessage
      updatedAt
    }
  }
}
    `, {"hash":"sha256:cd1548717606ea8762a710c1741cf52fa666272361da0cc9f704390cb204de55"}) as unknown as TypedDocumentString<ConsoleFleetEventsSubscription, ConsoleFleetEventsSubscriptionVariables>;
export const ConsoleFleetUsageDocument = new TypedDocumentString(`
    subscription ConsoleFleetUsage {
  fleetUsage {
    kind
    at
    samples {
      subjectId
      at
      cpuPercent
      memoryPercent
    }
  }
}
    `, {"hash":"sha256:b0821119a767c90cad24ba91f969677e311f4e92ce9f39f412800ee9a8795c1e"}) as unknown as TypedDocumentString<ConsoleFleetUsageSubscription, ConsoleFleetUsageSubscriptionVariables>;
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
  usage {
    at
    cpuPercent
    memoryPercent
  }
}`, {"hash":"sha256:493e341277d14c8bb7f9c2a2dffb12e9d6039c9ccadc2e17c198360c2f2469a9"}) as unknown as TypedDocumentString<ConsoleCreateServerMutation, ConsoleCreateServerMutationVariables>;
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
  usage {
    at
    cpuPercent
    memoryPercent
  }
}`, {"hash":"sha256:da06467a5e323cc9286df5310cb38f3d8ff020b15e070037ace6b430f46c3ac3"}) as unknown as TypedDocumentString<ConsoleStartServerMutation, ConsoleStartServerMutationVariables>;
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
  usage {
    at
    cpuPercent
    memoryPercent
  }
}`, {"hash":"sha256:aa47554bd0a70b9884eaa0d51dd9a7d23176ec183f45ce5a4c8b2962eac289f3"}) as unknown as TypedDocumentString<ConsoleStopServerMutation, ConsoleStopServerMutationVariables>;
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
export const ConsoleRestartServerDocument = new TypedDocumentString(`
    mutation ConsoleRestartServer($id: ID!) {
  restartServer(id: $id, force: true) {
    __typename
    ... on RestartServerSuccess {
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
  usage {
    at
    cpuPercent
    memoryPercent
  }
}`, {"hash":"sha256:7311d85e15443c21f77d8cbd7a7dcf8a3b7a1e60b079f251d8d3d522e1d45834"}) as unknown as TypedDocumentString<ConsoleRestartServerMutation, ConsoleRestartServerMutationVariables>;
export const ConsoleUsageDocument = new TypedDocumentString(`
    query ConsoleUsage($subjectId: ID!, $window: UsageWindow) {
  resourceUsage(subjectId: $subjectId, window: $window) {
    subjectId
    subjectKind
    window
    from
    to
    points {
      at
      cpuPercent
      memoryPercent
      networkInKbps
      networkOutKbps
    }
  }
}
    `, {"hash":"sha256:5b269e345e8ae20c69e5d5ebe3e6b5992f3a14f5b2632a18bf65cdaa9b1688a8"}) as unknown as TypedDocumentString<ConsoleUsageQuery, ConsoleUsageQueryVariables>;
export const ConsoleUsageLiveDocument = new TypedDocumentString(`
    subscription ConsoleUsageLive($subjectId: ID!) {
  resourceUsage(subjectId: $subjectId) {
    kind
    sample {
      at
      cpuPercent
      memoryPercent
      networkInKbps
      networkOutKbps
    }
  }
}
    `, {"hash":"sha256:c84adf2226ab4f99acf8b76b1c6ff26b96ac3689c90a0d3431638683a2900525"}) as unknown as TypedDocumentString<ConsoleUsageLiveSubscription, ConsoleUsageLiveSubscriptionVariables>;
export const ConsoleHostsDocument = new TypedDocumentString(`
    query ConsoleHosts {
  hosts {
    ...ConsoleHost
  }
}
    fragment ConsoleHost on Host {
  id
  name
  status
  draining
  rdpAddress
  agentVersion
  serverCount
  freeCapacity
  lastHeartbeatAt
  labels {
    key
    value
  }
  capacity {
    cpuCount
    memoryMb
    maxServers
  }
  portRange {
    from
    to
  }
  usage {
    at
    cpuPercent
    memoryPercent
  }
}`, {"hash":"sha256:dc2e31fcb590ae0ecacf9efa0c884d0546f15ea2ba288780ace967657fc30ed8"}) as unknown as TypedDocumentString<ConsoleHostsQuery, ConsoleHostsQueryVariables>;
export const ConsoleHostOneDocument = new TypedDocumentString(`
    query ConsoleHostOne($id: ID!) {
  host(id: $id) {
    ...ConsoleHost
    servers(first: 100) {
      totalCount
      edges {
        node {
          id
          name
          status
          port
        }
      }
    }
  }
}
    fragment ConsoleHost on Host {
  id
  name
  status
  draining
  rdpAddress
  agentVersion
  serverCount
  freeCapacity
  lastHeartbeatAt
  labels {
    key
    value
  }
  capacity {
    cpuCount
    memoryMb
    maxServers
  }
  portRange {
    from
    to
  }
  usage {
    at
    cpuPercent
    memoryPercent
  }
}`, {"hash":"sha256:c438dc5c8ac51e8831dd7e6a62770e802fba44bdf051c2c591ccaf6831f8398c"}) as unknown as TypedDocumentString<ConsoleHostOneQuery, ConsoleHostOneQueryVariables>;
export const ConsoleHostEventsDocument = new TypedDocumentString(`
    subscription ConsoleHostEvents($hostId: ID) {
  hostEvents(hostId: $hostId) {
    kind
    host {
      ...ConsoleHost
    }
  }
}
    fragment ConsoleHost on Host {
  id
  name
  status
  draining
  rdpAddress
  agentVersion
  serverCount
  freeCapacity
  lastHeartbeatAt
  labels {
    key
    value
  }
  capacity {
    cpuCount
    memoryMb
    maxServers
  }
  portRange {
    from
    to
  }
  usage {
    at
    cpuPercent
    memoryPercent
  }
}`, {"hash":"sha256:21eee13e5e45d4790856d22b863ad642a79be5b8f82d8a2b2f8ed8dc700a8d31"}) as unknown as TypedDocumentString<ConsoleHostEventsSubscription, ConsoleHostEventsSubscriptionVariables>;
export const ConsoleSetHostDrainDocument = new TypedDocumentString(`
    mutation ConsoleSetHostDrain($hostId: ID!, $drain: Boolean!) {
  setHostDrain(hostId: $hostId, drain: $drain) {
    __typename
    ... on SetHostDrainSuccess {
      host {
        ...ConsoleHost
      }
    }
    ... on Error {
      code
      message
    }
  }
}
    fragment ConsoleHost on Host {
  id
  name
  status
  draining
  rdpAddress
  agentVersion
  serverCount
  freeCapacity
  lastHeartbeatAt
  labels {
    key
    value
  }
  capacity {
    cpuCount
    memoryMb
    maxServers
  }
  portRange {
    from
    to
  }
  usage {
    at
    cpuPercent
    memoryPercent
  }
}`, {"hash":"sha256:a8cb9dc513db55673fa2e2fcea44cbc6493da5937c6da8969c51d62af390d442"}) as unknown as TypedDocumentString<ConsoleSetHostDrainMutation, ConsoleSetHostDrainMutationVariables>;
export const ConsoleLiveStatusDocument = new TypedDocumentString(`
    subscription ConsoleLiveStatus {
  liveStatus {
    eventBus
  }
}
    `, {"hash":"sha256:280d95b486b6d338e7b52fcfaa684fa089a42be7dcc166fac8c00a839d852f6b"}) as unknown as TypedDocumentString<ConsoleLiveStatusSubscription, ConsoleLiveStatusSubscriptionVariables>;
export const ConsoleServerLogsDocument = new TypedDocumentString(`
    subscription ConsoleServerLogs($serverId: ID!, $level: XrdpLogLevel) {
  serverLogs(serverId: $serverId, last: 200, level: $level) {
    kind
    lines {
      time
      level
      pid
      message
    }
  }
}
    `, {"hash":"sha256:5572d7aa562e497ee18db13aa48e0563498472f55615cdc91d74572ce32765f7"}) as unknown as TypedDocumentString<ConsoleServerLogsSubscription, ConsoleServerLogsSubscriptionVariables>;
export const ConsoleXrdpConfigDocument = new TypedDocumentString(`
    query ConsoleXrdpConfig {
  xrdpConfig {
    ...ConsoleXrdpConfigVersion
  }
  xrdpConfigHistory(last: 20) {
    ...ConsoleXrdpConfigVersion
  }
}
    fragment ConsoleXrdpConfigVersion on XrdpConfigVersion {
  version
  updatedAt
  updatedBy
  config {
    global {
      logLevel
      maxConnections
      useTls
      certificatePath
      keyPath
    }
    security {
      encryptionLevel
      idleTimeout
      sessionTimeout
    }
    performance {
      bitmapCache
      compression
    }
  }
}`, {"hash":"sha256:eb2e15dece1d50f06cff5f3b7dbbcd1805fc2ff07c8a842c32e1f78c02f1d791"}) as unknown as TypedDocumentString<ConsoleXrdpConfigQuery, ConsoleXrdpConfigQueryVariables>;
export const ConsoleUpdateXrdpConfigDocument = new TypedDocumentString(`
    mutation ConsoleUpdateXrdpConfig($input: UpdateXrdpConfigInput!) {
  updateXrdpConfig(input: $input) {
    __typename
    ... on UpdateXrdpConfigSuccess {
      config {
        ...ConsoleXrdpConfigVersion
      }
    }
    ... on Error {
      code
      message
    }
  }
}
    fragment ConsoleXrdpConfigVersion on XrdpConfigVersion {
  version
  updatedAt
  updatedBy
  config {
    global {
      logLevel
      maxConnections
      useTls
      certificatePath
      keyPath
    }
    security {
      encryptionLevel
      idleTimeout
      sessionTimeout
    }
    performance {
      bitmapCache
      compression
    }
  }
}`, {"hash":"sha256:c0314801fcb2b0812595adc433f74c98398da3ff67dd55ea4618f3c9a3044eec"}) as unknown as TypedDocumentString<ConsoleUpdateXrdpConfigMutation, ConsoleUpdateXrdpConfigMutationVariables>;
export const ConsoleSessionDocument = new TypedDocumentString(`
    query ConsoleSession($id: ID!) {
  session(id: $id) {
    id
    username
    status
    serverId
    createdAt
    server {
      name
    }
  }
}
    `, {"hash":"sha256:7671bb1fa9f2d021f3b0d66efffa3a14bda769a1572ee930853a83ee21c6c8c4"}) as unknown as TypedDocumentString<ConsoleSessionQuery, ConsoleSessionQueryVariables>;
export const ConsolePoolsDocument = new TypedDocumentString(`
    query ConsolePools {
  pools {
    ...ConsolePool
  }
}
    fragment ConsolePool on Pool {
  id
  name
  description
  placementPolicy
  maxSessions
  defaultCredentialMode
  liveSessions
  serverCount: servers(first: 1) {
    totalCount
  }
}`, {"hash":"sha256:c5e820fb541d903aae9110b06f9a8842926d440b53bac179fb275e5193e707ff"}) as unknown as TypedDocumentString<ConsolePoolsQuery, ConsolePoolsQueryVariables>;
export const ConsolePoolPageDocument = new TypedDocumentString(`
    query ConsolePoolPage($id: ID!) {
  pool(id: $id) {
    ...ConsolePool
    createdAt
    createdBy
    members: servers(first: 100) {
      edges {
        node {
          id
          name
          status
          host
          port
        }
      }
    }
    assignments {
      id
      principal
      principalType
      createdAt
      createdBy
    }
  }
  allServers: servers(first: 100) {
    edges {
      node {
        id
        name
        poolId
      }
    }
  }
}
    fragment ConsolePool on Pool {
  id
  name
  description
  placementPolicy
  maxSessions
  defaultCredentialMode
  liveSessions
  serverCount: servers(first: 1) {
    totalCount
  }
}`, {"hash":"sha256:04eabc6149f39c1759504c57b2e4ee3542e090c1eb219c150c0304c54b5ad2f7"}) as unknown as TypedDocumentString<ConsolePoolPageQuery, ConsolePoolPageQueryVariables>;
export const ConsoleCreatePoolDocument = new TypedDocumentString(`
    mutation ConsoleCreatePool($input: CreatePoolInput!) {
  createPool(input: $input) {
    __typename
    ... on CreatePoolSuccess {
      pool {
        id
        name
      }
    }
  }
}
    `, {"hash":"sha256:84dd71cf96a85b9efa9dfe8bdf360384be4bac0466984ecd295c58e822d77120"}) as unknown as TypedDocumentString<ConsoleCreatePoolMutation, ConsoleCreatePoolMutationVariables>;
export const ConsoleUpdatePoolDocument = new TypedDocumentString(`
    mutation ConsoleUpdatePool($id: ID!, $input: UpdatePoolInput!) {
  updatePool(id: $id, input: $input) {
    __typename
    ... on UpdatePoolSuccess {
      pool {
        ...ConsolePool
      }
    }
    ... on Error {
      code
      message
    }
  }
}
    fragment ConsolePool on Pool {
  id
  name
  description
  placementPolicy
  maxSessions
  defaultCredentialMode
  liveSessions
  serverCount: servers(first: 1) {
    totalCount
  }
}`, {"hash":"sha256:9be5c5fcef73d2663abf07c283664a5003be1fcd30601128b2b2dfee5610dda3"}) as unknown as TypedDocumentString<ConsoleUpdatePoolMutation, ConsoleUpdatePoolMutationVariables>;
export const ConsoleDeletePoolDocument = new TypedDocumentString(`
    mutation ConsoleDeletePool($id: ID!, $force: Boolean) {
  deletePool(id: $id, force: $force) {
    __typename
    ... on Error {
      code
      message
    }
  }
}
    `, {"hash":"sha256:20b7dbb8ce52fae905a47f19031fc00e8822078705fb27fa4c0357f1d4b08829"}) as unknown as TypedDocumentString<ConsoleDeletePoolMutation, ConsoleDeletePoolMutationVariables>;
export const ConsoleSetServerPoolDocument = new TypedDocumentString(`
    mutation ConsoleSetServerPool($serverId: ID!, $poolId: ID) {
  setServerPool(serverId: $serverId, poolId: $poolId) {
    __typename
    ... on Error {
      code
      message
    }
  }
}
    `, {"hash":"sha256:e9be6d446f114a73525e98594dd4f03d69ddbcd42d3520717109e02d5589faf7"}) as unknown as TypedDocumentString<ConsoleSetServerPoolMutation, ConsoleSetServerPoolMutationVariables>;
export const ConsoleAssignDocument = new TypedDocumentString(`
    mutation ConsoleAssign($input: AssignInput!) {
  assign(input: $input) {
    __typename
    ... on Error {
      code
      message
    }
  }
}
    `, {"hash":"sha256:534b69cb6aa78bc8ef18096ff368138025f0f769c5194393fbbf10c6153368b3"}) as unknown as TypedDocumentString<ConsoleAssignMutation, ConsoleAssignMutationVariables>;
export const ConsoleUnassignDocument = new TypedDocumentString(`
    mutation ConsoleUnassign($id: ID!) {
  unassign(id: $id) {
    __typename
    ... on Error {
      code
      message
    }
  }
}
    `, {"hash":"sha256:186de2494acddfecf2aadf9a6bd75a4771d3608ae4c27e04e6a315ac8a559e46"}) as unknown as TypedDocumentString<ConsoleUnassignMutation, ConsoleUnassignMutationVariables>;
export const ConsoleMyPoolsDocument = new TypedDocumentString(`
    query ConsoleMyPools {
  viewer {
    assignments {
      id
      targetType
      targetId
    }
  }
  pools {
    id
    name
    description
  }
}
    `, {"hash":"sha256:f8df38f83a7f2e559c8164e083767bf08291d2dc3aeeb3198fd30489a37e311a"}) as unknown as TypedDocumentString<ConsoleMyPoolsQuery, ConsoleMyPoolsQueryVariables>;
export const ConsoleConnectPoolDocument = new TypedDocumentString(`
    mutation ConsoleConnectPool($poolId: ID!) {
  connect(input: {poolId: $poolId}) {
    __typename
    ... on ConnectSuccess {
      reason
      reconnected
      server {
        name
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
    `, {"hash":"sha256:72ecac7ebd1615bb942d18e061a5ebcb7906df31e9688a9ad2dbe4c727086b78"}) as unknown as TypedDocumentString<ConsoleConnectPoolMutation, ConsoleConnectPoolMutationVariables>;