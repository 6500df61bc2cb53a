import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { BuildAppOptions } from '../../src/app/build-app.js';
import { buildConsole } from '../../src/console/build-if-missing.js';
import type { Role } from '../../src/domain/auth/viewer.js';
import { startTestApp, type TestApp } from './app-harness.js';
import { lockHostSesman } from './host-sesman-lock.js';
import { services, uniqueMongoUri } from './real-services.js';

/**
 * Browser tests drive Debian's chromium (apt package `chromium`, installed by
 * scripts/test-services.sh); Playwright never downloads a browser. CHROMIUM_PATH overrides.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether the browser suites can run; prints why not, or throws under REQUIRE_REAL_SERVICES=1. */
export function needBrowser(suite: string): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  const reason = `${suite}: skipped, no browser at ${CHROMIUM_PATH} (apt-get install chromium, or run scripts/test-services.sh start)`;
  if (process.env.REQUIRE_REAL_SERVICES === '1') throw new Error(`REQUIRE_REAL_SERVICES=1 but ${reason}`);
  console.warn(`SKIPPED ${reason}`);
  return false;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Root in CI containers: chromium's sandbox needs user namespaces it may not get.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/** Screenshots land here (git-ignored): test-output/screenshots/<name>.png. */
export const SCREENSHOT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-output', 'screenshots');

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface Traffic {
  /** Every URL the pages and their workers asked for, in order. */
  requests: string[];
  /** Requests to another origin, aborted before they left the machine. */
  blocked: string[];
  /** WebSocket URLs opened. */
  sockets: string[];
  /** Console messages about a Content-Security-Policy violation. */
  cspViolations: string[];
  /** Uncaught page errors. */
  pageErrors: string[];
}

/**
 * A context whose every request outside `origin` is aborted and recorded, so a test can assert
 * that the page asked nothing of the internet (and works without it).
 */
export async function isolatedContext(
  browser: Browser,
  origin: string,
  /** Other origins the test runs on this machine (an OpenID provider on loopback). */
  alsoAllowed: readonly string[] = [],
): Promise<{ context: BrowserContext; traffic: Traffic }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const traffic: Traffic = { requests: [], blocked: [], sockets: [], cspViolations: [], pageErrors: [] };
  const local = (url: string) =>
    [origin, ...alsoAllowed].some((o) => url.startsWith(`${o}/`) || url === o) || /^(data|blob):/.test(url);
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (local(url)) return route.continue();
    traffic.blocked.push(url);
    return route.abort('blockedbyclient');
  });
  context.on('request', (r) => traffic.requests.push(r.url()));
  const watch = (page: Page) => {
    page.on('websocket', (ws) => traffic.sockets.push(ws.url()));
    page.on('console', (m) => {
      if (/Content[- ]Security[- ]Policy/i.test(m.text())) traffic.cspViolations.push(m.text());
    });
    page.on('pageerror', (e) => traffic.pageErrors.push(String(e)));
  };
  context.on('page', watch);
  return { context, traffic };
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  /** CSS selectors of the offending elements. */
  targets: string[];
}

/**
 * Runs axe-core in the page (evaluated through the DevTools protocol, which a CSP without inline
 * scripts does not block) and returns the serious and critical violations.
 */
export async function seriousAxeViolations(page: Page, options: { exclude?: string[] } = {}): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async (exclude: string[]) => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            ctx: unknown,
            opts: unknown,
          ) => Promise<{
            violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[]; html: string }[] }[];
          }>;
        };
      }
    ).axe;
    const result = await axe.run(exclude.length > 0 ? { exclude: exclude.map((s) => [s]) } : document, {
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => `${n.target.join(' ')} ${n.html.slice(0, 160)}`),
    }));
  }, options.exclude ?? []);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** xrdp listeners started under a test's config directory (killed if a test left one). */
export function xrdpPidsUnder(dir: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
        return cmd.includes(dir) && cmd.includes('xrdp') && !cmd.includes('xrdp-sesman');
      } catch {
        return false;
      }
    })
    .map(Number);
}

export interface ConsoleAppOptions {
  /** Names the test's own database on FerretDB (uniqueMongoUri's tag). */
  db: string;
  /** More of the service's environment (MONGODB_URI and REDIS_URL are set here). */
  env?: Record<string, string>;
  /** The Redis the service uses. @default the shared one (REDIS_URL) */
  redisUrl?: string;
  /** Overrides for the service (a fake runtime, a host probe). */
  appOptions?: BuildAppOptions;
  /** Build the console into a directory of this file's own and serve it. @default true */
  console?: boolean;
  /**
   * Servers get an xrdp configuration directory and ten loopback ports from `portBase` (keep it
   * below the kernel's ephemeral range, 32768+, so no outgoing connection holds a test port; in
   * the suite's own block, the RDP port blocks in test/support/net.ts).
   * `real`: this file starts real xrdp: it takes the host's sesman lock for its run, and closing
   * stops the host sesman and kills any xrdp listener a test left.
   */
  xrdp?: { portBase: number; real: boolean };
}

