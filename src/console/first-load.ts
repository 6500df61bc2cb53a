import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface FirstLoad {
  files: { file: string; bytes: number; gzipped: number }[];
  /** Scripts and stylesheets index.html names, gzipped (level 6, as the API serves them). */
  jsGzipped: number;
  cssGzipped: number;
}

/** What a first visit of the built console in `dir` downloads besides index.html. */
export function firstLoad(dir: string): FirstLoad {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const names = [...html.matchAll(/(?:src|href)="\/console\/([^"]+\.(?:js|css))"/g)].map((m) => m[1] ?? '');
  const files = names.map((file) => {
    const body = readFileSync(join(dir, file));
    return { file, bytes: body.length, gzipped: gzipSync(body).length };
  });
  const sum = (ext: string) => files.filter((f) => f.file.endsWith(ext)).reduce((n, f) => n + f.gzipped, 0);
  return { files, jsGzipped: sum('.js'), cssGzipped: sum('.css') };
}
