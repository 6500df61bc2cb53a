import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoundReport } from '../../src/domain/resources/resource-collector.js';
import { collect, startTestApp, TEST_SECRET, type TestApp } from '../support/app-harness.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const INTERVAL_MS = 1000;

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!need('collector failover on FerretDB and Redis', ['mongo', 'redis']))(
  'one collector per host through a Redis lease; killing it hands over within 2 intervals',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'collector-failover-'));
    const env = {
      MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'failover'),
      REDIS_URL: services.redisUrl ?? '',
      METRICS_INTERVAL: String(INTERVAL_MS / 1000),
      XRDP_BINARY: '/nonexistent/xrdp',
      XRDP_CONFIG_PATH: join(dir, 'xrdp'),
      XRDP_LOG_PATH: join(dir, 'log'),
      DATA_DIR: join(dir, 'data'),
      // Its own host name, so no other suite's replicas share this lease.
      RDP_PUBLIC_HOST: `failover-${process.pid}`,
    };
    let a: ChildProcess | undefined;
    let aExited: Promise<unknown> | undefined;
    let b: TestApp;
    const bRounds: (RoundReport & { doneAt: number })[] = [];

    beforeAll(async () => {
      // Replica A is a process of its own (`npm start`), so killing it is a real kill: no
      // shutdown, no lease given back.
      a = spawn(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], {
        cwd: new URL('../..', import.meta.url).pathname,
        env: {
          ...process.env,
          ...env,
          NODE_ENV: 'test',
          JWT_SECRET: TEST_SECRET,
          SERVICE_HOST: '127.0.0.1',
          SERVICE_PORT: '0',
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      aExited = new Promise((resolve) => a?.once('exit', resolve));
      let out = '';
      a.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      a.stderr?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      await until('replica A listening', 30_000, () => (out.includes('listening') ? true : undefined)).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${out.slice(-2000)}`);
      });
      b = await startTestApp(env);
      b.app.container.resources.collector.onRound((r) => bRounds.push({ ...r, doneAt: Date.now() }));
    }, 60_000);

    afterAll(async () => {
      if (a && a.exitCode === null && a.signalCode === null) a.kill('SIGKILL');
      await aExited;
      await b?.app.container.mongo?.db.dropDatabase();
      await b?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('A collects, B stands by; after A is killed B stores samples within 2 intervals, none twice', async () => {
      const hostId = `host:${env.RDP_PUBLIC_HOST}`;
      const samples = b.app.container.resources.samples;
      // A holds the lease: its samples arrive, B's rounds store nothing.
      await until('samples from A', 10_000, async () => {
        const [s] = await samples.latest([hostId]);
        return s && Date.now() - Date.parse(s.at) < 3 * INTERVAL_MS ? s : undefined;
      });
      await until('three rounds of B', 10_000, () => (bRounds.length >= 3 ? true : undefined));
      expect(bRounds.every((r) => !r.leader && r.samples === 0)).toBe(true);

      // A subscriber on B sees A's samples through Redis, then B's own.
      const operator = await b.token('olga', ['operator']);
      const sub = collect<{ resourceUsage: { kind: string; sample: { at: string } | null } }>(
        b.ws(operator),
        'subscription { resourceUsage(subjectId: "host") { kind sample { at } } }',
      );
      await sub.until(() => sub.items.length >= 3, 10_000);

      a?.kill('SIGKILL');
      const killedAt = Date.now();
      await aExited;
      const takeover = await until('a round stored by B', 10_000, () =>
        bRounds.find((r) => r.leader && r.samples > 0 && r.doneAt >= killedAt),
      );
      // From the kill to B's first round stored (its samples written and published).
      const takeoverMs = takeover.doneAt - killedAt;
      console.log(
        `collector failover: B stored its first round ${takeoverMs} ms after A was killed (interval ${INTERVAL_MS} ms)`,
      );
      expect(takeoverMs).toBeLessThanOrEqual(2 * INTERVAL_MS);

      await sub.until(() => sub.items.some((i) => (i.data?.resourceUsage.sample?.at ?? '') >= takeover.at), 5000);
      await until('two more rounds of B', 5000, () => (bRounds.filter((r) => r.leader).length >= 3 ? true : undefined));
      sub.dispose();

      // No duplicates: every sample sent once, in time order; stored once per slot, with at
      // most one slot missed while the lease expired.
      const sent = sub.items
        .filter((i) => i.data?.resourceUsage.kind === 'SAMPLE')
        .map((i) => i.data?.resourceUsage.sample?.at ?? '');
      expect(new Set(sent).size).toBe(sent.length);
      expect([...sent].sort()).toEqual(sent);
      const first = Date.parse(sent[0] ?? '');
      const stored = await samples.samples(hostId, new Date(first), new Date());
      const times = stored.map((s) => Date.parse(s.at));
      expect(new Set(times).size).toBe(times.length);
      const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
      expect(Math.max(...gaps)).toBeLessThanOrEqual(2 * INTERVAL_MS);
      console.log(
        `collector failover: ${times.length} host samples over ${times.length > 0 ? (times.at(-1) as number) - first : 0} ms, largest gap ${Math.max(...gaps)} ms`,
      );
    }, 60_000);
  },
);
