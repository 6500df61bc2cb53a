import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type MetricsSources } from '../../monitoring/metrics.js';
import { createMonitoringRouter, type ReadinessCheck, runChecks } from '../../monitoring/monitoring-router.js';

const ok = (): Promise<void> => Promise.resolve();
const refused = (): Promise<void> => Promise.reject(new Error('connect ECONNREFUSED'));
const hangs = (): Promise<void> => new Promise<void>(() => undefined);

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Serves the router alone on a free port; `shuttingDown` is read at every request. */
async function serve(checks: ReadinessCheck[], state = { shuttingDown: false }, sources?: MetricsSources) {
  const metrics = createMetrics(
    sources ?? { serversByStatus: () => Promise.resolve({}), sessionsByStatus: () => Promise.resolve({}) },
    { defaultMetrics: false },
  );
  metrics.reportDependencies(async () =>
    (await runChecks(checks, 100)).map((o) => ({ dependency: o.name, up: o.result === 'ok' })),
  );
  const route = createMonitoringRouter({
    service: 'api',
    version: 'test',
    registry: metrics.registry,
    checks,
    isShuttingDown: () => state.shuttingDown,
    checkTimeoutMs: 100,
  });
  server = createServer((req, res) => {
    void route(req, res, new URL(req.url ?? '/', 'http://x').pathname).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (path: string) => `${url}${path}`,
    ready: async () => {
      const res = await fetch(`${url}/health/ready`);
      return { status: res.status, body: (await res.json()) as unknown };
    },
    metrics: async () => {
      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      return res.text();
    },
  };
}

describe('createMonitoringRouter /health/ready', () => {
  it('is 200 ready when every check passes, and when there are none', async () => {
    const app = await serve([
      { name: 'mongodb', check: ok },
      { name: 'redis', required: false, check: ok },
    ]);
    expect(await app.ready()).toEqual({
      status: 200,
      body: {
        status: 'ready',
        ready: true,
        checks: { mongodb: 'ok', redis: 'ok' },
        dependencies: {
          mongodb: { status: 'ok', message: 'mongodb answered' },
          redis: { status: 'ok', message: 'redis answered' },
        },
      },
    });
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    const bare = await serve([]);
    expect(await bare.ready()).toEqual({ status: 200, body: { status: 'ready', ready: true, checks: {}, dependencies: {} } });
  });

  it('is 503 not ready naming a failing required check (required is the default)', async () => {
    const app = await serve([
      { name: 'mongodb', check: refused },
      { name: 'redis', required: false, check: ok },
    ]);
    expect(await app.ready()).toEqual({
      status: 503,
      body: {
        status: 'not ready',
        ready: false,
        failing: ['mongodb'],
        checks: { mongodb: 'unavailable', redis: 'ok' },
        dependencies: {
          mongodb: { status: 'unavailable', message: 'mongodb is not reachable; the replica is not ready' },
          redis: { status: 'ok', message: 'redis answered' },
        },
      },
    });
  });

  it('is 200 degraded, not 503, when only an optional check fails', async () => {
    const app = await serve([
      { name: 'mongodb', check: ok },
      { name: 'redis', required: false, check: refused },
    ]);
    expect(await app.ready()).toEqual({
      status: 200,
      body: {
        status: 'degraded',
        ready: true,
        degraded: ['redis'],
        checks: { mongodb: 'ok', redis: 'unavailable' },
        dependencies: {
          mongodb: { status: 'ok', message: 'mongodb answered' },
          redis: { status: 'unavailable', message: 'redis is not reachable; the replica serves on, degraded' },
        },
      },
    });
  });

  it('is 503 when required and optional checks both fail: failing lists only the required one', async () => {
    const app = await serve([
      { name: 'mongodb', check: hangs },
      { name: 'redis', required: false, check: hangs },
    ]);
    const started = Date.now();
    expect(await app.ready()).toEqual({
      status: 503,
      body: {
        status: 'not ready',
        ready: false,
        failing: ['mongodb'],
        degraded: ['redis'],
        checks: { mongodb: 'timeout', redis: 'timeout' },
        dependencies: {
          mongodb: { status: 'timeout', message: 'mongodb did not answer within 100 ms; the replica is not ready' },
          redis: { status: 'timeout', message: 'redis did not answer within 100 ms; the replica serves on, degraded' },
        },
      },
    });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('is 503 during shutdown whatever the checks say', async () => {
    const state = { shuttingDown: false };
    const app = await serve([{ name: 'redis', required: false, check: refused }], state);
    expect((await app.ready()).status).toBe(200);
    state.shuttingDown = true;
    expect(await app.ready()).toEqual({
      status: 503,
      body: { status: 'not ready', ready: false, failing: ['shutdown'], checks: { shutdown: 'in progress' }, dependencies: {} },
    });
  });
});

describe('createMonitoringRouter /health/live', () => {
  it('answers alive with the time, whatever the checks say', async () => {
    const app = await serve([{ name: 'mongodb', check: refused }]);
    const before = Date.now();
    const res = await fetch(app.url('/health/live'));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; alive: boolean; timestamp: string };
    expect(body).toEqual({
      status: 'alive',
      alive: true,
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(Date.parse(body.timestamp)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(body.timestamp)).toBeLessThanOrEqual(Date.now() + 1000);
  });
});

describe('rdp_dependency_up', () => {
  const series = (text: string) => text.split('\n').filter((l) => l.startsWith('rdp_dependency_up'));

  it('is 1 per dependency that answers and 0 per one that fails or times out, read at each scrape', async () => {
    let redisUp = false;
    const app = await serve([
      { name: 'mongodb', check: ok },
      { name: 'redis', required: false, check: () => (redisUp ? ok() : hangs()) },
    ]);
    expect(series(await app.metrics())).toEqual([
      'rdp_dependency_up{dependency="mongodb"} 1',
      'rdp_dependency_up{dependency="redis"} 0',
    ]);
    redisUp = true;
    expect(series(await app.metrics())).toEqual([
      'rdp_dependency_up{dependency="mongodb"} 1',
      'rdp_dependency_up{dependency="redis"} 1',
    ]);
  });

  it('runs no check unless something scrapes', async () => {
    let calls = 0;
    const counted = () => {
      calls++;
      return ok();
    };
    const app = await serve([{ name: 'redis', required: false, check: counted }]);
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(0);
    await app.metrics();
    expect(calls).toBe(1);
  });

  it('is served while the store-backed gauges cannot read (MongoDB down): they have no series, /metrics is 200', async () => {
    const failing = () => Promise.reject(new Error('SERVICE_UNAVAILABLE'));
    const app = await serve([{ name: 'mongodb', check: refused }], undefined, {
      serversByStatus: failing,
      sessionsByStatus: failing,
      serverUsage: failing,
      hostUsage: failing,
    });
    const text = await app.metrics();
    expect(series(text)).toEqual(['rdp_dependency_up{dependency="mongodb"} 0']);
    expect(text).not.toMatch(/^rdp_(servers|sessions)_total\{/m);
    expect(text).not.toMatch(/^rdp_(host_)?cpu_usage_percent\{/m);
  });

  it('is declared even with no dependency, so rules and dashboards can refer to it', async () => {
    const app = await serve([]);
    const text = await app.metrics();
    expect(text).toContain('# TYPE rdp_dependency_up gauge');
    expect(series(text)).toEqual([]);
  });
});
