import type { FragmentDefinitionNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';

type Fragments = Record<string, FragmentDefinitionNode | undefined>;

function selectsIn(set: SelectionSetNode | undefined, path: readonly string[], depth: number, fragments: Fragments): boolean {
  if (!set) return false;
  for (const s of set.selections) {
    if (s.kind === 'Field') {
      if (s.name.value === path[depth] && (depth === path.length - 1 || selectsIn(s.selectionSet, path, depth + 1, fragments)))
        return true;
    } else if (s.kind === 'InlineFragment') {
      if (selectsIn(s.selectionSet, path, depth, fragments)) return true;
    } else if (selectsIn(fragments[s.name.value]?.selectionSet, path, depth, fragments)) return true;
  }
  return false;
}

/**
 * Whether the operation asks, below the field being resolved, for the field at `path` (field
 * names, through fragments and inline fragments). @skip and @include are not evaluated: a
 * skipped field counts as asked for, which costs a read ahead, never a wrong answer. For list
 * resolvers that read ahead in one batch what their items will ask for.
 */
export function selects(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>, path: readonly string[]): boolean {
  for (const node of info.fieldNodes) if (selectsIn(node.selectionSet, path, 0, info.fragments)) return true;
  return false;
}
