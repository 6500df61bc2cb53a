import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSchema, parse as parseGraphql, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const root = new URL('../../', import.meta.url);
const read = (p: string): string => readFileSync(new URL(p, root), 'utf8');
const exists = (p: string): boolean => existsSync(fileURLToPath(new URL(p, root)));

const doc = read('docs/OPERATIONS.md');
const schema = buildSchema(read('schema/schema.graphql'));
const services = Object.keys((parseYaml(read('docker-compose.yml')) as { services: Record<string, unknown> }).services);
const alerts = (
  parseYaml(read('config/alert-rules.yml')) as { groups: { rules: { alert: string; annotations: { runbook?: string } }[] }[] }
).groups.flatMap((g) => g.rules);

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const anchors = new Set(
  [...doc.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
    (m[1] ?? '')
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N} -]/gu, '')
      .replace(/ /g, '-'),
  ),
);

const FLAGS_WITH_VALUES = new Set([
  '-s',
  '--signal',
  '--tail',
  '--since',
  '--timeout',
  '-e',
  '--env',
  '-u',
  '--user',
  '--format',
]);

/** The services a `docker compose <command> ...` line names. */
function composeServices(line: string): { command: string; named: string[] }[] {
  return [
    ...line
      .replaceAll('<service>', '@service')
      .matchAll(/docker compose (exec|logs|ps|restart|stop|start|kill|run|up|pull|build)((?: [^`|>&;]*)?)/g),
  ].map((m) => {
    const command = m[1] ?? '';
    const words = (m[2] ?? '').trim().split(/\s+/).filter(Boolean);
    const named: string[] = [];
    for (let i = 0; i < words.length; i++) {
      const w = words[i] ?? '';
      if (w.startsWith('-')) {
        if (FLAGS_WITH_VALUES.has(w)) i++;
        continue;
      }
      named.push(w);
      if (command === 'exec' || command === 'run') break;
    }
    return { command, named };
  });
}

describe('docs/OPERATIONS.md', () => {
  it('every GraphQL block is valid against schema/schema.graphql', () => {
    const blocks = [...doc.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    const inline = [...doc.matchAll(/gql '(\{"query":.*\})'/g)].map((m) => (JSON.parse(m[1] ?? '{}') as { query: string }).query);
    expect(blocks.length).toBeGreaterThan(5);
    for (const source of [...blocks, ...inline]) {
      expect(
        validate(schema, parseGraphql(source)).map((e) => e.message),
        source,
      ).toEqual([]);
    }
  });

  it('names only npm scripts, repository files and compose services that exist', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    for (const m of doc.matchAll(/npm run (\w[\w:-]*)/g)) expect(scripts, `npm run ${m[1]}`).toHaveProperty(m[1] ?? '');
    for (const m of doc.matchAll(/(?<![\w/-])((?:scripts|config|docs|test\/unit)\/[\w./-]*\w)/g)) {
      expect(exists(m[1] ?? ''), m[1]).toBe(true);
    }
    for (const m of doc.matchAll(/dist\/src\/app\/([\w-]+)\.js/g)) expect(exists(`src/app/${m[1]}.ts`), m[0]).toBe(true);
    const lines = doc.split('\n').filter((l) => l.includes('docker compose '));
    const named = lines.flatMap(composeServices);
    expect(named.length).toBeGreaterThan(20);
    for (const { command, named: names } of named) {
      for (const name of names) expect([...services, '@service'], `docker compose ${command} ${name}`).toContain(name);
    }
  });

  it('covers every alert, and every runbook link in the alert rules lands on a heading', () => {
    for (const rule of alerts) {
      expect(doc, rule.alert).toContain(`\`${rule.alert}\``);
      const anchor = rule.annotations.runbook?.split('#')[1];
      expect(anchors, `${rule.alert} -> #${anchor}`).toContain(anchor);
    }
    for (const m of doc.matchAll(/`(Rdp[A-Z]\w+)`/g))
      expect(
        alerts.map((a) => a.alert),
        m[1],
      ).toContain(m[1]);
  });

  it('has the sections the runbook needs, and its links land on headings', () => {
    for (const anchor of [
      'xrdp-failures',
      'port-conflicts',
      'database-connection-failures',
      'high-resource-usage',
      'logging-and-log-rotation',
      'backup-and-restore',
      'rolling-updates',
      'maintenance',
    ]) {
      expect(anchors, anchor).toContain(anchor);
    }
    for (const m of doc.matchAll(/\]\(#([^)]+)\)/g)) expect(anchors, `link #${m[1]}`).toContain(m[1]);
  });
});
