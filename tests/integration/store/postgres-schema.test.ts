/**
 * The PostgreSQL schema against the SQLite one it mirrors (issue #16): the same tables, columns,
 * keys and indexes by name, then its migrations and the pool's type parsers on a real server (a
 * scratch database from tests/support/postgres.ts).
 */
import { getTableColumns, getTableName, is, SQL, sql, type Column } from 'drizzle-orm';
import { getTableConfig as pgTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import pg from 'pg';
import journal from '../../../migrations/postgres/meta/_journal.json' with { type: 'json' };
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDb, openDb } from '../../../src/store/db.ts';
import { closePostgres, migratePostgres, openPostgres, type Db } from '../../../src/store/postgres/db.ts';
import * as pgSchema from '../../../src/store/postgres/schema.ts';
import * as sqliteSchema from '../../../src/store/schema.ts';
import { freePort } from '../../support/ports.ts';
import { scratchDatabase, type ScratchDatabase } from '../../support/postgres.ts';

const sqliteTables = Object.entries(sqliteSchema as Record<string, unknown>).filter((entry): entry is [string, SQLiteTable] =>
  is(entry[1], SQLiteTable),
);
const pgTables = Object.entries(pgSchema as Record<string, unknown>).filter((entry): entry is [string, PgTable] => is(entry[1], PgTable));

/** Which PostgreSQL column types may stand for each SQLite one (issue #16: one meaning in both). */
const typeCounterparts: Record<string, string[]> = {
  SQLiteText: ['PgText'],
  SQLiteTextJson: ['PgJsonb'],
  SQLiteBoolean: ['PgBoolean'],
  SQLiteInteger: ['PgInteger', 'PgBigInt53'],
};

function describeColumn(column: Column) {
  return {
    name: column.name,
    notNull: column.notNull,
    hasDefault: column.hasDefault,
    primary: column.primary,
    enumValues: column.enumValues,
    // A literal default must be the same value; an SQL one (created_at) is dialect-specific.
    default: is(column.default, SQL) ? 'sql' : column.default,
  };
}

function describeIndexes(indexes: { config: { name?: string; columns: unknown[]; unique: boolean; where?: SQL } }[]) {
  return indexes
    .map(({ config }) => ({
      name: config.name,
      columns: config.columns.map((column) => (column as { name: string }).name),
      unique: config.unique,
      partial: config.where !== undefined,
    }))
    .sort((a, b) => String(a.name).localeCompare(String(b.name)));
}

function describeKeys(config: ReturnType<typeof sqliteTableConfig> | ReturnType<typeof pgTableConfig>) {
  return {
    primaryKeys: config.primaryKeys.map((key) => key.columns.map((column) => column.name)),
    foreignKeys: config.foreignKeys
      .map((key) => {
        const reference = key.reference();
        return {
          columns: reference.columns.map((column) => column.name),
          table: getTableName(reference.foreignTable),
          foreignColumns: reference.foreignColumns.map((column) => column.name),
          onDelete: key.onDelete ?? 'no action',
        };
      })
      .sort((a, b) => a.columns.join().localeCompare(b.columns.join())),
  };
}

