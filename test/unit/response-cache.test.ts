import { type GraphQLNamedType, getNamedType, isInterfaceType, isObjectType, isUnionType, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../resolvers/index.js';
import { MemoryServerStore } from '../../src/adapters/memory/memory-server-store.js';
import { bumpingOnWrite, type CachedKind, createLocalGenerations } from '../../src/app/cache-generations.js';
import { CACHEABLE_ROOTS, FIELD_DEPENDENCIES, planOf, UNCACHEABLE_FIELDS } from '../../src/app/response-cache.js';
import { type Stores, withGenerations } from '../../src/app/wiring/stores.js';

/** Every `Type.field` reachable from the cacheable roots of the real schema. */
function reachableFields(): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (type: GraphQLNamedType) => {
    if (seen.has(type.name)) return;
    seen.add(type.name);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        out.push(`${type.name}.${field.name}`);
        const next = getNamedType(field.type);
        // Below a field left out on purpose nothing is reached from a cacheable document.
        if (!UNCACHEABLE_FIELDS[`${type.name}.${field.name}`]) visit(next);
      }
      if (isInterfaceType(type)) for (const t of schema.getPossibleTypes(type)) visit(t);
    } else if (isUnionType(type)) {
      for (const t of type.getTypes()) visit(t);
    }
  };
  const query = schema.getQueryType();
  for (const root of Object.keys(CACHEABLE_ROOTS)) {
    const field = query?.getFields()[root];
    expect(field, `Query.${root}`).toBeDefined();
    if (field) visit(getNamedType(field.type));
  }
  return out;
}

describe('response cache: which documents may be cached', () => {
  it('every field reachable from a cacheable root is classified: stores it reads, or why it is left out', () => {
    const unclassified = reachableFields().filter((f) => {
      const [type, name] = f.split('.') as [string, string];
      return FIELD_DEPENDENCIES[type]?.[name] === undefined && UNCACHEABLE_FIELDS[f] === undefined;
    });
    expect(unclassified).toEqual([]);
  });

  it('the P1 query reads servers, their assignments and sessions', () => {
    const plan = planOf(
      schema,
      parse('{ servers(first: 100) { edges { node { id name status port createdAt owner sessions { id status } } } } }'),
    );
    expect(plan?.kinds).toEqual(['assignments', 'servers', 'sessions']);
  });

  it('fragments, inline fragments, __typename, @include and @skip are followed', () => {
    const plan = planOf(
      schema,
      parse(`query($full: Boolean!) { pools { ...P } }
        fragment P on Pool { __typename name liveSessions servers(first: 5) @include(if: $full) { edges { node { ... on RdpServer { id } } } } }`),
    );
    expect(plan?.kinds).toEqual(['assignments', 'pools', 'servers', 'sessions']);
  });

  it.each([
    ['a mutation', 'mutation { deleteServer(id: "x") { __typename } }'],
    ['a subscription', 'subscription { fleetEvents { kind } }'],
    ['a root field not allowed', '{ servers(first: 1) { totalCount } viewer { userId } }'],
    ['a clock field', '{ servers(first: 1) { edges { node { uptimeSeconds } } } }'],
    ['a resource sample', '{ sessions(first: 1) { edges { node { usage { cpuPercent } } } } }'],
    ['a log read', '{ servers(first: 1) { edges { node { logs { message } } } } }'],
    ['a host', '{ servers(first: 1) { edges { node { placement { id } } } } }'],
    ['a field in a fragment', '{ servers(first: 1) { edges { node { ...F } } } } fragment F on RdpServer { uptimeSeconds }'],
    ['the cgroup capability', '{ servers(first: 1) { edges { node { resources { enforced } } } } }'],
    ['introspection', '{ servers(first: 1) { totalCount } __schema { types { name } } }'],
    ['an unknown directive', '{ servers(first: 1) @deprecated { totalCount } }'],
  ])('%s is not cacheable', (_what, text) => {
    expect(planOf(schema, parse(text))).toBeNull();
  });

  it('the operation named is the one planned; its id differs from the other operation', () => {
    const doc = parse('query A { servers(first: 1) { totalCount } } query B { sessions(first: 1) { totalCount } }');
    const a = planOf(schema, doc, 'A');
    const b = planOf(schema, doc, 'B');
    expect(a && b && a.id !== b.id).toBe(true);
    expect(planOf(schema, doc, 'C')).toBeNull();
  });
});

describe('bumpingOnWrite', () => {
  it('moves the generation after every method not named a read, whether it resolves or rejects, before returning', async () => {
    const generations = createLocalGenerations();
    const kinds: CachedKind[] = ['servers'];
    const store = bumpingOnWrite(new MemoryServerStore(), 'servers', ['findById', 'list', 'count'], generations);
    const g0 = await generations.read(kinds);
    await store.findById('nope');
    await store.count({});
    expect(await generations.read(kinds)).toBe(g0);
    // A write, including one the store refuses (compare-and-set of a missing server).
    expect(await store.delete('nope')).toBe(false);
    const g1 = await generations.read(kinds);
    expect(g1).not.toBe(g0);
    // findByIds is not named a read here: methods count as writes unless named.
    await store.findByIds([]);
    expect(await generations.read(kinds)).not.toBe(g1);
    const failing = bumpingOnWrite(
      {
        write: async () => {
          throw new Error('refused');
        },
      },
      'servers',
      [],
      generations,
    );
    const g2 = await generations.read(kinds);
    await expect(failing.write()).rejects.toThrow('refused');
    expect(await generations.read(kinds)).not.toBe(g2);
  });

  it("the app's server store reads, listAll (the fleet snapshot) included, leave the generation alone", async () => {
    const generations = createLocalGenerations();
    const kinds: CachedKind[] = ['servers'];
    const stores = { servers: new MemoryServerStore(), sessions: {}, pools: {}, assignments: {} } as unknown as Stores;
    const { servers } = withGenerations(stores, generations);
    const g0 = await generations.read(kinds);
    await servers.listAll({});
    await servers.list({}, 10);
    await servers.findByIds([]);
    await servers.count({});
    await servers.countByStatus();
    expect(await generations.read(kinds)).toBe(g0);
  });
});
