/** One line of the bench's one table; every cell is already formatted. */
export interface Row {
  case: string;
  setup: string;
  result: string;
  p50: string;
  p99: string;
  memory: string;
  ratio: string;
  /** "met", "MISSED: ..." or "" when the row is a baseline. */
  target: string;
}

export interface CaseContext {
  /** The bench's FerretDB and Redis (lib/services.ts). */
  services: { mongoUri: string; redisUrl: string };
  /** Seconds of each measured run (BENCH_SECONDS). */
  seconds: number;
  /** Core for the server(s) under test and for the load generator. */
  serverCpu: number;
  loadCpu: number;
  /**
   * Where to write a CPU profile of the measured phase of this server process, when BENCH_PROFILE
   * names it; null otherwise.
   */
  profilePath(caseId: string, label: string): string | null;
  log(message: string): void;
}

const HEADERS: [keyof Row, string][] = [
  ['case', 'Case'],
  ['setup', 'Setup'],
  ['result', 'Result'],
  ['p50', 'p50'],
  ['p99', 'p99'],
  ['memory', 'Memory'],
  ['ratio', 'vs baseline'],
  ['target', 'Target'],
];

/** A Markdown table (also readable as plain text). */
export function renderTable(rows: Row[]): string {
  const cells = [HEADERS.map(([, h]) => h), ...rows.map((r) => HEADERS.map(([k]) => r[k].replaceAll('|', '\\|')))];
  const widths = HEADERS.map((_, i) => Math.max(...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const [head, ...body] = cells;
  return [line(head ?? []), `|${widths.map((w) => ` ${'-'.repeat(w)} `).join('|')}|`, ...body.map(line)].join('\n');
}
