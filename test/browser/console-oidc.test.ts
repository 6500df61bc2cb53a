import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/adapters/auth/token-signer.js';
import type { Role } from '../../src/domain/auth/viewer.js';
import { TEST_SECRET, type TestApp } from '../support/app-harness.js';
import {
  type ConsoleApp,
  needBrowser,
  screenshot,
  seriousAxeViolations,
  startConsoleApp,
  type Traffic,
} from '../support/browser.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { reserveOidcIssuer, startOidcProvider, TEST_OIDC } from '../support/oidc-provider.js';
import { need } from '../support/real-services.js';

const enabled = needBrowser('console OIDC sign-in') && need('console OIDC sign-in', ['mongo', 'redis']);

// The identity provider is panva's oidc-provider on loopback, with its development login page;
// the console, the API (verifying the provider's RS256 access tokens), FerretDB and Redis are the
// real ones. Servers are only created, never started, so the runtime is the test's.
describe.skipIf(!enabled)('console sign-in with an OpenID provider, in chromium', { timeout: 120_000 }, () => {
  let c: ConsoleApp;
  let t: TestApp;
  let provider: { issuer: string; stop(): Promise<void> };
  let issuer = '';

  /** A token of the development secret, as a script holding JWT_SECRET would make one. */
  const scriptToken = (sub: string, roles: Role[] = ['user']) =>
    signToken(new TextEncoder().encode(TEST_SECRET), { sub, roles }, { issuer, audience: TEST_OIDC.resource });

  beforeAll(async () => {
    const reserved = await reserveOidcIssuer();
    issuer = reserved.issuer;
    c = await startConsoleApp({
      db: 'console_oidc',
      env: {
        OIDC_ISSUER: issuer,
        OIDC_CLIENT_ID: TEST_OIDC.clientId,
        OIDC_SCOPES: `openid profile ${TEST_OIDC.apiScope}`,
        JWT_AUDIENCE: TEST_OIDC.resource,
        RDP_PUBLIC_HOST: `console-oidc-${process.pid}`,
      },
      appOptions: { runtime: new FakeServerRuntime() },
    });
    t = c.api;
    provider = await startOidcProvider({
      port: reserved.port,
      redirectUri: `${t.url}/console/callback`,
      postLogoutRedirectUri: `${t.url}/console/signed-out`,
      roles: { olga: ['operator'] },
    });
    for (const [owner, name] of [
      ['alice', 'alice-box'],
      ['bob', 'bob-box'],
    ] as const) {
      const made = await t.gql(
        `mutation { createServer(input: { name: "${name}" }) { __typename } }`,
        {},
        await scriptToken(owner),
      );
      expect(made.body.data).toEqual({ createServer: { __typename: 'CreateServerSuccess' } });
    }
  }, 120_000);
  afterAll(async () => {
    await c?.close();
    await provider?.stop();
  });

  /** A fresh browser profile that opens `path`, is sent to the provider's login page and back. */
  async function signIn(login: string, path = '/console/fleet'): Promise<{ page: Page; traffic: Traffic }> {
    const { page, traffic } = await c.newPage({ alsoAllowed: [issuer] });
    await page.goto(`${t.url}${path}`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByRole('button', { name: `Sign in with ${new URL(issuer).host}` }).click();
    // The provider's own pages: login (any password), then consent.
    await page.waitForURL((u) => u.origin === issuer);
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password');
    if (login === 'alice') await screenshot(page, 'console-oidc-provider-login');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((u) => u.origin === t.url);
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    await expect.poll(() => page.getByTestId('live-indicator').getAttribute('data-state'), { timeout: 15_000 }).toBe('live');
    return { page, traffic };
  }

  /** Requests the provider's login page makes to the internet (a web font), which the test blocks. */
  const providerFonts = (url: string) => url.startsWith('https://fonts.googleapis.com/');

  it('a user signs in at the provider, comes back to the page they asked for, and sees only their servers', async () => {
    const { page, traffic } = await signIn('alice');
    expect(new URL(page.url()).pathname).toBe('/console/fleet');
    await page.locator('tr[data-server="alice-box"]').waitFor();
    expect(await page.locator('tr[data-server="bob-box"]').count()).toBe(0);
    expect(await page.locator('.who').textContent()).toBe('alice (user)');
    // No code or state is left in the address bar or history entry.
    expect(page.url()).not.toMatch(/[?&](code|state)=/);
    await screenshot(page, 'console-fleet-oidc');

    // What the console holds is the provider's RS256 access token, and the API takes it as is.
    const token = (await page.evaluate(() => sessionStorage.getItem('rdp-console-token'))) ?? '';
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { alg: string };
    expect(header.alg).toBe('RS256');
    const me = await t.gql<{ viewer: { userId: string; roles: string[] } }>('{ viewer { userId roles } }', {}, token);
    expect(me.body.data?.viewer).toEqual({ userId: 'alice', roles: ['user'] });

    expect(traffic.blocked.filter((u) => !providerFonts(u))).toEqual([]);
    expect(traffic.cspViolations).toEqual([]);
    expect(traffic.pageErrors).toEqual([]);
  });

  it("an operator signs in the same way and sees everyone's servers", async () => {
    const { page } = await signIn('olga');
    await page.locator('tr[data-server="alice-box"]').waitFor();
    await page.locator('tr[data-server="bob-box"]').waitFor();
    expect(await page.locator('.who').textContent()).toBe('olga (operator)');
    expect(await page.getByRole('link', { name: 'Audit log' }).count()).toBe(1);
    await screenshot(page, 'console-fleet-operator');
  });

  it('Sign out, from the keyboard, ends the session at the provider too (RP-initiated logout): the next sign-in asks for credentials again', async () => {
    const host = new URL(issuer).host;
    const { page, traffic } = await signIn('alice');
    const stored = () =>
      page.evaluate(() => [sessionStorage.getItem('rdp-console-token'), sessionStorage.getItem('rdp-console-id-token')]);
    const [, idToken] = await stored();
    // The ID token of the sign-in is kept in the tab, for the sign-out's id_token_hint.
    const idClaims = JSON.parse(Buffer.from(idToken?.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      aud: string;
      sub: string;
    };
    expect(idClaims).toMatchObject({ aud: TEST_OIDC.clientId, sub: 'alice' });

    // Control: a tab that only forgets its tokens leaves the provider's session, which signs the
    // next "Sign in" in again without asking for anything.
    await page.evaluate(() => sessionStorage.clear());
    await page.goto(`${t.url}/console/fleet`);
    let from = traffic.requests.length;
    await page.getByRole('button', { name: `Sign in with ${host}` }).click();
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    expect(traffic.requests.slice(from).some((u) => u.startsWith(`${issuer}/interaction/`))).toBe(false);

    // Sign out with the keyboard: the console forgets its tokens, then sends the browser to the
    // provider's end_session_endpoint (from discovery) with the hint and where to come back to.
    const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
      end_session_endpoint: string;
    };
    expect(discovery.end_session_endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    const [, hint] = await stored();
    from = traffic.requests.length;
    await page.getByRole('button', { name: 'Sign out' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.href.startsWith(discovery.end_session_endpoint));
    const endSession = new URL(traffic.requests.slice(from).find((u) => u.startsWith(discovery.end_session_endpoint)) ?? '');
    expect(Object.fromEntries(endSession.searchParams)).toEqual({
      id_token_hint: hint,
      client_id: TEST_OIDC.clientId,
      post_logout_redirect_uri: `${t.url}/console/signed-out`,
    });
    // The provider asks whether to sign out; its "Yes" has the focus, Enter confirms.
    const yes = page.getByRole('button', { name: 'Yes, sign me out' });
    await yes.waitFor();
    expect(await yes.evaluate((b) => b === document.activeElement)).toBe(true);
    await screenshot(page, 'console-oidc-provider-logout');
    await page.keyboard.press('Enter');

    // Back on the console's signed-out page, with nothing kept in the tab.
    await page.waitForURL((u) => u.origin === t.url);
    expect(new URL(page.url()).pathname).toBe('/console/signed-out');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByTestId('signed-out').textContent()).toBe('You are signed out.');
    expect(await stored()).toEqual([null, null]);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'console-signed-out-oidc');

    // The provider's session is gone: signing in again asks for credentials.
    const again = page.getByRole('button', { name: `Sign in with ${host}` });
    await again.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.origin === issuer);
    await page.locator('input[name="login"]').waitFor();
    expect(await page.locator('input[name="password"]').count()).toBe(1);

    expect(traffic.blocked.filter((u) => !providerFonts(u))).toEqual([]);
    expect(traffic.cspViolations).toEqual([]);
    expect(traffic.pageErrors).toEqual([]);
  });

  it('offers the provider only: no development sign-in, and a callback nobody started is refused in words', async () => {
    const { page, traffic } = await c.newPage({ alsoAllowed: [issuer] });
    await page.goto(`${t.url}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByLabel('User id').count()).toBe(0);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'console-sign-in-oidc');
    const devToken = await fetch(`${t.url}/console/dev-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'mallory', roles: ['admin'] }),
    });
    expect(devToken.status).toBe(405);
    expect(await devToken.text()).not.toContain('token');

    await page.goto(`${t.url}/console/callback?code=forged&state=forged`);
    const alert = page.getByRole('alert');
    await expect
      .poll(() => alert.textContent(), { timeout: 10_000 })
      .toContain('Sign-in with the identity provider did not complete');
    expect(await alert.textContent()).toContain('this tab did not start a sign-in');
    expect(await page.evaluate(() => sessionStorage.getItem('rdp-console-token'))).toBeNull();
    expect(traffic.pageErrors).toEqual([]);
  });
});