export interface ConsoleApp {
  /** The service on a loopback port. */
  api: TestApp;
  browser: Browser;
  /** The test's own database, dropped on close. */
  dbUri: string;
  /** The xrdp configuration directory, when asked for. */
  xrdpDir?: string;
  /** A fresh isolated browser profile (see isolatedContext) with one page, closed on close(). */
  newPage(options?: {
    origin?: string;
    alsoAllowed?: readonly string[];
  }): Promise<{ page: Page; context: BrowserContext; traffic: Traffic }>;
  /**
   * A fresh profile signed in through the development sign-in page as `sub` with `role`: on the
   * fleet page, its live connection up.
   */
  signInDev(sub: string, role: Role, options?: { origin?: string }): Promise<{ page: Page; traffic: Traffic }>;
  /** Closes the pages, the browser and the service, and removes what the start made. */
  close(): Promise<void>;
}

/**
 * What every browser test file starts with: the console built into a temporary directory, the
 * service on a database of its own (FerretDB) and Redis, and Debian's chromium. If the start
 * fails half-way, what it made is undone before the error is thrown.
 */
export async function startConsoleApp(options: ConsoleAppOptions): Promise<ConsoleApp> {
  const undo: (() => Promise<unknown> | unknown)[] = [];
  const contexts: BrowserContext[] = [];
  const close = async () => {
    for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
    const failures: unknown[] = [];
    for (const step of undo.splice(0).reverse())
      await Promise.resolve()
        .then(step)
        .catch((e) => failures.push(e));
    if (failures.length > 0) throw failures[0];
  };
  try {
    const appOptions: BuildAppOptions = { ...options.appOptions };
    if (options.console !== false) {
      const consoleDir = mkdtempSync(join(tmpdir(), 'console-build-'));
      undo.push(() => rmSync(consoleDir, { recursive: true, force: true }));
      await buildConsole(consoleDir);
      appOptions.consoleDir = consoleDir;
    }
    // The host's sesman lock may be held by another file for a while.
    if (options.xrdp?.real) undo.push(await lockHostSesman());
    const env: Record<string, string> = {};
    let xrdpDir: string | undefined;
    if (options.xrdp) {
      const dir = mkdtempSync(join(tmpdir(), `rdp-${options.db.replaceAll('_', '-')}-`));
      xrdpDir = dir;
      undo.push(() => rmSync(dir, { recursive: true, force: true }));
      const base = options.xrdp.portBase;
      Object.assign(env, { XRDP_CONFIG_PATH: dir, RDP_LOOPBACK_ONLY: 'true', RDP_PORT_RANGE: `${base}-${base + 9}` });
    }
    const dbUri = uniqueMongoUri(services.mongoUri ?? '', options.db);
    undo.push(async () => {
      const client = new MongoClient(dbUri);
      await client.db().dropDatabase();
      await client.close();
    });
    const api = await startTestApp(
      { MONGODB_URI: dbUri, REDIS_URL: options.redisUrl ?? services.redisUrl ?? '', ...env, ...options.env },
      appOptions,
    );
    undo.push(() => api.stop());
    if (options.xrdp?.real && xrdpDir) {
      const dir = xrdpDir;
      undo.push(() => api.app.container.sesman.stop().catch(() => undefined));
      undo.push(() => {
        for (const pid of xrdpPidsUnder(dir)) process.kill(pid, 'SIGKILL');
      });
    }
    const browser = await launchBrowser();
    undo.push(() => browser.close());

    const newPage: ConsoleApp['newPage'] = async ({ origin = api.url, alsoAllowed = [] } = {}) => {
      const { context, traffic } = await isolatedContext(browser, origin, alsoAllowed);
      contexts.push(context);
      return { page: await context.newPage(), context, traffic };
    };
    return {
      api,
      browser,
      dbUri,
      xrdpDir,
      newPage,
      async signInDev(sub, role, { origin = api.url } = {}) {
        const { page, traffic } = await newPage({ origin });
        await page.goto(`${origin}/`);
        await page.getByLabel('User id').fill(sub);
        await page.getByLabel('Role').selectOption(role);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('heading', { name: 'Fleet' }).waitFor();
        await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor({ timeout: 15_000 });
        return { page, traffic };
      },
      close,
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
