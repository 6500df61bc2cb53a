import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildConsole } from '../../src/console/build-if-missing.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { isolatedContext, launchBrowser, needBrowser, screenshot, seriousAxeViolations } from '../support/browser.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { dropDatabase, need, services, uniqueMongoUri } from '../support/real-services.js';
import { seedFleet } from '../support/seed-fleet.js';

const enabled =
  needBrowser('console fleet at scale in a browser') && need('console fleet at scale in a browser', ['mongo', 'redis']);

/** More servers than a screen holds many times over; the table renders only those on screen. */
const FLEET = 200;
/** Seeded names; the table lists servers in creation order, which concurrent seeding shuffles a little. */
const nameOf = (i: number) => `bench-server-${String(i).padStart(4, '0')}`;

// The xrdp runtime is a fake (hundreds of real xrdp listeners are not what this tests); the
// services, FerretDB, Redis, the API, graphql-ws and the page are the real ones.
describe.skipIf(!enabled)('the fleet table with many servers, in chromium', { timeout: 300_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  let dbUri: string;
  let consoleDir = '';
  let ids: string[] = [];
  let admin = '';
  let page: Page;

  beforeAll(async () => {
    consoleDir = mkdtempSync(join(tmpdir(), 'console-build-'));
    await buildConsole(consoleDir);
    dbUri = uniqueMongoUri(services.mongoUri ?? '', 'console_fleet_scale');
    t = await startTestApp(
      {
        MONGODB_URI: dbUri,
        REDIS_URL: services.redisUrl ?? '',
        MAX_CONCURRENT_SERVERS: String(FLEET + 10),
        // A port each (the runtime is a fake: nothing listens), below the kernel's ephemeral range.
        RDP_PORT_RANGE: '27000-27999',
        // Seeding keeps the database busy: the host's own heartbeat must not fall behind the
        // offline threshold meanwhile (placement would refuse the host).
        HOST_HEARTBEAT_INTERVAL: '60',
      },
      { runtime: new FakeServerRuntime(), consoleDir },
    );
    ids = await seedFleet(t.app.container, { servers: FLEET, sessionsPerServer: 0 });
    admin = await t.token('ada', ['admin']);
    browser = await launchBrowser();
    const { context } = await isolatedContext(browser, t.url);
    page = await context.newPage();
    await page.goto(`${t.url}/`);
    await page.getByLabel('User id').fill('olga');
    await page.getByLabel('Role').selectOption('operator');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
    if (dbUri) await dropDatabase(dbUri);
  });

  const table = () => page.getByTestId('fleet-table');
  const count = () => page.getByTestId('fleet-count').textContent();
  const rendered = () => page.locator('tr[data-server]').count();
  const statusOf = (name: string) => page.locator(`tr[data-server="${name}"] [data-testid="status"]`);
  const filter = () => page.getByLabel('Filter');
  const renderedNames = () =>
    page.locator('tr[data-server]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-server') ?? ''));

  beforeEach(async () => {
    // Each test starts from the whole fleet, at the top of the page.
    await filter().fill('');
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  async function mutate(field: string, id: string) {
    const r = await t.gql<Record<string, { __typename: string }>>(
      `mutation($id: ID!) { ${field}(id: $id${field === 'startServer' ? '' : ', force: true'}) { __typename } }`,
      { id },
      admin,
    );
    expect(r.body, JSON.stringify(r.body)).toMatchObject({
      data: { [field]: { __typename: expect.stringMatching(/Success$/) } },
    });
  }

  it('holds every server (aria-rowcount) while rendering only the rows on screen', async () => {
    await expect.poll(count, { timeout: 60_000 }).toBe(`${FLEET} servers, ${FLEET} shown`);
    await expect.poll(() => page.getByTestId('live-indicator').getAttribute('data-state'), { timeout: 15_000 }).toBe('live');
    expect(await table().getAttribute('aria-rowcount')).toBe(String(FLEET + 1));
    const inPage = await rendered();
    expect(inPage).toBeGreaterThan(0);
    expect(inPage).toBeLessThan(FLEET);
    // The first rows, each with its position in the whole table (the header is row 1).
    const indexes = await page.locator('tr[data-server]').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-rowindex')));
    expect(indexes).toEqual(Array.from({ length: inPage }, (_, i) => String(i + 2)));
    const top = await renderedNames();
    for (const name of top) expect(await statusOf(name).textContent()).toBe('RUNNING');
    // Scrolled to the end, the last rows are there, in their places, and the first ones are not.
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.locator(`tr[aria-rowindex="${FLEET + 1}"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator(`tr[data-server="${top[0]}"]`).count()).toBe(0);
    const seen = new Set([...top, ...(await renderedNames())]);
    expect([...seen].every((n) => /^bench-server-\d{4}$/.test(n))).toBe(true);
    await screenshot(page, 'console-fleet-scale-end');
    await page.evaluate(() => window.scrollTo(0, 0));
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('filters to exactly the matching servers, and back to all', async () => {
    await filter().fill('bench-server-001');
    // 0010 to 0019.
    await expect.poll(count).toBe(`${FLEET} servers, 10 shown`);
    expect(await table().getAttribute('aria-rowcount')).toBe('11');
    expect((await renderedNames()).sort()).toEqual(Array.from({ length: 10 }, (_, i) => nameOf(10 + i)));
    await filter().fill('no such server');
    await expect.poll(count).toBe(`${FLEET} servers, 0 shown`);
    expect(await rendered()).toBe(0);
    await filter().fill('');
    await expect.poll(count).toBe(`${FLEET} servers, ${FLEET} shown`);
  });

  it('shows a status change live, on screen and off screen, and servers created and deleted', async () => {
    // On screen: the first row.
    const near = (await renderedNames())[0] ?? '';
    await mutate('stopServer', ids[Number(near.slice(-4))] ?? '');
    await expect.poll(() => statusOf(near).textContent(), { timeout: 15_000 }).toBe('STOPPED');
    // Off screen: a server not in the page now.
    const onScreen = new Set(await renderedNames());
    const farIndex = ids.findIndex((_, i) => !onScreen.has(nameOf(i)) && i > 100);
    const far = nameOf(farIndex);
    expect(await page.locator(`tr[data-server="${far}"]`).count()).toBe(0);
    await mutate('stopServer', ids[farIndex] ?? '');
    // The filter on the status finds the two (the page has it from the live event, not a reload).
    await filter().fill('stopped');
    await expect.poll(count, { timeout: 15_000 }).toBe(`${FLEET} servers, 2 shown`);
    expect((await renderedNames()).sort()).toEqual([near, far].sort());
    expect(await statusOf(far).textContent()).toBe('STOPPED');
    await mutate('startServer', ids[farIndex] ?? '');
    await expect.poll(count, { timeout: 15_000 }).toBe(`${FLEET} servers, 1 shown`);
    await filter().fill('');

    // A server created through the API joins the table; deleted, it leaves.
    const made = await t.gql<{ createServer: { server?: { id: string } } }>(
      'mutation { createServer(input: { name: "made-elsewhere" }) { ... on CreateServerSuccess { server { id } } } }',
      {},
      admin,
    );
    const madeId = made.body.data?.createServer.server?.id ?? '';
    expect(madeId).not.toBe('');
    await expect.poll(count, { timeout: 15_000 }).toBe(`${FLEET + 1} servers, ${FLEET + 1} shown`);
    const deleted = await t.gql<{ deleteServer: { __typename: string } }>(
      'mutation($id: ID!) { deleteServer(id: $id, force: true) { __typename } }',
      { id: madeId },
      admin,
    );
    expect(deleted.body.data?.deleteServer.__typename).toBe('DeleteServerSuccess');
    await expect.poll(count, { timeout: 15_000 }).toBe(`${FLEET} servers, ${FLEET} shown`);
  });

  it('reaches rows below the first screen with the keyboard alone', async () => {
    await filter().focus();
    // Row 60 of the table (aria-rowindex 61) is not in the page at first.
    expect(await page.locator('tr[aria-rowindex="61"]').count()).toBe(0);
    let at = { row: 0, link: '' };
    for (let i = 0; i < 400 && at.row < 61; i++) {
      await page.keyboard.press('Tab');
      at = await page.evaluate(() => {
        const el = document.activeElement;
        const row = el?.closest('tr[data-server]');
        return { row: Number(row?.getAttribute('aria-rowindex') ?? 0), link: el?.tagName === 'A' ? (el.textContent ?? '') : '' };
      });
    }
    expect(at.row).toBe(61);
    // Tab stops on a row's link first: that is the server's name, and its row is on screen.
    expect(at.link).toMatch(/^bench-server-\d{4}$/);
    expect(await page.locator(`tr[data-server="${at.link}"]`).isVisible()).toBe(true);
    // Enter follows the focused link to the server's page.
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: at.link }).waitFor();
  });
});
