import { connect, createServer, type Server, type Socket } from 'node:net';

export type PauseMode = 'refuse' | 'blackhole';

export interface FaultProxy {
  /** The loopback port clients connect to. */
  port: number;
  /** `host:port` of the proxy, for building URIs. */
  address: string;
  /**
   * Makes the upstream unreachable. `refuse` (a crashed or stopped service): every open connection
   * is destroyed and new ones are refused. `blackhole` (a network partition): connections stay
   * open and new ones are accepted, but no byte goes through in either direction.
   */
  pause(mode?: PauseMode): Promise<void>;
  /** Forwards again; connections held by a blackhole are dropped, so clients reconnect. */
  resume(): Promise<void>;
  /** Connections open right now (both modes). */
  readonly connections: number;
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 in front of `target` that tests can pause and resume. */
export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let mode: PauseMode | null = null;
  const pairs = new Set<{ client: Socket; upstream: Socket | null }>();

  const onConnection = (client: Socket) => {
    const pair: { client: Socket; upstream: Socket | null } = { client, upstream: null };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on('error', drop);
    client.on('close', drop);
    if (mode === 'blackhole') {
      // Accepted, never answered: bytes from the client are read and discarded.
      client.on('data', () => undefined);
      return;
    }
    const upstream = connect(target);
    pair.upstream = upstream;
    upstream.on('error', drop);
    upstream.on('close', drop);
    client.on('data', (chunk) => {
      if (mode === null) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (mode === null) client.write(chunk);
    });
  };

  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });

  let server = createServer(onConnection);
  const port = await listen(server, 0);

  const closeServer = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));
  const dropAll = () => {
    for (const p of [...pairs]) {
      p.client.destroy();
      p.upstream?.destroy();
    }
    pairs.clear();
  };

  return {
    port,
    address: `127.0.0.1:${port}`,
    get connections() {
      return pairs.size;
    },
    async pause(next: PauseMode = 'refuse') {
      mode = next;
      if (next === 'refuse') {
        dropAll();
        // Not listening: connecting gets ECONNREFUSED, as with a stopped service.
        await closeServer(server);
      }
    },
    async resume() {
      const was = mode;
      mode = null;
      if (was === 'refuse') {
        server = createServer(onConnection);
        await listen(server, port);
      } else if (was === 'blackhole') {
        dropAll();
      }
    },
    async close() {
      dropAll();
      if (server.listening) await closeServer(server);
    },
  };
}
