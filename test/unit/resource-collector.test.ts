import { describe, expect, it } from 'vitest';
import { MemoryAlertStore } from '../../src/adapters/memory/memory-alert-store.js';
import { MemoryClaimStore } from '../../src/adapters/memory/memory-claim-store.js';
import { MemorySampleStore } from '../../src/adapters/memory/memory-sample-store.js';
import { MemoryServerStore } from '../../src/adapters/memory/memory-server-store.js';
import { MemorySessionStore } from '../../src/adapters/memory/memory-session-store.js';
import { AlertService } from '../../src/domain/resources/alert-service.js';
import type { CollectorLease } from '../../src/domain/resources/collector-lease.js';
import { ResourceCollector, type RoundReport } from '../../src/domain/resources/resource-collector.js';
import { FakeClock, FakeProbe, figures, makeServer, makeSession, RecordingPublisher } from '../support/resource-fixtures.js';

const T0 = Date.parse('2026-11-26T12:00:00.400Z');
const S1 = '11111111-1111-4111-8111-111111111111';
const S2 = '22222222-2222-4222-8222-222222222222';
const S3 = '33333333-3333-4333-8333-333333333333';
const SESSION = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';

class SwitchLease implements CollectorLease {
  held = true;
  failure: Error | null = null;
  released = 0;
  async acquire(): Promise<boolean> {
    if (this.failure) throw this.failure;
    return this.held;
  }
  async release(): Promise<void> {
    this.released++;
  }
}

