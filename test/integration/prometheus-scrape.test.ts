import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { emptyFigures } from '../../src/domain/resources/resource-sample.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { tool } from '../support/tools.js';

const config = (p: string): string => fileURLToPath(new URL(`../../config/${p}`, import.meta.url));
const prometheusBin = tool('prometheus', ['/usr/bin/prometheus']);
const UP_DEADLINE_MS = 30_000;

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface ScrapeJob {
  job_name: string;
  static_configs: { targets: string[] }[];
  [key: string]: unknown;
}

/**
 * config/prometheus.yml adapted to loopback: the API and Prometheus jobs point at 127.0.0.1, the
 * jobs of services that do not run here (blackbox, Alertmanager) and the alerting target are left
 * out, and the intervals are 1 s so the test waits seconds, not minutes. Everything else (external
 * labels, metrics path, rule files) is the file as shipped.
 */
function loopbackConfig(apiPort: number, promPort: number): string {
  const shipped = parse(readFileSync(config('prometheus.yml'), 'utf8')) as {
    global: Record<string, unknown>;
    rule_files: string[];
    scrape_configs: ScrapeJob[];
  };
  const targets: Record<string, string> = { 'rdp-api': `127.0.0.1:${apiPort}`, prometheus: `127.0.0.1:${promPort}` };
  return stringify({
    global: { ...shipped.global, scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: shipped.rule_files,
    scrape_configs: shipped.scrape_configs
      .filter((job) => job.job_name in targets)
      .map((job) => ({ ...job, static_configs: [{ targets: [targets[job.job_name]] }] })),
  });
}

describe.skipIf(!prometheusBin)('a real Prometheus scrapes the API with config/prometheus.yml', () => {
  let app: TestApp;
  let prometheus: ChildProcess | undefined;
  let promUrl: string;
  let promLog = '';
  let serverId = '';
  const dir = mkdtempSync(join(tmpdir(), 'rdp-prometheus-'));

  async function api<T>(path: string): Promise<T> {
    const res = await fetch(`${promUrl}${path}`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.status}`);
    return body.data;
  }

  const query = (q: string) =>
    api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
      `/api/v1/query?query=${encodeURIComponent(q)}`,
    );

  beforeAll(async () => {
    app = await startTestApp({}, { runtime: new FakeServerRuntime() });
    const admin = await app.token('ada', ['admin']);
    const created = await app.gql<{ createServer: { __typename: string; server?: { id: string } } }>(
      'mutation { createServer(input: { name: "scraped" }) { __typename ... on CreateServerSuccess { server { id } } } }',
      {},
      admin,
    );
    expect(created.body.data?.createServer.__typename).toBe('CreateServerSuccess');
    serverId = created.body.data?.createServer.server?.id ?? '';
    // A fresh sample, so the per-server usage gauges have a series for it.
    await app.app.container.resources.samples.append([
      {
        ...emptyFigures(),
        subjectKind: 'SERVER',
        subjectId: serverId,
        at: new Date().toISOString(),
        cpuPercent: 42,
        memoryPercent: 17,
        networkInKbps: 300,
        networkOutKbps: 200,
      },
    ]);

    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    const apiPort = Number(new URL(app.url).port);
    for (const file of ['alert-rules.yml']) copyFileSync(config(file), join(dir, file));
    writeFileSync(join(dir, 'prometheus.yml'), loopbackConfig(apiPort, promPort));
    prometheus = spawn(
      prometheusBin ?? 'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (d: Buffer) => {
      promLog = `${promLog}${d.toString()}`.slice(-20_000);
    };
    prometheus.stdout?.on('data', keep);
    prometheus.stderr?.on('data', keep);

    // Bounded wait: until the API target is up, or 30 s.
    const deadline = Date.now() + UP_DEADLINE_MS;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (prometheus.exitCode !== null) throw new Error(`prometheus exited with ${prometheus.exitCode}:\n${promLog}`);
      try {
        const targets = await api<{ activeTargets: { labels: { job: string }; health: string; lastError: string }[] }>(
          '/api/v1/targets',
        );
        const target = targets.activeTargets.find((t) => t.labels.job === 'rdp-api');
        last = JSON.stringify(target ?? targets);
        if (target?.health === 'up') return;
      } catch (err) {
        last = String(err);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`the rdp-api target was not up within ${UP_DEADLINE_MS} ms; last: ${last}\n${promLog}`);
  }, UP_DEADLINE_MS + 20_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = once(prometheus, 'exit');
      prometheus.kill('SIGTERM');
      const timer = setTimeout(() => prometheus?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('up{job="rdp-api"} is 1', async () => {
    const { result } = await query('up{job="rdp-api"}');
    expect(result.map((r) => r.value[1])).toEqual(['1']);
  });

  it('rdp_servers_total is there for every status, with the one server the API holds', async () => {
    const { result } = await query('rdp_servers_total');
    expect(result.map((r) => r.metric.status).sort()).toEqual([
      'ERROR',
      'MAINTENANCE',
      'RUNNING',
      'STARTING',
      'STOPPED',
      'STOPPING',
    ]);
    const stopped = result.find((r) => r.metric.status === 'STOPPED');
    expect(stopped?.value[1]).toBe('1');
    expect(stopped?.metric).toMatchObject({ job: 'rdp-api', instance: `127.0.0.1:${new URL(app.url).port}` });
  });

  it('rdp_server_info names each server, and the dashboard shows its per-server panels by name', async () => {
    const { result } = await query('rdp_server_info');
    expect(result.map((r) => ({ ...r.metric, value: r.value[1] }))).toEqual([
      expect.objectContaining({
        __name__: 'rdp_server_info',
        server_id: serverId,
        name: 'scraped',
        host: 'localhost',
        value: '1',
      }),
    ]);
    const dashboard = JSON.parse(readFileSync(config('grafana/dashboards/rdp-cluster.json'), 'utf8')) as {
      panels: { title: string; targets?: { expr: string; legendFormat?: string }[] }[];
      templating: { list: { name: string; definition: string; regex: string }[] };
    };
    const joined = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).filter((t) => t.expr.includes('server_id')).map((t) => ({ title: p.title, ...t })),
    );
    expect(joined.map((t) => t.title)).toEqual(['CPU by server', 'Memory by server', 'Network by server', 'Network by server']);
    const expected: Record<string, string> = { CPU: '42', Memory: '17', in: '300', out: '-200' };
    for (const t of joined) {
      // As Grafana sends it with the variable at "All".
      const { result: rows } = await query(t.expr.replaceAll('$server_id', '.*'));
      expect(
        rows.map((r) => ({ name: r.metric.name, server_id: r.metric.server_id })),
        t.expr,
      ).toEqual([{ name: 'scraped', server_id: serverId }]);
      expect(t.legendFormat, t.expr).toContain('{{name}}');
      const key = Object.keys(expected).find((k) => t.title.startsWith(k) || t.legendFormat?.startsWith(`${k} `)) ?? '';
      expect(rows[0]?.value[1], t.expr).toBe(expected[key]);
    }
    // The server picker lists names and selects ids: its query, then its regex as Grafana applies it
    // to query_result's lines (`{label="value",...} value timestamp`).
    const picker = dashboard.templating.list.find((v) => v.name === 'server_id');
    const inner = /^query_result\((.*)\)$/.exec(picker?.definition ?? '')?.[1] ?? '';
    const { result: options } = await query(inner);
    const lines = options.map(
      (r) =>
        `{${Object.entries(r.metric)
          .map(([k, v]) => `${k}="${v}"`)
          .join(',')}} ${r.value[1]} ${r.value[0] * 1000}`,
    );
    const regex = new RegExp(/^\/(.*)\/$/.exec(picker?.regex ?? '')?.[1] ?? '');
    expect(lines.map((l) => regex.exec(l)?.groups)).toEqual([{ text: 'scraped', value: serverId }]);
  });

  it('evaluates every query of the dashboard without error', async () => {
    const text = readFileSync(config('grafana/dashboards/rdp-cluster.json'), 'utf8');
    const exprs = [...text.matchAll(/"expr": "((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    expect(exprs.length).toBeGreaterThan(20);
    for (const expr of exprs) {
      const q = expr.replaceAll('$server_id', '.*').replaceAll('$__rate_interval', '1m');
      await expect(query(q), q).resolves.toBeDefined();
    }
  });

  it('loads every alert rule and evaluates it without error', async () => {
    const shipped = parse(readFileSync(config('alert-rules.yml'), 'utf8')) as { groups: { rules: { alert: string }[] }[] };
    const expected = shipped.groups.flatMap((g) => g.rules.map((r) => r.alert)).sort();
    // Rules are evaluated every second here; wait (bounded) for one evaluation of each.
    const deadline = Date.now() + 10_000;
    let rules: { name: string; health: string; lastError?: string }[] = [];
    while (Date.now() < deadline) {
      const data = await api<{ groups: { rules: { name: string; health: string; lastError?: string }[] }[] }>('/api/v1/rules');
      rules = data.groups.flatMap((g) => g.rules);
      if (rules.length > 0 && rules.every((r) => r.health !== 'unknown')) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(rules.map((r) => r.name).sort()).toEqual(expected);
    expect(rules.filter((r) => r.health !== 'ok')).toEqual([]);
  });

  it('keeps the external labels of the shipped configuration', async () => {
    const { yaml } = await api<{ yaml: string }>('/api/v1/status/config');
    const loaded = parse(yaml) as { global: { external_labels: Record<string, string> } };
    const shipped = parse(readFileSync(config('prometheus.yml'), 'utf8')) as {
      global: { external_labels: Record<string, string> };
    };
    expect(loaded.global.external_labels).toEqual(shipped.global.external_labels);
  });
});
