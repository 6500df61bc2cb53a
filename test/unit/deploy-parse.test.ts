import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tool } from '../support/tools.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const checker = fileURLToPath(new URL('../fixtures/deploy-parse/', import.meta.url));
const go = tool('go', ['/usr/local/go/bin/go']);

interface Parsed {
  services: Record<
    string,
    {
      image: string;
      target: string;
      privileged: boolean;
      ports: string[];
      volumes: string[];
      healthcheck: string[];
      dependsOn: string[];
    }
  >;
  volumes: string[];
  stages: { name: string; base: string; commands: string[] }[];
  lint: string[];
}

/**
 * docker-compose.yml and the Dockerfile through the parsers Docker uses (compose-go and BuildKit,
 * built from test/fixtures/deploy-parse with the Go toolchain that builds FerretDB here), in a
 * directory holding the repository's files and a .env made from .env.example.
 */
describe.skipIf(!go)('docker-compose.yml and the Dockerfile, loaded by compose-go and BuildKit', () => {
  const work = mkdtempSync(join(tmpdir(), 'rdp-deploy-parse-'));
  const bin = join(work, 'deploy-parse');
  const example = readFileSync(join(repo, '.env.example'), 'utf8');

  function load(files: string[], env: Record<string, string> = {}): { status: number | null; parsed?: Parsed; stderr: string } {
    const values: Record<string, string> = { JWT_SECRET: 'x'.repeat(48), GRAFANA_ADMIN_PASSWORD: 'grafana-pass', ...env };
    let text = example;
    for (const [name, value] of Object.entries(values)) text = text.replace(new RegExp(`^${name}=.*$`, 'm'), `${name}=${value}`);
    writeFileSync(join(work, '.env'), text);
    const r = spawnSync(bin, ['-dir', work, '-env', join(work, '.env'), '-dockerfile', join(repo, 'Dockerfile'), ...files], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { status: r.status, stderr: r.stderr, ...(r.status === 0 ? { parsed: JSON.parse(r.stdout) as Parsed } : {}) };
  }

  beforeAll(() => {
    copyFileSync(join(repo, 'docker-compose.yml'), join(work, 'docker-compose.yml'));
    for (const dir of ['config', 'scripts']) symlinkSync(join(repo, dir), join(work, dir));
    // GOTOOLCHAIN=local: a missing toolchain is an error here, never a download.
    const build = spawnSync(go ?? 'go', ['build', '-o', bin, '.'], {
      cwd: checker,
      encoding: 'utf8',
      env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' },
      timeout: 170_000,
    });
    if (build.status !== 0) throw new Error(`building test/fixtures/deploy-parse failed:\n${build.stdout}${build.stderr}`);
  }, 180_000);

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('the default topology loads: api in the privileged xrdp-host image with 8090 and the RDP range', () => {
    const { parsed, stderr } = load(['docker-compose.yml']);
    expect(parsed, stderr).toBeDefined();
    const services = parsed?.services ?? {};
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'api', 'blackbox', 'grafana', 'mongo', 'prometheus', 'redis']);
    const api = services.api;
    expect(api).toMatchObject({ target: 'xrdp-host', privileged: true });
    const rdp = Array.from({ length: 110 }, (_, i) => `${33890 + i}:${33890 + i}/tcp`);
    expect(api?.ports).toEqual(['8090:8090/tcp', ...rdp]);
    expect(api?.volumes).toEqual(
      expect.arrayContaining(['volume:xrdp-config:/etc/xrdp', 'volume:xrdp-logs:/var/log/xrdp', 'volume:api-data:/app/.data']),
    );
    expect(api?.dependsOn).toEqual(['mongo:service_healthy', 'redis:service_healthy']);
    for (const [name, s] of Object.entries(services)) expect(s.healthcheck.length, `${name} health check`).toBeGreaterThan(1);
    expect(parsed?.volumes).toEqual([
      'alertmanager-data',
      'api-data',
      'grafana-data',
      'mongo-data',
      'prometheus-data',
      'redis-data',
      'xrdp-config',
      'xrdp-logs',
    ]);
  });

  it('publishes the RDP_PORT_RANGE of .env', () => {
    const { parsed, stderr } = load(['docker-compose.yml'], { RDP_PORT_RANGE: '34000-34004' });
    expect(parsed?.services.api?.ports, stderr).toEqual([
      '8090:8090/tcp',
      '34000:34000/tcp',
      '34001:34001/tcp',
      '34002:34002/tcp',
      '34003:34003/tcp',
      '34004:34004/tcp',
    ]);
  });

  it('refuses to load without a Grafana admin password, saying which variable', () => {
    const r = load(['docker-compose.yml'], { GRAFANA_ADMIN_PASSWORD: '' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/GRAFANA_ADMIN_PASSWORD/);
  });

  it('with config/compose.api-only.yml, api is the distroless image: not privileged, only 8090, no volumes', () => {
    const { parsed, stderr } = load(['docker-compose.yml', 'config/compose.api-only.yml']);
    expect(parsed?.services.api, stderr).toMatchObject({
      target: 'api',
      privileged: false,
      ports: ['8090:8090/tcp'],
      volumes: [],
    });
    expect(parsed?.services.api?.image).toBe('rdp-services-cluster-api');
  });

  it('the Dockerfile parses with BuildKit into its four stages and passes its checks', () => {
    const { parsed, stderr } = load(['docker-compose.yml']);
    expect(
      parsed?.stages.map((s) => [s.name, s.base]),
      stderr,
    ).toEqual([
      ['deps', 'node:20-bookworm-slim'],
      ['build', 'deps'],
      ['xrdp-host', 'debian:12-slim'],
      ['api', 'gcr.io/distroless/nodejs20-debian12:nonroot'],
    ]);
    expect(parsed?.lint).toEqual([]);
  });
});
