import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { timeoutAfterPendingIo } from '../shared/timeout-after-pending-io.js';

/** PROTOCOL_SSL | PROTOCOL_HYBRID in an X.224 Connection Request with RDP_NEG_REQ (19 bytes). */
const CONNECTION_REQUEST = Buffer.from('030000130ee000000000000100080003000000', 'hex');

export const PROTOCOL_RDP = 0;
export const PROTOCOL_SSL = 1;

export type ProbeResult =
  | { kind: 'selected'; protocol: number; certificateFingerprint256?: string; tlsProtocol?: string }
  | { kind: 'negotiation-failure'; code: number }
  | { kind: 'legacy' };

export interface ProbeOptions {
  host: string;
  port: number;
  /** Upgrade to TLS after the server selects it and report the certificate. @default true */
  tls?: boolean;
  timeoutMs?: number;
}

function readConfirm(socket: Socket, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cancel = timeoutAfterPendingIo(timeoutMs, () =>
      finish(new Error(`no X.224 Connection Confirm within ${timeoutMs} ms`)),
    );
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 4) {
        const len = buf.readUInt16BE(2);
        if (buf.length >= len) finish(undefined, buf.subarray(0, len));
      }
    };
    const onError = (err: Error) => finish(err);
    const onClose = () => finish(new Error('connection closed before the X.224 Connection Confirm'));
    function finish(err?: Error, value?: Buffer) {
      cancel();
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve(value as Buffer);
    }
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}

/** Parses an X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2). */
export function parseConnectionConfirm(r: Buffer): ProbeResult {
  if (r.length < 11 || r[0] !== 3 || (r[5] ?? 0) !== 0xd0) throw new Error('not an X.224 Connection Confirm');
  if (r.length < 19) return { kind: 'legacy' };
  const type = r[11];
  if (type === 0x02) return { kind: 'selected', protocol: r.readUInt32LE(15) };
  if (type === 0x03) return { kind: 'negotiation-failure', code: r.readUInt32LE(15) };
  throw new Error(`unknown negotiation response type ${type}`);
}

/**
 * Asks an RDP listener which security protocol it selects, the way a client starts (X.224
 * Connection Request with RDP_NEG_REQ), and when it selects TLS, upgrades the same socket and
 * reads the certificate it presents. Proves the listener is an RDP server serving our cert.
 */
export async function probeRdp(options: ProbeOptions): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const socket = connect({ host: options.host, port: options.port });
  try {
    await new Promise<void>((resolve, reject) => {
      const cancel = timeoutAfterPendingIo(timeoutMs, () => reject(new Error('connect timed out')));
      socket.once('connect', () => {
        cancel();
        resolve();
      });
      socket.once('error', (err) => {
        cancel();
        reject(err);
      });
    });
    socket.write(CONNECTION_REQUEST);
    const result = parseConnectionConfirm(await readConfirm(socket, timeoutMs));
    if (result.kind !== 'selected' || result.protocol !== PROTOCOL_SSL || options.tls === false) return result;
    const tls = tlsConnect({ socket, rejectUnauthorized: false, servername: undefined });
    await new Promise<void>((resolve, reject) => {
      const cancel = timeoutAfterPendingIo(timeoutMs, () => reject(new Error('TLS handshake timed out')));
      tls.once('secureConnect', () => {
        cancel();
        resolve();
      });
      tls.once('error', (err) => {
        cancel();
        reject(err);
      });
    });
    const cert = tls.getPeerCertificate();
    const out: ProbeResult = { ...result, certificateFingerprint256: cert.fingerprint256, tlsProtocol: tls.getProtocol() ?? '' };
    tls.destroy();
    return out;
  } finally {
    socket.destroy();
  }
}
