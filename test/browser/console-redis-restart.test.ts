import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app-harness.js';
import { type ConsoleApp, needBrowser, screenshot, startConsoleApp } from '../support/browser.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis.js';
import { need } from '../support/real-services.js';

const enabled = needBrowser('console across a Redis restart') && need('console across a Redis restart', ['mongo']);

/** Readiness names Redis as degraded (true) or answers plain ready (false). */
async function redisDegraded(url: string): Promise<boolean> {
  const body = (await (await fetch(`${url}/health/ready`)).json()) as { degraded?: string[] };
  return body.degraded?.includes('redis') ?? false;
}

// A Redis of this file alone, killed and started again under the open page; FerretDB, the API
// and chromium are the real ones (servers only change state, so the runtime is the test's).
describe.skipIf(!enabled)('the console across a Redis restart, in chromium', { timeout: 120_000 }, () => {
  let c: ConsoleApp;
  let t: TestApp;
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    c = await startConsoleApp({
      db: 'console_redis_restart',
      redisUrl: redis.url,
      appOptions: { runtime: new FakeServerRuntime() },
    });
    t = c.api;
  }, 120_000);
  afterAll(async () => {
    await c?.close();
    await redis?.stop();
  });

  it('the page says live updates are paused while Redis is away, then resyncs what changed meanwhile from the snapshots', async () => {
    const alice = await t.token('alice');
    const created = await t.gql('mutation { createServer(input: { name: "desk-1" }) { __typename } }', {}, alice);
    expect(created.body).toEqual({ data: { createServer: { __typename: 'CreateServerSuccess' } } });
    const { page, traffic } = await c.signInDev('alice', 'user');
    const indicator = page.getByTestId('live-indicator');
    const status = (name: string) => page.locator(`tr[data-server="${name}"] [data-testid="status"]`);
    await page
      .locator('tr[data-server="desk-1"]')
      .waitFor({ timeout: 15_000 })
      .catch(async () => {
        throw new Error(`desk-1 is not on the page, which says: ${await page.locator('main').textContent()}`);
      });
    await expect.poll(() => status('desk-1').textContent(), { timeout: 10_000 }).toBe('STOPPED');

    // Redis goes away (all its data with it); the service says so and keeps serving.
    await redis.kill();
    await expect.poll(() => redisDegraded(t.url), { timeout: 20_000 }).toBe(true);
    // Changes made now are published into the void: the page cannot hear about them.
    const fleet = await t.gql<{ servers: { edges: { node: { id: string; name: string } }[] } }>(
      '{ servers { edges { node { id name } } } }',
      {},
      alice,
    );
    const desk = fleet.body.data?.servers.edges.find((e) => e.node.name === 'desk-1')?.node.id;
    const started = await t.gql(`mutation { startServer(id: "${desk}") { __typename } }`, {}, alice);
    expect(started.body.data).toEqual({ startServer: { __typename: 'StartServerSuccess' } });
    const made = await t.gql('mutation { createServer(input: { name: "made-while-redis-was-down" }) { __typename } }', {}, alice);
    expect(made.body.data).toEqual({ createServer: { __typename: 'CreateServerSuccess' } });
    // The WebSocket does not need Redis, but no update reaches it: the page says so instead of
    // "Live", and still shows the old state.
    await expect.poll(() => indicator.getAttribute('data-state'), { timeout: 10_000 }).toBe('paused');
    expect(await indicator.textContent()).toBe('Live updates paused — reconnecting to the event bus');
    await screenshot(page, 'console-redis-down');
    expect(await status('desk-1').textContent()).toBe('STOPPED');
    expect(await page.locator('tr[data-server="made-while-redis-was-down"]').count()).toBe(0);

    await redis.start();
    await expect.poll(() => redisDegraded(t.url), { timeout: 20_000 }).toBe(false);
    // Each subscription gets a new SNAPSHOT; the page reads its list again on that.
    await expect.poll(() => status('desk-1').textContent(), { timeout: 20_000 }).toBe('RUNNING');
    await page.locator('tr[data-server="made-while-redis-was-down"]').waitFor({ timeout: 10_000 });
    await expect.poll(() => indicator.getAttribute('data-state'), { timeout: 10_000 }).toBe('live');
    expect(await indicator.textContent()).toBe('Live');
    await screenshot(page, 'console-after-redis-restart');

    // And it is live again: a change now arrives over the subscription, without a reload.
    const stopped = await t.gql(`mutation { stopServer(id: "${desk}", force: true) { __typename } }`, {}, alice);
    expect(stopped.body.data).toEqual({ stopServer: { __typename: 'StopServerSuccess' } });
    await expect.poll(() => status('desk-1').textContent(), { timeout: 10_000 }).toBe('STOPPED');
    expect(traffic.blocked).toEqual([]);
    expect(traffic.pageErrors).toEqual([]);
  });
});
