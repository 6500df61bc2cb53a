import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app-harness.js';
import { type ConsoleApp, needBrowser, screenshot, seriousAxeViolations, startConsoleApp } from '../support/browser.js';
import { need } from '../support/real-services.js';
import { needXrdp } from '../support/xrdp-available.js';

const enabled = needBrowser('console pools in a browser') && need('console pools in a browser', ['mongo', 'redis']);

// The pools pages and My pools on FerretDB, Redis, the API and chromium. No xrdp is started: the
// pool's server stays STOPPED, so alice's Connect is the broker's refusal, in words.
describe.skipIf(!enabled)('console pools in chromium', { timeout: 180_000 }, () => {
  let c: ConsoleApp;
  let t: TestApp;

  beforeAll(async () => {
    c = await startConsoleApp({
      db: 'console_pools',
      xrdp: { portBase: 24000 + Math.floor(Math.random() * 50) * 10, real: false },
    });
    t = c.api;
  }, 240_000);
  afterAll(() => c?.close());

  const axe = async (page: Page) => {
    const found = await seriousAxeViolations(page);
    expect(found, JSON.stringify(found, null, 2)).toEqual([]);
  };

  it('an operator creates a pool, adds a server and assigns alice; alice sees it and Connect answers in words', async () => {
    const opToken = await t.token('olga', ['operator']);
    const created = await t.gql<{ createServer: { server?: { id: string } } }>(
      'mutation { createServer(input: { name: "pool-desk" }) { ... on CreateServerSuccess { server { id } } ... on Error { code message } } }',
      {},
      opToken,
    );
    expect(created.body.data?.createServer.server?.id).toBeTruthy();

    const { page } = await c.signInDev('olga', 'operator');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pools' }).click();
    await page.getByRole('heading', { name: 'Pools', level: 1 }).waitFor();

    // A blank name is refused on the field itself, in words, and creates nothing.
    await page.getByLabel('Pool name').fill('   ');
    await page.getByRole('button', { name: 'Create pool' }).click();
    const nameError = page.locator('[data-field="name"] [data-testid="field-error"]');
    await expect.poll(() => nameError.textContent(), { timeout: 15_000 }).toContain('Pool name: must not be blank');
    expect(await page.getByLabel('Pool name').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Session cap (empty: none)').fill('0');
    await page.getByLabel('Pool name').fill('Design');
    await page.getByRole('button', { name: 'Create pool' }).click();
    const capError = page.locator('[data-field="maxSessions"] [data-testid="field-error"]');
    await expect.poll(() => capError.textContent(), { timeout: 15_000 }).toContain('must be at least 1');
    expect(await page.locator('tr[data-pool="Design"]').count()).toBe(0);

    // With the keyboard only: a valid cap, then Enter submits.
    await page.getByLabel('Session cap (empty: none)').fill('5');
    await page.getByLabel('Session cap (empty: none)').press('Enter');
    const row = page.locator('tr[data-pool="Design"]');
    await row.waitFor();
    expect(await row.locator('td').nth(2).textContent()).toBe('5');
    expect(await row.getByTestId('server-count').textContent()).toBe('0');
    await axe(page);

    await row.getByRole('link', { name: 'Design' }).click();
    await page.getByRole('heading', { name: 'Pool Design' }).waitFor();
    await page.getByLabel('Server to add').selectOption({ label: 'pool-desk' });
    await page.getByRole('button', { name: 'Add server' }).click();
    await page.locator('tr[data-server="pool-desk"]').waitFor();
    await page.getByLabel('User id or group name').fill('alice');
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await page.locator('tr[data-assignment="alice"]').waitFor();
    // The same user twice is refused in words.
    await page.getByLabel('User id or group name').fill('alice');
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent(), { timeout: 15_000 })
      .toContain('cannot be done in its current state');
    expect(await page.locator('tr[data-assignment="alice"]').count()).toBe(1);
    await axe(page);
    await screenshot(page, 'console-pools');

    // The API agrees with what the page shows.
    const pools = await t.gql<{
      pools: { name: string; servers: { totalCount: number }; assignments: { principal: string }[] }[];
    }>('{ pools { name servers { totalCount } assignments { principal } } }', {}, opToken);
    expect(pools.body.data?.pools).toEqual([
      { name: 'Design', servers: { totalCount: 1 }, assignments: [{ principal: 'alice' }] },
    ]);

    // Alice sees the pool in My desktops; Connect gets the broker's refusal (the server is stopped).
    const { page: alice } = await c.signInDev('alice', 'user');
    await alice.getByRole('link', { name: 'My desktops' }).click();
    const item = alice.locator('li[data-pool="Design"]');
    await item.waitFor();
    await item.getByRole('button', { name: 'Connect to Design' }).focus();
    await alice.keyboard.press('Enter');
    const refusal = item.getByRole('alert');
    await expect.poll(() => refusal.textContent(), { timeout: 15_000 }).toContain('no server of');
    expect(await refusal.textContent()).not.toMatch(/\[object|\bat \S+:\d+|Error:/);
    await axe(alice);

    // Unassigning takes the pool away from alice.
    await page.getByRole('button', { name: 'Unassign alice' }).click();
    await expect.poll(() => page.locator('tr[data-assignment="alice"]').count(), { timeout: 15_000 }).toBe(0);
    await alice.reload();
    await alice.getByText('No pool is assigned to you.').waitFor();

    // Removing the server and deleting the pool (asked first) empties the list.
    await page.getByRole('button', { name: 'Remove pool-desk from the pool' }).click();
    await expect.poll(() => page.locator('tr[data-server="pool-desk"]').count(), { timeout: 15_000 }).toBe(0);
    await page.getByRole('button', { name: 'Delete pool' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete pool?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'Pools', level: 1 }).waitFor();
    await expect.poll(() => page.locator('tr[data-pool="Design"]').count(), { timeout: 15_000 }).toBe(0);
  });

  it('an operator edits a pool: the cap and policy take effect; a bad cap is shown on its field and changes nothing', async () => {
    const opToken = await t.token('olga', ['operator']);
    type Settings = { name: string; placementPolicy: string; maxSessions: number | null; defaultCredentialMode: string | null };
    const stored = async (id: string) =>
      (
        await t.gql<{ pool: Settings }>(
          'query($id: ID!) { pool(id: $id) { name placementPolicy maxSessions defaultCredentialMode } }',
          { id },
          opToken,
        )
      ).body.data?.pool;
    const made = await t.gql<{ createPool: { pool: { id: string } } }>(
      'mutation { createPool(input: { name: "Editable", maxSessions: 5 }) { ... on CreatePoolSuccess { pool { id } } } }',
      {},
      opToken,
    );
    const poolId = made.body.data?.createPool.pool.id ?? '';
    const before: Settings = { name: 'Editable', placementPolicy: 'BREADTH_FIRST', maxSessions: 5, defaultCredentialMode: null };
    expect(await stored(poolId)).toEqual(before);

    const { page } = await c.signInDev('olga', 'operator');
    await page.goto(`${t.url}/console/pools/${poolId}`);
    await page.getByRole('heading', { name: 'Pool Editable' }).waitFor();
    const form = page.getByRole('form', { name: 'Settings' });
    /** Submits and waits for the API's answer to this very change (an earlier error stays until then). */
    const saveAndWait = async (button: ReturnType<Page['locator']>) => {
      const answered = page.waitForResponse(
        (r) =>
          r.url() === `${t.url}/graphql` &&
          (r.request().postDataJSON() as { variables?: { input?: unknown } })?.variables?.input !== undefined,
      );
      await button.click();
      await answered;
    };
    const cap = form.getByLabel('Session cap (empty: none)');
    const policy = form.getByLabel('Placement policy');
    expect(await cap.inputValue()).toBe('5');
    expect(await policy.inputValue()).toBe('BREADTH_FIRST');

    // A cap below 1 (zero, then negative) is refused on its field, together with the policy
    // change in the same submission: nothing is stored.
    const capError = form.locator('[data-field="maxSessions"] [data-testid="field-error"]');
    for (const bad of ['0', '-3']) {
      await policy.selectOption('DEPTH_FIRST');
      await cap.fill(bad);
      await saveAndWait(form.getByRole('button', { name: 'Save pool' }));
      expect(await capError.textContent()).toBe('Session cap (empty: none): must be at least 1');
      expect(await cap.getAttribute('aria-invalid')).toBe('true');
      expect(await cap.getAttribute('aria-describedby')).toBe(await capError.getAttribute('id'));
      expect(await form.getByRole('alert').textContent()).toContain('Some of what you entered is not valid');
      expect(await stored(poolId)).toEqual(before);
    }
    // Not a number at all: said on the field before anything is sent.
    await cap.fill('ten');
    await form.getByRole('button', { name: 'Save pool' }).click();
    await expect
      .poll(() => capError.textContent(), { timeout: 15_000 })
      .toBe('Session cap (empty: none): must be a whole number');
    expect(await stored(poolId)).toEqual(before);
    await screenshot(page, 'console-pool-edit-errors');
    await axe(page);

    // With the keyboard only: a valid cap, then Enter saves it and the policy.
    await cap.fill('12');
    await cap.press('Enter');
    await expect
      .poll(() => form.getByTestId('edit-pool-saved').textContent(), { timeout: 15_000 })
      .toBe('Saved the settings of pool Editable.');
    expect(await capError.count()).toBe(0);
    expect(await cap.getAttribute('aria-invalid')).toBeNull();
    expect(await stored(poolId)).toEqual({ ...before, placementPolicy: 'DEPTH_FIRST', maxSessions: 12 });
    // The page's own summary and the list of pools show it.
    await page.getByText('Placement DEPTH_FIRST; session cap 12;').waitFor({ timeout: 15_000 });
    await axe(page);

    // Renaming, a credential mode, and emptying the cap (no cap) in one save.
    await form.getByLabel('Pool name').fill('  Edited  ');
    await form.getByLabel('Credential mode of new sessions').selectOption('HOST_ACCOUNT');
    await cap.fill('');
    await form.getByRole('button', { name: 'Save pool' }).click();
    await expect
      .poll(() => form.getByTestId('edit-pool-saved').textContent(), { timeout: 15_000 })
      .toBe('Saved the settings of pool Edited.');
    await page.getByRole('heading', { name: 'Pool Edited' }).waitFor();
    expect(await stored(poolId)).toEqual({
      name: 'Edited',
      placementPolicy: 'DEPTH_FIRST',
      maxSessions: null,
      defaultCredentialMode: 'HOST_ACCOUNT',
    });
    // Saving again without a change stores nothing new.
    await form.getByRole('button', { name: 'Save pool' }).click();
    await expect
      .poll(() => form.getByTestId('edit-pool-saved').textContent(), { timeout: 15_000 })
      .toBe('Nothing changed, so nothing was saved.');
    await screenshot(page, 'console-pool-edit');

    await page.getByRole('link', { name: 'All pools' }).click();
    const row = page.locator('tr[data-pool="Edited"]');
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe('DEPTH_FIRST');
    expect(await row.locator('td').nth(2).textContent()).toBe('none');

    // A user cannot open the pool's page (no form), and the API refuses the change anyway.
    const { page: bob } = await c.signInDev('bob', 'user');
    await bob.goto(`${t.url}/console/pools/${poolId}`);
    await bob.getByText('This page does not exist, or your role cannot open it.').waitFor();
    expect(await bob.getByRole('button', { name: 'Save pool' }).count()).toBe(0);
    const refused = await t.gql<{ updatePool: { __typename: string } }>(
      'mutation($id: ID!) { updatePool(id: $id, input: { maxSessions: 99 }) { __typename } }',
      { id: poolId },
      await t.token('bob', ['user']),
    );
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await stored(poolId))?.maxSessions).toBeNull();
  });

  it('a pool with servers is deleted only with force, which the page asks for', async () => {
    const opToken = await t.token('olga', ['operator']);
    const pool = await t.gql<{ createPool: { pool: { id: string } } }>(
      'mutation { createPool(input: { name: "Busy" }) { ... on CreatePoolSuccess { pool { id } } } }',
      {},
      opToken,
    );
    const poolId = pool.body.data?.createPool.pool.id ?? '';
    const server = await t.gql<{ createServer: { server: { id: string } } }>(
      'mutation { createServer(input: { name: "busy-desk" }) { ... on CreateServerSuccess { server { id } } } }',
      {},
      opToken,
    );
    const serverId = server.body.data?.createServer.server.id ?? '';
    await t.gql(
      'mutation($s: ID!, $p: ID) { setServerPool(serverId: $s, poolId: $p) { __typename } }',
      { s: serverId, p: poolId },
      opToken,
    );
    const { page } = await c.signInDev('olga', 'operator');
    await page.goto(`${t.url}/console/pools/${poolId}`);
    await page.locator('tr[data-server="busy-desk"]').waitFor();
    await page.getByRole('button', { name: 'Delete pool' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete pool?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('servers leave it and keep running');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'Pools', level: 1 }).waitFor();
    const after = await t.gql<{ pool: unknown; server: { poolId: string | null } }>(
      'query($p: ID!, $s: ID!) { pool(id: $p) { id } server(id: $s) { poolId } }',
      { p: poolId, s: serverId },
      opToken,
    );
    expect(after.body.data).toEqual({ pool: null, server: { poolId: null } });
  });

  it('a plain user has no Pools link and /console/pools shows no pool data', async () => {
    const opToken = await t.token('olga', ['operator']);
    await t.gql('mutation { createPool(input: { name: "Secret" }) { __typename } }', {}, opToken);
    const { page } = await c.signInDev('bob', 'user');
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pools' }).count()).toBe(0);
    await page.goto(`${t.url}/console/pools`);
    await page.getByText('This page does not exist, or your role cannot open it.').waitFor();
    expect(await page.content()).not.toContain('Secret');
    await page.getByRole('link', { name: 'My desktops' }).click();
    await page.getByText('No pool is assigned to you.').waitFor();
    expect(await page.content()).not.toContain('Secret');
  });
});

