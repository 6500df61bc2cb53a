/**
 * Load generator process for P3: rounds of 1,000 concurrent createSession calls, alternating
 * between two instances, each by a user of its own; between rounds the admitted sessions are
 * terminated (outside the timing) so every round starts from an empty fleet.
 */
import { readFileSync } from 'node:fs';
import { benchToken } from '../lib/bench-env.js';
import { postJson } from '../lib/http-client.js';
import { serveRpc } from '../lib/rpc-child.js';
import { percentile } from '../lib/stats.js';

const CREATE = `mutation($id: ID!) { createSession(input: { serverId: $id }) {
  __typename ... on CreateSessionSuccess { session { id } } ... on LimitExceededError { limit max } ... on Error { code message } } }`;
const TERMINATE = 'mutation($id: ID!) { terminateSession(id: $id, force: true) { __typename } }';

export interface AdmissionParams {
  urls: string[];
  serverId: string;
  callers: number;
  rounds: number;
  /** No new round starts after this (the first two always run: a warm-up and one measured). */
  budgetSeconds: number;
  /** The instances' process ids: their CPU time during each round's burst is reported. */
  pids?: number[];
}

export interface RoundResult {
  ms: number;
  admitted: number;
  refused: number;
  other: string[];
  p50: number;
  p99: number;
  /** CPU time the instances used during the burst (user + system, all of them), in ms. */
  cpuMs: number;
}

/** CPU time of a process so far in ms (utime + stime from /proc, in clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

interface Outcome {
  data?: { createSession?: { __typename: string; session?: { id: string } } };
  errors?: unknown;
}

async function gql(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<Outcome> {
  return (await postJson<Outcome>(url, { query, variables }, { authorization: `Bearer ${token}` })).body;
}

/** The callers' tokens, signed once: a client sends the same token with every call. */
let signed: Promise<string[]> | null = null;

async function run(p: AdmissionParams, terminate = true): Promise<RoundResult[]> {
  signed ??= Promise.all(Array.from({ length: p.callers }, (_, i) => benchToken(`racer-${i}`, ['operator'])));
  const tokens = await signed;
  const admin = await benchToken('bench-admin', ['admin']);
  const rounds: RoundResult[] = [];
  const deadline = performance.now() + p.budgetSeconds * 1000;
  for (let round = 0; round < p.rounds && (round < 2 || performance.now() < deadline); round++) {
    const latencies = new Float64Array(p.callers);
    const cpuBefore = (p.pids ?? []).reduce((sum, pid) => sum + cpuMsOf(pid), 0);
    const started = performance.now();
    const outcomes = await Promise.all(
      tokens.map(async (token, i) => {
        const t0 = performance.now();
        const o = await gql(p.urls[i % p.urls.length] ?? '', token, CREATE, { id: p.serverId });
        latencies[i] = performance.now() - t0;
        return o;
      }),
    );
    const ms = performance.now() - started;
    const cpuMs = (p.pids ?? []).reduce((sum, pid) => sum + cpuMsOf(pid), 0) - cpuBefore;
    const admitted = outcomes.flatMap((o) => {
      const id = o.data?.createSession?.session?.id;
      return o.data?.createSession?.__typename === 'CreateSessionSuccess' && id ? [id] : [];
    });
    const refusals = outcomes.filter((o) => o.data?.createSession?.__typename === 'LimitExceededError');
    const refused = refusals.length;
    const byLimit = new Map<string, number>();
    for (const o of refusals) {
      const limit = String((o.data?.createSession as { limit?: string } | undefined)?.limit);
      byLimit.set(limit, (byLimit.get(limit) ?? 0) + 1);
    }
    const other = outcomes
      .filter((o) => !['CreateSessionSuccess', 'LimitExceededError'].includes(o.data?.createSession?.__typename ?? ''))
      .map((o) => JSON.stringify(o).slice(0, 200));
    rounds.push({
      ms,
      admitted: admitted.length,
      refused,
      other: [
        ...[...new Set(other)].slice(0, 3),
        ...[...byLimit].filter(([limit]) => limit !== 'maxSessions').map(([limit, n]) => `${n} refused by ${limit}`),
      ],
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      cpuMs,
    });
    // Every admitted session must end before the next round, or that round starts with fewer slots.
    if (!terminate) {
      leftOver = { urls: p.urls, ids: admitted };
      continue;
    }
    const notEnded = await end(p.urls, admin, admitted);
    if (notEnded.length > 0)
      rounds.at(-1)?.other.push(`terminate failed ${notEnded.length}x: ${JSON.stringify(notEnded[0]).slice(0, 200)}`);
  }
  return rounds;
}

/** The sessions of the last round run with `terminate: false`, ended by `cleanup`. */
let leftOver: { urls: string[]; ids: string[] } | null = null;

async function end(urls: string[], admin: string, ids: string[]): Promise<Outcome[]> {
  const ended = await Promise.all(ids.map((id, i) => gql(urls[i % urls.length] ?? '', admin, TERMINATE, { id })));
  return ended.filter(
    (o) =>
      (o.data as { terminateSession?: { __typename?: string } } | undefined)?.terminateSession?.__typename !==
      'TerminateSessionSuccess',
  );
}

async function cleanup(): Promise<{ notEnded: number }> {
  if (!leftOver) return { notEnded: 0 };
  const { urls, ids } = leftOver;
  leftOver = null;
  return { notEnded: (await end(urls, await benchToken('bench-admin', ['admin']), ids)).length };
}

serveRpc({
  run: (p) => run(p as AdmissionParams),
  /** One round whose admitted sessions stay until `cleanup` (so what is counted is the burst alone). */
  burst: (p) => run({ ...(p as AdmissionParams), rounds: 1 }, false),
  cleanup: () => cleanup(),
});
