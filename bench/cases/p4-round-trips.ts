/**
 * P4: MongoDB round trips of nested list queries at N = 10, 50, 100 servers with two live
 * sessions each, counted with the driver's command monitoring (every command the query sends,
 * getMore included). Must not grow with N, and stay at 4 or fewer.
 */
import { benchMongoUri, benchToken, serviceEnv } from '../lib/bench-env.js';
import { startChild } from '../lib/processes.js';
import type { CaseContext, Row } from '../lib/table.js';

const SIZES = [10, 50, 100];
const SESSIONS_PER_SERVER = 2;
const MAX_ROUND_TRIPS = 4;

const QUERIES = {
  'servers → sessions → server': '{ servers(first: 100) { totalCount edges { node { id sessions { id server { id } } } } } }',
  'sessions → server → sessions': '{ sessions(first: 100) { totalCount edges { node { id server { id sessions { id } } } } } }',
};

function summarize(commands: string[]): string {
  const counts = new Map<string, number>();
  for (const c of commands) counts.set(c, (counts.get(c) ?? 0) + 1);
  return [...counts].map(([c, n]) => `${c}${n > 1 ? `×${n}` : ''}`).join(' ');
}

export async function runP4(ctx: CaseContext): Promise<Row[]> {
  const server = await startChild('targets/api.ts', { name: 'p4-api', cpu: ctx.serverCpu });
  const token = await benchToken('bench-operator', ['operator']);
  const seen = new Map<string, { n: number; trips: number; commands: string }[]>();
  try {
    await server.call('start', {
      env: serviceEnv({ MONGODB_URI: benchMongoUri(ctx.services.mongoUri, 'p4') }),
      mongoMonitorCommands: true,
    });
    let seeded = 0;
    for (const n of SIZES) {
      ctx.log(`P4 N=${n}`);
      await server.call('seed', { servers: n - seeded, sessionsPerServer: SESSIONS_PER_SERVER });
      seeded = n;
      for (const [name, query] of Object.entries(QUERIES)) {
        // Once to warm up connections, then counted.
        await server.call('countCommands', { query, token });
        const { commands } = await server.call<{ commands: string[] }>('countCommands', { query, token });
        const list = seen.get(name) ?? [];
        list.push({ n, trips: commands.length, commands: summarize(commands) });
        seen.set(name, list);
      }
    }
    await server.call('dropDatabase');
  } finally {
    await server.stop();
  }
  return [...seen].map(([name, list]): Row => {
    const trips = list.map((l) => l.trips);
    const constant = trips.every((t) => t === trips[0]);
    const within = trips.every((t) => t <= MAX_ROUND_TRIPS);
    return {
      case: 'P4 round trips',
      setup: `${name}; N = ${SIZES.join('/')} servers × ${SESSIONS_PER_SERVER} sessions, FerretDB`,
      result: `${trips.join(' / ')} round trips (${list.map((l) => `N=${l.n}: ${l.commands}`).join('; ')})`,
      p50: '',
      p99: '',
      memory: '',
      ratio: `${Math.max(...trips)} vs ${SIZES.at(-1)} servers + ${(SIZES.at(-1) ?? 0) * SESSIONS_PER_SERVER} sessions`,
      target:
        constant && within ? 'met (constant, ≤ 4)' : `MISSED: ${!constant ? 'grows with N' : ''} ${!within ? '> 4' : ''}`.trim(),
    };
  });
}
