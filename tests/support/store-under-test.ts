/**
 * The store the use-case tests run on: SQLite in memory, or a scratch PostgreSQL database when
 * REFERLOOP_TEST_STORE=postgres (the vitest project `use-cases-postgres` sets it), so one suite
 * checks that both implementations of the store contract behave alike.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Store } from '../../src/store/contract.ts';
import { createCipher } from '../../src/store/crypto.ts';
import { migrateDb, openDb } from '../../src/store/db.ts';
import { createStore } from '../../src/store/index.ts';
import { scratchPostgresStore } from './postgres.ts';

export interface StoreUnderTest {
  store: Store;
  /** SQL run beneath the store, `?` placeholders; JSON columns come back as text in both dialects. */
  rows<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
}

export async function openStoreUnderTest(): Promise<StoreUnderTest> {
  if (process.env.REFERLOOP_TEST_STORE === 'postgres') {
    const store = await scratchPostgresStore();
    // count(*) and sums come back as numbers, as from SQLite.
    const types = new pg.TypeOverrides();
    types.setTypeParser(20, Number);
    types.setTypeParser(1700, Number);
    const pool = new pg.Pool({ connectionString: store.url, max: 1, types });
    return {
      store: {
        ...store,
        close: async () => {
          await pool.end();
          await store.close();
        },
      },
      rows: async <T>(sql: string, ...params: unknown[]) => {
        let n = 0;
        const { rows } = await pool.query(
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        );
        return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, asSqliteReads(v)]))) as T[];
      },
    };
  }
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

/** What SQLite returns for the same column: JSON as text, booleans as 0 or 1. */
function asSqliteReads(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return value;
}
