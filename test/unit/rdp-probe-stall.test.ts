import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_RDP, probeRdp } from '../../src/adapters/xrdp/rdp-probe.js';

/**
 * An RDP listener on its own thread (its event loop keeps running while the test's is blocked):
 * it answers each X.224 Connection Request after `delayMs` with a Connection Confirm that selects
 * standard RDP security, so a probe without TLS ends at the confirm.
 */
const LISTENER = `
const { createServer } = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const confirm = Buffer.from('030000130ed000001234000200080000000000', 'hex');
const server = createServer((socket) => {
  socket.on('error', () => {});
  socket.once('data', () => setTimeout(() => socket.write(confirm), workerData.delayMs));
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

/** Blocks this thread's event loop, as a loaded host or a long synchronous task does. */
function stall(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}

describe('probeRdp on a stalled event loop', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.terminate();
  });

  it('reads the answer that arrived while the loop was stalled past the timeout, instead of timing out', async () => {
    worker = new Worker(LISTENER, { eval: true, workerData: { delayMs: 100 } });
    const port = await new Promise<number>((resolve) => worker?.once('message', resolve));
    const probing = probeRdp({ host: '127.0.0.1', port, tls: false, timeoutMs: 1000 });
    // Connected and the request sent (loopback: well within 50 ms); then no turn of this loop
    // until long after the answer came (100 ms) and the timeout was due (1 s). The stall is in
    // the loop's check phase (setImmediate), so the next turn runs its due timers before it
    // polls for I/O, as after any long task that is not itself a timer.
    await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setImmediate(r));
    stall(3000);
    await expect(probing).resolves.toEqual({ kind: 'selected', protocol: PROTOCOL_RDP });
  });

  it('still times out when the listener never answers', async () => {
    worker = new Worker(LISTENER, { eval: true, workerData: { delayMs: 60_000 } });
    const port = await new Promise<number>((resolve) => worker?.once('message', resolve));
    await expect(probeRdp({ host: '127.0.0.1', port, tls: false, timeoutMs: 200 })).rejects.toThrow(
      'no X.224 Connection Confirm within 200 ms',
    );
  });
});
