import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

describe.skipIf(!need('background rounds at shutdown', ['mongo']))('stop() and the background rounds in flight', () => {
  it('a round running when stop() begins finishes against the open database before MongoDB closes, and none starts after', async () => {
    const t = await startTestApp(
      { MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'shutdownjobs'), HOST_HEARTBEAT_INTERVAL: '1' },
      { runtime: new FakeServerRuntime() },
    );
    // The job that marks silent hosts OFFLINE (every heartbeat interval) reads the hosts in
    // MongoDB: held at a gate, its round is in flight when the shutdown starts.
    const hosts = t.app.container.hosts;
    const markStale = hosts.markStale.bind(hosts);
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = () => {};
    const inRound = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const rounds: string[] = [];
    hosts.markStale = async () => {
      rounds.push('started');
      entered();
      await gate;
      try {
        const marked = await markStale();
        rounds.push('finished');
        return marked;
      } catch (err) {
        rounds.push(`failed: ${err instanceof Error ? err.name : String(err)}`);
        throw err;
      }
    };
    await inRound;
    const db = t.app.container.mongo?.db;
    const stopping = t.stop();
    // The rest of the shutdown has the time to run ahead (before, it closed MongoDB under the round).
    await new Promise((r) => setTimeout(r, 500));
    release();
    await stopping;
    expect(rounds).toEqual(['started', 'finished']);
    // Closed after the round: the database is dropped through a client of its own.
    const client = new MongoClient(services.mongoUri ?? '');
    await client.db(db?.databaseName).dropDatabase();
    await client.close();
  });
});
