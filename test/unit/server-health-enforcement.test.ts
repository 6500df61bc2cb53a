import { describe, expect, it } from 'vitest';
import { MemoryClaimStore } from '../../src/adapters/memory/memory-claim-store.js';
import { MemoryServerStore } from '../../src/adapters/memory/memory-server-store.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import { defaultResourceLimits, staticLimitsProvider } from '../../src/domain/resources/resource-limits.js';
import type { InstanceProbe } from '../../src/domain/servers/instance-probe.js';
import type { ResourceEnforcement } from '../../src/domain/servers/resource-enforcement.js';
import type { RdpServer } from '../../src/domain/servers/server.js';
import { ServerService } from '../../src/domain/servers/server-service.js';
import { ValidationError } from '../../src/domain/shared/errors.js';
import type { EventPublisher } from '../../src/domain/shared/event-publisher.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';

const alice: Viewer = { userId: 'alice', username: 'alice', roles: ['user'], permissions: [] };

class ScriptedProbe implements InstanceProbe {
  /** Answers per server id, consumed in order; an empty script answers healthy. */
  readonly script = new Map<string, (string | null)[]>();
  readonly asked: string[] = [];
  beforeAnswer: (server: RdpServer) => Promise<void> = async () => {};
  async check(server: RdpServer): Promise<string | null> {
    this.asked.push(server.id);
    await this.beforeAnswer(server);
    return this.script.get(server.id)?.shift() ?? null;
  }
}

class RecordingEnforcement implements ResourceEnforcement {
  readonly applied: { id: string; cpu: number; memory: number }[] = [];
  refuse: Error | null = null;
  async capability() {
    return { enforced: true, mechanism: 'test', reason: null };
  }
  async confineServer() {}
  async updateServer(server: RdpServer) {
    if (this.refuse && this.applied.length === 0) {
      this.applied.push({ id: server.id, cpu: -1, memory: -1 });
      throw this.refuse;
    }
    this.applied.push({ id: server.id, cpu: server.resources.cpuLimit, memory: server.resources.memoryLimitMb });
  }
  async releaseServer() {}
  async confineSession() {}
  async releaseSession() {}
}

function setup(options: { enforcement?: ResourceEnforcement } = {}) {
  const store = new MemoryServerStore();
  const runtime = new FakeServerRuntime();
  const probe = new ScriptedProbe();
  const events: { kind: string; status: string; message: string | null }[] = [];
  const publisher: EventPublisher = {
    publish: (topic, _id, payload) => {
      if (topic === 'server:changed') {
        const p = payload as { kind: string; server: RdpServer };
        events.push({ kind: p.kind, status: p.server.status, message: p.server.statusMessage });
      }
    },
  };
  let n = 0;
  const service = new ServerService({
    store,
    claims: new MemoryClaimStore({ now: () => new Date() }),
    runtime,
    events: publisher,
    limits: staticLimitsProvider(defaultResourceLimits()),
    clock: { now: () => new Date() },
    newId: () => `s${++n}`,
    portRange: { from: 33890, to: 33899 },
    host: 'here',
    health: probe,
    ...(options.enforcement ? { enforcement: options.enforcement } : {}),
  });
  return { service, store, runtime, probe, events };
}

describe('health checks of running servers', () => {
  it('one miss is forgiven; a second in a row moves the server to ERROR with the reason, stops the instance and says so in an event', async () => {
    const { service, runtime, probe, events } = setup();
    const a = await service.create(alice, { name: 'a' });
    const b = await service.create(alice, { name: 'b' });
    await service.start(alice, a.id);
    await service.start(alice, b.id);
    events.length = 0;

    probe.script.set(a.id, ['port 33890: connect ECONNREFUSED', null]);
    probe.script.set(b.id, ['no answer', 'port 33891: no X.224 Connection Confirm within 3000 ms']);
    expect(await service.checkHealth()).toEqual({ checked: 2, failed: [b.id] });
    expect((await service.get(alice, a.id)).status).toBe('RUNNING');
    const failed = await service.get(alice, b.id);
    expect(failed).toMatchObject({
      status: 'ERROR',
      statusMessage: 'health check failed: port 33891: no X.224 Connection Confirm within 3000 ms',
    });
    expect(events).toEqual([{ kind: 'STATUS_CHANGED', status: 'ERROR', message: failed.statusMessage }]);
    expect(runtime.calls.filter((c) => c.op === 'stop').map((c) => c.serverId)).toEqual([b.id]);

    // Servers that are not running are not probed; the failed one restarts.
    probe.asked.length = 0;
    await service.checkHealth();
    expect(probe.asked).toEqual([a.id]);
    expect((await service.restart(alice, b.id)).status).toBe('RUNNING');
  });

  it('a server that changed while it was probed (stopped, restarted by someone) is left alone', async () => {
    const { service, probe } = setup();
    const a = await service.create(alice, { name: 'a' });
    await service.start(alice, a.id);
    probe.script.set(a.id, ['gone', 'gone']);
    let once = true;
    probe.beforeAnswer = async () => {
      if (!once) return;
      once = false;
      await service.stop(alice, a.id);
      await service.start(alice, a.id);
    };
    expect(await service.checkHealth()).toEqual({ checked: 1, failed: [] });
    expect((await service.get(alice, a.id)).status).toBe('RUNNING');
  });
});

describe('resource changes of a confined server', () => {
  it('reach the enforcement before they are stored; a change the host refuses is a BAD_USER_INPUT that changes nothing', async () => {
    const enforcement = new RecordingEnforcement();
    const { service } = setup({ enforcement });
    const a = await service.create(alice, { name: 'a', resources: { cpuLimit: 1, memoryLimitMb: 2048 } });
    await service.update(alice, a.id, { resources: { cpuLimit: 0.5 } });
    expect(enforcement.applied).toEqual([{ id: a.id, cpu: 0.5, memory: 2048 }]);
    // A name change touches no limits.
    await service.update(alice, a.id, { name: 'renamed' });
    expect(enforcement.applied).toHaveLength(1);

    enforcement.applied.length = 0;
    enforcement.refuse = new Error('EBUSY: resource busy');
    const refused = service.update(alice, a.id, { resources: { memoryLimitMb: 512 } });
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(refused).rejects.toThrow(/cannot be applied to the running server: EBUSY/);
    // The stored limits are put back on the host, and the record is unchanged.
    expect(enforcement.applied.at(-1)).toEqual({ id: a.id, cpu: 0.5, memory: 2048 });
    expect((await service.get(alice, a.id)).resources).toMatchObject({ cpuLimit: 0.5, memoryLimitMb: 2048 });
  });

  it('without an enforcement the capability says nothing enforces the limits', async () => {
    const { service } = setup();
    expect(await service.enforcementCapability()).toEqual({
      enforced: false,
      mechanism: null,
      reason: 'nothing enforces resource limits on this host',
    });
  });
});

describe('CGROUP_PARENT', () => {
  it('is a relative cgroup path; an absolute one or one with .. parts stops the start naming it', () => {
    const base = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32) };
    expect(loadConfig(base).resources.cgroupParent).toBe('rdp-services');
    expect(loadConfig({ ...base, CGROUP_PARENT: 'system.slice/rdp/limits' }).resources.cgroupParent).toBe(
      'system.slice/rdp/limits',
    );
    for (const bad of ['/sys/fs/cgroup/x', 'a/../b', '..', 'a//b', 'a/']) {
      expect(() => loadConfig({ ...base, CGROUP_PARENT: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, CGROUP_PARENT: bad })).toThrow(/CGROUP_PARENT: must be a relative cgroup path/);
    }
  });
});
