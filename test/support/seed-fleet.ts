import type { Container } from '../../src/app/container.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';

export const BENCH_ADMIN: Viewer = { userId: 'bench-admin', username: 'benchadmin', roles: ['admin'], permissions: [] };

export interface SeedRequest {
  /** Servers to add (to what is there). */
  servers: number;
  /** Live sessions per server, each of its own user (HOST_ACCOUNT, so no password hashing). */
  sessionsPerServer: number;
  /** Server maxSessions. @default 1000 */
  maxSessions?: number;
}

/** Adds running servers with sessions through the services, as the API would. Returns the new ids. */
export async function seedFleet(container: Container, request: SeedRequest): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < request.servers; i++) {
    const server = await container.servers.create(BENCH_ADMIN, {
      name: `bench-server-${String(i).padStart(4, '0')}`,
      configuration: { maxSessions: request.maxSessions ?? 1000 },
    });
    await container.servers.start(BENCH_ADMIN, server.id);
    ids.push(server.id);
    for (let j = 0; j < request.sessionsPerServer; j++) {
      const user = `u${server.port}x${j}`;
      await container.sessions.create(
        { userId: user, username: user, roles: ['operator'], permissions: [] },
        { serverId: server.id, credentialMode: 'HOST_ACCOUNT' },
      );
    }
  }
  return ids;
}
