/**
 * Moving up: copies a SQLite installation into an empty, migrated PostgreSQL database
 * (`referloop migrate --from file:… --to postgres://…`). The tables and columns come from the two
 * drizzle schemas, which mirror each other (postgres/schema.ts), so a table added to both is
 * copied without a line here; a table or column one has and the other lacks stops the copy.
 */
import { getTableColumns, is } from 'drizzle-orm';
import { getTableConfig as pgTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import type pg from 'pg';
import type { Db as SqliteDb } from './db.ts';
import type { Db as PostgresDb } from './postgres/db.ts';
import * as pgSchema from './postgres/schema.ts';
import * as sqliteSchema from './schema.ts';

/** A copy that cannot go ahead or did not add up; nothing was written to PostgreSQL. */
export class CopyRefused extends Error {
  override readonly name = 'CopyRefused';
}

export interface CopySummary {
  tables: number;
  rows: number;
  seconds: number;
  /** Rows copied per table, in the order they were copied. */
  counts: Record<string, number>;
}

export interface CopyOptions {
  /** Rows per INSERT (fewer when a table's columns would pass PostgreSQL's 65,535 parameters). */
  batchSize?: number;
}

interface TablePlan {
  name: string;
  /** Column names, the same in both databases. */
  columns: string[];
  /** How each column's SQLite value becomes PostgreSQL's, by position. */
  convert: ((value: unknown) => unknown)[];
}

const MAX_PARAMETERS = 65_535;

/**
 * Copies every table, parents before children, in one PostgreSQL transaction: ids are kept, each
 * identity sequence then continues after the largest id, and every table's row count is checked
 * against SQLite's before the commit. The source is read in one read transaction, so a service
 * still writing to it is seen at one instant.
 */
export async function copyToPostgres(source: SqliteDb, target: PostgresDb, options: CopyOptions = {}): Promise<CopySummary> {
  const started = performance.now();
  const plans = copyPlan();
  const client = await target.$client.connect();
  const sqlite = source.$client;
  sqlite.exec('BEGIN');
  try {
    await client.query('BEGIN');
    try {
      const occupied = await firstNonEmpty(client, plans);
      if (occupied) {
        throw new CopyRefused(`the PostgreSQL database is not empty (table ${occupied} has rows): copy into a newly created database`);
      }
      const counts: Record<string, number> = {};
      for (const plan of plans) counts[plan.name] = await copyTable(sqlite, client, plan, options.batchSize ?? 1_000);
      await continueSequences(client);
      for (const plan of plans) {
        const inSqlite = (sqlite.prepare(`SELECT count(*) AS n FROM ${quote(plan.name)}`).get() as { n: number }).n;
        const inPostgres = await rowCount(client, plan.name);
        if (inSqlite !== inPostgres || inSqlite !== counts[plan.name]) {
          throw new CopyRefused(
            `table ${plan.name} has ${inSqlite} rows in SQLite but ${inPostgres} in PostgreSQL after the copy: nothing was kept`,
          );
        }
      }
      await client.query('COMMIT');
      const rows = Object.values(counts).reduce((sum, n) => sum + n, 0);
      return { tables: plans.length, rows, seconds: Math.round(performance.now() - started) / 1000, counts };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  } finally {
    sqlite.exec('ROLLBACK');
    client.release();
  }
}

/** The tables of both schemas in an order where each comes after those it references. */
export function copyPlan(): TablePlan[] {
  const sqliteTables = new Map(
    (Object.values(sqliteSchema) as unknown[])
      .filter((value): value is SQLiteTable => is(value, SQLiteTable))
      .map((table) => [sqliteTableConfig(table).name, table]),
  );
  const pgTables = new Map(
    (Object.values(pgSchema) as unknown[])
      .filter((value): value is PgTable => is(value, PgTable))
      .map((table) => [pgTableConfig(table).name, table]),
  );
  const onlyOne = [...sqliteTables.keys()]
    .filter((name) => !pgTables.has(name))
    .concat([...pgTables.keys()].filter((name) => !sqliteTables.has(name)));
  if (onlyOne.length) throw new Error(`the SQLite and PostgreSQL schemas differ: ${onlyOne.join(', ')} is in one only`);

  const plans = new Map<string, TablePlan>();
  const parents = new Map<string, string[]>();
  for (const [name, table] of pgTables) {
    const pgColumns = Object.values(getTableColumns(table));
    const sqliteColumns = Object.values(getTableColumns(sqliteTables.get(name)!)).map((column) => column.name);
    const pgNames = pgColumns.map((column) => column.name);
    const differ = pgNames.filter((c) => !sqliteColumns.includes(c)).concat(sqliteColumns.filter((c) => !pgNames.includes(c)));
    if (differ.length) throw new Error(`the SQLite and PostgreSQL schemas differ: ${name}.${differ.join(`, ${name}.`)} is in one only`);
    plans.set(name, {
      name,
      columns: pgNames,
      convert: pgColumns.map((column) => converter(column.columnType)),
    });
    parents.set(
      name,
      pgTableConfig(table)
        .foreignKeys.map((fk) => pgTableConfig(fk.reference().foreignTable).name)
        .filter((parent) => parent !== name),
    );
  }

  // Depth-first: a table is placed once every table it references is.
  const ordered: TablePlan[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`foreign keys form a cycle: ${[...path, name].join(' → ')}`);
    state.set(name, 'visiting');
    for (const parent of parents.get(name) ?? []) visit(parent, [...path, name]);
    state.set(name, 'done');
    ordered.push(plans.get(name)!);
  };
  for (const name of [...plans.keys()].sort()) visit(name, []);
  return ordered;
}

/**
 * SQLite stores booleans as 0/1 and JSON as text; PostgreSQL reads the JSON text itself into jsonb.
 * Integers are read as BigInt (money can pass 2^53 only in theory, but nothing is rounded) and sent as text.
 */
function converter(columnType: string): (value: unknown) => unknown {
  if (columnType === 'PgBoolean') return (value) => (value === null ? null : value !== 0n && value !== 0);
  return (value) => (typeof value === 'bigint' ? value.toString() : value);
}

async function copyTable(sqlite: SqliteDb['$client'], client: pg.PoolClient, plan: TablePlan, batchSize: number): Promise<number> {
  const perInsert = Math.max(1, Math.min(batchSize, Math.floor(MAX_PARAMETERS / plan.columns.length)));
  const columnList = plan.columns.map(quote).join(', ');
  // rowid, not the primary key: every table has one, and it pages in the order rows were written.
  const page = sqlite
    .prepare(`SELECT rowid, ${columnList} FROM ${quote(plan.name)} WHERE rowid > ? ORDER BY rowid LIMIT ?`)
    .raw(true)
    .safeIntegers(true);
  let after = -1n;
  let copied = 0;
  for (;;) {
    const rows = page.all(after, perInsert) as unknown[][];
    if (rows.length === 0) return copied;
    const values: unknown[] = [];
    const tuples = rows.map((row) => {
      const start = values.length;
      for (const [i, convert] of plan.convert.entries()) values.push(convert(row[i + 1]));
      return `(${plan.columns.map((_, i) => `$${start + i + 1}`).join(', ')})`;
    });
    await client.query(`INSERT INTO ${quote(plan.name)} (${columnList}) VALUES ${tuples.join(', ')}`, values);
    copied += rows.length;
    after = rows.at(-1)![0] as bigint;
  }
}

/** The first table with a row, if any. */
async function firstNonEmpty(client: pg.PoolClient, plans: TablePlan[]): Promise<string | undefined> {
  for (const plan of plans) {
    const { rows } = await client.query(`SELECT EXISTS (SELECT 1 FROM ${quote(plan.name)}) AS occupied`);
    if (rows[0].occupied) return plan.name;
  }
  return undefined;
}

/** Each identity column's sequence continues after the largest copied id (an empty table's starts at 1). */
async function continueSequences(client: pg.PoolClient): Promise<void> {
  const { rows } = await client.query<{ table_name: string; column_name: string }>(
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES'",
  );
  for (const { table_name: table, column_name: column } of rows) {
    await client.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), max_id) FROM (SELECT max(${quote(column)}) AS max_id FROM ${quote(table)}) m WHERE max_id IS NOT NULL`,
      [quote(table), column],
    );
  }
}

async function rowCount(client: pg.PoolClient, table: string): Promise<number> {
  const { rows } = await client.query(`SELECT count(*)::bigint AS n FROM ${quote(table)}`);
  return Number(rows[0].n);
}

/** An identifier quoted for both SQLite and PostgreSQL (the schemas' names are plain, this is for safety). */
function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
