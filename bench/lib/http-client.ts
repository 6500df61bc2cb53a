import { Agent, request } from 'node:http';

/** An agent sized for the bench's bursts (fetch's pool is not configurable without undici). */
// No keep-alive: a round can outlast the server's 5 s keep-alive timeout, and reusing a socket the
// server is closing fails the request ("socket hang up"); 1,000 fresh loopback connections are cheap.
const agent = new Agent({ keepAlive: false, maxSockets: 2000 });

/** POSTs JSON with a Content-Length and resolves with the status and parsed body. */
export function postJson<T>(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': String(payload.length), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T });
          } catch (err) {
            reject(err);
          }
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(180_000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(payload);
  });
}
