/**
 * `npm run bench`: every case in turn, each in its own processes on loopback (server(s) pinned to
 * one core, load generator to the other where taskset exists), then one table, printed and
 * written to bench/results.md.
 *
 *   BENCH_SECONDS=10      seconds of each measured run
 *   BENCH_CASES=p1,p2     run only these cases
 *   BENCH_PROFILE=p1:api  profile that server process during its measured phase, write
 *                         bench/profiles/<case>-<label>.cpuprofile and a summary .txt beside it
 *                         (<case>:<label>, label optional; e.g. p2:inproc-10000)
 *   BENCH_WRITE=0         print the table only; bench/results.md is left as it is (for
 *                         running one case alone, e.g. npm run bench:console)
 *   BENCH_CONSOLE_FLEET   servers in P7's fleet table (default 500)
 */
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runP1 } from './cases/p1-query-throughput.js';
import { runP2 } from './cases/p2-subscription-fanout.js';
import { runP3 } from './cases/p3-session-admission.js';
import { runP4 } from './cases/p4-round-trips.js';
import { runP5 } from './cases/p5-xrdp.js';
import { runP6 } from './cases/p6-host-commands.js';
import { runP7 } from './cases/p7-console.js';
import { canPin } from './lib/processes.js';
import { type BenchServices, startBenchServices } from './lib/services.js';
import { type CaseContext, type Row, renderTable } from './lib/table.js';
import { summarize } from './profile-summary.js';

const CASES: Record<string, (ctx: CaseContext) => Promise<Row[]>> = {
  p1: runP1,
  p2: runP2,
  p3: runP3,
  p4: runP4,
  p5: runP5,
  p6: runP6,
  p7: runP7,
};

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
if (!Number.isFinite(seconds) || seconds < 1 || seconds > 120) throw new Error('BENCH_SECONDS must be 1 to 120');
const selected = (process.env.BENCH_CASES ?? Object.keys(CASES).join(','))
  .split(',')
  .map((c) => c.trim().toLowerCase())
  .filter(Boolean);
const profile = process.env.BENCH_PROFILE?.toLowerCase();
const profileDir = fileURLToPath(new URL('./profiles/', import.meta.url));
const started = Date.now();
const profiles: string[] = [];

const ctx: CaseContext = {
  services: { mongoUri: '', redisUrl: '' },
  seconds,
  serverCpu: 0,
  loadCpu: cpus().length > 1 ? 1 : 0,
  profilePath(caseId, label) {
    if (!profile) return null;
    const [c, l] = profile.split(':');
    if (c !== caseId || (l && l !== label.toLowerCase())) return null;
    mkdirSync(profileDir, { recursive: true });
    const path = `${profileDir}${caseId}-${label}.cpuprofile`;
    profiles.push(path);
    return path;
  },
  log: (m) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${m}\n`),
};

function machine(): string[] {
  const sh = (cmd: string) => {
    try {
      return execSync(cmd, { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  const model = sh("lscpu | sed -n 's/^Model name:[[:space:]]*//p'") || cpus()[0]?.model || 'unknown';
  return [
    `- CPU: ${model}, \`nproc\` = ${sh('nproc')}; ${canPin ? 'server pinned to core 0, load generator to core 1 (taskset)' : 'taskset not found: processes not pinned'}`,
    `- Node ${process.version}; BENCH_SECONDS=${seconds}; load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  ];
}

async function main(): Promise<void> {
  const unknown = selected.filter((c) => !CASES[c]);
  if (unknown.length > 0) throw new Error(`unknown case(s) ${unknown.join(', ')}; known: ${Object.keys(CASES).join(', ')}`);
  const header = machine();
  const rows: Row[] = [];
  const failures: string[] = [];
  let services: BenchServices | undefined;
  const stopServices = () => services?.stop();
  process.once('SIGINT', () => void stopServices()?.finally(() => process.exit(130)));
  process.once('SIGTERM', () => void stopServices()?.finally(() => process.exit(143)));
  try {
    services = await startBenchServices();
    ctx.services = services;
    header.push(`- Services: ${services.description}`);
    for (const id of selected) {
      const run = CASES[id];
      if (!run) continue;
      try {
        rows.push(...(await run(ctx)));
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        ctx.log(`${id} failed: ${message}`);
        failures.push(`${id}: ${message}`);
      }
    }
  } finally {
    await stopServices();
  }
  const table = renderTable(rows);
  const took = `${((Date.now() - started) / 1000).toFixed(0)} s`;
  const text = [
    `# Benchmark results (${new Date().toISOString()}, took ${took})`,
    '',
    ...header,
    '',
    table,
    '',
    ...(failures.length > 0 ? ['Failed cases:', ...failures.map((f) => `- ${f}`), ''] : []),
  ].join('\n');
  process.stdout.write(`\n${text}\n`);
  if (process.env.BENCH_WRITE !== '0') writeFileSync(new URL('./results.md', import.meta.url), text);
  for (const path of profiles) {
    if (!existsSync(path)) continue;
    const summary = summarize(path, 30);
    writeFileSync(path.replace(/\.cpuprofile$/, '.txt'), `${summary}\n`);
    process.stderr.write(`\n${summary}\n`);
  }
  if (failures.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
