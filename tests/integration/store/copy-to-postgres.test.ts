/**
 * `referloop migrate --from file:… --to postgres://…`: a SQLite installation seeded through the
 * SQLite store is copied into a scratch PostgreSQL database, and every table reads back the same
 * through both schemas (booleans, JSON, money past 2^31, ids); identity sequences continue after
 * the copied ids; a database that is not empty is refused and left as it was.
 */
import { getTableColumns, is } from 'drizzle-orm';
import { getTableConfig as pgTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CopyRefused, copyPlan, copyToPostgres } from '../../../src/store/copy-to-postgres.ts';
import type { Db } from '../../../src/store/db.ts';
import { closePostgres, migratePostgres, openPostgres, type Db as PostgresDb } from '../../../src/store/postgres/db.ts';
import * as pgSchema from '../../../src/store/postgres/schema.ts';
import * as sqliteSchema from '../../../src/store/schema.ts';
import { scratchDatabase, type ScratchDatabase } from '../../support/postgres.ts';
import {
  createTestDb,
  enqueueAll,
  insertInstallation,
  insertReferral,
  insertReferrer,
  insertReward,
  insertWebhookEndpoint,
  journeyIntents,
  storeOf,
} from '../notify/fixtures.ts';

const BIG_MONEY = 5_000_000_001; // above 2^31: an int4 would refuse it, a double-rounding path would change it

/** A SQLite installation with rows in the tables whose types differ between the dialects. */
async function seededSqlite(): Promise<Db> {
  const db = createTestDb();
  const store = storeOf(db);
  const installationId = insertInstallation(db);
  insertInstallation(db);
  const referrer = insertReferrer(db, installationId, { name: 'Ada', email: 'ada@example.test', digest: true, emailOptOut: false });
  insertReferrer(db, installationId, { name: 'Bob', email: 'bob@example.test', digest: false, emailOptOut: true });
  const referral = insertReferral(db, referrer, { firstName: 'Grace', lastName: 'Hopper', company: 'Navy' });
  const rewardId = insertReward(db, referral, BIG_MONEY);
  insertWebhookEndpoint(db, referrer, 'https://hooks.example.test/referloop');
  await store.rewards.addEntry({
    rewardId,
    kind: 'accrued',
    amountCents: BIG_MONEY,
    actor: 'system',
    reason: 'closed won',
    idempotencyKey: `${rewardId}:accrued`,
  });
  await store.rewards.addEntry({
    rewardId,
    kind: 'status',
    amountCents: 0,
    fromStatus: 'pending',
    toStatus: 'approved',
    actor: 'admin',
    reason: 'approved',
    idempotencyKey: `${rewardId}:approved`,
  });
  // Outbox rows (identity ids, JSON payloads) and their delivery attempts (booleans).
  await enqueueAll(db, journeyIntents(referral, rewardId), new Date('2026-03-01T10:00:00.000Z'));
  const [first] = db.select().from(sqliteSchema.outbox).all();
  db.insert(sqliteSchema.deliveryAttempts)
    .values([
      { outboxId: first!.id, attempt: 1, ok: false, detail: '503 unavailable', at: '2026-03-01T10:00:01.000Z' },
      { outboxId: first!.id, attempt: 2, ok: true, detail: '200', at: '2026-03-01T10:00:02.000Z' },
    ])
    .run();
  for (let i = 0; i < 5; i++) {
    await store.audit.record({
      installationId,
      actor: 'admin',
      action: 'program.updated',
      subjectType: 'program',
      subjectId: `prg_${i}`,
      before: i === 0 ? null : { version: i, tiers: [{ name: 'gold', share: 0.1 }] },
      after: { version: i + 1, nested: { list: [1, 'two', null, true] }, text: 'émoji 🎉 "quoted"' },
      at: `2026-03-01T10:00:0${i}.000Z`,
    });
  }
  // The embedded queue's jobs: epoch milliseconds past 2^31.
  db.insert(sqliteSchema.jobs)
    .values({
      id: 'job_1',
      queue: 'referloop-sync',
      name: 'sync',
      data: { installationId },
      status: 'waiting',
      maxAttempts: 8,
      runAt: 1_772_000_000_000,
      createdAt: 1_772_000_000_000,
      updatedAt: 1_772_000_000_000,
    })
    .run();
  return db;
}

