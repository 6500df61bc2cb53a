import type { TestApp } from './app-harness.js';

interface Typed {
  __typename: string;
  server?: { id: string };
  session?: { id: string };
  config?: { version: number };
  code?: string;
  message?: string;
}

async function mutate(t: TestApp, token: string, field: string, query: string, variables: Record<string, unknown>) {
  const r = await t.gql<Record<string, Typed>>(query, variables, token);
  const result = r.body.data?.[field];
  if (!result || result.code) throw new Error(`${field} failed: ${JSON.stringify(r.body)}`);
  return result;
}

const CREATE_SERVER = `mutation($input: CreateServerInput!) { createServer(input: $input) {
  __typename ... on CreateServerSuccess { server { id } } ... on Error { code message } } }`;
const START_SERVER = `mutation($id: ID!) { startServer(id: $id) {
  __typename ... on StartServerSuccess { server { id } } ... on Error { code message } } }`;
const MAINTENANCE = `mutation($id: ID!) { setServerMaintenance(id: $id, enabled: true) {
  __typename ... on SetServerMaintenanceSuccess { server { id } } ... on Error { code message } } }`;
const CREATE_SESSION = `mutation($input: CreateSessionInput!) { createSession(input: $input) {
  __typename ... on CreateSessionSuccess { session { id } } ... on Error { code message } } }`;
const DISCONNECT = `mutation($id: ID!) { disconnectSession(id: $id) {
  __typename ... on DisconnectSessionSuccess { session { id } } ... on Error { code message } } }`;
const TERMINATE = `mutation($id: ID!) { terminateSession(id: $id, force: true) {
  __typename ... on TerminateSessionSuccess { session { id } } ... on Error { code message } } }`;
const DRAIN = `mutation($id: ID!, $deadline: DateTime!) { drainServer(serverId: $id, deadline: $deadline, stopServer: true) {
  __typename ... on DrainServerSuccess { server { id } } ... on Error { code message } } }`;
const UPDATE_XRDP = `mutation($input: UpdateXrdpConfigInput!) { updateXrdpConfig(input: $input) {
  __typename ... on UpdateXrdpConfigSuccess { config { version } } ... on Error { code message } } }`;

/**
 * Fills a store through the public API with every kind of document the adapters write: servers in
 * several states (with fractional and whole resource numbers, one draining), live, disconnected and terminated
 * sessions (with their claims and revisions), and two xrdp configuration versions. The app must run
 * with a fake runtime and fake session accounts.
 */
export async function seedThroughApi(t: TestApp): Promise<{ servers: string[]; sessions: string[] }> {
  const admin = await t.token('ada', ['admin']);
  const alice = await t.token('alice');
  const servers: string[] = [];
  const inputs = [
    { name: 'design-team', description: 'Designers, "quoted" and ünïcode\nsecond line' },
    {
      name: 'build-farm',
      configuration: { desktop: 'KDE', resolution: '2560x1440', colorDepth: 32, audio: false, maxSessions: 4 },
      resources: { cpuLimit: 1.5, memoryLimitMb: 2048, diskLimitMb: 10240, bandwidthMbps: 500 },
    },
    { name: 'spare', resources: { cpuLimit: 2, memoryLimitMb: 4096, diskLimitMb: 20480, bandwidthMbps: 1000 } },
  ];
  for (const input of inputs) {
    const created = await mutate(t, admin, 'createServer', CREATE_SERVER, { input: { ...input, ownerId: 'alice' } });
    servers.push(created.server?.id ?? '');
  }
  const [design, build, spare] = servers as [string, string, string];
  await mutate(t, admin, 'startServer', START_SERVER, { id: design });
  await mutate(t, admin, 'startServer', START_SERVER, { id: build });
  await mutate(t, admin, 'setServerMaintenance', MAINTENANCE, { id: spare });

  const sessions: string[] = [];
  const clients = [
    { clientName: 'laptop', clientIp: '192.0.2.10', resolution: '1280x720', colorDepth: 16 },
    { clientName: 'desk', clientVersion: '3.5.1', clientIp: '2001:db8::7' },
    {},
  ];
  for (const [i, clientInfo] of clients.entries()) {
    const admitted = await mutate(t, alice, 'createSession', CREATE_SESSION, {
      input: { serverId: i === 2 ? build : design, clientInfo },
    });
    sessions.push(admitted.session?.id ?? '');
  }
  await mutate(t, alice, 'disconnectSession', DISCONNECT, { id: sessions[1] });
  await mutate(t, alice, 'terminateSession', TERMINATE, { id: sessions[2] });
  // A drain far ahead: the server document carries one, and no session ends during a test.
  await mutate(t, admin, 'drainServer', DRAIN, { id: build, deadline: new Date(Date.now() + 86_400_000).toISOString() });

  await mutate(t, admin, 'updateXrdpConfig', UPDATE_XRDP, { input: { global: { maxConnections: 25, logLevel: 'WARN' } } });
  await mutate(t, admin, 'updateXrdpConfig', UPDATE_XRDP, {
    input: { security: { sessionTimeout: 7200, idleTimeout: 600 }, performance: { bitmapCache: false } },
  });
  return { servers, sessions };
}
