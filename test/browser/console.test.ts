import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app-harness.js';
import { type ConsoleApp, needBrowser, screenshot, seriousAxeViolations, startConsoleApp } from '../support/browser.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { need } from '../support/real-services.js';
import { needXrdp } from '../support/xrdp-available.js';

const enabled =
  needBrowser('console in a browser') && need('console in a browser', ['mongo', 'redis']) && needXrdp('console in a browser');

describe.skipIf(!enabled)('the console in chromium, on FerretDB, Redis and real xrdp', { timeout: 180_000 }, () => {
  let c: ConsoleApp;
  let t: TestApp;

  beforeAll(async () => {
    // Below the kernel's ephemeral range (32768+), so no outgoing connection holds a test port.
    c = await startConsoleApp({
      db: 'console_browser',
      xrdp: { portBase: 22000 + Math.floor(Math.random() * 50) * 10, real: true },
    });
    t = c.api;
  }, 240_000);
  afterAll(() => c?.close());

  const statusOf = (page: Page, name: string) => page.locator(`tr[data-server="${name}"] [data-testid="status"]`);

  it('a user creates and starts a server and watches it go RUNNING, then gets a .rdp file that matches it', async () => {
    const { page, traffic } = await c.signInDev('alice', 'user');
    // Bad input comes back in words, never a code alone, a stack or [object Object].
    await page.getByLabel('New server name').fill('   ');
    await page.getByRole('button', { name: 'Create server' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent(), { timeout: 15_000 }).toContain('Some of what you entered is not valid');
    expect(await alert.textContent()).not.toMatch(/\[object|\bat \S+:\d+|Error:/);
    await page.getByLabel('New server name').fill('alice-desk');
    await page.getByRole('button', { name: 'Create server' }).click();
    await expect.poll(() => statusOf(page, 'alice-desk').textContent(), { timeout: 15_000 }).toBe('STOPPED');
    await screenshot(page, 'console-fleet');

    // Start asks first; the keyboard alone confirms it.
    await page.getByRole('button', { name: 'Start alice-desk' }).click();
    const dialog = page.getByRole('dialog', { name: 'Start server?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Start' }).focus();
    await page.keyboard.press('Enter');
    const seen = new Set<string>();
    await expect
      .poll(
        async () => {
          seen.add((await statusOf(page, 'alice-desk').textContent()) ?? '');
          return [...seen].includes('RUNNING');
        },
        { timeout: 60_000, interval: 50 },
      )
      .toBe(true);
    await screenshot(page, 'console-fleet-running');

    const row = page.locator('tr[data-server="alice-desk"]');
    const address = ((await row.locator('td').nth(2).textContent()) ?? '').trim();
    expect(address).toMatch(/^[\w.-]+:\d+$/);
    await row.getByRole('link', { name: 'alice-desk' }).click();
    await page.getByRole('heading', { name: 'alice-desk' }).waitFor();
    expect(page.url()).toMatch(/\/console\/servers\/[\w-]+$/);
    await page.getByRole('button', { name: 'New desktop session' }).click();
    const card = page.getByTestId('connection');
    await card.waitFor();
    const password = (await page.getByTestId('password').textContent()) ?? '';
    expect(password.length).toBeGreaterThan(7);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      card.getByRole('link', { name: 'Download .rdp file' }).click(),
    ]);
    const rdp = readFileSync((await download.path()) ?? '', 'utf8');
    const [host, port] = address.split(':');
    expect(rdp).toContain(`full address:s:${host}:${port}`);
    await screenshot(page, 'console-server-session');

    // The password is shown once: reloading the page does not bring it back.
    await page.reload();
    await page.getByRole('heading', { name: 'alice-desk' }).waitFor();
    expect(await page.getByTestId('password').count()).toBe(0);

    // My desktops: terminate, with confirmation.
    await page.getByRole('link', { name: 'My desktops' }).click();
    await page.getByRole('heading', { name: 'My desktops' }).waitFor();
    await screenshot(page, 'console-sessions');
    await page
      .getByRole('button', { name: /^Terminate / })
      .first()
      .click();
    await page.getByRole('dialog', { name: 'Terminate session?' }).getByRole('button', { name: 'Terminate' }).click();
    await expect.poll(() => page.getByRole('button', { name: /^Terminate / }).count(), { timeout: 20_000 }).toBe(0);

    expect(traffic.blocked).toEqual([]);
    for (const url of traffic.requests) expect(url.startsWith(`${t.url}/`)).toBe(true);
    expect(traffic.cspViolations).toEqual([]);
    expect(traffic.pageErrors).toEqual([]);
  });

  it("a user sees only their servers and no limits page; an operator sees everyone's", async () => {
    const bob = await t.token('bob');
    await t.gql('mutation { createServer(input: { name: "bob-box" }) { __typename } }', {}, bob);

    const { page: alice } = await c.signInDev('alice', 'user');
    await alice.locator('tr[data-server="alice-desk"]').waitFor();
    expect(await alice.locator('tr[data-server="bob-box"]').count()).toBe(0);
    expect(await alice.getByRole('link', { name: 'Limits' }).count()).toBe(0);
    await alice.goto(`${t.url}/console/limits`);
    await alice.getByText('This page does not exist, or your role cannot open it.').waitFor();

    const { page: olga } = await c.signInDev('olga', 'operator');
    await olga.locator('tr[data-server="bob-box"]').waitFor();
    await olga.locator('tr[data-server="alice-desk"]').waitFor();
    expect(await olga.getByRole('link', { name: 'Limits' }).count()).toBe(0);

    const { page: root } = await c.signInDev('root', 'admin');
    await root.getByRole('link', { name: 'Limits' }).click();
    await root.getByRole('heading', { name: 'Limits' }).waitFor();
    await root.getByText('Sessions per user').waitFor();
    await screenshot(root, 'console-limits');
  });

  it('when the connection drops the indicator says so, and on return the page resyncs what changed meanwhile', async () => {
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: Number(new URL(t.url).port) });
    try {
      const origin = `http://127.0.0.1:${proxy.port}`;
      const { page } = await c.signInDev('alice', 'user', { origin });
      await expect.poll(() => statusOf(page, 'alice-desk').textContent(), { timeout: 15_000 }).toBe('RUNNING');
      const indicator = page.getByTestId('live-indicator');

      await proxy.pause('refuse');
      await expect.poll(() => indicator.getAttribute('data-state'), { timeout: 20_000 }).toBe('reconnecting');
      expect(await indicator.textContent()).toBe('Reconnecting…');
      await screenshot(page, 'console-reconnecting');
      // Changes the page cannot hear about while it is cut off.
      const alice = await t.token('alice');
      const fleet = await t.gql<{ servers: { edges: { node: { id: string; name: string } }[] } }>(
        '{ servers { edges { node { id name } } } }',
        {},
        alice,
      );
      const desk = fleet.body.data?.servers.edges.find((e) => e.node.name === 'alice-desk')?.node.id;
      const stopped = await t.gql(`mutation { stopServer(id: "${desk}", force: true) { __typename } }`, {}, alice);
      expect(stopped.body.data).toEqual({ stopServer: { __typename: 'StopServerSuccess' } });
      await t.gql('mutation { createServer(input: { name: "made-while-offline" }) { __typename } }', {}, alice);

      await proxy.resume();
      await expect.poll(() => indicator.getAttribute('data-state'), { timeout: 30_000 }).toBe('live');
      await expect.poll(() => statusOf(page, 'alice-desk').textContent(), { timeout: 10_000 }).toBe('STOPPED');
      await page.locator('tr[data-server="made-while-offline"]').waitFor({ timeout: 10_000 });
    } finally {
      await proxy.close();
    }
  });

  it('axe-core finds no serious or critical violation on the console pages', async () => {
    const { page } = await c.signInDev('root', 'admin');
    const found: Record<string, unknown> = {};
    for (const [path, heading] of [
      ['/console/fleet', 'Fleet'],
      ['/console/sessions', 'My desktops'],
      ['/console/alerts', 'Alerts'],
      ['/console/audit', 'Audit log'],
      ['/console/limits', 'Limits'],
    ] as const) {
      await page.goto(`${t.url}${path}`);
      await page.getByRole('heading', { name: heading }).waitFor();
      await screenshot(page, `console-page-${path.slice('/console/'.length)}`);
      const v = await seriousAxeViolations(page);
      if (v.length > 0) found[path] = v;
    }
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // The development sign-in has no provider: signing out forgets the token and stays here.
    expect(new URL(page.url()).pathname).toBe('/console/signed-out');
    expect(await page.getByTestId('signed-out').textContent()).toBe('You are signed out.');
    expect(await page.evaluate(() => sessionStorage.getItem('rdp-console-token'))).toBeNull();
    await screenshot(page, 'console-sign-in');
    const v = await seriousAxeViolations(page);
    if (v.length > 0) found['sign-in'] = v;
    expect(found).toEqual({});
  });
});
