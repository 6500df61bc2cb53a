import { buildConsole, CONSOLE_DIST } from './build-if-missing.js';
import { firstLoad } from './first-load.js';

/**
 * Prints what a first visit downloads: the scripts and stylesheets index.html names, raw and
 * gzipped (level 6, as the API serves them). Builds first. The bench's P7 rows hold it to its
 * budget (npm run bench:console).
 */
await buildConsole();
const load = firstLoad(CONSOLE_DIST);
for (const f of load.files) process.stdout.write(`${f.file}\t${f.bytes} B\t${f.gzipped} B gzipped\n`);
process.stdout.write(
  `first load: JS ${(load.jsGzipped / 1024).toFixed(1)} KiB gzipped, CSS ${(load.cssGzipped / 1024).toFixed(1)} KiB gzipped (budget: JS 250 KiB)\n`,
);
