/** Load generator process for HTTP cases: autocannon, pinned apart from the server. */
import autocannon from 'autocannon';
import { serveRpc } from '../lib/rpc-child.js';

export interface HttpLoadParams {
  url: string;
  body: string;
  headers: Record<string, string>;
  seconds: number;
  connections: number;
}

export interface HttpLoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  bytesPerSecond: number;
}

function run(params: HttpLoadParams): Promise<HttpLoadResult> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: params.url,
        method: 'POST',
        body: params.body,
        headers: params.headers,
        duration: params.seconds,
        connections: params.connections,
        timeout: 10,
      },
      (err, result) => {
        if (err) {
          reject(err);
          return;
        }
        resolve({
          requestsPerSecond: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          requests: result.requests.total,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          bytesPerSecond: result.throughput.average,
        });
      },
    );
  });
}

serveRpc({ run: (params) => run(params as HttpLoadParams) });
