import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** The parts of ws's WebSocket this writer relies on (ws 8: `_socket`, and its Sender's `_state`). */
interface WebSocketInternals {
  _socket?: Socket;
  _sender?: { _state?: number };
}

const CLOSING_BRACE = 0x7d;
const FIN_TEXT = 0x81;

/**
 * Writes the text message `prefix + payload + "}"` to a client as ONE buffer. ws frames a server
 * message as a header and a body written corked, which node turns into a writev per message;
 * with one small frame per subscriber per event, that syscall is most of the fan-out's cost, and
 * a single write of a pooled buffer is markedly cheaper. Only used while ws's sender is idle
 * (no permessage-deflate, no queued Blob), so frames never interleave; otherwise ws.send.
 */
export function sendSplicedText(socket: WebSocket, prefix: Buffer, payload: Buffer): void {
  const { _socket: raw, _sender: sender } = socket as unknown as WebSocketInternals;
  const length = prefix.length + payload.length + 1;
  if (!raw || raw.destroyed || sender?._state !== 0) {
    socket.send(Buffer.concat([prefix, payload, Buffer.from('}')]), { binary: false });
    return;
  }
  const head = length <= 125 ? 2 : length <= 0xffff ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + length);
  frame[0] = FIN_TEXT;
  if (head === 2) {
    frame[1] = length;
  } else if (head === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  prefix.copy(frame, head);
  payload.copy(frame, head + prefix.length);
  frame[head + length - 1] = CLOSING_BRACE;
  raw.write(frame);
}
