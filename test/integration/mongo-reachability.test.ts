import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, type MongoDatabase } from '../../src/adapters/mongo/mongo-database.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

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
});
