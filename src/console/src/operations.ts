import { graphql } from './gql';

/** Every operation the console sends: typed from schema/schema.graphql by npm run console:codegen. */

export const ViewerQuery = graphql(`
  query ConsoleViewer {
    viewer { userId username roles }
  }
`);

export const FleetQuery = graphql(`
  query ConsoleFleet($first: Int, $after: String) {
    servers(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { ...FleetServer } }
    }
  }
  fragment FleetServer on RdpServer {
    id name owner host port status statusMessage updatedAt
    sessions { id }
    usage { at cpuPercent memoryPercent }
  }
`);

export const ServerQuery = graphql(`
  query ConsoleServer($id: ID!) {
    server(id: $id) {
      ...FleetServer
      description createdAt createdBy lastStartedAt lastStoppedAt uptimeSeconds
      sessions { id username status owner createdAt }
    }
  }
`);

export const ServerEventsSubscription = graphql(`
  subscription ConsoleServerEvents($serverId: ID!) {
    serverEvents(serverId: $serverId) { kind server { ...FleetServer } }
  }
`);

export const FleetEventsSubscription = graphql(`
  subscription ConsoleFleetEvents {
    fleetEvents {
      kind at activeSessions disconnectedSessions
      server { id name owner host port status statusMessage updatedAt }
    }
  }
`);

export const FleetUsageSubscription = graphql(`
  subscription ConsoleFleetUsage {
    fleetUsage {
      kind at
      samples { subjectId at cpuPercent memoryPercent }
    }
  }
`);

export const CreateServerMutation = graphql(`
  mutation ConsoleCreateServer($name: String!) {
    createServer(input: { name: $name }) {
      __typename
      ... on CreateServerSuccess { server { ...FleetServer } }
      ... on Error { code message }
    }
  }
`);

export const StartServerMutation = graphql(`
  mutation ConsoleStartServer($id: ID!) {
    startServer(id: $id) {
      __typename
      ... on StartServerSuccess { server { ...FleetServer } }
      ... on Error { code message }
    }
  }
`);

export const StopServerMutation = graphql(`
  mutation ConsoleStopServer($id: ID!) {
    stopServer(id: $id, force: true) {
      __typename
      ... on StopServerSuccess { server { ...FleetServer } }
      ... on Error { code message }
    }
  }
`);

export const SessionsQuery = graphql(`
  query ConsoleSessions($first: Int) {
    sessions(first: $first) {
      totalCount
      edges { node { id username owner status serverId createdAt server { name } } }
    }
  }
`);

export const CreateSessionMutation = graphql(`
  mutation ConsoleCreateSession($serverId: ID!) {
    createSession(input: { serverId: $serverId }) {
      __typename
      ... on CreateSessionSuccess {
        session { id status }
        connection { host port username password expiresAt rdpFile }
      }
      ... on Error { code message }
    }
  }
`);

export const TerminateSessionMutation = graphql(`
  mutation ConsoleTerminateSession($id: ID!) {
    terminateSession(id: $id, force: true) {
      __typename
      ... on Error { code message }
    }
  }
`);

export const AlertsQuery = graphql(`
  query ConsoleAlerts {
    alerts(first: 50) {
      edges { node { id severity message resource subjectId resolved createdAt } }
    }
  }
`);

export const AlertEventsSubscription = graphql(`
  subscription ConsoleAlertEvents {
    alertEvents { kind alert { id } }
  }
`);

export const ResolveAlertMutation = graphql(`
  mutation ConsoleResolveAlert($id: ID!) {
    resolveAlert(id: $id) {
      __typename
      ... on Error { code message }
    }
  }
`);

export const AuditQuery = graphql(`
  query ConsoleAudit($action: String) {
    auditEvents(first: 50, filter: { action: $action }) {
      edges { node { id time action result actor { userId name ip } target { type id name } } }
    }
  }
`);

export const LimitsQuery = graphql(`
  query ConsoleLimits {
    resourceLimits {
      version updatedAt updatedBy
      perUser { maxSessions }
      global { maxServers maxSessions maxTotalCpu maxTotalMemory }
    }
  }
`);

export const RestartServerMutation = graphql(`
  mutation ConsoleRestartServer($id: ID!) {
    restartServer(id: $id, force: true) {
      __typename
      ... on RestartServerSuccess { server { ...FleetServer } }
      ... on Error { code message }
    }
  }
`);

export const UsageQuery = graphql(`
  query ConsoleUsage($subjectId: ID!, $window: UsageWindow) {
    resourceUsage(subjectId: $subjectId, window: $window) {
      subjectId subjectKind window from to
      points { at cpuPercent memoryPercent networkInKbps networkOutKbps }
    }
  }
`);

export const UsageSubscription = graphql(`
  subscription ConsoleUsageLive($subjectId: ID!) {
    resourceUsage(subjectId: $subjectId) {
      kind
      sample { at cpuPercent memoryPercent networkInKbps networkOutKbps }
    }
  }
`);

export const HostsQuery = graphql(`
  query ConsoleHosts {
    hosts { ...ConsoleHost }
  }
  fragment ConsoleHost on Host {
    id name status draining rdpAddress agentVersion serverCount freeCapacity lastHeartbeatAt
    labels { key value }
    capacity { cpuCount memoryMb maxServers }
    portRange { from to }
    usage { at cpuPercent memoryPercent }
  }
`);

