import { type Cursor, encodeCursor, type Page } from '../src/domain/shared/page.js';

/** An edge whose cursor is encoded only when a client asks for it. */
class Edge<T extends Cursor> {
  constructor(readonly node: T) {}

  get cursor(): string {
    return encodeCursor(this.node);
  }
}

/**
 * A relay connection from a page. Cursors are encoded lazily: most list queries select nodes
 * only, and encoding 100 cursors cost more than reading the page from memory.
 */
export function toConnection<T extends Cursor>(page: Page<T>, after: string | null | undefined) {
  const first = page.items[0];
  const last = page.items.at(-1);
  return {
    edges: page.items.map((node) => new Edge(node)),
    totalCount: page.totalCount,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: after != null,
      get startCursor() {
        return first ? encodeCursor(first) : null;
      },
      get endCursor() {
        return last ? encodeCursor(last) : null;
      },
    },
  };
}
