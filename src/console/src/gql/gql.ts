/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query ConsoleViewer {\n    viewer { userId username roles }\n  }\n": typeof types.ConsoleViewerDocument,
    "\n  query ConsoleFleet($first: Int, $after: String) {\n    servers(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { ...FleetServer } }\n    }\n  }\n  fragment FleetServer on RdpServer {\n    id name owner host port status statusMessage updatedAt\n    sessions { id }\n    usage { at cpuPercent memoryPercent }\n  }\n": typeof types.ConsoleFleetDocument,
    "\n  query ConsoleServer($id: ID!) {\n    server(id: $id) {\n      ...FleetServer\n      description createdAt createdBy lastStartedAt lastStoppedAt uptimeSeconds\n      sessions { id username status owner createdAt }\n    }\n  }\n": typeof types.ConsoleServerDocument,
    "\n  subscription ConsoleServerEvents($serverId: ID!) {\n    serverEvents(serverId: $serverId) { kind server { ...FleetServer } }\n  }\n": typeof types.ConsoleServerEventsDocument,
    "\n  subscription ConsoleFleetEvents {\n    fleetEvents {\n      kind at activeSessions disconnectedSessions\n      server { id name owner host port status statusMessage updatedAt }\n    }\n  }\n": typeof types.ConsoleFleetEventsDocument,
    "\n  subscription ConsoleFleetUsage {\n    fleetUsage {\n      kind at\n      samples { subjectId at cpuPercent memoryPercent }\n    }\n  }\n": typeof types.ConsoleFleetUsageDocument,
    "\n  mutation ConsoleCreateServer($name: String!) {\n    createServer(input: { name: $name }) {\n      __typename\n      ... on CreateServerSuccess { server { ...FleetServer } }\n      ... on Error { code message }\n    }\n  }\n": typeof types.ConsoleCreateServerDocument,
    "\n  mutation ConsoleStartServer($id: ID!) {\n    startServer(id: $id) {\n      __typename\n      ... on StartServerSuccess { server { ...FleetServer } }\n      ... on Error { code message }\n    }\n  }\n": typeof types.ConsoleStartServerDocument,
    "\n  mutation ConsoleStopServer($id: ID!) {\n    stopServer(id: $id, force: true) {\n      __typename\n      ... on StopServerSuccess { server { ...FleetServer } }\n      ... on Error { code message }\n    }\n  }\n": typeof types.ConsoleStopServerDocument,
    "\n  query ConsoleSessions($first: Int) {\n    sessions(first: $first) {\n      totalCount\n      edges { node { id username owner status serverId createdAt server { name } } }\n    }\n  }\n": typeof types.ConsoleSessionsDocument,
    "\n  mutation ConsoleCreateSession($serverId: ID!) {\n    createSession(input: { serverId: $serverId }) {\n      __typename\n      ... on CreateSessionSuccess {\n        session { id status }\n        connection { host port username password expiresAt rdpFile }\n      }\n      ... on Error { code message }\n    }\n  }\n": typeof types.ConsoleCreateSessionDocument,
    "\n  mutation ConsoleTerminateSession($id: ID!) {\n    terminateSession(id: $id, force: true) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n": typeof types.ConsoleTerminateSessionDocument,
    "\n  query ConsoleAlerts {\n    alerts(first: 50) {\n      edges { node { id severity message resource subjectId resolved createdAt } }\n    }\n  }\n": typeof types.ConsoleAlertsDocument,
    "\n  subscription ConsoleAlertEvents {\n    alertEvents { kind alert { id } }\n  }\n": typeof types.ConsoleAlertEventsDocument,
    "\n  mutation ConsoleResolveAlert($id: ID!) {\n    resolveAlert(id: $id) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n": typeof types.ConsoleResolveAlertDocument,
    "\n  query ConsoleAudit($action: String) {\n    auditEvents(first: 50, filter: { action: $action }) {\n      edges { node { id time action result actor { userId name ip } target { type id name } } }\n    }\n  }\n": typeof types.ConsoleAuditDocument,
    "\n  query ConsoleLimits {\n    resourceLimits {\n      version updatedAt updatedBy\n      perUser { maxSessions }\n      global { maxServers maxSessions maxTotalCpu maxTotalMemory }\n    }\n  }\n": typeof types.ConsoleLimitsDocument,
    "\n  mutation ConsoleRestartServer($id: ID!) {\n    restartServer(id: $id, force: true) {\n      __typename\n      ... on RestartServerSuccess { server { ...FleetServer } }\n      ... on Error { code message }\n    }\n  }\n": typeof types.ConsoleRestartServerDocument,
    "\n  query ConsoleUsage($subjectId: ID!, $window: UsageWindow) {\n    resourceUsage(subjectId: $subjectId, window: $window) {\n      subjectId subjectKind window from to\n      points { at cpuPercent memoryPercent networkInKbps networkOutKbps }\n    }\n  }\n": typeof types.ConsoleUsageDocument,
    "\n  subscription ConsoleUsageLive($subjectId: ID!) {\n    resourceUsage(subjectId: $subjectId) {\n      kind\n      sample { at cpuPercent memoryPercent networkInKbps networkOutKbps }\n    }\n  }\n": typeof types.ConsoleUsageLiveDocument,
    "\n  query ConsoleHosts {\n    hosts { ...ConsoleHost }\n  }\n  fragment ConsoleHost on Host {\n    id name status draining rdpAddress agentVersion serverCount freeCapacity lastHeartbeatAt\n    labels { key value }\n    capacity { cpuCount memoryMb maxServers }\n    portRange { from to }\n    usage { at cpuPercent memoryPercent }\n  }\n": typeof types.ConsoleHostsDocument,
    "\n  query ConsoleHostOne($id: ID!) {\n    host(id: $id) {\n      ...ConsoleHost\n      servers(first: 100) { totalCount edges { node { id name status port } } }\n    }\n  }\n": typeof types.ConsoleHostOneDocument,
    "\n  subscription ConsoleHostEvents($hostId: ID) {\n    hostEvents(hostId: $hostId) { kind host { ...ConsoleHost } }\n  }\n": typeof types.ConsoleHostEventsDocument,
    "\n  mutation ConsoleSetHostDrain($hostId: ID!, $drain: Boolean!) {\n    setHostDrain(hostId: $hostId, drain: $drain) {\n      __typename\n      ... on SetHostDrainSuccess { host { ...ConsoleHost } }\n      ... on Error { code message }\n    }\n  }\n": typeof types.ConsoleSetHostDrainDocument,
    "\n  subscription ConsoleLiveStatus {\n    liveStatus { eventBus }\n  }\n": typeof types.ConsoleLiveStatusDocument,
    "\n  subscription ConsoleServerLogs($serverId: ID!, $level: XrdpLogLevel) {\n    serverLogs(serverId: $serverId, last: 200, level: $level) {\n      kind\n      lines { time level pid message }\n    }\n  }\n": typeof types.ConsoleServerLogsDocument,
    "\n  query ConsoleXrdpConfig {\n    xrdpConfig { ...ConsoleXrdpConfigVersion }\n    xrdpConfigHistory(last: 20) { ...ConsoleXrdpConfigVersion }\n  }\n  fragment ConsoleXrdpConfigVersion on XrdpConfigVersion {\n    version updatedAt updatedBy\n    config {\n      global { logLevel maxConnections useTls certificatePath keyPath }\n      security { encryptionLevel idleTimeout sessionTimeout }\n      performance { bitmapCache compression }\n    }\n  }\n": typeof types.ConsoleXrdpConfigDocument,
    "\n  mutation ConsoleUpdateXrdpConfig($input: UpdateXrdpConfigInput!) {\n    updateXrdpConfig(input: $input) {\n      __typename\n      ... on UpdateXrdpConfigSuccess { config { ...ConsoleXrdpConfigVersion } }\n      ... on Error { code message }\n    }\n  }\n": typeof types.ConsoleUpdateXrdpConfigDocument,
    "\n  query ConsoleSession($id: ID!) {\n    session(id: $id) { id username status serverId createdAt server { name } }\n  }\n": typeof types.ConsoleSessionDocument,
    "\n  query ConsolePools {\n    pools { ...ConsolePool }\n  }\n  fragment ConsolePool on Pool {\n    id name description placementPolicy maxSessions defaultCredentialMode liveSessions\n    serverCount: servers(first: 1) { totalCount }\n  }\n": typeof types.ConsolePoolsDocument,
    "\n  query ConsolePoolPage($id: ID!) {\n    pool(id: $id) {\n      ...ConsolePool\n      createdAt createdBy\n      members: servers(first: 100) { edges { node { id name status host port } } }\n      assignments { id principal principalType createdAt createdBy }\n    }\n    allServers: servers(first: 100) { edges { node { id name poolId } } }\n  }\n": typeof types.ConsolePoolPageDocument,
    "\n  mutation ConsoleCreatePool($input: CreatePoolInput!) {\n    createPool(input: $input) {\n      __typename\n      ... on CreatePoolSuccess { pool { id name } }\n    }\n  }\n": typeof types.ConsoleCreatePoolDocument,
    "\n  mutation ConsoleUpdatePool($id: ID!, $input: UpdatePoolInput!) {\n    updatePool(id: $id, input: $input) {\n      __typename\n      ... on UpdatePoolSuccess { pool { ...ConsolePool } }\n      ... on Error { code message }\n    }\n  }\n": typeof types.ConsoleUpdatePoolDocument,
    "\n  mutation ConsoleDeletePool($id: ID!, $force: Boolean) {\n    deletePool(id: $id, force: $force) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n": typeof types.ConsoleDeletePoolDocument,
    "\n  mutation ConsoleSetServerPool($serverId: ID!, $poolId: ID) {\n    setServerPool(serverId: $serverId, poolId: $poolId) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n": typeof types.ConsoleSetServerPoolDocument,
    "\n  mutation ConsoleAssign($input: AssignInput!) {\n    assign(input: $input) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n": typeof types.ConsoleAssignDocument,
    "\n  mutation ConsoleUnassign($id: ID!) {\n    unassign(id: $id) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n": typeof types.ConsoleUnassignDocument,
    "\n  query ConsoleMyPools {\n    viewer { assignments { id targetType targetId } }\n    pools { id name description }\n  }\n": typeof types.ConsoleMyPoolsDocument,
    "\n  mutation ConsoleConnectPool($poolId: ID!) {\n    connect(input: { poolId: $poolId }) {\n      __typename\n      ... on ConnectSuccess {\n        reason reconnected\n        server { name }\n        connection { host port username password expiresAt rdpFile }\n      }\n      ... on Error { code message }\n    }\n  }\n": typeof types.ConsoleConnectPoolDocument,
};
const documents: Documents = {
    "\n  query ConsoleViewer {\n    viewer { userId username roles }\n  }\n": types.ConsoleViewerDocument,
    "\n  query ConsoleFleet($first: Int, $after: String) {\n    servers(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { ...FleetServer } }\n    }\n  }\n  fragment FleetServer on RdpServer {\n    id name owner host port status statusMessage updatedAt\n    sessions { id }\n    usage { at cpuPercent memoryPercent }\n  }\n": types.ConsoleFleetDocument,
    "\n  query ConsoleServer($id: ID!) {\n    server(id: $id) {\n      ...FleetServer\n      description createdAt createdBy lastStartedAt lastStoppedAt uptimeSeconds\n      sessions { id username status owner createdAt }\n    }\n  }\n": types.ConsoleServerDocument,
    "\n  subscription ConsoleServerEvents($serverId: ID!) {\n    serverEvents(serverId: $serverId) { kind server { ...FleetServer } }\n  }\n": types.ConsoleServerEventsDocument,
    "\n  subscription ConsoleFleetEvents {\n    fleetEvents {\n      kind at activeSessions disconnectedSessions\n      server { id name owner host port status statusMessage updatedAt }\n    }\n  }\n": types.ConsoleFleetEventsDocument,
    "\n  subscription ConsoleFleetUsage {\n    fleetUsage {\n      kind at\n      samples { subjectId at cpuPercent memoryPercent }\n    }\n  }\n": types.ConsoleFleetUsageDocument,
    "\n  mutation ConsoleCreateServer($name: String!) {\n    createServer(input: { name: $name }) {\n      __typename\n      ... on CreateServerSuccess { server { ...FleetServer } }\n      ... on Error { code message }\n    }\n  }\n": types.ConsoleCreateServerDocument,
    "\n  mutation ConsoleStartServer($id: ID!) {\n    startServer(id: $id) {\n      __typename\n      ... on StartServerSuccess { server { ...FleetServer } }\n      ... on Error { code message }\n    }\n  }\n": types.ConsoleStartServerDocument,
    "\n  mutation ConsoleStopServer($id: ID!) {\n    stopServer(id: $id, force: true) {\n      __typename\n      ... on StopServerSuccess { server { ...FleetServer } }\n      ... on Error { code message }\n    }\n  }\n": types.ConsoleStopServerDocument,
    "\n  query ConsoleSessions($first: Int) {\n    sessions(first: $first) {\n      totalCount\n      edges { node { id username owner status serverId createdAt server { name } } }\n    }\n  }\n": types.ConsoleSessionsDocument,
    "\n  mutation ConsoleCreateSession($serverId: ID!) {\n    createSession(input: { serverId: $serverId }) {\n      __typename\n      ... on CreateSessionSuccess {\n        session { id status }\n        connection { host port username password expiresAt rdpFile }\n      }\n      ... on Error { code message }\n    }\n  }\n": types.ConsoleCreateSessionDocument,
    "\n  mutation ConsoleTerminateSession($id: ID!) {\n    terminateSession(id: $id, force: true) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n": types.ConsoleTerminateSessionDocument,
    "\n  query ConsoleAlerts {\n    alerts(first: 50) {\n      edges { node { id severity message resource subjectId resolved createdAt } }\n    }\n  }\n": types.ConsoleAlertsDocument,
    "\n  subscription ConsoleAlertEvents {\n    alertEvents { kind alert { id } }\n  }\n": types.ConsoleAlertEventsDocument,
    "\n  mutation ConsoleResolveAlert($id: ID!) {\n    resolveAlert(id: $id) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n": types.ConsoleResolveAlertDocument,
    "\n  query ConsoleAudit($action: String) {\n    auditEvents(first: 50, filter: { action: $action }) {\n      edges { node { id time action result actor { userId name ip } target { type id name } } }\n    }\n  }\n": types.ConsoleAuditDocument,
    "\n  query ConsoleLimits {\n    resourceLimits {\n      version updatedAt updatedBy\n      perUser { maxSessions }\n      global { maxServers maxSessions maxTotalCpu maxTotalMemory }\n    }\n  }\n": types.ConsoleLimitsDocument,
    "\n  mutation ConsoleRestartServer($id: ID!) {\n    restartServer(id: $id, force: true) {\n      __typename\n      ... on RestartServerSuccess { server { ...FleetServer } }\n      ... on Error { code message }\n    }\n  }\n": types.ConsoleRestartServerDocument,
    "\n  query ConsoleUsage($subjectId: ID!, $window: UsageWindow) {\n    resourceUsage(subjectId: $subjectId, window: $window) {\n      subjectId subjectKind window from to\n      points { at cpuPercent memoryPercent networkInKbps networkOutKbps }\n    }\n  }\n": types.ConsoleUsageDocument,
    "\n  subscription ConsoleUsageLive($subjectId: ID!) {\n    resourceUsage(subjectId: $subjectId) {\n      kind\n      sample { at cpuPercent memoryPercent networkInKbps networkOutKbps }\n    }\n  }\n": types.ConsoleUsageLiveDocument,
    "\n  query ConsoleHosts {\n    hosts { ...ConsoleHost }\n  }\n  fragment ConsoleHost on Host {\n    id name status draining rdpAddress agentVersion serverCount freeCapacity lastHeartbeatAt\n    labels { key value }\n    capacity { cpuCount memoryMb maxServers }\n    portRange { from to }\n    usage { at cpuPercent memoryPercent }\n  }\n": types.ConsoleHostsDocument,
    "\n  query ConsoleHostOne($id: ID!) {\n    host(id: $id) {\n      ...ConsoleHost\n      servers(first: 100) { totalCount edges { node { id name status port } } }\n    }\n  }\n": types.ConsoleHostOneDocument,
    "\n  subscription ConsoleHostEvents($hostId: ID) {\n    hostEvents(hostId: $hostId) { kind host { ...ConsoleHost } }\n  }\n": types.ConsoleHostEventsDocument,
    "\n  mutation ConsoleSetHostDrain($hostId: ID!, $drain: Boolean!) {\n    setHostDrain(hostId: $hostId, drain: $drain) {\n      __typename\n      ... on SetHostDrainSuccess { host { ...ConsoleHost } }\n      ... on Error { code message }\n    }\n  }\n": types.ConsoleSetHostDrainDocument,
    "\n  subscription ConsoleLiveStatus {\n    liveStatus { eventBus }\n  }\n": types.ConsoleLiveStatusDocument,
    "\n  subscription ConsoleServerLogs($serverId: ID!, $level: XrdpLogLevel) {\n    serverLogs(serverId: $serverId, last: 200, level: $level) {\n      kind\n      lines { time level pid message }\n    }\n  }\n": types.ConsoleServerLogsDocument,
    "\n  query ConsoleXrdpConfig {\n    xrdpConfig { ...ConsoleXrdpConfigVersion }\n    xrdpConfigHistory(last: 20) { ...ConsoleXrdpConfigVersion }\n  }\n  fragment ConsoleXrdpConfigVersion on XrdpConfigVersion {\n    version updatedAt updatedBy\n    config {\n      global { logLevel maxConnections useTls certificatePath keyPath }\n      security { encryptionLevel idleTimeout sessionTimeout }\n      performance { bitmapCache compression }\n    }\n  }\n": types.ConsoleXrdpConfigDocument,
    "\n  mutation ConsoleUpdateXrdpConfig($input: UpdateXrdpConfigInput!) {\n    updateXrdpConfig(input: $input) {\n      __typename\n      ... on UpdateXrdpConfigSuccess { config { ...ConsoleXrdpConfigVersion } }\n      ... on Error { code message }\n    }\n  }\n": types.ConsoleUpdateXrdpConfigDocument,
    "\n  query ConsoleSession($id: ID!) {\n    session(id: $id) { id username status serverId createdAt server { name } }\n  }\n": types.ConsoleSessionDocument,
    "\n  query ConsolePools {\n    pools { ...ConsolePool }\n  }\n  fragment ConsolePool on Pool {\n    id name description placementPolicy maxSessions defaultCredentialMode liveSessions\n    serverCount: servers(first: 1) { totalCount }\n  }\n": types.ConsolePoolsDocument,
    "\n  query ConsolePoolPage($id: ID!) {\n    pool(id: $id) {\n      ...ConsolePool\n      createdAt createdBy\n      members: servers(first: 100) { edges { node { id name status host port } } }\n      assignments { id principal principalType createdAt createdBy }\n    }\n    allServers: servers(first: 100) { edges { node { id name poolId } } }\n  }\n": types.ConsolePoolPageDocument,
    "\n  mutation ConsoleCreatePool($input: CreatePoolInput!) {\n    createPool(input: $input) {\n      __typename\n      ... on CreatePoolSuccess { pool { id name } }\n    }\n  }\n": types.ConsoleCreatePoolDocument,
    "\n  mutation ConsoleUpdatePool($id: ID!, $input: UpdatePoolInput!) {\n    updatePool(id: $id, input: $input) {\n      __typename\n      ... on UpdatePoolSuccess { pool { ...ConsolePool } }\n      ... on Error { code message }\n    }\n  }\n": types.ConsoleUpdatePoolDocument,
    "\n  mutation ConsoleDeletePool($id: ID!, $force: Boolean) {\n    deletePool(id: $id, force: $force) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n": types.ConsoleDeletePoolDocument,
    "\n  mutation ConsoleSetServerPool($serverId: ID!, $poolId: ID) {\n    setServerPool(serverId: $serverId, poolId: $poolId) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n": types.ConsoleSetServerPoolDocument,
    "\n  mutation ConsoleAssign($input: AssignInput!) {\n    assign(input: $input) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n": types.ConsoleAssignDocument,
    "\n  mutation ConsoleUnassign($id: ID!) {\n    unassign(id: $id) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n": types.ConsoleUnassignDocument,
    "\n  query ConsoleMyPools {\n    viewer { assignments { id targetType targetId } }\n    pools { id name description }\n  }\n": types.ConsoleMyPoolsDocument,
    "\n  mutation ConsoleConnectPool($poolId: ID!) {\n    connect(input: { poolId: $poolId }) {\n      __typename\n      ... on ConnectSuccess {\n        reason reconnected\n        server { name }\n        connection { host port username password expiresAt rdpFile }\n      }\n      ... on Error { code message }\n    }\n  }\n": types.ConsoleConnectPoolDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleViewer {\n    viewer { userId username roles }\n  }\n"): typeof import('./graphql').ConsoleViewerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleFleet($first: Int, $after: String) {\n    servers(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { ...FleetServer } }\n    }\n  }\n  fragment FleetServer on RdpServer {\n    id name owner host port status statusMessage updatedAt\n    sessions { id }\n    usage { at cpuPercent memoryPercent }\n  }\n"): typeof import('./graphql').ConsoleFleetDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleServer($id: ID!) {\n    server(id: $id) {\n      ...FleetServer\n      description createdAt createdBy lastStartedAt lastStoppedAt uptimeSeconds\n      sessions { id username status owner createdAt }\n    }\n  }\n"): typeof import('./graphql').ConsoleServerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ConsoleServerEvents($serverId: ID!) {\n    serverEvents(serverId: $serverId) { kind server { ...FleetServer } }\n  }\n"): typeof import('./graphql').ConsoleServerEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ConsoleFleetEvents {\n    fleetEvents {\n      kind at activeSessions disconnectedSessions\n      server { id name owner host port status statusMessage updatedAt }\n    }\n  }\n"): typeof import('./graphql').ConsoleFleetEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ConsoleFleetUsage {\n    fleetUsage {\n      kind at\n      samples { subjectId at cpuPercent memoryPercent }\n    }\n  }\n"): typeof import('./graphql').ConsoleFleetUsageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleCreateServer($name: String!) {\n    createServer(input: { name: $name }) {\n      __typename\n      ... on CreateServerSuccess { server { ...FleetServer } }\n      ... on Error { code message }\n    }\n  }\n"): typeof import('./graphql').ConsoleCreateServerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleStartServer($id: ID!) {\n    startServer(id: $id) {\n      __typename\n      ... on StartServerSuccess { server { ...FleetServer } }\n      ... on Error { code message }\n    }\n  }\n"): typeof import('./graphql').ConsoleStartServerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleStopServer($id: ID!) {\n    stopServer(id: $id, force: true) {\n      __typename\n      ... on StopServerSuccess { server { ...FleetServer } }\n      ... on Error { code message }\n    }\n  }\n"): typeof import('./graphql').ConsoleStopServerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleSessions($first: Int) {\n    sessions(first: $first) {\n      totalCount\n      edges { node { id username owner status serverId createdAt server { name } } }\n    }\n  }\n"): typeof import('./graphql').ConsoleSessionsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleCreateSession($serverId: ID!) {\n    createSession(input: { serverId: $serverId }) {\n      __typename\n      ... on CreateSessionSuccess {\n        session { id status }\n        connection { host port username password expiresAt rdpFile }\n      }\n      ... on Error { code message }\n    }\n  }\n"): typeof import('./graphql').ConsoleCreateSessionDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleTerminateSession($id: ID!) {\n    terminateSession(id: $id, force: true) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n"): typeof import('./graphql').ConsoleTerminateSessionDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleAlerts {\n    alerts(first: 50) {\n      edges { node { id severity message resource subjectId resolved createdAt } }\n    }\n  }\n"): typeof import('./graphql').ConsoleAlertsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ConsoleAlertEvents {\n    alertEvents { kind alert { id } }\n  }\n"): typeof import('./graphql').ConsoleAlertEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleResolveAlert($id: ID!) {\n    resolveAlert(id: $id) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n"): typeof import('./graphql').ConsoleResolveAlertDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleAudit($action: String) {\n    auditEvents(first: 50, filter: { action: $action }) {\n      edges { node { id time action result actor { userId name ip } target { type id name } } }\n    }\n  }\n"): typeof import('./graphql').ConsoleAuditDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleLimits {\n    resourceLimits {\n      version updatedAt updatedBy\n      perUser { maxSessions }\n      global { maxServers maxSessions maxTotalCpu maxTotalMemory }\n    }\n  }\n"): typeof import('./graphql').ConsoleLimitsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleRestartServer($id: ID!) {\n    restartServer(id: $id, force: true) {\n      __typename\n      ... on RestartServerSuccess { server { ...FleetServer } }\n      ... on Error { code message }\n    }\n  }\n"): typeof import('./graphql').ConsoleRestartServerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleUsage($subjectId: ID!, $window: UsageWindow) {\n    resourceUsage(subjectId: $subjectId, window: $window) {\n      subjectId subjectKind window from to\n      points { at cpuPercent memoryPercent networkInKbps networkOutKbps }\n    }\n  }\n"): typeof import('./graphql').ConsoleUsageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ConsoleUsageLive($subjectId: ID!) {\n    resourceUsage(subjectId: $subjectId) {\n      kind\n      sample { at cpuPercent memoryPercent networkInKbps networkOutKbps }\n    }\n  }\n"): typeof import('./graphql').ConsoleUsageLiveDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleHosts {\n    hosts { ...ConsoleHost }\n  }\n  fragment ConsoleHost on Host {\n    id name status draining rdpAddress agentVersion serverCount freeCapacity lastHeartbeatAt\n    labels { key value }\n    capacity { cpuCount memoryMb maxServers }\n    portRange { from to }\n    usage { at cpuPercent memoryPercent }\n  }\n"): typeof import('./graphql').ConsoleHostsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleHostOne($id: ID!) {\n    host(id: $id) {\n      ...ConsoleHost\n      servers(first: 100) { totalCount edges { node { id name status port } } }\n    }\n  }\n"): typeof import('./graphql').ConsoleHostOneDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ConsoleHostEvents($hostId: ID) {\n    hostEvents(hostId: $hostId) { kind host { ...ConsoleHost } }\n  }\n"): typeof import('./graphql').ConsoleHostEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleSetHostDrain($hostId: ID!, $drain: Boolean!) {\n    setHostDrain(hostId: $hostId, drain: $drain) {\n      __typename\n      ... on SetHostDrainSuccess { host { ...ConsoleHost } }\n      ... on Error { code message }\n    }\n  }\n"): typeof import('./graphql').ConsoleSetHostDrainDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ConsoleLiveStatus {\n    liveStatus { eventBus }\n  }\n"): typeof import('./graphql').ConsoleLiveStatusDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ConsoleServerLogs($serverId: ID!, $level: XrdpLogLevel) {\n    serverLogs(serverId: $serverId, last: 200, level: $level) {\n      kind\n      lines { time level pid message }\n    }\n  }\n"): typeof import('./graphql').ConsoleServerLogsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleXrdpConfig {\n    xrdpConfig { ...ConsoleXrdpConfigVersion }\n    xrdpConfigHistory(last: 20) { ...ConsoleXrdpConfigVersion }\n  }\n  fragment ConsoleXrdpConfigVersion on XrdpConfigVersion {\n    version updatedAt updatedBy\n    config {\n      global { logLevel maxConnections useTls certificatePath keyPath }\n      security { encryptionLevel idleTimeout sessionTimeout }\n      performance { bitmapCache compression }\n    }\n  }\n"): typeof import('./graphql').ConsoleXrdpConfigDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleUpdateXrdpConfig($input: UpdateXrdpConfigInput!) {\n    updateXrdpConfig(input: $input) {\n      __typename\n      ... on UpdateXrdpConfigSuccess { config { ...ConsoleXrdpConfigVersion } }\n      ... on Error { code message }\n    }\n  }\n"): typeof import('./graphql').ConsoleUpdateXrdpConfigDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleSession($id: ID!) {\n    session(id: $id) { id username status serverId createdAt server { name } }\n  }\n"): typeof import('./graphql').ConsoleSessionDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsolePools {\n    pools { ...ConsolePool }\n  }\n  fragment ConsolePool on Pool {\n    id name description placementPolicy maxSessions defaultCredentialMode liveSessions\n    serverCount: servers(first: 1) { totalCount }\n  }\n"): typeof import('./graphql').ConsolePoolsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsolePoolPage($id: ID!) {\n    pool(id: $id) {\n      ...ConsolePool\n      createdAt createdBy\n      members: servers(first: 100) { edges { node { id name status host port } } }\n      assignments { id principal principalType createdAt createdBy }\n    }\n    allServers: servers(first: 100) { edges { node { id name poolId } } }\n  }\n"): typeof import('./graphql').ConsolePoolPageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleCreatePool($input: CreatePoolInput!) {\n    createPool(input: $input) {\n      __typename\n      ... on CreatePoolSuccess { pool { id name } }\n    }\n  }\n"): typeof import('./graphql').ConsoleCreatePoolDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleUpdatePool($id: ID!, $input: UpdatePoolInput!) {\n    updatePool(id: $id, input: $input) {\n      __typename\n      ... on UpdatePoolSuccess { pool { ...ConsolePool } }\n      ... on Error { code message }\n    }\n  }\n"): typeof import('./graphql').ConsoleUpdatePoolDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleDeletePool($id: ID!, $force: Boolean) {\n    deletePool(id: $id, force: $force) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n"): typeof import('./graphql').ConsoleDeletePoolDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleSetServerPool($serverId: ID!, $poolId: ID) {\n    setServerPool(serverId: $serverId, poolId: $poolId) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n"): typeof import('./graphql').ConsoleSetServerPoolDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleAssign($input: AssignInput!) {\n    assign(input: $input) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n"): typeof import('./graphql').ConsoleAssignDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleUnassign($id: ID!) {\n    unassign(id: $id) {\n      __typename\n      ... on Error { code message }\n    }\n  }\n"): typeof import('./graphql').ConsoleUnassignDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleMyPools {\n    viewer { assignments { id targetType targetId } }\n    pools { id name description }\n  }\n"): typeof import('./graphql').ConsoleMyPoolsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleConnectPool($poolId: ID!) {\n    connect(input: { poolId: $poolId }) {\n      __typename\n      ... on ConnectSuccess {\n        reason reconnected\n        server { name }\n        connection { host port username password expiresAt rdpFile }\n      }\n      ... on Error { code message }\n    }\n  }\n"): typeof import('./graphql').ConsoleConnectPoolDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
