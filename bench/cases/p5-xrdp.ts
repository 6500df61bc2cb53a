/**
 * P5: a managed xrdp server on this host, for real (targets/xrdp-host.ts): start→TLS-ready (the
 * `startServer` call until the port answers an X.224 Connection Request with TLS selected and a
 * TLS handshake completes; what a client sees first), p50 over BENCH_P5_STARTS starts; and one
 * real xfreerdp login through a managed server (EPHEMERAL credentials, until the API shows the
 * session ACTIVE). Needs xrdp, xrdp-sesman, Xvfb and xfreerdp; root.
 */
import { existsSync } from 'node:fs';
import { serviceEnv } from '../lib/bench-env.js';
import { startChild } from '../lib/processes.js';
import { fmtInt, round } from '../lib/stats.js';
import type { CaseContext, Row } from '../lib/table.js';

const STARTS = Number(process.env.BENCH_P5_STARTS ?? 10);
const TOOLS = ['/usr/sbin/xrdp', '/usr/sbin/xrdp-sesman', '/usr/bin/xfreerdp', '/usr/bin/Xvfb'];

export async function runP5(ctx: CaseContext): Promise<Row[]> {
  const missing = TOOLS.filter((t) => !existsSync(t));
  if (missing.length > 0) throw new Error(`P5 needs ${missing.join(', ')}`);
  const base = 28_000 + Math.floor(Math.random() * 100) * 10;
  const env = serviceEnv({
    XRDP_BINARY: '/usr/sbin/xrdp',
    RDP_LOOPBACK_ONLY: 'true',
    RDP_PORT_RANGE: `${base}-${base + 9}`,
  });
  const host = await startChild('targets/xrdp-host.ts', { name: 'p5-xrdp', cpu: ctx.serverCpu });
  try {
    ctx.log('P5 waiting for the host sesman lock');
    await host.call('start', { env, lockTimeoutMs: 300_000 }, 330_000);
    ctx.log(`P5 ${STARTS} starts`);
    const s = await host.call<{ n: number; p50: number; max: number; startCallP50: number }>('starts', { n: STARTS });
    ctx.log('P5 real login');
    const l = await host.call<{ admittedMs: number; connectedMs: number; totalMs: number }>('login', {
      display: 190 + Math.floor(Math.random() * 40),
    });
    return [
      {
        case: 'P5 xrdp start',
        setup: `startServer → X.224 with TLS selected + TLS handshake on the port; real xrdp, ${s.n} starts, stop between`,
        result: `p50 ${fmtInt(s.p50)} ms to TLS-ready (the startServer call itself p50 ${fmtInt(s.startCallP50)} ms)`,
        p50: `${fmtInt(s.p50)} ms`,
        p99: `max ${fmtInt(s.max)} ms`,
        memory: '',
        ratio: '',
        target: '',
      },
      {
        case: 'P5 real login',
        setup: 'createSession (EPHEMERAL: account + one-time password) → xfreerdp on Xvfb → session ACTIVE in the API',
        result: `${fmtInt(l.totalMs)} ms (admission ${fmtInt(l.admittedMs)} ms, xfreerdp start → ACTIVE ${fmtInt(l.connectedMs)} ms)`,
        p50: '',
        p99: '',
        memory: '',
        ratio: `${round(l.totalMs / s.p50, 1)}× the server's start`,
        target: '',
      },
    ];
  } finally {
    await host.stop();
  }
}