/** Rows in a stable order (jsonb reorders object keys, so JSON values are left out of the key). */
function sorted<T extends Record<string, unknown>>(rows: T[]): T[] {
  const key = (row: T) =>
    Object.values(row)
      .filter((value) => value === null || typeof value !== 'object')
      .map(String)
      .join('\u0000');
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

async function rowsOfEveryTable(sqlite: Db, postgres: PostgresDb) {
  const pgTables = new Map(
    (Object.values(pgSchema) as unknown[]).filter((t): t is PgTable => is(t, PgTable)).map((t) => [pgTableConfig(t).name, t]),
  );
  const sqliteTables = (Object.values(sqliteSchema) as unknown[]).filter((t): t is SQLiteTable => is(t, SQLiteTable));
  expect(sqliteTables.length).toBe(pgTables.size);
  const result: { table: string; sqlite: Record<string, unknown>[]; postgres: Record<string, unknown>[] }[] = [];
  for (const table of sqliteTables) {
    const name = sqliteTableConfig(table).name;
    const pgTable = pgTables.get(name)!;
    const columns = Object.keys(getTableColumns(pgTable));
    expect(Object.keys(getTableColumns(table)).sort()).toEqual([...columns].sort());
    result.push({
      table: name,
      sqlite: sorted(sqlite.select().from(table).all() as Record<string, unknown>[]),
      postgres: sorted((await postgres.select().from(pgTable)) as Record<string, unknown>[]),
    });
  }
  return result;
}

describe('copying a SQLite installation into PostgreSQL', { timeout: 60_000 }, () => {
  let scratch: ScratchDatabase;
  let target: PostgresDb;
  let source: Db;

  beforeAll(async () => {
    scratch = await scratchDatabase();
    target = openPostgres(scratch.url, { poolSize: 2 });
    await migratePostgres(target);
    source = await seededSqlite();
  });
  afterAll(async () => {
    source?.$client.close();
    if (target) await closePostgres(target);
    if (scratch) await scratch.drop();
  });

  it('copies every table, parents first, in batches; every row reads back the same', async () => {
    // Two rows a batch: the tables with more rows are copied in several.
    const summary = await copyToPostgres(source, target, { batchSize: 2 });
    const tables = await rowsOfEveryTable(source, target);
    expect(summary.tables).toBe(tables.length);
    expect(summary.rows).toBe(tables.reduce((n, t) => n + t.sqlite.length, 0));
    for (const { table, sqlite, postgres } of tables) {
      expect(summary.counts[table], table).toBe(sqlite.length);
      expect(postgres, table).toEqual(sqlite);
    }
    const byName = Object.fromEntries(tables.map((t) => [t.table, t.postgres]));
    // The seed reached the columns whose types differ.
    expect(byName.rewards![0]!.amountCents).toBe(BIG_MONEY);
    expect(byName.reward_events!.map((e) => e.amountCents)).toContain(BIG_MONEY);
    expect(byName.referrers!.map((r) => [r.digest, r.emailOptOut]).sort()).toEqual([
      [false, true],
      [true, false],
    ]);
    expect(byName.delivery_attempts!.map((a) => a.ok).sort()).toEqual([false, true]);
    expect(byName.audit_log).toHaveLength(5);
    expect(byName.audit_log!.find((a) => a.subjectId === 'prg_0')!.before).toBeNull();
    expect(byName.jobs![0]!.runAt).toBe(1_772_000_000_000);
    expect(byName.outbox!.length).toBeGreaterThan(0);
  });

  it('puts each table after those it references', () => {
    const order = copyPlan().map((plan) => plan.name);
    for (const table of (Object.values(pgSchema) as unknown[]).filter((t): t is PgTable => is(t, PgTable))) {
      const config = pgTableConfig(table);
      for (const fk of config.foreignKeys) {
        const parent = pgTableConfig(fk.reference().foreignTable).name;
        if (parent !== config.name)
          expect(order.indexOf(parent), `${parent} before ${config.name}`).toBeLessThan(order.indexOf(config.name));
      }
    }
  });

  it('continues each identity sequence after the copied ids', async () => {
    const copiedEvents = source.select().from(sqliteSchema.rewardEvents).all();
    const { rows } = await target.$client.query<{ id: number }>(
      "INSERT INTO reward_events (reward_id, kind, amount_cents, actor, reason, idempotency_key) VALUES ($1, 'status', 0, 'test', 'after the copy', 'new') RETURNING id",
      [copiedEvents[0]!.rewardId],
    );
    expect(rows[0]!.id).toBeGreaterThan(Math.max(...copiedEvents.map((e) => e.id)));
    const copiedOutbox = source.select().from(sqliteSchema.outbox).all();
    const audit = await target.$client.query<{ id: number }>(
      "INSERT INTO audit_log (actor, action, subject_type, subject_id, at) VALUES ('test', 'x', 'y', 'z', '2026-03-02T00:00:00.000Z') RETURNING id",
    );
    expect(audit.rows[0]!.id).toBeGreaterThan(5);
    const attempt = await target.$client.query<{ id: number }>(
      "INSERT INTO delivery_attempts (outbox_id, attempt, ok, detail, at) VALUES ($1, 3, true, '200', '2026-03-02T00:00:00.000Z') RETURNING id",
      [copiedOutbox[0]!.id],
    );
    expect(attempt.rows[0]!.id).toBeGreaterThan(2);
  });

  it('refuses a database that is not empty, and leaves it as it was', async () => {
    const before = await target.$client.query<{ n: number }>(
      'SELECT (SELECT count(*) FROM rewards) + (SELECT count(*) FROM audit_log) AS n',
    );
    const refusal = await copyToPostgres(source, target).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(CopyRefused);
    expect((refusal as Error).message).toMatch(/^the PostgreSQL database is not empty \(table \w+ has rows\)/);
    const after = await target.$client.query<{ n: number }>(
      'SELECT (SELECT count(*) FROM rewards) + (SELECT count(*) FROM audit_log) AS n',
    );
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it('refuses and keeps nothing when a table does not add up after the copy, naming the table', async () => {
    const other = await scratchDatabase();
    const db = openPostgres(other.url, { poolSize: 2 });
    try {
      await migratePostgres(db);
      // A trigger that quietly drops one audit row stands in for a copy that lost rows.
      await db.$client.query(`
        CREATE FUNCTION drop_one() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.subject_id = 'prg_3' THEN RETURN NULL; END IF; RETURN NEW; END $$;
        CREATE TRIGGER drop_one BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION drop_one();`);
      const refusal = await copyToPostgres(source, db).catch((err: unknown) => err);
      expect(refusal).toBeInstanceOf(CopyRefused);
      expect((refusal as Error).message).toBe('table audit_log has 5 rows in SQLite but 4 in PostgreSQL after the copy: nothing was kept');
      const { rows } = await db.$client.query<{ n: number }>(
        'SELECT (SELECT count(*) FROM installations) + (SELECT count(*) FROM rewards) AS n',
      );
      expect(rows[0]!.n).toBe(0);
    } finally {
      await closePostgres(db);
      await other.drop();
    }
  });
});
