/**
 * P3: 1,000 concurrent createSession calls over two instances sharing FerretDB and Redis, global
 * cap 100 (MAX_CONCURRENT_SESSIONS), fake xrdp runtime and fake session accounts, 1,000 users.
 * One warm-up round, then measured rounds in which the instances count their MongoDB commands
 * (with the documents each wrote and returned); admitted must be exactly 100 every round. Then
 * the limit: each measured round's commands issued straight to the same FerretDB with the
 * driver at the same concurrency, as many documents each (load/mongo-limit.ts).
 */
import { benchMongoUri, serviceEnv } from '../lib/bench-env.js';
import { type BenchChild, startChild } from '../lib/processes.js';
import { fmtInt, round } from '../lib/stats.js';
import type { CaseContext, Row } from '../lib/table.js';
import type { AdmissionParams, RoundResult } from '../load/admission.js';
import type { CommandShape, MongoLimitParams, MongoLimitRound } from '../load/mongo-limit.js';

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
      const { port } = await child.call<{ port: number }>('start', { env, mongoMonitorCommands: true });
      urls.push(`http://127.0.0.1:${port}/graphql`);
    }
    const [a] = instances;
    if (!a) throw new Error('P3: no instance');
    const [serverId] = await a.call<string[]>('seed', { servers: 1, sessionsPerServer: 0, maxSessions: 1000 });
    if (!serverId) throw new Error('P3: no server seeded');
    ctx.log('P3 rounds');
    const params: AdmissionParams = {
      urls,
      serverId,
      callers: CALLERS,
      rounds: ROUNDS,
      budgetSeconds: 120,
      pids: instances.map((i) => i.pid),
    };
    // The warm-up round (cold code, so its callers arrive spread out) is not measured.
    await load.call('burst', params);
    await load.call('cleanup');
    // Round by round: the burst, with the MongoDB commands it sent counted one by one (each
    // round's own: how many there are depends on how the callers' arrivals fall into batches) and
    // profiled with BENCH_PROFILE=p3 (p3:a-r1 for one instance and round); then its sessions are
    // ended outside the timing, the count and the profile.
    const rounds: RoundResult[] = [];
    const shapes: CommandShape[][] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const profiles = instances.map((i) => ctx.profilePath('p3', `${i.name.slice('p3-'.length)}-r${r}`));
      for (const [n, i] of instances.entries()) {
        await i.call('countStart');
        if (profiles[n]) await i.call('profileStart');
      }
      rounds.push(...(await load.call<RoundResult[]>('burst', params)));
      const sent: CommandShape[] = [];
      for (const [n, i] of instances.entries()) {
        const path = profiles[n];
        if (path) await i.call('profileStop', { path });
        sent.push(...(await i.call<CommandShape[]>('countDetails')));
        await i.call('countStop');
      }
      shapes.push(sent);
      const { notEnded } = await load.call<{ notEnded: number }>('cleanup');
      if (notEnded > 0) rounds.at(-1)?.other.push(`terminate failed ${notEnded}x`);
    }
    const describe = (sent: CommandShape[]) => {
      const byName = new Map<string, number>();
      for (const c of sent) byName.set(c.name, (byName.get(c.name) ?? 0) + 1);
      const names = [...byName]
        .sort((x, y) => y[1] - x[1])
        .map(([name, n]) => `${name}×${n}`)
        .join(' ');
      const written = sent.reduce((n, c) => n + c.written, 0);
      const returned = sent.reduce((n, c) => n + c.read, 0);
      return `${names} (${fmtInt(written)} documents written, ${fmtInt(returned)} returned)`;
    };
    const byCollection = (sent: CommandShape[]) => {
      const n = new Map<string, number>();
      for (const c of sent) n.set(`${c.name} ${c.collection}`, (n.get(`${c.name} ${c.collection}`) ?? 0) + 1);
      return [...n]
        .sort((x, y) => y[1] - x[1])
        .map(([k, v]) => `${k} ×${v}`)
        .join(', ');
    };
    for (const [r, sent] of shapes.entries())
      ctx.log(`P3 round ${r + 1}: ${fmtInt(rounds[r]?.ms ?? 0)} ms, ${describe(sent)}: ${byCollection(sent)}`);
    const cpuMs = rounds.map((r) => r.cpuMs).sort((x, y) => x - y);
    const rss = instances.reduce((sum, i) => sum + i.rss(), 0);
    await a.call('dropDatabase');
    ctx.log('P3 limit (driver straight to FerretDB)');
    const limitChild = await startChild('load/mongo-limit.ts', { name: 'p3-limit', cpu: ctx.serverCpu });
    // Each measured round's commands replayed: a warm-up replay, then the measured one.
    const limitRounds: MongoLimitRound[] = [];
    try {
      for (const sent of shapes) {
        const limitParams: MongoLimitParams = {
          uri: benchMongoUri(ctx.services.mongoUri, 'p3limit'),
          commands: {},
          shapes: sent,
          callers: CALLERS,
          rounds: 2,
          maxPoolSize: 50,
          minPoolSize: 10,
        };
        const [, measured] = await limitChild.call<MongoLimitRound[]>('run', limitParams);
        if (measured) limitRounds.push(measured);
      }
    } finally {
      await limitChild.stop();
    }
    const limitTimes = limitRounds.map((r) => r.ms);
    const sortedLimit = [...limitTimes].sort((x, y) => x - y);
    const limitMedian = sortedLimit[Math.floor(sortedLimit.length / 2)] ?? 0;
    const medianRound = rounds.indexOf([...rounds].sort((x, y) => x.ms - y.ms)[Math.floor(rounds.length / 2)] as RoundResult);
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
        result: `admitted ${admitted.join('/')}; settled in ${fmtInt(median)} ms median, ${fmtInt(worst)} ms max; server CPU ${fmtInt(cpuMs[Math.floor(cpuMs.length / 2)] ?? 0)} ms a round (median, both)`,
        p50: `${round(rounds.reduce((s, r) => s + r.p50, 0) / rounds.length, 0)} ms`,
        p99: `${round(rounds.reduce((s, r) => s + r.p99, 0) / rounds.length, 0)} ms`,
        memory: `RSS ${round(rss / 1048576, 0)} MB (both)`,
        ratio: `${round(median / limitMedian, 2)}× limit (median), ${round(2000 / worst, 2)}× the 2 s budget`,
        target:
          exact && worst < 2000 && median <= 1.5 * limitMedian && other.length === 0
            ? 'met (exactly 100, < 2 s, ≤ 1.5× limit)'
            : `MISSED: ${[!exact ? `admitted ${admitted.join('/')}` : '', worst >= 2000 ? `${fmtInt(worst)} ms ≥ 2 s` : '', median > 1.5 * limitMedian ? `${round(median / limitMedian, 2)}× limit > 1.5×` : '', ...other].filter(Boolean).join('; ')}`,
      },
      {
        case: 'P3 1,000 createSession, cap 100',
        setup: `limit: each round's MongoDB commands (median round: ${describe(shapes[medianRound] ?? [])}), each with as many documents written and returned, straight to the same FerretDB with the driver, unique keys, ${fmtInt(CALLERS)} concurrent callers, 2 clients (pool 50)`,
        result: `${limitTimes.map((t) => fmtInt(t)).join(' / ')} ms (median ${fmtInt(limitMedian)} ms)`,
        p50: '',
        p99: '',
        memory: '',
        ratio: '1× (limit)',
        target: '',
      },
    ];
  } finally {
    await load.stop();
    for (const i of instances) await i.stop();
  }
}
