import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema.ts';

export type Db = NodePgDatabase<typeof schema> & { $client: pg.Pool };

export interface PostgresOptions {
  /** Most connections the pool opens (pg's `max`). */
  poolSize: number;
  /** How long to wait for a connection, new or from a busy pool, before failing (pg's `connectionTimeoutMillis`). */
  connectionTimeoutMs?: number;
}

const migrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), '../../../migrations/postgres');

// Types' object ids, fixed in PostgreSQL's catalog: https://github.com/postgres/postgres/blob/master/src/include/catalog/pg_type.dat
const INT8 = 20;
const INT8_ARRAY = 1016;
const NUMERIC = 1700;
const NUMERIC_ARRAY = 1231;
const TEXT_ARRAY = 1009;

/** The advisory lock key migrations take: any fixed int8, released when its session ends. */
const MIGRATION_LOCK = 7_316_405_218;

/**
 * Opens a pool on a `postgres://` URL and wraps it in drizzle. pg returns int8 (bigint: money,
 * counts, `count(*)`) and numeric (`sum()` of bigints) as strings; this pool's own parsers return
 * numbers instead, and fail the query rather than round: an int8 beyond Number.MAX_SAFE_INTEGER or
 * a numeric no number holds exactly is an error naming the value. Other pools and the process's
 * global pg types are left alone.
 */
export function openPostgres(url: string, options: PostgresOptions): Db {
  if (!Number.isInteger(options.poolSize) || options.poolSize < 1) {
    throw new Error(`PostgreSQL pool size must be a whole number of at least 1, not ${options.poolSize}`);
  }
  const types = new pg.TypeOverrides();
  for (const [oid, parse] of numberParsers) types.setTypeParser(oid, parse);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    types,
    Client: NumberClient,
  });
  // An idle connection the server dropped (a restart, a failover) is an 'error' event, which would
  // end the process unhandled; the pool has already discarded it and the next query connects anew.
  pool.on('error', () => {});
  return drizzle({ client: pool, schema });
}

// pg's own text[] parser (nesting, NULLs, quoting), applied to each element of int8[] and numeric[].
// @types/pg types what getTypeParser returns as a parser of oids, not of the value's text.
const textArray = new pg.TypeOverrides().getTypeParser(TEXT_ARRAY, 'text') as unknown as (value: string) => unknown;
const numberParsers = new Map<number, (value: string) => unknown>([
  [INT8, parseInt8],
  [NUMERIC, parseNumeric],
  [INT8_ARRAY, (value) => mapArray(textArray(value), parseInt8)],
  [NUMERIC_ARRAY, (value) => mapArray(textArray(value), parseNumeric)],
]);

type TypeParsers = { getTypeParser(oid: number, format?: string): unknown };
const withNumbers = new WeakMap<TypeParsers, TypeParsers>();

/**
 * A pg client whose queries read numbers with `numberParsers`. drizzle gives each query its own
 * type parsers (dates as text), which take precedence over the pool's and fall back on pg's global
 * ones, so the pool's `types` alone would not reach drizzle's queries: this puts ours in front of
 * drizzle's, for text results (drizzle asks for no binary ones).
 */
class NumberClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    // A connection the server ends while it is checked out (a restart, a failover) is an 'error'
    // event on the client, which would end the process unhandled; the query in flight, or the next
    // one, fails with it instead, and the pool replaces the client.
    this.on('error', () => {});
  }
}
const clientQuery = pg.Client.prototype.query;
NumberClient.prototype.query = function query(this: pg.Client, config: unknown, ...rest: unknown[]) {
  return Reflect.apply(clientQuery, this, [queryWithNumbers(config), ...rest]);
} as typeof clientQuery;

function queryWithNumbers(config: unknown): unknown {
  if (typeof config !== 'object' || config === null || Object.getPrototypeOf(config) !== Object.prototype) return config;
  const { types } = config as { types?: TypeParsers };
  if (!types) return config;
  let wrapped = withNumbers.get(types);
  if (!wrapped) {
    wrapped = {
      getTypeParser: (oid, format) => (format !== 'binary' && numberParsers.get(oid)) || types.getTypeParser(oid, format),
    };
    withNumbers.set(types, wrapped);
  }
  return { ...config, types: wrapped };
}

/**
 * Applies `migrations/postgres`. Several processes starting together each migrate: a session
 * advisory lock, on a connection of its own (the pool may have one), lets one apply them while
 * the others wait and then find nothing to do. drizzle's migrator alone reads what was applied
 * before its transaction, so two at once would both apply everything.
 */
export async function migratePostgres(db: Db): Promise<void> {
  const lock = new pg.Client(db.$client.options);
  // The lock's connection idles while the migration runs on the pool; were the server to end it
  // then, the unheard 'error' event would end the process. The migration stands or fails alone.
  lock.on('error', () => {});
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await migrate(db, { migrationsFolder });
  } finally {
    await lock.end();
  }
}

/** Ends the pool: waits for checked-out connections to be released, then closes them all. */
export async function closePostgres(db: Db): Promise<void> {
  await db.$client.end();
}

export function parseInt8(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) {
    throw new Error(`PostgreSQL returned the bigint ${value}, beyond Number.MAX_SAFE_INTEGER: it cannot be read as a number exactly`);
  }
  return parsed;
}

/** A numeric as a number when the number reads back as the same decimal (sums, most averages); otherwise an error. */
export function parseNumeric(value: string): number {
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity' || value === '-Infinity') return Number(value);
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || plainDecimal(String(parsed)) !== plainDecimal(value)) {
    throw new Error(`PostgreSQL returned the numeric ${value}, which no JavaScript number holds exactly: round or cast it in the query`);
  }
  return parsed;
}

/** A decimal without exponent, sign of zero, or leading and trailing zeros: `-0012.3400` → `-12.34`, `1e-7` → `0.0000001`. */
function plainDecimal(text: string): string {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(text);
  if (!match) return text;
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match;
  const digits = whole + fraction;
  const point = whole.length + Number(exponent);
  const padded = point < 0 ? '0'.repeat(-point) + digits : point > digits.length ? digits + '0'.repeat(point - digits.length) : digits;
  const at = Math.max(point, 0);
  const integer = padded.slice(0, at).replace(/^0+/, '') || '0';
  const decimals = padded.slice(at).replace(/0+$/, '');
  const magnitude = decimals ? `${integer}.${decimals}` : integer;
  return magnitude === '0' || sign !== '-' ? magnitude : `-${magnitude}`;
}

function mapArray(value: unknown, parse: (text: string) => number): unknown {
  if (Array.isArray(value)) return value.map((item) => mapArray(item, parse));
  return value === null ? null : parse(value as string);
}

export { schema };
