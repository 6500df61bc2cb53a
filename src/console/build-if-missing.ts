import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where `vite build` puts the console (git-ignored; the API serves it from there). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../dist/console/', import.meta.url));

/**
 * Builds the console unless a build is there: `npm start` (prestart) on a fresh clone, and the
 * browser tests. `npm run console:build` rebuilds after a change.
 */
export async function ensureConsoleBuilt(): Promise<void> {
  if (!existsSync(`${CONSOLE_DIST}index.html`)) await buildConsole();
}

/**
 * Builds the console from its sources, always: into dist/console, or into `outDir` (the browser
 * tests each build their own, so parallel files never serve a directory another one is emptying).
 */
export async function buildConsole(outDir?: string): Promise<void> {
  const { build } = await import('vite');
  await build({
    configFile: fileURLToPath(new URL('./vite.config.ts', import.meta.url)),
    logLevel: 'warn',
    ...(outDir ? { build: { outDir, emptyOutDir: true } } : {}),
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await ensureConsoleBuilt();
}
