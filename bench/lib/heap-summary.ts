/**
 * A V8 heap snapshot (.heapsnapshot, as written by v8.writeHeapSnapshot) summed by constructor:
 * objects by their constructor name, closures as `closure <function name>`, everything else by
 * node type (strings, code, arrays, hidden). Self sizes only, which is what a per-subscription
 * difference of two snapshots needs.
 */
import { readFileSync } from 'node:fs';

export interface HeapSummary {
  totalSize: number;
  byConstructor: Map<string, { count: number; size: number }>;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

const BY_NAME = new Set(['object', 'closure', 'native', 'synthetic']);

export function summarizeHeap(path: string): HeapSummary {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const byConstructor = new Map<string, { count: number; size: number }>();
  let totalSize = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt] ?? 0] ?? '?';
    const size = snap.nodes[i + sizeAt] ?? 0;
    const name = snap.strings[snap.nodes[i + nameAt] ?? 0] ?? '';
    const key = BY_NAME.has(type)
      ? `${type === 'object' ? '' : `${type} `}${name.length > 60 ? `${name.slice(0, 60)}…` : name}`
      : `(${type})`;
    const entry = byConstructor.get(key) ?? { count: 0, size: 0 };
    entry.count++;
    entry.size += size;
    byConstructor.set(key, entry);
    totalSize += size;
  }
  return { totalSize, byConstructor };
}
