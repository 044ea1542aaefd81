/**
 * PostgreSQL ends a connection (a restart, a failover, an administrator) while the store has it
 * checked out: the transaction on it fails, the process lives on, and the pool serves the next call.
 */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closePostgres, type Db, openPostgres } from '../../../../src/store/postgres/db.ts';
import { type ScratchDatabase, scratchDatabase } from '../../../support/postgres.ts';

let scratch: ScratchDatabase;
let db: Db;
beforeAll(async () => {
  scratch = await scratchDatabase();
  db = openPostgres(scratch.url, { poolSize: 2 });
});
afterAll(async () => {
  if (db) await closePostgres(db);
  await scratch?.drop();
});

it('a connection ended in the middle of a transaction fails that transaction, not the process; the next call connects anew', async () => {
  let pid = 0;
  let resume = () => {};
  const paused = new Promise<void>((resolve) => {
    resume = resolve;
  });
  const transaction = db.transaction(async (tx) => {
    pid = Number((await tx.execute<{ pid: number }>(sql`SELECT pg_backend_pid() AS pid`)).rows[0]!.pid);
    await paused;
    await tx.execute(sql`SELECT 1`);
  });
  transaction.catch(() => undefined);
  while (pid === 0) await new Promise((resolve) => setTimeout(resolve, 5));

  const admin = new pg.Client({ connectionString: scratch.url });
  await admin.connect();
  try {
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  } finally {
    await admin.end();
  }
  // The client hears of it while checked out and idle: an 'error' event nothing awaits.
  await new Promise((resolve) => setTimeout(resolve, 200));
  resume();
  await expect(transaction).rejects.toThrow();
  const { rows } = await db.execute<{ one: number }>(sql`SELECT 1 AS one`);
  expect(rows).toEqual([{ one: 1 }]);
});
