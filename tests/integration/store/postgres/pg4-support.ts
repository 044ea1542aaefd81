/**
 * What the inbox and outbox conformance tests share: a fresh SQLite store per test, one PostgreSQL
 * store per file emptied before each test (identities restarted, so both stores number rows alike),
 * and the prerequisite rows (installation, program, referrers, referral, reward, endpoints) written
 * alike to both, for the repositories that read them but have no method to write them.
 */
import pg from 'pg';
import type { Store } from '../../../../src/store/contract.ts';
import type { Db as SqliteDb } from '../../../../src/store/db.ts';
import { createStore } from '../../../../src/store/index.ts';
import { openPostgres, type Db as PgDb } from '../../../../src/store/postgres/db.ts';
import * as pgSchema from '../../../../src/store/postgres/schema.ts';
import * as sqliteSchema from '../../../../src/store/schema.ts';
import { scratchPostgresStore } from '../../../support/postgres.ts';
import { cipher, createTestDb } from '../../notify/fixtures.ts';

export interface Pair {
  sqlite: { store: Store; db: SqliteDb };
  postgres: { store: Store; db: PgDb };
}

export interface PostgresSide {
  store: Store & { url: string };
  db: PgDb;
  /** Empties every table and restarts identities. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function openPostgresSide(): Promise<PostgresSide> {
  const store = await scratchPostgresStore();
  const db = openPostgres(store.url, { poolSize: 2 });
  const admin = new pg.Client({ connectionString: store.url });
  // It sits idle between resets; were the server to end it then, its next query says so.
  admin.on('error', () => {});
  await admin.connect();
  const { rows } = await admin.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
  const truncate = `TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(', ')} RESTART IDENTITY CASCADE`;
  return {
    store,
    db,
    reset: async () => {
      await admin.query(truncate);
    },
    close: async () => {
      await admin.end();
      await db.$client.end();
      await store.close();
    },
  };
}

/** A fresh SQLite store beside the (reset) PostgreSQL one. */
export async function pairWith(side: PostgresSide): Promise<Pair> {
  await side.reset();
  const db = createTestDb();
  return { sqlite: { store: createStore(db, cipher), db }, postgres: { store: side.store, db: side.db } };
}

/** Runs `fn` on the SQLite store, then on the PostgreSQL one; answers both results, SQLite's first. */
export async function both<T>(pair: Pair, fn: (store: Store, kind: 'sqlite' | 'postgres') => Promise<T>): Promise<[T, T]> {
  const a = await fn(pair.sqlite.store, 'sqlite');
  const b = await fn(pair.postgres.store, 'postgres');
  return [a, b];
}

const CREATED = '2026-11-20T08:00:00.000Z';

/** Inserts the same rows into a table of each store. */
const sqliteTables = {
  installations: sqliteSchema.installations,
  programs: sqliteSchema.programs,
  referrers: sqliteSchema.referrers,
  referrals: sqliteSchema.referrals,
  rewards: sqliteSchema.rewards,
  webhookEndpoints: sqliteSchema.webhookEndpoints,
};
const pgTables = {
  installations: pgSchema.installations,
  programs: pgSchema.programs,
  referrers: pgSchema.referrers,
  referrals: pgSchema.referrals,
  rewards: pgSchema.rewards,
  webhookEndpoints: pgSchema.webhookEndpoints,
};
type Table = keyof typeof sqliteTables;
async function insertBoth(pair: Pair, table: Table, row: Record<string, unknown>): Promise<void> {
  // The two schemas have the same tables and columns; the row is written as given to each.
  (pair.sqlite.db.insert(sqliteTables[table]) as unknown as { values(v: unknown): { run(): void } }).values(row).run();
  await (pair.postgres.db.insert(pgTables[table]) as unknown as { values(v: unknown): Promise<unknown> }).values(row);
}

export async function seedInstallation(pair: Pair, id: string): Promise<void> {
  await insertBoth(pair, 'installations', {
    id,
    crm: 'hubspot',
    accountId: `acct_${id}`,
    status: 'active',
    scopes: [],
    accessTokenEnc: 'sealed',
    settings: {},
    createdAt: CREATED,
    updatedAt: CREATED,
  });
  await insertBoth(pair, 'programs', { id: `prg_${id}`, installationId: id, isDefault: true, createdAt: CREATED });
}

export async function seedReferrer(
  pair: Pair,
  installationId: string,
  id: string,
  options: { digest?: boolean; emailOptOut?: boolean } = {},
): Promise<void> {
  await insertBoth(pair, 'referrers', {
    id,
    installationId,
    email: `${id}@example.test`,
    name: `Referrer ${id}`,
    type: 'partner',
    company: null,
    digest: options.digest ?? false,
    emailOptOut: options.emailOptOut ?? false,
    accessKey: `key_${id}`,
    createdAt: CREATED,
  });
}

export async function seedReferral(pair: Pair, installationId: string, referrerId: string, id: string): Promise<void> {
  await insertBoth(pair, 'referrals', {
    id,
    installationId,
    referrerId,
    programId: `prg_${installationId}`,
    programVersion: 1,
    status: 'submitted',
    refereeEmail: `${id}@referee.test`,
    refereeEmailKey: `${id}@referee.test`,
    submittedByKind: 'referrer',
    verdict: {},
    submittedAt: CREATED,
    updatedAt: CREATED,
  });
}

export async function seedReward(pair: Pair, installationId: string, referralId: string, referrerId: string, id: string): Promise<void> {
  await insertBoth(pair, 'rewards', {
    id,
    installationId,
    referralId,
    referrerId,
    kind: 'milestone',
    beneficiary: 'referrer',
    milestone: 'closed_won',
    amountCents: 250_000,
    currency: 'USD',
    status: 'pending',
    dueDate: '2026-12-01',
    requiresApproval: false,
    programId: `prg_${installationId}`,
    programVersion: 1,
    reasons: [],
    idempotencyKey: id,
    createdAt: CREATED,
    updatedAt: CREATED,
  });
}

export async function seedEndpoint(
  pair: Pair,
  installationId: string,
  referrerId: string,
  id: string,
  options: { status?: 'enabled' | 'disabled'; createdAt?: string } = {},
): Promise<void> {
  await insertBoth(pair, 'webhookEndpoints', {
    id,
    installationId,
    referrerId,
    url: `https://hooks.example.test/${id}`,
    secretEnc: 'sealed',
    status: options.status ?? 'enabled',
    createdAt: options.createdAt ?? CREATED,
  });
}

/** Every row of a table of each store, in id order (what no repository method lists). */
export async function dumpBoth(pair: Pair, table: 'inbox' | 'outbox' | 'deliveryAttempts'): Promise<[unknown[], unknown[]]> {
  const s = { inbox: sqliteSchema.inbox, outbox: sqliteSchema.outbox, deliveryAttempts: sqliteSchema.deliveryAttempts }[table];
  const p = { inbox: pgSchema.inbox, outbox: pgSchema.outbox, deliveryAttempts: pgSchema.deliveryAttempts }[table];
  const a = pair.sqlite.db.select().from(s).orderBy(s.id).all();
  const b = await pair.postgres.db.select().from(p).orderBy(p.id);
  return [a, b];
}
