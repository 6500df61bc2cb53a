/**
 * Run inside a test's network namespace (`ip netns exec NS node --import tsx <this> FROM TO [connects]`):
 * reserves FROM-TO with the adapter and prints its result as one JSON line; with `connects`, then
 * opens that many loopback connections and prints the local ports the kernel gave them.
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { reserveLocalPortRange } from '../../src/adapters/host/local-port-reservation.js';

const [from = 0, to = 0, connects = 0] = process.argv.slice(2).map(Number);
const result = await reserveLocalPortRange({ from, to });
const localPorts: number[] = [];
if (connects > 0) {
  const server = createServer((s) => s.resume());
  // A fixed port: listen(0) would take its port from the ephemeral range the test narrowed.
  const port = 45000;
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const sockets: Socket[] = [];
  for (let i = 0; i < connects; i++) {
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    sockets.push(s);
    localPorts.push(s.localPort ?? 0);
  }
  for (const s of sockets) s.destroy();
  server.close();
}
process.stdout.write(`${JSON.stringify({ result, localPorts })}\n`);
