import { afterAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { realCgroups, uniqueParent } from '../support/cgroup-tools.js';

const parent = uniqueParent('api');
const driver = await realCgroups(parent);

const QUERY = `mutation { createServer(input: { name: "x" }) { ... on CreateServerSuccess {
  server { resources { cpuLimit memoryLimitMb enforced enforcedBy notEnforcedReason } } } } }`;

describe.skipIf(!driver)('ServerResources says whether the limits bind on this host', () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const t of apps) await t.stop();
    expect(await driver?.remove(parent)).toBe(true);
  });

  it('true with the mechanism where the service can make cgroups', async () => {
    const t = await startTestApp({ CGROUP_PARENT: parent });
    apps.push(t);
    const r = await t.gql<{ createServer: { server: { resources: Record<string, unknown> } } }>(
      QUERY,
      {},
      await t.token('alice'),
    );
    expect(r.body.data?.createServer.server.resources).toEqual({
      cpuLimit: 2,
      memoryLimitMb: 4096,
      enforced: true,
      enforcedBy: `cgroup ${driver?.version}`,
      notEnforcedReason: null,
    });
    // Stopped with no server group left in it, the service leaves no parent group behind.
    await t.stop();
    apps.pop();
    expect(await driver?.exists(parent)).toBe(false);
  });

  it('false with the reason where it cannot (here: a parent the kernel will not create)', async () => {
    // cgroup.procs is a file at the top of every hierarchy: nothing can be made below it.
    const t = await startTestApp({ CGROUP_PARENT: 'cgroup.procs/rdp' });
    apps.push(t);
    const r = await t.gql<{ createServer: { server: { resources: Record<string, unknown> } } }>(
      QUERY,
      {},
      await t.token('alice'),
    );
    expect(r.body.data?.createServer.server.resources).toEqual({
      cpuLimit: 2,
      memoryLimitMb: 4096,
      enforced: false,
      enforcedBy: null,
      notEnforcedReason: expect.stringMatching(
        /^cgroup v[12] is mounted but the service cannot create cgroup\.procs\/rdp in it \(ENOTDIR\)/,
      ),
    });
  });
});