describe('PostgreSQL schema parity with SQLite', () => {
  it('has the same tables under the same export names, and no others', () => {
    expect(sqliteTables.length).toBe(34);
    expect(pgTables.map(([key, table]) => [key, getTableName(table)]).sort()).toEqual(
      sqliteTables.map(([key, table]) => [key, getTableName(table)]).sort(),
    );
  });

  it.each(sqliteTables.map(([key, table]) => [getTableName(table), key, table] as const))(
    '%s: same columns, keys and indexes',
    (_name, key, sqliteTable) => {
      const pgTable = new Map(pgTables).get(key)!;
      const sqliteColumns = getTableColumns(sqliteTable);
      const pgColumns = getTableColumns(pgTable);
      expect(Object.keys(pgColumns)).toEqual(Object.keys(sqliteColumns));
      for (const [jsKey, sqliteColumn] of Object.entries(sqliteColumns)) {
        const pgColumn = pgColumns[jsKey]!;
        expect(describeColumn(pgColumn), `${key}.${jsKey}`).toEqual(describeColumn(sqliteColumn));
        expect(typeCounterparts[sqliteColumn.columnType], `${key}.${jsKey}: ${sqliteColumn.columnType}`).toContain(pgColumn.columnType);
      }
      const sqliteConfig = sqliteTableConfig(sqliteTable);
      const pgConfig = pgTableConfig(pgTable);
      expect(describeIndexes(pgConfig.indexes)).toEqual(describeIndexes(sqliteConfig.indexes));
      expect(describeKeys(pgConfig)).toEqual(describeKeys(sqliteConfig));
    },
  );

  it('keeps money, counts and epoch milliseconds in bigint, and a reference the type of what it references', () => {
    const bigintColumns = pgTables.flatMap(([key, table]) =>
      Object.entries(getTableColumns(table))
        .filter(([, column]) => column.columnType === 'PgBigInt53')
        .map(([jsKey]) => `${key}.${jsKey}`),
    );
    // Every *Cents column and the embedded queue's millisecond instants.
    for (const [key, table] of pgTables) {
      for (const [jsKey, column] of Object.entries(getTableColumns(table))) {
        if (jsKey.endsWith('Cents') || (key === 'jobs' && ['runAt', 'leaseUntil', 'createdAt', 'updatedAt'].includes(jsKey))) {
          expect(column.columnType, `${key}.${jsKey}`).toBe('PgBigInt53');
        }
      }
      for (const foreignKey of pgTableConfig(table).foreignKeys) {
        const { columns, foreignColumns } = foreignKey.reference();
        for (const [i, column] of columns.entries()) {
          expect(column.columnType, `${key}.${column.name}`).toBe(foreignColumns[i]!.columnType);
        }
      }
    }
    expect(bigintColumns).toContain('inbox.id');
    expect(bigintColumns).toContain('outbox.id');
  });
});

