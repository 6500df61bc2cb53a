import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClaimStore } from '../../src/adapters/mongo/mongo-claim-store.js';
import { connectMongo, type MongoDatabase } from '../../src/adapters/mongo/mongo-database.js';
import { MongoServerStore } from '../../src/adapters/mongo/mongo-server-store.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';
import { makeServer } from '../support/resource-fixtures.js';

const hostPort = (url: string) => {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
};

describe.skipIf(!need('MongoDB reachability', ['mongo']))('when the stores count the database as unreachable', () => {
  let proxy: FaultProxy;
  let mongo: MongoDatabase;

  beforeAll(async () => {
    proxy = await startFaultProxy(hostPort(services.mongoUri ?? ''));
    const uri = new URL(uniqueMongoUri(services.mongoUri ?? '', 'reach'));
    uri.host = proxy.address;
    mongo = await connectMongo({ uri: uri.toString(), maxPoolSize: 2, minPoolSize: 0 });
  });
  afterAll(async () => {
    await proxy.resume();
    await mongo?.close();
    await proxy?.close();
  });

  it('one late heartbeat (a busy event loop) is not an outage; two in a row are; one success ends it', () => {
    const address = proxy.address;
    const heartbeat = (ok: boolean) =>
      mongo.client.emit(ok ? 'serverHeartbeatSucceeded' : 'serverHeartbeatFailed', { connectionId: address } as never);
    heartbeat(true);
    expect(mongo.isReachable()).toBe(true);
    heartbeat(false);
    expect(mongo.isReachable()).toBe(true);
    heartbeat(false);
    expect(mongo.isReachable()).toBe(false);
    heartbeat(true);
    expect(mongo.isReachable()).toBe(true);
  });

  it('a database that stops answering is unreachable within 5 s, and reachable again after it returns', async () => {
    await mongo.db.command({ ping: 1 });
    expect(mongo.isReachable()).toBe(true);
    const t0 = Date.now();
    await proxy.pause('blackhole');
    while (mongo.isReachable() && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    const ms = Date.now() - t0;
    expect(mongo.isReachable()).toBe(false);
    expect(ms).toBeLessThan(5000);
    await proxy.resume();
    const t1 = Date.now();
    while (!mongo.isReachable() && Date.now() - t1 < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(mongo.isReachable()).toBe(true);
    console.info(`blackholed database unreachable after ${ms} ms, reachable ${Date.now() - t1} ms after its return`);
  }, 30_000);

  it('writes cut off when one heartbeat fails (the driver clears the pool) are written once, not lost or failed', async () => {
    const claims = new MongoClaimStore(mongo.db, undefined, 'reach_claims');
    const servers = new MongoServerStore(mongo.db);
    await claims.ensureIndexes();
    await servers.ensureIndexes();
    const base = makeServer({ id: 'reach-1', name: 'reach', version: 1 });
    await servers.insert(base);
    await mongo.db.command({ ping: 1 });
    let cleared = 0;
    const onCleared = () => void cleared++;
    mongo.client.on('connectionPoolCleared', onCleared);
    // A partition just long enough for one heartbeat to time out: the driver cuts what is in flight.
    await proxy.pause('blackhole');
    const writes = Promise.allSettled([
      ...Array.from({ length: 10 }, (_, i) => claims.tryClaim(`slot:reach:${i}`, `owner-${i}`)),
      claims.tryClaimMany?.(Array.from({ length: 10 }, (_, i) => ({ key: `slot:reach-many:${i}`, owner: 'many' }))),
      servers.compareAndSet({ ...base, name: 'renamed', version: 2 }, 1),
    ]);
    await new Promise((r) => setTimeout(r, 1600));
    await proxy.resume();
    const outcomes = await writes;
    mongo.client.off('connectionPoolCleared', onCleared);
    expect(cleared).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
    expect(outcomes.map((o) => (o as PromiseFulfilledResult<unknown>).value)).toEqual([
      ...Array.from({ length: 10 }, () => true),
      Array.from({ length: 10 }, () => true),
      true,
    ]);
    expect((await claims.list('slot:reach:')).map((c) => c.owner).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `owner-${i}`).sort(),
    );
    expect(await claims.count('slot:reach-many:')).toBe(10);
    expect(await servers.findById('reach-1')).toMatchObject({ name: 'renamed', version: 2 });
  }, 30_000);
});
