import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTestApp, type TestApp } from '../support/app-harness.js';

const read = (p: string): string => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

/** Names a query can use for each metric in an exposition: histograms and summaries add series. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name = '', type] = m;
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(`${name}${s}`);
  }
  return names;
}

/** Every PromQL string in a Grafana dashboard: panel targets and templating queries. */
function dashboardQueries(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(dashboardQueries);
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) =>
    typeof value === 'string' && ['expr', 'query', 'definition'].includes(key) ? [value] : dashboardQueries(value),
  );
}

function alertExpressions(): { alert: string; expr: string }[] {
  const rules = parse(read('config/alert-rules.yml')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  return rules.groups.flatMap((g) => g.rules);
}

/** Metric names of this service (and its process) that an expression refers to. */
const referenced = (expr: string): string[] =>
  [...expr.matchAll(/\b((?:rdp|process|nodejs)_[a-zA-Z0-9_]+)/g)].map((m) => m[1] ?? '');

describe('the dashboard and the alert rules against the metrics the API serves', () => {
  let t: TestApp;
  let exposed: Set<string>;
  const dashboard = JSON.parse(read('config/grafana/dashboards/rdp-cluster.json')) as {
    panels: { type: string; title: string; targets?: { expr: string }[] }[];
  };

  beforeAll(async () => {
    t = await startTestApp();
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    exposed = exposedNames(await res.text());
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('every metric the Grafana dashboard queries is in /metrics', () => {
    const queries = dashboardQueries(dashboard);
    expect(queries.length).toBeGreaterThan(15);
    const missing = [...new Set(queries.flatMap(referenced))].filter((name) => !exposed.has(name)).sort();
    expect(missing, 'queried by config/grafana/dashboards/rdp-cluster.json but not served on /metrics').toEqual([]);
  });

  it('docs/DOMAIN.md lists exactly the rdp_ metrics served', () => {
    const metricsSection =
      read('docs/DOMAIN.md')
        .split(/^## /m)
        .find((x) => x.startsWith('Metrics')) ?? '';
    const documented = new Set([...metricsSection.matchAll(/`(rdp_[a-z0-9_]+)`/g)].map((m) => m[1] ?? ''));
    const served = [...exposed].filter((n) => n.startsWith('rdp_') && !/_(bucket|sum|count)$/.test(n));
    expect(served.filter((n) => !documented.has(n)).sort(), 'served but not in docs/DOMAIN.md').toEqual([]);
    expect([...documented].filter((n) => !exposed.has(n)).sort(), 'in docs/DOMAIN.md but not served').toEqual([]);
  });

  it('every metric the alert rules use is in /metrics', () => {
    const missing = alertExpressions()
      .flatMap((r) => referenced(r.expr).map((name) => ({ alert: r.alert, name })))
      .filter((r) => !exposed.has(r.name));
    expect(missing, 'used by config/alert-rules.yml but not served on /metrics').toEqual([]);
  });

  it('the dashboard shows request rate, latency, active sessions, CPU, memory, servers by status and subscriptions', () => {
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    const exprsOf = (title: RegExp) =>
      panels
        .filter((p) => title.test(p.title))
        .flatMap((p) => p.targets ?? [])
        .map((x) => x.expr)
        .join('\n');
    expect(exprsOf(/^Request rate$/)).toMatch(/rate\(rdp_requests_total\[/);
    expect(exprsOf(/^Latency/)).toMatch(/histogram_quantile\(0\.95, .*rdp_request_duration_seconds_bucket/);
    expect(exprsOf(/^Active sessions$/)).toContain('rdp_sessions_total{status="ACTIVE"}');
    expect(exprsOf(/^CPU by server$/)).toContain('rdp_cpu_usage_percent');
    expect(exprsOf(/^Memory by server$/)).toContain('rdp_memory_usage_percent');
    expect(exprsOf(/^Servers by status$/)).toMatch(/by \(status\) \(rdp_servers_total\)/);
    expect(exprsOf(/^(Open )?[Ss]ubscriptions$/)).toMatch(/rdp_\w*subscriptions\w*/);
    const ids = panels.map((p) => (p as { id?: number }).id);
    expect(new Set(ids).size, 'panel ids are unique').toBe(ids.length);
  });
});
