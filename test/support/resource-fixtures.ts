export { FakeClock, RecordingPublisher } from './service-fixtures.js';

import type { HostProbe, ProbeResult, ProbeServer, ProbeSession } from '../../src/domain/resources/host-probe.js';
import { emptyFigures, type ResourceFigures } from '../../src/domain/resources/resource-sample.js';
import { DEFAULT_CONFIGURATION, DEFAULT_RESOURCES, type RdpServer } from '../../src/domain/servers/server.js';
import type { RdpSession } from '../../src/domain/sessions/session.js';

export const figures = (f: Partial<ResourceFigures> = {}): ResourceFigures => ({ ...emptyFigures(), ...f });

/**
 * A HostProbe whose figures the test sets; servers and sessions it was asked about get theirs
 * (or `fallback`) back. Records what it was asked.
 */
export class FakeProbe implements HostProbe {
  host: ResourceFigures = figures({ cpuPercent: 10, memoryPercent: 20, memoryUsedMb: 200, memoryTotalMb: 1000 });
  readonly servers = new Map<string, ResourceFigures>();
  readonly sessions = new Map<string, ResourceFigures>();
  fallback: ResourceFigures | null = figures({ cpuPercent: 1, memoryPercent: 1, memoryUsedMb: 10, memoryTotalMb: 1000 });
  failure: Error | null = null;
  readonly asked: { servers: readonly ProbeServer[]; sessions: readonly ProbeSession[] }[] = [];

  async measure(targets: { servers: readonly ProbeServer[]; sessions: readonly ProbeSession[] }): Promise<ProbeResult> {
    this.asked.push(targets);
    if (this.failure) throw this.failure;
    const pick = (map: Map<string, ResourceFigures>, id: string) => map.get(id) ?? this.fallback;
    const servers = new Map<string, ResourceFigures>();
    for (const s of targets.servers) {
      const f = pick(this.servers, s.id);
      if (f) servers.set(s.id, { ...f });
    }
    const sessions = new Map<string, ResourceFigures>();
    for (const s of targets.sessions) {
      const f = pick(this.sessions, s.id);
      if (f) sessions.set(s.id, { ...f });
    }
    return { host: { ...this.host }, servers, sessions };
  }
}

const ISO0 = '2026-11-26T12:00:00.000Z';

export function makeServer(over: Partial<RdpServer> & { id: string }): RdpServer {
  return {
    name: `server ${over.id.slice(0, 4)}`,
    description: '',
    owner: 'alice',
    createdBy: 'alice',
    status: 'RUNNING',
    statusMessage: null,
    statusBeforeMaintenance: null,
    poolId: null,
    hostId: 'local',
    host: 'localhost',
    port: 33890,
    configuration: DEFAULT_CONFIGURATION,
    resources: DEFAULT_RESOURCES,
    createdAt: ISO0,
    updatedAt: ISO0,
    lastStartedAt: ISO0,
    lastStoppedAt: null,
    drain: null,
    version: 1,
    ...over,
  };
}

export function makeSession(over: Partial<RdpSession> & { id: string; serverId: string }): RdpSession {
  return {
    owner: 'alice',
    createdBy: 'alice',
    status: 'ACTIVE',
    terminationReason: null,
    clientInfo: { clientName: null, clientVersion: null, clientIp: null, resolution: null, colorDepth: null },
    credentialMode: 'HOST_ACCOUNT',
    username: 'alice',
    credentialHash: null,
    credentialExpiresAt: ISO0,
    credentialDeadline: null,
    display: 10,
    slots: { global: 0, server: 0, user: 0 },
    createdAt: ISO0,
    connectedAt: ISO0,
    lastActivityAt: ISO0,
    terminatedAt: null,
    idleDeadline: null,
    sessionDeadline: '2026-11-26T13:00:00.000Z',
    version: 1,
    ...over,
  };
}
