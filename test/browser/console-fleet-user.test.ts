import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoundReport } from '../../src/domain/resources/resource-collector.js';
import { type ConsoleApp, needBrowser, startConsoleApp } from '../support/browser.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { need } from '../support/real-services.js';
import { FakeProbe, figures } from '../support/resource-fixtures.js';
import { seedFleet } from '../support/seed-fleet.js';

const enabled = needBrowser("a user's fleet in a browser") && need("a user's fleet in a browser", ['mongo', 'redis']);

/** The console's documents by hash: it sends hashes (trusted documents), not the text. */
const documents = Object.entries(
  JSON.parse(readFileSync(new URL('../../src/console/src/gql/persisted-documents.json', import.meta.url), 'utf8')) as Record<
    string,
    string
  >,
);
/** The operation name of a graphql-ws subscribe message, by its document text or hash. */
function operationOf(message: string): string {
  const text = documents.find(([hash]) => message.includes(hash.replace(/^sha256:/, '')))?.[1] ?? message;
  return /subscription (\w+)/.exec(text)?.[1] ?? message.slice(0, 120);
}

/** More servers than WS_MAX_SUBSCRIPTIONS_PER_USER (100) subscriptions: one per row would not fit. */
const FLEET = 120;
const nameOf = (i: number) => `bench-server-${String(i).padStart(4, '0')}`;

// The xrdp runtime and the host probe are fakes (every server measures 1% CPU and memory); the
// services, FerretDB, Redis, the API, graphql-ws, the collector and the page are the real ones.
describe.skipIf(!enabled)("a user's fleet of 120 servers, in chromium", { timeout: 300_000 }, () => {
  let app: ConsoleApp;
  let page: Page;
  let ids: string[] = [];
  let admin = '';
  const rounds: RoundReport[] = [];
  const probe = new FakeProbe();
  /** The graphql-ws subscribe messages the page sent. */
  const subscribes: string[] = [];

  beforeAll(async () => {
    app = await startConsoleApp({
      db: 'console_fleet_user',
      env: {
        MAX_CONCURRENT_SERVERS: String(FLEET + 10),
        RDP_PORT_RANGE: '28000-28999',
        HOST_HEARTBEAT_INTERVAL: '60',
        METRICS_INTERVAL: '1',
      },
      appOptions: { runtime: new FakeServerRuntime(), hostProbe: probe },
    });
    app.api.app.container.resources.collector.onRound((r) => rounds.push(r));
    ids = await seedFleet(app.api.app.container, { servers: FLEET, sessionsPerServer: 0, ownerId: 'uma' });
    // Another user's server: never in uma's table.
    await seedFleet(app.api.app.container, { servers: 1, sessionsPerServer: 0, ownerId: 'ulf' });
    admin = await app.api.token('ada', ['admin']);
    const opened = await app.newPage();
    page = opened.page;
    page.on('websocket', (ws) =>
      ws.on('framesent', (f) => {
        const text = typeof f.payload === 'string' ? f.payload : f.payload.toString();
        if (text.includes('"type":"subscribe"')) subscribes.push(text);
      }),
    );
    await page.goto(`${app.api.url}/`);
    await page.getByLabel('User id').fill('uma');
    await page.getByLabel('Role').selectOption('user');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
  }, 600_000);
  afterAll(async () => {
    await app?.close();
  });

  const count = () => page.getByTestId('fleet-count').textContent();
  const statusOf = (name: string) => page.locator(`tr[data-server="${name}"] [data-testid="status"]`);
  const renderedNames = () =>
    page.locator('tr[data-server]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-server') ?? ''));
  const cpu = (name: string) => page.locator(`tr[data-server="${name}"] [data-testid="spark-cpu"]`);
  const cpuPoints = async (name: string) => Number(await cpu(name).getAttribute('data-points'));

  /** Resolves once a round that started after the call has been stored and published. */
  async function nextRound(timeoutMs = 10_000): Promise<void> {
    const since = Date.now();
    await expect
      .poll(() => rounds.some((r) => r.leader && r.samples > 0 && Date.parse(r.at) >= since), { timeout: timeoutMs })
      .toBe(true);
  }

  it('lists all 120 of her servers, live, over two subscriptions and not one per row', async () => {
    await expect.poll(count, { timeout: 60_000 }).toBe(`${FLEET} servers, ${FLEET} shown`);
    await expect.poll(() => page.getByTestId('live-indicator').getAttribute('data-state'), { timeout: 15_000 }).toBe('live');
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await page.locator('tr[data-server^="bench-server-"]').count()).toBeGreaterThan(0);
    // Live: a server far below the first screen stops; the status filter finds it from the event.
    const onScreen = new Set(await renderedNames());
    const far = ids.findIndex((_, i) => i > 100 && !onScreen.has(nameOf(i)));
    expect(far).toBeGreaterThan(0);
    const stopped = await app.api.gql<{ stopServer: { __typename: string } }>(
      'mutation($id: ID!) { stopServer(id: $id, force: true) { __typename } }',
      { id: ids[far] },
      admin,
    );
    expect(stopped.body.data?.stopServer.__typename).toBe('StopServerSuccess');
    await page.getByLabel('Filter').fill('stopped');
    await expect.poll(count, { timeout: 15_000 }).toBe(`${FLEET} servers, 1 shown`);
    expect(await statusOf(nameOf(far)).textContent()).toBe('STOPPED');
    await page.getByLabel('Filter').fill('');
    await expect.poll(count).toBe(`${FLEET} servers, ${FLEET} shown`);
    // The table's subscriptions: fleetEvents and fleetUsage (plus the connection's liveStatus).
    const operations = subscribes.map(operationOf);
    expect(operations).toContain('ConsoleFleetEvents');
    expect(operations).toContain('ConsoleFleetUsage');
    expect(operations.filter((o) => o === 'ConsoleServerEvents' || o === 'ConsoleUsageLive')).toEqual([]);
    expect(subscribes.length).toBeLessThan(10);
  });

  it('keeps the sparkline of a row scrolled off screen going: it has new points when scrolled back', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    const first = (await renderedNames())[0] ?? '';
    expect(first).toMatch(/^bench-server-\d{4}$/);
    await expect.poll(() => cpuPoints(first), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await cpu(first).locator('.spark-value').textContent()).toBe('1%');
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.locator(`tr[aria-rowindex="${FLEET + 1}"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator(`tr[data-server="${first}"]`).count()).toBe(0);
    // While its row is off screen, the server's CPU goes to 57% for two rounds.
    probe.servers.set(ids[Number(first.slice(-4))] ?? '', figures({ cpuPercent: 57, memoryPercent: 33 }));
    await nextRound();
    await nextRound();
    const before = Date.now();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.locator(`tr[data-server="${first}"]`).waitFor({ timeout: 10_000 });
    // Drawn from the points kept while it was away, not from a subscription opened on return.
    expect(await cpu(first).locator('.spark-value').textContent()).toBe('57%');
    expect(await cpuPoints(first)).toBeGreaterThanOrEqual(2);
    expect(rounds.filter((r) => r.leader && r.samples > 0 && Date.parse(r.at) >= before)).toEqual([]);
  });
});
