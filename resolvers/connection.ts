import { type Cursor, encodeCursor, type Page } from '../src/domain/shared/page.js';

/** An edge whose cursor is encoded only when a client asks for it. */
class Edge<T> {
  constructor(
    readonly node: T,
    private readonly cursorOf: (node: T) => Cursor,
  ) {}

  get cursor(): string {
    return encodeCursor(this.cursorOf(this.node));
  }
}

interface Connection<T> {
  edges: Edge<T>[];
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/**
 * A relay connection from a page. Cursors are encoded lazily: most list queries select nodes
 * only, and encoding 100 cursors cost more than reading the page from memory. `cursorOf` names
 * the node's position when the node is not a Cursor itself (audit events keep it in `time`).
 */
export function toConnection<T extends Cursor>(page: Page<T>, after: string | null | undefined): Connection<T>;
export function toConnection<T>(page: Page<T>, after: string | null | undefined, cursorOf: (node: T) => Cursor): Connection<T>;
export function toConnection<T>(
  page: Page<T>,
  after: string | null | undefined,
  cursorOf: (node: T) => Cursor = (node) => node as Cursor,
): Connection<T> {
  const first = page.items[0];
  const last = page.items.at(-1);
  return {
    edges: page.items.map((node) => new Edge(node, cursorOf)),
    totalCount: page.totalCount,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: after != null,
      get startCursor() {
        return first ? encodeCursor(cursorOf(first)) : null;
      },
      get endCursor() {
        return last ? encodeCursor(cursorOf(last)) : null;
      },
    },
  };
}