export const HostQuery = graphql(`
  query ConsoleHostOne($id: ID!) {
    host(id: $id) {
      ...ConsoleHost
      servers(first: 100) { totalCount edges { node { id name status port } } }
    }
  }
`);

export const HostEventsSubscription = graphql(`
  subscription ConsoleHostEvents($hostId: ID) {
    hostEvents(hostId: $hostId) { kind host { ...ConsoleHost } }
  }
`);

export const SetHostDrainMutation = graphql(`
  mutation ConsoleSetHostDrain($hostId: ID!, $drain: Boolean!) {
    setHostDrain(hostId: $hostId, drain: $drain) {
      __typename
      ... on SetHostDrainSuccess { host { ...ConsoleHost } }
      ... on Error { code message }
    }
  }
`);

/** The replica's link to the event bus: the live indicator says "paused" while it is away. */
export const LiveStatusSubscription = graphql(`
  subscription ConsoleLiveStatus {
    liveStatus { eventBus }
  }
`);

export const ServerLogsSubscription = graphql(`
  subscription ConsoleServerLogs($serverId: ID!, $level: XrdpLogLevel) {
    serverLogs(serverId: $serverId, last: 200, level: $level) {
      kind
      lines { time level pid message }
    }
  }
`);

export const XrdpConfigQuery = graphql(`
  query ConsoleXrdpConfig {
    xrdpConfig { ...ConsoleXrdpConfigVersion }
    xrdpConfigHistory(last: 20) { ...ConsoleXrdpConfigVersion }
  }
  fragment ConsoleXrdpConfigVersion on XrdpConfigVersion {
    version updatedAt updatedBy
    config {
      global { logLevel maxConnections useTls certificatePath keyPath }
      security { encryptionLevel idleTimeout sessionTimeout }
      performance { bitmapCache compression }
    }
  }
`);

export const UpdateXrdpConfigMutation = graphql(`
  mutation ConsoleUpdateXrdpConfig($input: UpdateXrdpConfigInput!) {
    updateXrdpConfig(input: $input) {
      __typename
      ... on UpdateXrdpConfigSuccess { config { ...ConsoleXrdpConfigVersion } }
      ... on Error { code message }
    }
  }
`);

export const SessionQuery = graphql(`
  query ConsoleSession($id: ID!) {
    session(id: $id) { id username status serverId createdAt server { name } }
  }
`);

export const PoolsQuery = graphql(`
  query ConsolePools {
    pools { ...ConsolePool }
  }
  fragment ConsolePool on Pool {
    id name description placementPolicy maxSessions defaultCredentialMode liveSessions
    serverCount: servers(first: 1) { totalCount }
  }
`);

export const PoolQuery = graphql(`
  query ConsolePoolPage($id: ID!) {
    pool(id: $id) {
      ...ConsolePool
      createdAt createdBy
      members: servers(first: 100) { edges { node { id name status host port } } }
      assignments { id principal principalType createdAt createdBy }
    }
    allServers: servers(first: 100) { edges { node { id name poolId } } }
  }
`);

export const CreatePoolMutation = graphql(`
  mutation ConsoleCreatePool($input: CreatePoolInput!) {
    createPool(input: $input) {
      __typename
      ... on CreatePoolSuccess { pool { id name } }
    }
  }
`);

export const UpdatePoolMutation = graphql(`
  mutation ConsoleUpdatePool($id: ID!, $input: UpdatePoolInput!) {
    updatePool(id: $id, input: $input) {
      __typename
      ... on UpdatePoolSuccess { pool { ...ConsolePool } }
      ... on Error { code message }
    }
  }
`);

export const DeletePoolMutation = graphql(`
  mutation ConsoleDeletePool($id: ID!, $force: Boolean) {
    deletePool(id: $id, force: $force) {
      __typename
      ... on Error { code message }
    }
  }
`);

export const SetServerPoolMutation = graphql(`
  mutation ConsoleSetServerPool($serverId: ID!, $poolId: ID) {
    setServerPool(serverId: $serverId, poolId: $poolId) {
      __typename
      ... on Error { code message }
    }
  }
`);

export const AssignMutation = graphql(`
  mutation ConsoleAssign($input: AssignInput!) {
    assign(input: $input) {
      __typename
      ... on Error { code message }
    }
  }
`);

export const UnassignMutation = graphql(`
  mutation ConsoleUnassign($id: ID!) {
    unassign(id: $id) {
      __typename
      ... on Error { code message }
    }
  }
`);

export const MyPoolsQuery = graphql(`
  query ConsoleMyPools {
    viewer { assignments { id targetType targetId } }
    pools { id name description }
  }
`);

export const ConnectPoolMutation = graphql(`
  mutation ConsoleConnectPool($poolId: ID!) {
    connect(input: { poolId: $poolId }) {
      __typename
      ... on ConnectSuccess {
        reason reconnected
        server { name }
        connection { host port username password expiresAt rdpFile }
      }
      ... on Error { code message }
    }
  }
`);