const withXrdp = enabled && needXrdp('console pool connect on real xrdp');

// Connect through a pool to a RUNNING server of real xrdp: the .rdp file and the one-time password.
describe.skipIf(!withXrdp)('My pools Connect on real xrdp in chromium', { timeout: 240_000 }, () => {
  let c: ConsoleApp;
  let t: TestApp;

  beforeAll(async () => {
    c = await startConsoleApp({
      db: 'console_pools_xrdp',
      xrdp: { portBase: 25000 + Math.floor(Math.random() * 50) * 10, real: true },
    });
    t = c.api;
  }, 240_000);
  afterAll(() => c?.close());

  it("alice connects through her pool: the broker's reason, the one-time password and a .rdp file for the picked server", async () => {
    const opToken = await t.token('olga', ['operator']);
    const gql = async <T>(query: string, variables: Record<string, unknown> = {}) => {
      const r = await t.gql<T>(query, variables, opToken);
      expect(r.body.errors).toBeUndefined();
      return r.body.data as T;
    };
    const { createPool } = await gql<{ createPool: { pool: { id: string } } }>(
      'mutation { createPool(input: { name: "Lab" }) { ... on CreatePoolSuccess { pool { id } } } }',
    );
    const { createServer } = await gql<{
      createServer: { server?: { id: string; host: string; port: number }; message?: string };
    }>(
      'mutation { createServer(input: { name: "lab-1" }) { ... on CreateServerSuccess { server { id host port } } ... on Error { code message } } }',
    );
    const poolId = createPool.pool.id;
    const server = createServer.server;
    if (!server) throw new Error(`createServer refused: ${createServer.message}`);
    const started = await gql<{ startServer: { __typename: string } }>(
      'mutation($id: ID!) { startServer(id: $id) { __typename ... on Error { code message } } }',
      { id: server.id },
    );
    expect(started.startServer.__typename).toBe('StartServerSuccess');
    await gql('mutation($s: ID!, $p: ID) { setServerPool(serverId: $s, poolId: $p) { __typename } }', {
      s: server.id,
      p: poolId,
    });
    await gql(
      'mutation($p: ID!) { assign(input: { principal: "alice", principalType: USER, targetId: $p, targetType: POOL }) { __typename } }',
      { p: poolId },
    );

    const { page } = await c.signInDev('alice', 'user');
    await page.getByRole('link', { name: 'My desktops' }).click();
    const item = page.locator('li[data-pool="Lab"]');
    await item.getByRole('button', { name: 'Connect to Lab' }).click();
    const card = item.getByTestId('connection');
    await card.waitFor({ timeout: 30_000 });
    expect(await card.getByTestId('reason').textContent()).toMatch(/^A new session on lab-1: .*pool Lab/);
    const password = (await card.getByTestId('password').textContent()) ?? '';
    expect(password.length).toBeGreaterThan(7);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      card.getByRole('link', { name: 'Download .rdp file' }).click(),
    ]);
    const rdp = readFileSync((await download.path()) ?? '', 'utf8');
    expect(rdp).toContain(`full address:s:${server.host}:${server.port}`);
    expect(rdp).not.toContain(password);
    // The new session is listed under Sessions at once.
    await page.locator('tbody tr', { hasText: 'lab-1' }).waitFor({ timeout: 15_000 });
    const found = await seriousAxeViolations(page);
    expect(found, JSON.stringify(found, null, 2)).toEqual([]);
    await screenshot(page, 'console-pools-connect');

    // Connecting again hands back the same session, and no password is shown (it was shown once).
    await item.getByRole('button', { name: 'Connect to Lab' }).click();
    await expect
      .poll(() => card.getByTestId('reason').textContent(), { timeout: 15_000 })
      .toMatch(/^Your session is still there on lab-1/);
    expect(await card.getByTestId('password').count()).toBe(0);
  });
});
