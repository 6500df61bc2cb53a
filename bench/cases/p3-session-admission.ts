/**
 * P3: 1,000 concurrent createSession calls over two instances sharing FerretDB and Redis, global
 * cap 100 (MAX_CONCURRENT_SESSIONS), fake xrdp runtime and fake session accounts, 1,000 users.
 * One warm-up round, then measured rounds; admitted must be exactly 100 every round.
 */
import { benchMongoUri, serviceEnv } from '../lib/bench-env.js';
import { type BenchChild, startChild } from '../lib/processes.js';
import { fmtInt, round } from '../lib/stats.js';
import type { CaseContext, Row } from '../lib/table.js';
import type { AdmissionParams, RoundResult } from '../load/admission.js';

const CALLERS = Number(process.env.BENCH_P3_CALLERS ?? 1000);
const CAP = 100;
const ROUNDS = 3;

export async function runP3(ctx: CaseContext): Promise<Row[]> {
  const env = serviceEnv({
    MONGODB_URI: benchMongoUri(ctx.services.mongoUri, 'p3'),
    REDIS_URL: ctx.services.redisUrl,
    MAX_CONCURRENT_SESSIONS: String(CAP),
  });
  const instances: BenchChild[] = [];
  const load = await startChild('load/admission.ts', { name: 'p3-load', cpu: ctx.loadCpu });
  try {
    const urls: string[] = [];
    for (const name of ['a', 'b']) {
      const child = await startChild('targets/api.ts', {
        name: `p3-${name}`,
        cpu: ctx.serverCpu,
      });
      instances.push(child);
      const { port } = await child.call<{ port: number }>('start', { env });
      urls.push(`http://127.0.0.1:${port}/graphql`);
    }
    const [a] = instances;
    if (!a) throw new Error('P3: no instance');
    const [serverId] = await a.call<string[]>('seed', { servers: 1, sessionsPerServer: 0, maxSessions: 1000 });
    if (!serverId) throw new Error('P3: no server seeded');
    ctx.log('P3 rounds');
    const params: AdmissionParams = { urls, serverId, callers: CALLERS, rounds: ROUNDS + 1, budgetSeconds: 120 };
    const [, ...rounds] = await load.call<RoundResult[]>('run', params);
    const rss = instances.reduce((sum, i) => sum + i.rss(), 0);
    await a.call('dropDatabase');
    const times = rounds.map((r) => r.ms).sort((x, y) => x - y);
    const median = times[Math.floor(times.length / 2)] ?? 0;
    const worst = times.at(-1) ?? 0;
    const admitted = rounds.map((r) => r.admitted);
    const exact = admitted.every((n) => n === CAP);
    const other = rounds.flatMap((r) => r.other);
    return [
      {
        case: 'P3 1,000 createSession, cap 100',
        setup: `2 instances (core ${ctx.serverCpu}) on FerretDB + Redis, ${fmtInt(CALLERS)} users, ${rounds.length} rounds after 1 warm-up`,
        result: `admitted ${admitted.join('/')}; settled in ${fmtInt(median)} ms median, ${fmtInt(worst)} ms max`,
        p50: `${round(rounds.reduce((s, r) => s + r.p50, 0) / rounds.length, 0)} ms`,
        p99: `${round(rounds.reduce((s, r) => s + r.p99, 0) / rounds.length, 0)} ms`,
        memory: `RSS ${round(rss / 1048576, 0)} MB (both)`,
        ratio: `${round(2000 / worst, 2)}× the 2 s budget`,
        target:
          exact && worst < 2000 && other.length === 0
            ? 'met (exactly 100, < 2 s)'
            : `MISSED: ${[!exact ? `admitted ${admitted.join('/')}` : '', worst >= 2000 ? `${fmtInt(worst)} ms ≥ 2 s` : '', ...other].filter(Boolean).join('; ')}`,
      },
    ];
  } finally {
    await load.stop();
    for (const i of instances) await i.stop();
  }
}
