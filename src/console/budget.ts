import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildConsole, CONSOLE_DIST } from './build-if-missing.js';

/**
 * Prints what a first visit downloads: the scripts and stylesheets index.html names, raw and
 * gzipped (level 6, as the API serves them). Builds first. Not a bench: numbers to read.
 */
await buildConsole();
const html = readFileSync(join(CONSOLE_DIST, 'index.html'), 'utf8');
const files = [...html.matchAll(/(?:src|href)="\/console\/([^"]+\.(?:js|css))"/g)].map((m) => m[1] ?? '');
let js = 0;
let css = 0;
for (const file of files) {
  const body = readFileSync(join(CONSOLE_DIST, file));
  const gz = gzipSync(body).length;
  if (file.endsWith('.js')) js += gz;
  else css += gz;
  process.stdout.write(`${file}\t${body.length} B\t${gz} B gzipped\n`);
}
process.stdout.write(
  `first load: JS ${(js / 1024).toFixed(1)} KiB gzipped, CSS ${(css / 1024).toFixed(1)} KiB gzipped (budget: JS 250 KiB)\n`,
);
