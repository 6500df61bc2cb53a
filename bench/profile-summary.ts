/**
 * Top frames of a V8 .cpuprofile (from BENCH_PROFILE / node --cpu-prof): self time by function,
 * and inclusive time of the frames that matter, as a short text report.
 *
 *   npx tsx bench/profile-summary.ts bench/profiles/<file>.cpuprofile [top=25]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** This checkout's root, to tell our own modules from node's and the packages'. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

type CallFrame = ProfileNode['callFrame'];

/** A frame as `function package-or-our-path:line`. */
function frameLabel(f: CallFrame): string {
  const url = f.url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, '');
  const where = url ? ` ${url.replace(ROOT, '')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'}${where}`;
}

/** The package of a frame; our own modules grouped by folder (ours: resolvers/server, ...). */
function framePackage(f: CallFrame): string {
  const url = f.url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.includes(ROOT)) return `ours: ${url.replace(ROOT, '').split('/').slice(0, 2).join('/')}`;
  return url ? 'node' : f.functionName;
}

const add = (m: Map<string, number>, key: string, v: number) => m.set(key, (m.get(key) ?? 0) + v);

/** The n largest entries, largest first, each as `  <formatted value>  <key>`. */
const largest = (m: Map<string, number>, n: number, format: (v: number) => string) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `  ${format(v)}  ${k}`);

export function summarize(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfTime = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    selfTime.set(id, (selfTime.get(id) ?? 0) + dt);
  });
  const label = (n: ProfileNode) => frameLabel(n.callFrame);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const [id, t] of selfTime) {
    const node = byId.get(id);
    if (!node) continue;
    add(self, label(node), t);
    add(byPackage, framePackage(node.callFrame), t);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n) break;
      const l = label(n);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + t);
    }
  }
  const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>, n: number) => largest(m, n, pct);
  return [
    `${file}: ${(total / 1e6).toFixed(1)} s sampled`,
    'self time by package:',
    ...list(byPackage, 12),
    'self time by function:',
    ...list(self, top),
    'inclusive time (top frames below the event loop):',
    ...list(inclusive, top + 10),
  ].join('\n');
}

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

/** A sampling heap profile (HeapProfiler.stopSampling): bytes allocated per operation, by function and by package. */
export function summarizeHeap(profile: { head: HeapNode }, operations: number, top = 40): string {
  const self = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode) => {
    if (n.selfSize > 0) {
      total += n.selfSize;
      add(self, frameLabel(n.callFrame), n.selfSize);
      add(byPackage, framePackage(n.callFrame), n.selfSize);
    }
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  const kb = (b: number) => `${(b / operations / 1024).toFixed(1).padStart(7)} KB`;
  const list = (m: Map<string, number>, k: number) => largest(m, k, kb);
  return [
    `sampled allocations per operation: ${kb(total)} (over ${operations} operations)`,
    'by package:',
    ...list(byPackage, 12),
    'by function:',
    ...list(self, top),
  ].join('\n');
}

if (process.argv[1]?.endsWith('profile-summary.ts')) {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
  process.stdout.write(`${summarize(file, Number(top ?? 25))}\n`);
}
