import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app-harness.js';
import { type ConsoleApp, needBrowser, screenshot, startConsoleApp } from '../support/browser.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { need } from '../support/real-services.js';
import { FakeProbe, figures } from '../support/resource-fixtures.js';

const enabled = needBrowser('console alerts in a browser') && need('console alerts in a browser', ['mongo', 'redis']);

// The host's figures come from a probe the test sets (a real busy host is not reproducible);
// the collector, the alert rules, FerretDB, Redis, the API and the page are the real ones.
describe.skipIf(!enabled)('console alerts in chromium', { timeout: 120_000 }, () => {
  let c: ConsoleApp;
  let t: TestApp;
  const probe = new FakeProbe();

  beforeAll(async () => {
    c = await startConsoleApp({
      db: 'console_alerts',
      env: {
        METRICS_INTERVAL: '1',
        // A host name of its own: the collector's lease in the shared Redis is per host, and other
        // suites' services on this machine must not be the ones collecting for it.
        RDP_PUBLIC_HOST: `console-alerts-${process.pid}`,
      },
      appOptions: { runtime: new FakeServerRuntime(), hostProbe: probe },
    });
    t = c.api;
  }, 120_000);
  afterAll(() => c?.close());

  it('an alert appears on the open page as the host gets busy, and an operator resolves it', async () => {
    const { page, traffic } = await c.signInDev('olga', 'operator');
    await page.getByRole('link', { name: 'Alerts' }).click();
    await page.getByText('No alerts.').waitFor();

    probe.host = figures({ cpuPercent: 97, memoryPercent: 20 });
    // First the service raises it (rounds every second; the rules want it sustained).
    const op = await t.token('olga', ['operator']);
    await expect
      .poll(
        async () =>
          JSON.stringify((await t.gql('{ alerts { totalCount edges { node { resource severity subjectId } } } }', {}, op)).body),
        { timeout: 60_000 },
      )
      .toContain('CPU');
    const item = page.locator('li', { hasText: 'CPU' });
    // Raised while the page is open: it arrives over the subscription, without a reload.
    await item.waitFor({ timeout: 10_000 });
    expect(await item.textContent()).toMatch(/CRITICAL|HIGH/);
    await screenshot(page, 'console-alerts');
    await item.getByRole('button', { name: 'Resolve' }).click();
    await expect.poll(() => item.textContent(), { timeout: 10_000 }).toContain('resolved');
    expect(await item.getByRole('button', { name: 'Resolve' }).count()).toBe(0);
    expect(traffic.blocked).toEqual([]);
    expect(traffic.pageErrors).toEqual([]);
  });
});
