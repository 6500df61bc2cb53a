import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instancePaths } from '../../src/adapters/xrdp/instance-paths.js';
import type { TestApp } from '../support/app-harness.js';
import { type ConsoleApp, needBrowser, screenshot, seriousAxeViolations, startConsoleApp } from '../support/browser.js';
import { need } from '../support/real-services.js';
import { needXrdp, xrdpLogLine } from '../support/xrdp-available.js';

const enabled =
  needBrowser('console operations in a browser') &&
  need('console operations in a browser', ['mongo', 'redis']) &&
  needXrdp('console operations in a browser');

/** One busy-looping process per core of this machine (2 here): real load on the host. */
function burnCpu(processes: number): ChildProcess[] {
  return Array.from({ length: processes }, () =>
    spawn(process.execPath, ['-e', 'const end = Date.now() + 60000; while (Date.now() < end) {}'], { stdio: 'ignore' }),
  );
}

// Charts, hosts, the server page's log tail, restart and xrdp config editor: the collector (1 s
// rounds), FerretDB, Redis, real xrdp, the API and the page are the real ones.
describe.skipIf(!enabled)('console charts, hosts and server operations in chromium', { timeout: 180_000 }, () => {
  let c: ConsoleApp;
  let t: TestApp;
  const burners: ChildProcess[] = [];
  // The collector's lease in the shared Redis is per host name: one of its own, so this
  // service is the one measuring it.
  const hostName = `console-ops-${process.pid}`;

  beforeAll(async () => {
    c = await startConsoleApp({
      db: 'console_ops',
      xrdp: { portBase: 23000 + Math.floor(Math.random() * 100) * 10, real: true },
      env: { RDP_PUBLIC_HOST: hostName, METRICS_INTERVAL: '1', HOST_HEARTBEAT_INTERVAL: '1' },
    });
    t = c.api;
  }, 240_000);
  afterAll(async () => {
    for (const b of burners) b.kill('SIGKILL');
    await c?.close();
  });

  const points = async (page: Page, chart: string) =>
    Number((await page.getByTestId(chart).first().getAttribute('data-points')) ?? 0);
  const latest = async (page: Page, chart: string) =>
    Number((await page.getByTestId(chart).first().getAttribute('data-latest')) || -1);

  /** Confirms the open dialog from the keyboard alone. */
  async function confirmWithKeyboard(page: Page, title: string, button: string) {
    const dialog = page.getByRole('dialog', { name: title });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: button, exact: true }).focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'hidden' });
  }

  it('the hosts page shows status, labels, capacity and usage; its CPU chart rises while load runs; an admin drains it after confirming', async () => {
    const { page, traffic } = await c.signInDev('root', 'admin');
    // The fleet page lists the hosts for operators and admins.
    const row = page.locator('tr[data-host]').first();
    await row.waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Hosts' }).click();
    await page.getByRole('heading', { name: 'Hosts', level: 1 }).waitFor();
    expect(page.url()).toMatch(/\/console\/hosts$/);
    const hostRow = page.locator('tr[data-host]').first();
    expect(await hostRow.getByTestId('host-status').textContent()).toBe('ONLINE');
    await hostRow.getByRole('link').click();
    await page.getByRole('heading', { name: /^Host / }).waitFor();
    expect(page.url()).toMatch(/\/console\/hosts\/[\w-]+$/);
    await page.getByText(/\d+ CPUs, \d+ MB memory, at most \d+ servers/).waitFor();
    await expect.poll(() => page.getByTestId('host-usage').textContent(), { timeout: 15_000 }).toMatch(/CPU \d+%, memory \d+%/);

    // The chart has history (1 s rounds), then follows the live samples.
    await expect.poll(() => points(page, 'chart-cpu'), { timeout: 20_000 }).toBeGreaterThan(1);
    const before = await points(page, 'chart-cpu');
    burners.push(...burnCpu(2));
    // A live sample taken under that load reaches the open chart (points appended, value up).
    await expect
      .poll(async () => (await points(page, 'chart-cpu')) > before + 1 && (await latest(page, 'chart-cpu')) >= 60, {
        timeout: 20_000,
        interval: 250,
      })
      .toBe(true);
    await screenshot(page, 'console-host-cpu-load');
    for (const b of burners.splice(0)) b.kill('SIGKILL');
    // The memory and network charts are there and fed by the same samples. Both counts come from
    // one read of the page: a live sample (1 s rounds) may land between two separate reads.
    const [cpuPoints, memoryPoints] = await page.evaluate(() =>
      ['chart-cpu', 'chart-memory'].map((id) => document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-points')),
    );
    expect(Number(cpuPoints)).toBeGreaterThan(1);
    expect(memoryPoints).toBe(cpuPoints);
    expect(await page.getByTestId('chart-network').count()).toBe(1);
    // Another window reloads history for that window.
    await page.getByRole('radio', { name: '6 hours' }).check();
    await expect.poll(() => points(page, 'chart-cpu'), { timeout: 10_000 }).toBeGreaterThan(0);

    expect(await seriousAxeViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Drain host' }).click();
    await confirmWithKeyboard(page, 'Drain host?', 'Drain');
    await expect.poll(() => page.getByTestId('host-status').first().textContent(), { timeout: 10_000 }).toBe('DRAINING');
    await screenshot(page, 'console-host-draining');
    // Cancelling changes nothing.
    await page.getByRole('button', { name: 'End drain' }).click();
    await page.getByRole('dialog', { name: 'End drain?' }).getByRole('button', { name: 'Cancel' }).click();
    // Until it has closed, the dialog's own "End drain" button matches too.
    await page.getByRole('dialog', { name: 'End drain?' }).waitFor({ state: 'hidden' });
    expect(await page.getByTestId('host-status').first().textContent()).toBe('DRAINING');
    await page.getByRole('button', { name: 'End drain' }).click();
    await confirmWithKeyboard(page, 'End drain?', 'End drain');
    await expect.poll(() => page.getByTestId('host-status').first().textContent(), { timeout: 10_000 }).toBe('ONLINE');

    // An operator sees the hosts but no drain control; a user has no hosts page at all.
    const { page: olga } = await c.signInDev('olga', 'operator');
    await olga.goto(page.url());
    await olga.getByRole('heading', { name: /^Host / }).waitFor();
    expect(await olga.getByRole('button', { name: /drain/i }).count()).toBe(0);
    const { page: alice } = await c.signInDev('alice', 'user');
    expect(await alice.getByRole('link', { name: 'Hosts' }).count()).toBe(0);
    await alice.goto(`${t.url}/console/hosts`);
    await alice.getByText('This page does not exist, or your role cannot open it.').waitFor();

    expect(traffic.cspViolations).toEqual([]);
    expect(traffic.pageErrors).toEqual([]);
  });

  it('the server page starts, restarts and stops real xrdp with confirmation and progress, tails its log by level, and charts it; the fleet sparklines move', async () => {
    const { page, traffic } = await c.signInDev('olga', 'operator');
    await page.getByLabel('New server name').fill('ops-desk');
    await page.getByRole('button', { name: 'Create server' }).click();
    const row = page.locator('tr[data-server="ops-desk"]');
    await row.getByRole('link', { name: 'ops-desk' }).click();
    await page.getByRole('heading', { name: 'ops-desk' }).waitFor();
    const status = page.getByTestId('status').first();
    expect(await status.textContent()).toBe('STOPPED');

    const serverId = () => new URL(page.url()).pathname.split('/').pop() ?? '';
    const watch = async (want: string, timeout = 60_000) => {
      const seen: string[] = [];
      await expect
        .poll(
          async () => {
            const s = (await status.textContent()) ?? '';
            if (seen.at(-1) !== s) seen.push(s);
            // A server that went ERROR stays there: the failure then says why (its statusMessage).
            if (s === 'ERROR') {
              const r = await t.gql<{ server: { status: string; statusMessage: string | null } }>(
                'query($id: ID!) { server(id: $id) { status statusMessage } }',
                { id: serverId() },
                await t.token('olga', ['operator']),
              );
              return `ERROR (${r.body.data?.server.statusMessage ?? JSON.stringify(r.body)}; seen ${seen.join(' > ')})`;
            }
            return s;
          },
          { timeout, interval: 50 },
        )
        .toBe(want);
      return seen;
    };
    await page.getByRole('button', { name: 'Start ops-desk' }).click();
    await confirmWithKeyboard(page, 'Start server?', 'Start');
    const started = await watch('RUNNING');
    expect(started.at(-1)).toBe('RUNNING');

    // The log tail: xrdp's own lines, followed; the filter keeps only the chosen levels.
    const log = page.getByTestId('log');
    await expect.poll(() => log.locator('li').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    const levels = async () => log.locator('li').evaluateAll((els) => els.map((e) => e.getAttribute('data-level')));
    expect(await levels()).toContain('INFO');
    await page.getByLabel('Show log lines').selectOption('ERROR');
    await expect.poll(async () => (await levels()).every((l) => l === 'ERROR' || l === 'CORE'), { timeout: 10_000 }).toBe(true);
    // Pushed, not polled: a line xrdp writes now appears without a reload, only at its level.
    const logFile = instancePaths(c.xrdpDir as string, serverId()).log;
    appendFileSync(logFile, `${xrdpLogLine('INFO', 'console-tail info')}\n${xrdpLogLine('ERROR', 'console-tail error')}\n`);
    await log.getByText('console-tail error').waitFor({ timeout: 10_000 });
    expect(await log.getByText('console-tail info').count()).toBe(0);
    await page.getByLabel('Show log lines').selectOption('');
    await expect.poll(async () => (await levels()).includes('INFO'), { timeout: 10_000 }).toBe(true);
    await log.getByText('console-tail info').waitFor({ timeout: 10_000 });

    // The server's own charts follow its samples.
    await expect.poll(() => points(page, 'chart-cpu'), { timeout: 20_000 }).toBeGreaterThan(1);
    await screenshot(page, 'console-server-page');
    expect(await seriousAxeViolations(page)).toEqual([]);

    // A session's own page charts its CPU and memory (sessions have no network figures).
    await page.getByRole('button', { name: 'New desktop session' }).click();
    await page.getByTestId('connection').waitFor({ timeout: 60_000 });
    await page.reload();
    await page.getByRole('link', { name: /^Usage of the session of / }).click();
    await page.getByRole('heading', { name: /^Session of .+ on ops-desk$/ }).waitFor();
    expect(page.url()).toMatch(/\/console\/sessions\/[\w-]+$/);
    await page.getByTestId('chart-cpu').waitFor();
    await page.getByTestId('chart-memory').waitFor();
    expect(await page.getByTestId('chart-network').count()).toBe(0);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Back to the server' }).click();
    await page.getByRole('heading', { name: 'ops-desk' }).waitFor();

    // Restart: asked first, then the status goes through the restart back to RUNNING.
    const linesBefore = await log.locator('li').count();
    await page.getByRole('button', { name: 'Restart ops-desk' }).click();
    await confirmWithKeyboard(page, 'Restart server?', 'Restart');
    const restarted = await watch('RUNNING');
    expect(restarted.at(-1)).toBe('RUNNING');
    // A new instance wrote its start-up lines.
    await expect.poll(() => log.locator('li').count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(linesBefore);

    // The fleet table's sparklines for the running server grow as samples arrive.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Fleet' }).click();
    const spark = page.locator('tr[data-server="ops-desk"]').getByTestId('spark-cpu');
    const n0 = Number((await spark.getAttribute('data-points')) ?? 0);
    await expect
      .poll(async () => Number((await spark.getAttribute('data-points')) ?? 0), { timeout: 20_000 })
      .toBeGreaterThan(n0 + 1);
    expect(await page.locator('tr[data-server="ops-desk"]').getByTestId('spark-memory').getAttribute('data-points')).not.toBe(
      '0',
    );
    await screenshot(page, 'console-fleet-sparklines');
    expect(await seriousAxeViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Stop ops-desk' }).click();
    await confirmWithKeyboard(page, 'Stop server?', 'Stop');
    await expect
      .poll(() => page.locator('tr[data-server="ops-desk"]').getByTestId('status').textContent(), { timeout: 60_000 })
      .toBe('STOPPED');

    expect(traffic.cspViolations).toEqual([]);
    expect(traffic.pageErrors).toEqual([]);
  });

  it('the xrdp config editor shows each BAD_USER_INPUT on its field, saves a valid change, and the history shows what it changed', async () => {
    const { page } = await c.signInDev('root', 'admin');
    await page.locator('tr[data-server="ops-desk"]').getByRole('link', { name: 'ops-desk' }).click();
    await page.getByRole('heading', { name: /^xrdp configuration \(version \d+\)/ }).waitFor();
    const heading = (await page.getByRole('heading', { name: /^xrdp configuration/ }).textContent()) ?? '';
    const version = Number(/version (\d+)/.exec(heading)?.[1]);

    const idle = page.getByLabel('Idle timeout (seconds)');
    const maxConn = page.getByLabel('Most sessions at once');
    await idle.fill('10');
    await maxConn.fill('5000');
    await page.getByRole('button', { name: 'Save configuration' }).click();
    await page.getByRole('alert').filter({ hasText: 'Some of what you entered is not valid' }).waitFor();
    // Each problem is on its own field, tied to it for screen readers.
    const idleError = page.locator('[data-field="security.idleTimeout"] [data-testid="field-error"]');
    const maxError = page.locator('[data-field="global.maxConnections"] [data-testid="field-error"]');
    await idleError.waitFor();
    await maxError.waitFor();
    expect(await idleError.textContent()).toMatch(/^Idle timeout \(seconds\): .+/);
    expect(await maxError.textContent()).toMatch(/^Most sessions at once: .+/);
    expect(await idle.getAttribute('aria-invalid')).toBe('true');
    expect(await idle.getAttribute('aria-describedby')).toContain((await idleError.getAttribute('id')) ?? 'missing');
    expect(await page.locator('[data-field="global.logLevel"] [data-testid="field-error"]').count()).toBe(0);
    await screenshot(page, 'console-config-errors');
    expect(await seriousAxeViolations(page)).toEqual([]);
    // Nothing was stored.
    const admin = await t.token('root', ['admin']);
    const stored = await t.gql<{ xrdpConfig: { version: number } }>('{ xrdpConfig { version } }', {}, admin);
    expect(stored.body.data?.xrdpConfig.version).toBe(version);

    await idle.fill('900');
    await maxConn.fill('42');
    await page.getByRole('button', { name: 'Save configuration' }).click();
    await page.getByText(`Saved as version ${version + 1}.`).waitFor();
    await page.getByRole('heading', { name: `xrdp configuration (version ${version + 1})` }).waitFor();
    expect(await page.getByTestId('field-error').count()).toBe(0);

    await page.getByRole('button', { name: `Show changes of version ${version + 1}` }).click();
    const diff = page.getByTestId('config-diff');
    await diff.waitFor();
    const rows = await diff
      .locator('tr[data-setting]')
      .evaluateAll((els) =>
        els.map((e) => [e.getAttribute('data-setting'), ...[...e.querySelectorAll('td')].map((td) => td.textContent)]),
      );
    expect(rows).toEqual(
      expect.arrayContaining([
        ['global.maxConnections', expect.any(String), '42'],
        ['security.idleTimeout', expect.any(String), '900'],
      ]),
    );
    expect(rows).toHaveLength(2);
    await screenshot(page, 'console-config-history');
    expect(await seriousAxeViolations(page)).toEqual([]);

    // An operator reads the configuration but has no save control.
    const { page: olga } = await c.signInDev('olga', 'operator');
    await olga.goto(page.url());
    await olga.getByRole('heading', { name: /^xrdp configuration/ }).waitFor();
    expect(await olga.getByRole('button', { name: 'Save configuration' }).count()).toBe(0);
  });
});
