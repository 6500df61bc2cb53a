import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeRdp } from '../../src/adapters/xrdp/rdp-probe.js';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';
import { lockHostSesman } from '../support/host-sesman-lock.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';
import { needXrdp, xrdpListenersUnder } from '../support/xrdp-available.js';

const CREATE = `mutation($name: String!) { createServer(input: { name: $name }) { ... on CreateServerSuccess { server { id port } } } }`;
const START = `mutation($id: ID!) { startServer(id: $id) { __typename ... on StartServerSuccess { server { status } } ... on Error { code message } } }`;
const STOP = `mutation($id: ID!) { stopServer(id: $id) { __typename ... on StopServerSuccess { server { status } } ... on Error { message } } }`;

/** PIDs of xrdp processes whose command line mentions the directory. */
function sesmanPidsUnder(dir: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
        return cmd.includes(dir) && cmd.includes('xrdp-sesman');
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (!(await predicate())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}

async function refused(port: number): Promise<boolean> {
  try {
    await probeRdp({ host: '127.0.0.1', port, tls: false, timeoutMs: 300 });
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
  }
}

describe.skipIf(!needXrdp('xrdp runtime'))('real xrdp instances behind startServer / stopServer', () => {
  let t: TestApp;
  let dir: string;
  let token: string;
  // Below the kernel's ephemeral range (32768+), so no outgoing connection holds a test port.
  const base = 21000 + Math.floor(Math.random() * 50) * 10;

  let unlock: () => Promise<void> = async () => {};

  beforeAll(async () => {
    unlock = await lockHostSesman();
    dir = mkdtempSync(join(tmpdir(), 'rdp-runtime-'));
    t = await startTestApp({ XRDP_CONFIG_PATH: dir, RDP_LOOPBACK_ONLY: 'true', RDP_PORT_RANGE: `${base}-${base + 9}` });
    token = await t.token('alice');
  });
  afterAll(async () => {
    for (const pid of xrdpListenersUnder(dir)) process.kill(pid, 'SIGKILL');
    await t.app.container.sesman.stop().catch(() => undefined);
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
    await unlock();
  });

  async function createServer_(name: string) {
    const r = await t.gql<{ createServer: { server: { id: string; port: number } } }>(CREATE, { name }, token);
    const s = r.body.data?.createServer.server;
    if (!s) throw new Error(JSON.stringify(r.body));
    return s;
  }

  it('three servers started at once are TLS-ready, each with its own certificate; stopped, ports are free and no xrdp is left', async () => {
    const servers = await Promise.all(['a', 'b', 'c'].map(createServer_));
    const started = await Promise.all(
      servers.map((s) => t.gql<{ startServer: { __typename: string } }>(START, { id: s.id }, token)),
    );
    for (const r of started)
      expect(r.body.data?.startServer).toEqual({ __typename: 'StartServerSuccess', server: { status: 'RUNNING' } });

    const fingerprints = new Set<string>();
    for (const s of servers) {
      const probe = await probeRdp({ host: '127.0.0.1', port: s.port });
      const written = new X509Certificate(readFileSync(join(dir, 'servers', s.id, 'cert.pem'))).fingerprint256;
      expect(probe).toMatchObject({ kind: 'selected', protocol: 1, certificateFingerprint256: written });
      expect((await import('node:fs')).statSync(join(dir, 'servers', s.id, 'key.pem')).mode & 0o777).toBe(0o600);
      fingerprints.add(written);
    }
    expect(fingerprints.size).toBe(3);
    expect(xrdpListenersUnder(dir).length).toBeGreaterThanOrEqual(3);

    const stopped = await Promise.all(
      servers.map((s) => t.gql<{ stopServer: { __typename: string } }>(STOP, { id: s.id }, token)),
    );
    for (const r of stopped) expect(r.body.data?.stopServer.__typename).toBe('StopServerSuccess');
    for (const s of servers) expect(await refused(s.port)).toBe(true);
    await until(() => xrdpListenersUnder(dir).length === 0, 2000);
  });

  it('kill -9 of an instance turns the server to ERROR and publishes it within 2 s', async () => {
    const s = await createServer_('victim');
    await t.gql(START, { id: s.id }, token);
    const sub = collect<{ serverEvents: { kind: string; server: { status: string; statusMessage: string | null } } }>(
      t.ws(token),
      'subscription($id: ID!) { serverEvents(serverId: $id) { kind server { status statusMessage } } }',
      { id: s.id },
    );
    await sub.until(() => sub.items.length >= 1);
    const pid = Number(readFileSync(join(dir, 'servers', s.id, 'instance.pid'), 'utf8'));
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await sub.until(() => sub.items.some((i) => i.data?.serverEvents.server.status === 'ERROR'), 2000);
    expect(Date.now() - killedAt).toBeLessThan(2000);
    const errorEvent = sub.items.find((i) => i.data?.serverEvents.server.status === 'ERROR')?.data?.serverEvents;
    expect(errorEvent?.kind).toBe('STATUS_CHANGED');
    expect(errorEvent?.server.statusMessage).toMatch(/xrdp exited unexpectedly \(signal SIGKILL\)/);
    sub.dispose();
    // A failed server can be started again.
    const again = await t.gql<{ startServer: { __typename: string } }>(START, { id: s.id }, token);
    expect(again.body.data?.startServer.__typename).toBe('StartServerSuccess');
    await t.gql(STOP, { id: s.id }, token);
  });

  it('a port taken by another program fails the start with a clear error and leaves nothing running', async () => {
    const s = await createServer_('squatted');
    const squatter: Server = createServer();
    await new Promise<void>((resolve, reject) => {
      squatter.once('error', reject);
      squatter.listen(s.port, '127.0.0.1', resolve);
    });
    try {
      const r = await t.gql<{ startServer: { __typename: string; message: string } }>(START, { id: s.id }, token);
      expect(r.body.data?.startServer).toMatchObject({
        __typename: 'RuntimeFailureError',
        message: `port ${s.port} is already in use by another process`,
      });
      const after = await t.gql<{ server: { status: string } }>(
        'query($id: ID!) { server(id: $id) { status } }',
        { id: s.id },
        token,
      );
      expect(after.body.data?.server.status).toBe('ERROR');
      expect(xrdpListenersUnder(join(dir, 'servers', s.id)).length).toBe(0);
    } finally {
      squatter.close();
    }
  });

  it('xrdpConfig certificatePath/keyPath: a started instance presents that certificate; unusable at start, the start fails naming the field', async () => {
    const admin = await t.token('root-admin', ['admin']);
    const tlsDir = join(dir, 'tls');
    mkdirSync(tlsDir);
    const cert = join(tlsDir, 'fleet.pem');
    const key = join(tlsDir, 'fleet.key');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=fleet', '-keyout', key, '-out', cert],
      {
        stdio: 'ignore',
      },
    );
    const configured = new X509Certificate(readFileSync(cert)).fingerprint256;
    const UPDATE = `mutation($input: UpdateXrdpConfigInput!) { updateXrdpConfig(input: $input) { __typename ... on Error { message } } }`;
    const set = await t.gql<{ updateXrdpConfig: { __typename: string } }>(
      UPDATE,
      { input: { global: { certificatePath: cert, keyPath: key } } },
      admin,
    );
    expect(set.body.data?.updateXrdpConfig.__typename, JSON.stringify(set.body)).toBe('UpdateXrdpConfigSuccess');
    try {
      const [s1, s2] = await Promise.all([createServer_('fleet-1'), createServer_('fleet-2')]);
      for (const s of [s1, s2]) {
        const r = await t.gql<{ startServer: { __typename: string } }>(START, { id: s.id }, token);
        expect(r.body.data?.startServer.__typename, JSON.stringify(r.body)).toBe('StartServerSuccess');
        // The real TLS handshake of the real xrdp presents the configured certificate, not a generated one.
        expect(await probeRdp({ host: '127.0.0.1', port: s.port })).toMatchObject({
          kind: 'selected',
          protocol: 1,
          certificateFingerprint256: configured,
        });
        expect(existsSync(join(dir, 'servers', s.id, 'cert.pem'))).toBe(false);
        await t.gql(STOP, { id: s.id }, token);
      }
      // The key went away after the update: the start says which setting to fix, and nothing runs.
      rmSync(key);
      const r = await t.gql<{ startServer: { __typename: string; message: string } }>(START, { id: s1.id }, token);
      expect(r.body.data?.startServer.__typename).toBe('RuntimeFailureError');
      expect(r.body.data?.startServer.message).toMatch(/xrdpConfig global\.keyPath: .*fleet\.key cannot be read \(ENOENT\)/);
      expect(xrdpListenersUnder(join(dir, 'servers', s1.id)).length).toBe(0);
    } finally {
      const cleared = await t.gql<{ updateXrdpConfig: { __typename: string } }>(
        UPDATE,
        { input: { global: { certificatePath: '', keyPath: '' } } },
        admin,
      );
      expect(cleared.body.data?.updateXrdpConfig.__typename).toBe('UpdateXrdpConfigSuccess');
    }
  });

  it('start-to-ready over 20 starts (reported, not asserted)', async () => {
    const s = await createServer_('timed');
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const r = await t.gql<{ startServer: { __typename: string } }>(START, { id: s.id }, token);
      times.push(performance.now() - t0);
      expect(r.body.data?.startServer.__typename).toBe('StartServerSuccess');
      await t.gql(STOP, { id: s.id }, token);
    }
    times.sort((x, y) => x - y);
    console.log(`startServer to TLS-ready: p50 ${times[9]?.toFixed(0)} ms, max ${times[19]?.toFixed(0)} ms over 20 starts`);
    expect(times.length).toBe(20);
  });
});

