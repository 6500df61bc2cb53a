import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app-harness.js';
import { type ConsoleApp, needBrowser, screenshot, seriousAxeViolations, startConsoleApp } from '../support/browser.js';
import { need } from '../support/real-services.js';

const enabled = needBrowser('GraphiQL in a browser') && need('GraphiQL in a browser', ['mongo', 'redis']);

/** Replaces the whole text of a Monaco editor: focus it, select all, insert (no auto-closing). */
async function setEditor(page: Page, editor: ReturnType<Page['locator']>, text: string): Promise<void> {
  await editor.locator('.view-lines').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  // GraphiQL reads the operation name from the editor after a debounce and shows it as the tab's
  // title; a run before that sends the previous document's name ("Cannot infer operation Fleet").
  const name = /^(?:query|mutation|subscription)\s+(\w+)/.exec(text)?.[1];
  if (name) await page.locator('.graphiql-tab-active', { hasText: name }).waitFor({ timeout: 5000 });
}

/** Monaco renders spaces as no-break spaces. */
const textOf = async (locator: ReturnType<Page['locator']>) => ((await locator.textContent()) ?? '').replace(/\u00a0/g, ' ');

describe.skipIf(!enabled)('GraphiQL in chromium, on FerretDB and Redis', { timeout: 120_000 }, () => {
  let c: ConsoleApp;
  let t: TestApp;

  beforeAll(async () => {
    c = await startConsoleApp({ db: 'graphiql_browser', console: false });
    t = c.api;
  });
  afterAll(() => c?.close());

  it('loads from this origin only, runs a query and a live subscription with the token from its Headers tab', async () => {
    const { page, traffic, context } = await c.newPage();
    try {
      await page.goto(`${t.url}/graphql`);
      const queryEditor = page.locator('.graphiql-query-editor .monaco-editor').first();
      await queryEditor.waitFor();
      await expect.poll(() => textOf(queryEditor), { timeout: 15_000 }).toContain('npm run token');

      const alice = await t.token('alice', ['user']);
      const created = await t.gql<{ createServer: { server: { id: string } } }>(
        'mutation { createServer(input: { name: "graphiql-demo" }) { ... on CreateServerSuccess { server { id } } } }',
        {},
        alice,
      );
      const serverId = created.body.data?.createServer.server.id ?? '';
      expect(serverId).not.toBe('');

      await page.getByRole('button', { name: 'Headers' }).click();
      const headersEditor = page.locator('.graphiql-editor-tool .monaco-editor').last();
      await setEditor(page, headersEditor, JSON.stringify({ Authorization: `Bearer ${alice}` }));

      const response = page.locator('.graphiql-response');
      await setEditor(page, queryEditor, 'query Me { viewer { userId roles } servers { totalCount } }');
      await page.getByRole('button', { name: /Execute query/ }).click();
      await expect.poll(() => textOf(response), { timeout: 10_000 }).toContain('"userId": "alice"');
      expect(await textOf(response)).toContain('"totalCount": 1');

      await setEditor(page, queryEditor, `subscription Live { serverEvents(serverId: "${serverId}") { kind server { name } } }`);
      await page.getByRole('button', { name: /Execute query/ }).click();
      await expect.poll(() => textOf(response), { timeout: 10_000 }).toContain('SNAPSHOT');
      expect(await textOf(response)).toContain('graphiql-demo');
      // Live: a change made elsewhere arrives in the open subscription.
      await t.gql(`mutation { updateServer(id: "${serverId}", input: { name: "graphiql-renamed" }) { __typename } }`, {}, alice);
      await expect.poll(() => textOf(response), { timeout: 10_000 }).toContain('graphiql-renamed');
      await screenshot(page, 'graphiql-subscription');

      expect(traffic.blocked).toEqual([]);
      expect(traffic.requests.length).toBeGreaterThan(3);
      for (const url of traffic.requests) expect(url.startsWith(`${t.url}/`)).toBe(true);
      expect(traffic.sockets.length).toBeGreaterThan(0);
      for (const url of traffic.sockets) expect(url.startsWith(`${t.wsUrl}`)).toBe(true);
      expect(traffic.cspViolations).toEqual([]);
      expect(traffic.pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('axe-core finds no serious or critical violation on the page', async () => {
    const { page, context } = await c.newPage();
    try {
      await page.goto(`${t.url}/graphql`);
      await page.locator('.graphiql-query-editor .monaco-editor').first().waitFor();
      await screenshot(page, 'graphiql');
      expect(await seriousAxeViolations(page)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
