import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, type GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { KNOWN_VARIABLES, RETIRED_VARIABLES } from '../../src/config/config.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string): string => readFileSync(join(root, p), 'utf8');
const exists = (p: string): boolean => existsSync(join(root, p));

const SELF = 'test/unit/docs.test.ts';

/** Files of the repository (tracked, and new ones not ignored), but this one, which names what it looks for. */
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter(
    (f) =>
      f !== '' && f !== SELF && exists(f) && /\.(ts|js|md|ya?ml|json|sh|graphql)$/.test(f) && !f.endsWith('package-lock.json'),
  );

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const anchorsOf = (markdown: string) =>
  new Set(
    [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
      (m[1] ?? '')
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} -]/gu, '')
        .replace(/ /g, '-'),
    ),
  );

describe('the repository stands alone', () => {
  // Notes kept outside the repository; spelled in pieces so this file does not name them itself.
  const outside = [
    ['XRDP', 'NOTES'].join('-'),
    ['STACK', 'NOTES'].join('-'),
    `ARCHITECTURE${'.md'}`,
    `STYLE${'.md'}`,
    ['/work', 'shared'].join('/'),
  ];

  it('cites no note that lives outside it', () => {
    expect(files.length).toBeGreaterThan(100);
    const hits = files.flatMap((f) => {
      const text = read(f);
      const found = outside.filter((name) => text.includes(name));
      // `../shared/` is fine as an import inside src/domain (src/domain/shared), never as a path to notes.
      const shared = text.split('\n').filter((l) => l.includes('../shared') && !/from '\.\.\/shared\/[\w-]+\.js'/.test(l));
      return [...found, ...shared].map((what) => `${f}: ${what}`);
    });
    expect(hits).toEqual([]);
  });

  it('every DOMAIN.md, XRDP.md or STACK.md it cites is the one in docs/', () => {
    const bad = files
      .filter((f) => !f.startsWith('docs/'))
      .flatMap((f) =>
        [...read(f).matchAll(/(\S*)\b(DOMAIN|XRDP|STACK)\.md/g)]
          .filter((m) => !(m[1] ?? '').endsWith('docs/') && !(m[1] ?? '').endsWith('(docs/'))
          .map((m) => `${f}: ${m[0]}`),
      );
    expect(bad).toEqual([]);
    for (const doc of ['docs/DOMAIN.md', 'docs/XRDP.md', 'docs/STACK.md', 'docs/SEED-SERVICES.md'])
      expect(exists(doc), doc).toBe(true);
  });

  it('every relative link in README.md and docs/ lands on a file, and on a heading when it names one', () => {
    const docs = files.filter((f) => f === 'README.md' || (f.startsWith('docs/') && f.endsWith('.md')));
    expect(docs.length).toBeGreaterThanOrEqual(5);
    const broken: string[] = [];
    for (const f of docs) {
      for (const m of read(f).matchAll(/\]\(([^)#\s]*)(?:#([^)\s]+))?\)/g)) {
        const [, target = '', anchor] = m;
        if (/^[a-z]+:/.test(target)) continue;
        const file = target === '' ? f : normalize(join(dirname(f), target));
        if (!exists(file)) broken.push(`${f}: ${m[0]}`);
        else if (anchor && file.endsWith('.md') && !anchorsOf(read(file)).has(anchor)) broken.push(`${f}: ${m[0]} (no heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('docs/SEED-SERVICES.md', () => {
  const doc = read('docs/SEED-SERVICES.md');
  const section = (title: string) => doc.split(/^## /m).find((s) => s.startsWith(title)) ?? '';
  const schema = buildSchema(read('schema/schema.graphql'));
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((t) =>
    t ? Object.keys(t.getFields()) : [],
  );
  const serverFields = Object.keys((schema.getType('RdpServer') as GraphQLObjectType).getFields());

  it('maps the four services with their ports', () => {
    for (const [name, port] of [
      ['rdp-server-manager', '8090'],
      ['xrdp-integration', '8091'],
      ['rdp-session-controller', '8092'],
      ['rdp-resource-monitor', '8093, metrics 9090'],
    ]) {
      expect(section('Services and ports')).toMatch(new RegExp(`\\| ${name} \\| ${port} \\|`));
    }
  });

  it('names only GraphQL fields that exist', () => {
    const named = [...section('Services and ports').matchAll(/`([a-z][A-Za-z]+)`/g)].map((m) => m[1] ?? '');
    expect(named.length).toBeGreaterThan(25);
    expect(named.filter((n) => !roots.includes(n) && !serverFields.includes(n))).toEqual([]);
  });

  it('names only files that exist', () => {
    const paths = [
      ...doc.matchAll(/`((?:src|resolvers|scripts|config|test|monitoring)\/[\w./-]*\w|Dockerfile|docker-compose\.yml)/g),
    ].map((m) => m[1] ?? '');
    expect(paths.length).toBeGreaterThan(10);
    expect(paths.filter((p) => !exists(p))).toEqual([]);
  });

  it('says for every seed variable whether it is read, and those it calls retired are the ones the service ignores', () => {
    const rows = section('Variables')
      .split('\n')
      .filter((l) => l.startsWith('| `'));
    const retired = Object.keys(RETIRED_VARIABLES);
    for (const row of rows) {
      const names = [...(row.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] ?? '');
      for (const name of names) {
        if (row.includes('**retired**')) expect(retired, name).toContain(name);
        else expect(KNOWN_VARIABLES, name).toContain(name);
      }
    }
    const listed = rows.join('\n');
    for (const name of retired) expect(listed).toContain(`\`${name}\``);
  });
});
