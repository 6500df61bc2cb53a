import type { Collection, Document, Filter } from 'mongodb';
import type { Cursor } from '../../domain/shared/page.js';

/**
 * One page of documents in (createdAt, _id) order after a cursor, plus whether more follow, in
 * one round trip: the batch is larger than the limit, or FerretDB keeps the cursor open and the
 * driver has to kill it.
 */
export async function keysetPage<T extends Document & { _id: string; createdAt: Date | null }>(
  col: Collection<T>,
  base: Filter<T>,
  first: number,
  after?: Cursor,
): Promise<{ docs: T[]; hasNextPage: boolean }> {
  const query = (
    after
      ? {
          $and: [
            base,
            {
              $or: [
                { createdAt: { $gt: new Date(after.createdAt) } },
                { createdAt: new Date(after.createdAt), _id: { $gt: after.id } },
              ],
            },
          ],
        }
      : base
  ) as Filter<T>;
  const docs = (await col
    .find(query)
    .sort({ createdAt: 1, _id: 1 })
    .limit(first + 1)
    .batchSize(first + 2)
    .toArray()) as T[];
  return { docs: docs.slice(0, first), hasNextPage: docs.length > first };
}

/** Counts by the `status` field with $group/$sum (both MongoDB and FerretDB 1.24 have them). */
export async function countByStatus<S extends string>(col: Collection<Document>): Promise<Partial<Record<S, number>>> {
  const rows = await col.aggregate<{ _id: S; n: number }>([{ $group: { _id: '$status', n: { $sum: 1 } } }]).toArray();
  return Object.fromEntries(rows.map((r) => [r._id, r.n])) as Partial<Record<S, number>>;
}
