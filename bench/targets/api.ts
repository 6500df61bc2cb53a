/**
 * The service under test in its own process: buildApp on loopback with a fake xrdp runtime and
 * fake session accounts, plus (bench only) a control listener that publishes timestamped server
 * events straight into the container's event bus and reports memory after a full GC.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { type App, buildApp } from '../../src/app/build-app.js';
import { createLogger } from '../../src/app/logger.js';
import { loadConfig } from '../../src/config/config.js';
import type { RdpServer } from '../../src/domain/servers/server.js';
import { FakeServerRuntime } from '../../test/support/fake-runtime.js';
import { FakeSessionAccounts } from '../../test/support/fake-session-accounts.js';
import { BENCH_ADMIN, type SeedRequest, seedFleet } from '../../test/support/seed-fleet.js';
import { PACKAGE_VERSION } from '../lib/bench-env.js';
import { serveRpc } from '../lib/rpc-child.js';
import { settledMemory } from '../lib/settled-memory.js';

interface StartParams {
  env: Record<string, string>;
  mongoMonitorCommands?: boolean;
  /** The built console to serve at /console/ (P7); the default build folder otherwise. */
  consoleDir?: string;
}

let app: App | undefined;
let control: ReturnType<typeof createServer> | undefined;
const commands: string[] = [];
let counting = false;
/** What each counted command carried: documents written, documents returned (by request id). */
const details = new Map<number, { name: string; collection: string; written: number; read: number }>();

function requireApp(): App {
  if (!app) throw new Error('not started');
  return app;
}

/** POST /publish?server=<id>&seq=<n>: one UPDATED event whose name carries the publish time. */
function createControl(a: App): ReturnType<typeof createServer> {
  const versions = new Map<string, RdpServer>();
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://control');
    req.resume();
    req.on('end', () => {
      if (url.pathname !== '/publish') {
        res.writeHead(404).end();
        return;
      }
      const id = url.searchParams.get('server') ?? '';
      const seq = url.searchParams.get('seq') ?? '0';
      const base = versions.get(id);
      const publish = (server: RdpServer) => {
        const at = performance.timeOrigin + performance.now();
        const next: RdpServer = { ...server, name: `bench:${seq}:${at.toFixed(3)}:`, version: server.version + 1 };
        versions.set(id, next);
        a.container.events.publish('server:changed', id, { kind: 'UPDATED', server: next, at: new Date(at).toISOString() });
        res.writeHead(204).end();
      };
      if (base) publish(base);
      else
        a.container.servers.get(BENCH_ADMIN, id).then(publish, (err: unknown) => {
          res.writeHead(500).end(String(err));
        });
    });
  });
}

serveRpc(
  {
    async start(params) {
      const { env, mongoMonitorCommands, consoleDir } = params as StartParams;
      const config = loadConfig(env, { version: PACKAGE_VERSION });
      app = await buildApp(config, {
        logger: createLogger({ level: config.log.level }),
        runtime: new FakeServerRuntime(),
        sessionAccounts: new FakeSessionAccounts(),
        sweepIntervalMs: 3_600_000,
        reconcileIntervalMs: 3_600_000,
        ...(mongoMonitorCommands ? { mongoMonitorCommands: true } : {}),
        ...(consoleDir ? { consoleDir } : {}),
      });
      await app.container.mongo?.ready;
      app.container.mongo?.client.on('commandStarted', (e) => {
        if (!counting) return;
        commands.push(e.commandName);
        const c = e.command as Record<string, unknown>;
        const written = Array.isArray(c.documents)
          ? c.documents.length
          : Array.isArray(c.deletes)
            ? c.deletes.length
            : Array.isArray(c.updates)
              ? c.updates.length
              : 0;
        details.set(e.requestId, { name: e.commandName, collection: String(c[e.commandName]), written, read: 0 });
      });
      app.container.mongo?.client.on('commandSucceeded', (e) => {
        const d = details.get(e.requestId);
        const batch = (e.reply as { cursor?: { firstBatch?: unknown[] } }).cursor?.firstBatch;
        if (d && Array.isArray(batch)) d.read = batch.length;
      });
      const port = await app.start(0, '127.0.0.1');
      const a = app;
      control = createControl(a);
      await new Promise<void>((resolve) => control?.listen(0, '127.0.0.1', resolve));
      return { port, controlPort: (control.address() as AddressInfo).port };
    },
    seed: (params) => seedFleet(requireApp().container, params as SeedRequest),
    /** Runs one query through yoga and returns the Mongo commands it sent. */
    async countCommands(params) {
      const { query, token } = params as { query: string; token: string };
      const a = requireApp();
      commands.length = 0;
      counting = true;
      const res = await a.yoga.fetch('http://bench/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      });
      const body = (await res.json()) as { errors?: unknown };
      counting = false;
      if (body.errors) throw new Error(`query failed: ${JSON.stringify(body.errors)}`);
      return { commands: [...commands], bytes: JSON.stringify(body).length };
    },
    /** Counts the Mongo commands this process sends from now on (needs mongoMonitorCommands). */
    countStart: () => {
      commands.length = 0;
      details.clear();
      counting = true;
    },
    /** The commands counted since countStart, one by one: name, collection, documents written and returned. */
    countDetails: () => [...details.values()],
    /** Stops counting; returns the commands sent since countStart, by name. */
    countStop: () => {
      counting = false;
      const byName: Record<string, number> = {};
      for (const c of commands) byName[c] = (byName[c] ?? 0) + 1;
      commands.length = 0;
      return byName;
    },
    /** Memory after a full GC, once RSS has settled (bench/lib/settled-memory.ts). */
    memory: () => settledMemory(),
    /** V8's heap spaces after a full GC: size committed, used and resident (physical), by space. */
    heapSpaces: async () => {
      await settledMemory();
      return getHeapSpaceStatistics().map((s) => ({
        space: s.space_name,
        size: s.space_size,
        used: s.space_used_size,
        physical: s.physical_space_size,
      }));
    },
    /** Writes a heap snapshot (for finding what a subscription holds); returns its path. */
    heapSnapshot: (params) => writeHeapSnapshot((params as { path?: string } | null)?.path),
    dropDatabase: async () => {
      await requireApp().container.mongo?.db.dropDatabase();
    },
  },
  async () => {
    control?.close();
    await app?.stop();
  },
);