describe.skipIf(!needXrdp('xrdp adoption') || !need('xrdp adoption on FerretDB', ['mongo']))(
  'a restarted control plane adopts its xrdp instances (FerretDB)',
  () => {
    let dir: string;
    let env: Record<string, string>;
    const base = 21500 + Math.floor(Math.random() * 50) * 10;

    let unlock: () => Promise<void> = async () => {};

    beforeAll(async () => {
      unlock = await lockHostSesman();
      dir = mkdtempSync(join(tmpdir(), 'rdp-adopt-'));
      env = {
        XRDP_CONFIG_PATH: dir,
        RDP_LOOPBACK_ONLY: 'true',
        // What this test is about: instances outlive the control plane (production's setting).
        XRDP_STOP_ON_SHUTDOWN: 'false',
        RDP_PORT_RANGE: `${base}-${base + 9}`,
        MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'adopt'),
      };
    });
    afterAll(async () => {
      for (const pid of xrdpListenersUnder(dir)) process.kill(pid, 'SIGKILL');
      for (const pid of sesmanPidsUnder(dir)) process.kill(-pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      await unlock();
    });

    it('running instances are adopted, dead ones marked ERROR, orphans stopped; an adopted one that dies goes ERROR', async () => {
      const first = await startTestApp(env);
      const token = await first.token('alice');
      const ids: string[] = [];
      for (const name of ['kept', 'died', 'orphan']) {
        const r = await first.gql<{ createServer: { server: { id: string } } }>(CREATE, { name }, token);
        const id = r.body.data?.createServer.server.id ?? '';
        ids.push(id);
        const s = await first.gql<{ startServer: { __typename: string } }>(START, { id }, token);
        expect(s.body.data?.startServer.__typename, JSON.stringify(s.body)).toBe('StartServerSuccess');
      }
      const [kept, died, orphan] = ids as [string, string, string];
      await first.stop();
      // While the control plane is down: one instance dies, one server record disappears.
      process.kill(Number(readFileSync(join(dir, 'servers', died, 'instance.pid'), 'utf8')), 'SIGKILL');
      await until(() => xrdpListenersUnder(join(dir, 'servers', died)).length === 0, 2000);
      expect(xrdpListenersUnder(join(dir, 'servers', kept)).length).toBeGreaterThan(0);

      const second = await startTestApp(env);
      try {
        await second.app.container.mongo?.db.collection('servers').deleteOne({ _id: orphan as never });
        const recovered = await second.app.container.servers.recoverRuntime();
        expect(recovered.adopted).toContain(kept);
        expect(recovered.reaped).toContain(orphan);
        expect(xrdpListenersUnder(join(dir, 'servers', orphan)).length).toBe(0);

        const status = async (id: string) =>
          (await second.gql<{ server: { status: string } }>('query($id: ID!) { server(id: $id) { status } }', { id }, token)).body
            .data?.server.status;
        expect(await status(kept)).toBe('RUNNING');
        expect(await status(died)).toBe('ERROR');

        process.kill(Number(readFileSync(join(dir, 'servers', kept, 'instance.pid'), 'utf8')), 'SIGKILL');
        const ms = await until(async () => (await status(kept)) === 'ERROR', 2000);
        expect(ms).toBeLessThan(2000);
      } finally {
        await second.app.container.mongo?.db.dropDatabase();
        await second.stop();
      }
    });
  },
);
