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
  /** Whose servers they are (an admin creates them for this user). @default the bench admin */
  ownerId?: string;
}

/**
 * Fleets of running servers through the services, as the API would make them (the bench's P1-P7
 * and the console's fleet-scale browser test); the app must run with a fake xrdp runtime.
 */

/** Servers seeded at once: creates and starts wait mostly on the database, so a few overlap well. */
const SEED_CONCURRENCY = 4;

/**
 * Adds running servers with sessions through the services, as the API would (each created, then
 * started; SEED_CONCURRENCY at a time). Returns the new ids in name order.
 */
export async function seedFleet(container: Container, request: SeedRequest): Promise<string[]> {
  const ids: string[] = new Array(request.servers);
  let next = 0;
  const one = async (i: number) => {
    const server = await container.servers.create(BENCH_ADMIN, {
      name: `bench-server-${String(i).padStart(4, '0')}`,
      configuration: { maxSessions: request.maxSessions ?? 1000 },
      ...(request.ownerId ? { ownerId: request.ownerId } : {}),
    });
    await container.servers.start(BENCH_ADMIN, server.id);
    ids[i] = server.id;
    for (let j = 0; j < request.sessionsPerServer; j++) {
      const user = `u${server.port}x${j}`;
      await container.sessions.create(
        { userId: user, username: user, roles: ['operator'], permissions: [] },
        { serverId: server.id, credentialMode: 'HOST_ACCOUNT' },
      );
    }
  };
  const worker = async () => {
    while (next < request.servers) await one(next++);
  };
  await Promise.all(Array.from({ length: Math.min(SEED_CONCURRENCY, request.servers) }, worker));
  return ids;
}