describe('PostgreSQL migrations and types on a real server', () => {
  let scratch: ScratchDatabase;
  let db: Db;

  beforeAll(async () => {
    scratch = await scratchDatabase();
    db = openPostgres(scratch.url, { poolSize: 2 });
    await migratePostgres(db);
  });

  afterAll(async () => {
    if (db) await closePostgres(db);
    if (scratch) await scratch.drop();
  });

  it('creates every table and index, concurrently from several processes and again without change', async () => {
    const fresh = await scratchDatabase();
    // Processes starting together each migrate; the advisory lock lets one apply and the rest wait.
    const processes = [1, 2, 3].map(() => openPostgres(fresh.url, { poolSize: 1 }));
    const [first] = processes as [Db, ...Db[]];
    try {
      await Promise.all(processes.map(migratePostgres));
      const tables = await first.execute<{ table_name: string }>(
        sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
      );
      expect(tables.rows.map((row) => row.table_name)).toEqual(sqliteTables.map(([, table]) => getTableName(table)).sort());
      const indexes = await first.execute<{ indexname: string }>(sql`select indexname from pg_indexes where schemaname = 'public'`);
      const indexNames = indexes.rows.map((row) => row.indexname);
      for (const [, table] of sqliteTables) {
        for (const index of sqliteTableConfig(table).indexes) expect(indexNames).toContain(index.config.name);
      }

      const applied = async () => (await first.execute(sql`select hash from drizzle.__drizzle_migrations`)).rows;
      const once = await applied();
      expect(once).toHaveLength(journal.entries.length);
      await migratePostgres(first);
      expect(await applied()).toEqual(once);
    } finally {
      await Promise.all(processes.map(closePostgres));
      await fresh.drop();
    }
  });

  it('reads bigint money beyond 2^31 as a number, and JSON and booleans as they were written', async () => {
    const amountCents = 2 ** 31 * 3 + 7;
    const settings = { pipelines: { 'p-1': { won: ['closedwon'], mapped: true } }, note: 'Zoë ✓', limit: null, rate: 0.25 };
    await db.insert(pgSchema.installations).values({
      id: 'inst-1',
      crm: 'hubspot',
      accountId: '42',
      status: 'active',
      scopes: ['crm.objects.deals.read'],
      accessTokenEnc: 'enc',
      settings,
      updatedAt: '2026-12-05T12:00:00.000Z',
    });
    await db.insert(pgSchema.deals).values({
      installationId: 'inst-1',
      dealId: 'd-1',
      pipelineId: 'p-1',
      stageId: 'closedwon',
      isClosed: true,
      isWon: true,
      amountCents,
      currency: 'USD',
      crmCreatedAt: '2026-12-01T00:00:00.000Z',
      sourcedBy: 'referral',
      contactIds: ['c-1', 'c-2'],
      companyIds: [],
      crmModifiedAt: '2026-12-05T00:00:00.000Z',
      fetchedAt: '2026-12-05T00:00:01.000Z',
    });

    const [deal] = await db.select().from(pgSchema.deals);
    expect(deal).toMatchObject({ amountCents, isClosed: true, isWon: true, deleted: false, contactIds: ['c-1', 'c-2'], companyIds: [] });
    const [installation] = await db.select().from(pgSchema.installations);
    expect(installation!.settings).toEqual(settings);
    expect(installation!.scopes).toEqual(['crm.objects.deals.read']);

    // Raw SQL goes through the pool's parsers too: int8, numeric (a sum of bigints) and their arrays.
    const totals = await db.execute(
      sql`select count(*) as n, sum(amount_cents) as total, array_agg(amount_cents) as amounts, array[sum(amount_cents), 0.5] as sums from deals`,
    );
    expect(totals.rows[0]).toEqual({ n: 1, total: amountCents, amounts: [amountCents], sums: [amountCents, 0.5] });
  });

  it('refuses a bigint or numeric that no number holds exactly, and the pool goes on', async () => {
    // drizzle wraps the driver's error in one naming the query; the parser's is its cause.
    const failure = (query: SQL) =>
      db.execute(query).then(
        () => 'resolved',
        (err: Error) => String((err.cause as Error)?.message),
      );
    expect(await failure(sql`select 9007199254740993::int8 as n`)).toMatch(/bigint 9007199254740993, beyond Number.MAX_SAFE_INTEGER/);
    expect(await failure(sql`select array[1, 9007199254740993]::int8[] as n`)).toMatch(/bigint 9007199254740993/);
    expect(await failure(sql`select 1::numeric / 3 as n`)).toMatch(/numeric 0\.3333.*no JavaScript number holds exactly/);
    const exact = await db.execute(sql`select 9007199254740991::int8 as a, 12.50::numeric as b, 2.5e-7::numeric as c`);
    expect(exact.rows[0]).toEqual({ a: Number.MAX_SAFE_INTEGER, b: 12.5, c: 2.5e-7 });
  });

  it("leaves pg's global parsers alone: another client still reads int8 as text", async () => {
    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    try {
      expect((await client.query('select 5::int8 as n')).rows[0]).toEqual({ n: '5' });
    } finally {
      await client.end();
    }
  });

  it("writes the created_at default in SQLite's ISO shape, milliseconds and Z", async () => {
    await db.insert(pgSchema.payoutProviderEvents).values({ eventId: 'evt-1' });
    const [row] = await db.select().from(pgSchema.payoutProviderEvents);

    const sqlite = openDb(':memory:');
    migrateDb(sqlite);
    sqlite.insert(sqliteSchema.payoutProviderEvents).values({ eventId: 'evt-1' }).run();
    const [sqliteRow] = sqlite.select().from(sqliteSchema.payoutProviderEvents).all();
    sqlite.$client.close();

    const shape = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
    for (const receivedAt of [row!.receivedAt, sqliteRow!.receivedAt]) {
      expect(receivedAt).toMatch(shape);
      expect(new Date(receivedAt).toISOString()).toBe(receivedAt);
    }
    expect(Math.abs(Date.parse(row!.receivedAt) - Date.now())).toBeLessThan(60_000);
  });
});

describe('scratch databases', () => {
  it('say in one line how to get a server when none answers', async () => {
    const saved = process.env.TEST_DATABASE_URL;
    const port = await freePort();
    process.env.TEST_DATABASE_URL = `postgres://postgres@127.0.0.1:${port}/postgres`;
    try {
      const message = await scratchDatabase().then(
        () => 'created',
        (err: Error) => err.message,
      );
      expect(message).toMatch(
        new RegExp(
          `^PostgreSQL is not reachable at 127\\.0\\.0\\.1:${port} \\(.*\\): install it with \`apt-get install -y postgresql\` and start it \\(\`pg_ctlcluster \\d+ main start\`\\), or set TEST_DATABASE_URL$`,
        ),
      );
      expect(message).not.toContain('\n');
    } finally {
      if (saved === undefined) delete process.env.TEST_DATABASE_URL;
      else process.env.TEST_DATABASE_URL = saved;
    }
  });
});
