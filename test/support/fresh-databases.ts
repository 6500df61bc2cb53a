import type { Db } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';
import { connectMongo, type MongoDatabase } from '../../src/adapters/mongo/mongo-database.js';
import { services, uniqueMongoUri } from './real-services.js';

/**
 * For contract suites on the real database: one connection for the suite (opened before, closed
 * after) and a database of its own for each test, dropped by its cleanup. Call inside a describe.
 */
export function useFreshDatabases(name: string, maxPoolSize: number) {
  const holder: { mongo?: MongoDatabase } = {};
  let databases = 0;
  beforeAll(async () => {
    holder.mongo = await connectMongo({ uri: uniqueMongoUri(services.mongoUri ?? '', name), maxPoolSize, minPoolSize: 0 });
  });
  afterAll(async () => {
    await holder.mongo?.db.dropDatabase();
    await holder.mongo?.close();
  });
  return {
    freshDb(): { db: Db; cleanup: () => Promise<void> } {
      const mongo = holder.mongo;
      if (!mongo) throw new Error('useFreshDatabases: freshDb used outside a test');
      databases += 1;
      const db = mongo.client.db(`${mongo.db.databaseName}_${databases}`);
      return { db, cleanup: async () => void (await db.dropDatabase()) };
    },
  };
}
