/**
 * The store the use-case tests run on: SQLite in memory, or a scratch PostgreSQL database when
 * REFERLOOP_TEST_STORE=postgres (the vitest project `use-cases-postgres` sets it), so one suite
 * checks that both implementations of the store contract behave alike.
 */
import { randomBytes } from 'node:crypto';
import type { Store } from '../../src/store/contract.ts';
import { createCipher } from '../../src/store/crypto.ts';
import { migrateDb, openDb } from '../../src/store/db.ts';
import { createStore } from '../../src/store/index.ts';

export interface StoreUnderTest {
  store: Store;
  /** SQL run beneath the store, `?` placeholders; JSON columns come back as text in both dialects. */
  rows<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
}

export async function openStoreUnderTest(): Promise<StoreUnderTest> {
  const db = openDb(':memory:');
  migrateDb(db);
  return {
    store: createStore(db, createCipher(randomBytes(32))),
    rows: async <T>(sql: string, ...params: unknown[]) => {
      const statement = db.$client.prepare(sql);
      if (statement.reader) return statement.all(...params) as T[];
      statement.run(...params);
      return [];
    },
  };
}
