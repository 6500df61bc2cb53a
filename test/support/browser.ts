import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

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
