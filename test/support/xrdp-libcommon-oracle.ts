import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The real reader: a tiny C program linked against the installed xrdp's libcommon.so that calls
 * file_by_name_read_sections and file_by_name_read_section, so the TypeScript port can be
 * checked against xrdp itself. Available when the xrdp package and a C compiler are installed.
 */
const LIB_DIR = '/usr/lib/x86_64-linux-gnu/xrdp';

// struct list is common/list.h's layout; the locale is what g_init (common/os_calls.c) selects.
const SOURCE = String.raw`
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
struct list { intptr_t *items; int count; int alloc_size; int grow_by; int auto_free; };
struct list *list_create(void);
void list_delete(struct list *);
int file_by_name_read_sections(const char *file_name, struct list *names);
int file_by_name_read_section(const char *file_name, const char *section, struct list *names, struct list *values);
static void hex(const char *s) { for (const unsigned char *p = (const unsigned char *)s; *p; p++) printf("%02x", *p); }
int main(int argc, char **argv) {
  if (setlocale(LC_CTYPE, "C.UTF-8") == NULL) setlocale(LC_CTYPE, "en_US.UTF-8");
  for (int f = 1; f < argc; f++) {
    struct list *secs = list_create(); secs->auto_free = 1;
    printf("F %d\n", file_by_name_read_sections(argv[f], secs));
    for (int i = 0; i < secs->count; i++) {
      const char *name = (const char *)secs->items[i];
      struct list *n = list_create(); n->auto_free = 1;
      struct list *v = list_create(); v->auto_free = 1;
      printf("S "); hex(name); printf(" %d\n", file_by_name_read_section(argv[f], name, n, v));
      for (int j = 0; j < n->count; j++) {
        printf("K "); hex((const char *)n->items[j]); printf(" "); hex((const char *)v->items[j]); printf("\n");
      }
      list_delete(n); list_delete(v);
    }
    list_delete(secs);
  }
  return 0;
}
`;

export interface OracleSection {
  name: string;
  /** null when file_by_name_read_section returned 1 (not found). */
  entries: [string, string][] | null;
}

export interface OracleResult {
  ok: boolean;
  sections: OracleSection[];
}

export interface LibcommonOracle {
  /** Reads each file (bytes) with xrdp's own reader; names and values as hex of their bytes. */
  read(files: Uint8Array[], env: Record<string, string>): OracleResult[];
  dispose(): void;
}

/** Builds the oracle, or returns the reason it cannot be built here. */
export function buildLibcommonOracle(): LibcommonOracle | string {
  if (!existsSync(join(LIB_DIR, 'libcommon.so'))) return `no ${LIB_DIR}/libcommon.so (install the xrdp package)`;
  const dir = mkdtempSync(join(tmpdir(), 'xrdp-oracle-'));
  const binary = join(dir, 'oracle');
  writeFileSync(join(dir, 'oracle.c'), SOURCE);
  const cc = spawnSync('cc', ['-O1', '-o', binary, join(dir, 'oracle.c'), `-L${LIB_DIR}`, '-lcommon', `-Wl,-rpath,${LIB_DIR}`], {
    encoding: 'utf8',
  });
  if (cc.error || cc.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot compile the libcommon oracle: ${cc.error?.message ?? cc.stderr}`;
  }
  let batch = 0;
  return {
    read(files, env) {
      batch += 1;
      const paths = files.map((bytes, i) => {
        const path = join(dir, `b${batch}-${i}.ini`);
        writeFileSync(path, bytes);
        return path;
      });
      const run = spawnSync(binary, paths, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      for (const path of paths) rmSync(path, { force: true });
      if (run.status !== 0) throw new Error(`oracle failed: ${run.stderr}`);
      const results: OracleResult[] = [];
      for (const line of run.stdout.split('\n')) {
        const [tag, a = '', b = ''] = line.split(' ');
        const current = results.at(-1);
        const section = current?.sections.at(-1);
        if (tag === 'F') results.push({ ok: a === '0', sections: [] });
        else if (tag === 'S' && current) current.sections.push({ name: a, entries: b === '0' ? [] : null });
        else if (tag === 'K' && section?.entries) section.entries.push([a, b]);
      }
      return results;
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
