/**
 * The store the tests run on: SQLite, or PostgreSQL when REFERLOOP_TEST_STORE=postgres (the vitest
 * projects `use-cases-postgres` and `e2e-postgres` set it), so one suite checks that both
 * implementations of the store contract behave alike.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import pg from 'pg';
import type { Store } from '../../src/store/contract.ts';
import { createCipher } from '../../src/store/crypto.ts';
import { migrateDb, openDb } from '../../src/store/db.ts';
import { createStore } from '../../src/store/index.ts';
import { scratchPostgresStore } from './postgres.ts';

export const testsRunOnPostgres = () => process.env.REFERLOOP_TEST_STORE === 'postgres';

/** SQL run beneath the store, `?` placeholders; JSON columns come back as text in both dialects. */
export type Rows = <T = Record<string, unknown>>(sql: string, ...params: unknown[]) => Promise<T[]>;

export interface StoreUnderTest {
  store: Store;
  rows: Rows;
}

export async function openStoreUnderTest(options: { poolSize?: number } = {}): Promise<StoreUnderTest> {
  if (testsRunOnPostgres()) {
    const store = await scratchPostgresStore(options.poolSize);
    const reader = postgresRows(store.url);
    const close = async () => {
      await reader.end();
      await store.close();
    };
    return { store: { ...store, close }, rows: reader.rows };
  }
  const db = openDb(':memory:');
  migrateDb(db);
  return { store: createStore(db, createCipher(randomBytes(32))), rows: sqliteRows(db.$client) };
}

export function sqliteRows(client: Database.Database): Rows {
  return async <T>(sql: string, ...params: unknown[]) => {
    const statement = client.prepare(sql);
    if (statement.reader) return statement.all(...params) as T[];
    statement.run(...params);
    return [];
  };
}

/** Rows read as SQLite would return them, on a connection of their own; `end()` closes it. */
export function postgresRows(url: string): { rows: Rows; end(): Promise<void> } {
  // count(*) and sums come back as numbers, as from SQLite.
  const types = new pg.TypeOverrides();
  types.setTypeParser(20, Number);
  types.setTypeParser(1700, Number);
  const pool = new pg.Pool({ connectionString: url, max: 1, types });
  // As in the store's own pool: an idle connection the server ends is an 'error' event, which
  // unheard would fail whichever test happens to be running as an unhandled error.
  pool.on('error', () => {});
  return {
    rows: async <T>(sql: string, ...params: unknown[]) => {
      let n = 0;
      const { rows } = await pool.query(
        sql.replace(/\?/g, () => `$${++n}`),
        params,
      );
      return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, asSqliteReads(v)]))) as T[];
    },
    end: () => pool.end(),
  };
}

/** What SQLite returns for the same column: JSON as text, booleans as 0 or 1. */
function asSqliteReads(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return value;
}
