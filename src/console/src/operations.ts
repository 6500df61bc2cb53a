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