async function setup() {
  const clock = new FakeClock(T0);
  const servers = new MemoryServerStore();
  const sessions = new MemorySessionStore();
  const samples = new MemorySampleStore();
  const events = new RecordingPublisher();
  const claims = new MemoryClaimStore(clock);
  const alertStore = new MemoryAlertStore();
  await servers.insert(makeServer({ id: S1, name: 'one', port: 33890 }));
  await servers.insert(makeServer({ id: S2, name: 'other host', host: 'elsewhere', port: 33891 }));
  await servers.insert(makeServer({ id: S3, name: 'stopped', status: 'STOPPED', port: 33892 }));
  await sessions.insert(makeSession({ id: SESSION, serverId: S1, username: 'alice', display: 10 }));
  await sessions.insert(makeSession({ id: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', serverId: S1, display: null }));
  const make = (probe: FakeProbe, lease: CollectorLease, reports: RoundReport[] = []) =>
    new ResourceCollector({
      probe,
      lease,
      samples,
      servers,
      sessions,
      events,
      clock,
      host: 'localhost',
      intervalSeconds: 30,
      alerts: new AlertService({ store: alertStore, claims, events, clock, host: 'localhost', newId: () => crypto.randomUUID() }),
      onRound: (r) => reports.push(r),
    });
  return { clock, servers, sessions, samples, events, claims, alertStore, make };
}

describe('ResourceCollector', () => {
  it('one round: host, running servers of this host and sessions with a display, at the slot start; published', async () => {
    const h = await setup();
    const probe = new FakeProbe();
    const collector = h.make(probe, new SwitchLease());
    const report = await collector.round();
    expect(report).toEqual({ at: '2026-11-26T12:00:00.000Z', leader: true, samples: 3, raised: 0, resolved: 0 });
    expect(probe.asked[0]).toEqual({
      servers: [{ id: S1, port: 33890 }],
      sessions: [{ id: SESSION, serverId: S1, username: 'alice', display: 10 }],
    });
    const latest = await h.samples.latest(['host:localhost', S1, SESSION, S2]);
    expect(latest.map((s) => s && [s.subjectKind, s.at])).toEqual([
      ['HOST', '2026-11-26T12:00:00.000Z'],
      ['SERVER', '2026-11-26T12:00:00.000Z'],
      ['SESSION', '2026-11-26T12:00:00.000Z'],
      null,
    ]);
    const published = h.events.of('resource:sample');
    expect(published.map((e) => [e.kind, e.sample.subjectId])).toEqual([
      ['SAMPLE', 'host:localhost'],
      ['SAMPLE', S1],
      ['SAMPLE', SESSION],
    ]);
    expect(h.events.published.filter((p) => p.topic === 'resource:sample').map((p) => p.id)).toEqual([
      'host:localhost',
      S1,
      SESSION,
    ]);
  });

  it('a standby measures (keeping its rates warm) but stores and publishes nothing', async () => {
    const h = await setup();
    const probe = new FakeProbe();
    const lease = new SwitchLease();
    lease.held = false;
    const report = await h.make(probe, lease).round();
    expect(report).toMatchObject({ leader: false, samples: 0 });
    expect(probe.asked).toHaveLength(1);
    expect(await h.samples.latest(['host:localhost'])).toEqual([null]);
    expect(h.events.published).toEqual([]);
  });

  it('two collectors in one slot (a lease changing hands): every sample stored once', async () => {
    const h = await setup();
    const a = h.make(new FakeProbe(), new SwitchLease());
    const b = h.make(new FakeProbe(), new SwitchLease());
    await a.round();
    h.clock.advance(10_000);
    await b.round();
    h.clock.advance(30_000);
    await b.round();
    const stored = await h.samples.samples('host:localhost', new Date(T0 - 60_000), new Date(T0 + 60_000));
    expect(stored.map((s) => s.at)).toEqual(['2026-11-26T12:00:00.000Z', '2026-11-26T12:00:30.000Z']);
  });

  it('without a lease service (Redis down) it collects: the writes are idempotent per slot', async () => {
    const h = await setup();
    const lease = new SwitchLease();
    lease.failure = new Error('redis down');
    const errors: string[] = [];
    const collector = new ResourceCollector({
      ...(h.make(new FakeProbe(), lease) as unknown as { deps: ConstructorParameters<typeof ResourceCollector>[0] }).deps,
      onError: (_err, step) => errors.push(step),
    });
    expect(await collector.round()).toMatchObject({ leader: true, samples: 3 });
    expect(errors).toEqual(['lease']);
  });

  it('evaluates alerts on every round: a server above 80 % CPU raises one alert, falling back resolves it', async () => {
    const h = await setup();
    const probe = new FakeProbe();
    const collector = h.make(probe, new SwitchLease());
    probe.servers.set(S1, figures({ cpuPercent: 88, memoryPercent: 5 }));
    expect(await collector.round()).toMatchObject({ raised: 1 });
    h.clock.advance(30_000);
    expect(await collector.round()).toMatchObject({ raised: 0, resolved: 0 });
    probe.servers.set(S1, figures({ cpuPercent: 12, memoryPercent: 5 }));
    h.clock.advance(30_000);
    expect(await collector.round()).toMatchObject({ raised: 0, resolved: 1 });
    const alerts = await h.alertStore.list({}, 10);
    expect(alerts.items).toHaveLength(1);
    expect(alerts.items[0]).toMatchObject({ subjectId: S1, subjectName: 'one', visibleTo: ['alice'], resolvedBy: null });
  });

  it('a failing probe skips the round and says so', async () => {
    const h = await setup();
    const probe = new FakeProbe();
    probe.failure = new Error('no /proc');
    const steps: string[] = [];
    const deps = (h.make(probe, new SwitchLease()) as unknown as { deps: ConstructorParameters<typeof ResourceCollector>[0] })
      .deps;
    const collector = new ResourceCollector({ ...deps, onError: (_e, step) => steps.push(step) });
    expect(await collector.round()).toMatchObject({ samples: 0 });
    expect(steps).toEqual(['probe']);
  });

  it('prunes what is older than 7 days; stop gives the lease back and no round runs after it', async () => {
    const h = await setup();
    const lease = new SwitchLease();
    const collector = h.make(new FakeProbe(), lease);
    await collector.round();
    h.clock.advance(8 * 86_400_000);
    // The round prunes by itself (hourly): the first round's samples are gone.
    await collector.round();
    expect(await h.samples.samples('host:localhost', new Date(0), new Date(h.clock.t + 1))).toHaveLength(1);
    expect(await collector.prune()).toBe(0);
    collector.start();
    await collector.stop();
    collector.start();
    expect(lease.released).toBe(1);
  });
});
