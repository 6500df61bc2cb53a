import type { GraphQLResolveInfo } from 'graphql';
import type { RdpServer } from '../../src/domain/servers/server.js';
import type { Page } from '../../src/domain/shared/page.js';
import { toConnection } from '../connection.js';
import type { GraphQLContext } from '../context.js';
import { selects } from '../selection.js';

const SESSIONS_OF_NODES = ['edges', 'node', 'sessions'] as const;

/**
 * A page of servers as a connection. Their sessions may ask for their server again
 * (session.server): the page answers that. When the query asks for the servers' sessions, those
 * are read here for the whole page in one batch (the same read the loader would batch), so each
 * server's `sessions` answers at once instead of with a promise and a load per server.
 */
export async function serverConnection(
  page: Page<RdpServer>,
  after: string | null | undefined,
  ctx: GraphQLContext,
  info: GraphQLResolveInfo,
): Promise<ReturnType<typeof toConnection<RdpServer>>> {
  ctx.loaders.primeServers(page.items);
  if (page.items.length > 0 && selects(info, SESSIONS_OF_NODES)) {
    await ctx.loaders.liveSessionsByServer.prefetch(page.items.map((s) => s.id));
  }
  return toConnection(page, after);
}
