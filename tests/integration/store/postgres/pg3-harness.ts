/**
 * Differential harness for the pg3 repositories (rewards, payouts, deals, deal claims, reports):
 * the same calls on a fresh SQLite store per test and on one PostgreSQL store per file, whose
 * answers must be equal. Prerequisite rows of repositories outside this group (installations,
 * programs, referrers, referrals, attributions, links, timelines, asks) are written with drizzle
 * on both databases, the same values in each.
 *
 * Ids the repositories make (`newId`) are made deterministic by the test file's `vi.mock`, with
 * the counter this file's `both()` rewinds, so both stores give the same ids to the same rows.
 */
import { expect } from 'vitest';
import type { CrmDeal } from '../../../../connectors/connector.ts';
import type { Store } from '../../../../src/store/contract.ts';
import type { Db as LiteDb } from '../../../../src/store/db.ts';
import { createStore } from '../../../../src/store/index.ts';
import { type Db as PgDb, openPostgres } from '../../../../src/store/postgres/db.ts';
import * as pg from '../../../../src/store/postgres/schema.ts';
import * as lite from '../../../../src/store/schema.ts';
import { cipher, createTestDb } from '../../notify/fixtures.ts';
import { scratchPostgresStore } from '../../../support/postgres.ts';

/** The id counter the test file's `newId` mock reads: `${prefix}_${tag}${n}`. */
export interface IdCounter {
  n: number;
  tag: string;
}

// The prerequisite tables, by the same key in both schemas.
const liteTables = {
  installations: lite.installations,
  programs: lite.programs,
  referrers: lite.referrers,
  referrals: lite.referrals,
  attributions: lite.attributions,
  crmLinks: lite.crmLinks,
  referralEvents: lite.referralEvents,
  referralAsks: lite.referralAsks,
};
const pgTables = {
  installations: pg.installations,
  programs: pg.programs,
  referrers: pg.referrers,
  referrals: pg.referrals,
  attributions: pg.attributions,
  crmLinks: pg.crmLinks,
  referralEvents: pg.referralEvents,
  referralAsks: pg.referralAsks,
};
type Tables = keyof typeof liteTables;
type Row<K extends Tables> = (typeof liteTables)[K]['$inferInsert'];

export interface Harness {
  lite: Store;
  pg: Store;
  /** A prefix unique to the running test, for ids it writes itself (the PostgreSQL database is shared by the file). */
  tag: string;
  /** Runs `fn` on SQLite, then on PostgreSQL with the same ids; both answers, normalized. */
  both<T>(fn: (store: Store, side: 'sqlite' | 'postgres') => Promise<T>): Promise<[T, T]>;
  /** Runs `fn` on both and expects equal answers; returns SQLite's (normalized). */
  same<T>(fn: (store: Store, side: 'sqlite' | 'postgres') => Promise<T>): Promise<T>;
  insert<K extends Tables>(table: K, rows: Row<K>[]): Promise<void>;
  /** An installation with its default program `prg_<id>`. */
  installation(id: string): Promise<void>;
}

export interface PgSide {
  store: Store & { url: string };
  db: PgDb;
}

export async function openPgSide(): Promise<PgSide> {
  const store = await scratchPostgresStore();
  return { store, db: openPostgres(store.url, { poolSize: 1 }) };
}

export async function closePgSide(side: PgSide | undefined): Promise<void> {
  if (!side) return;
  await side.db.$client.end();
  await side.store.close();
}

let tests = 0;

/** A harness for one test: a fresh SQLite store and the file's PostgreSQL one. */
export function harness(side: PgSide, ids: IdCounter): Harness {
  const liteDb: LiteDb = createTestDb();
  const lite = createStore(liteDb, cipher);
  const tag = `t${++tests}x`;
  ids.tag = tag;
  ids.n = 0;

  const both: Harness['both'] = async (fn) => {
    const start = ids.n;
    const a = await fn(lite, 'sqlite');
    const end = ids.n;
    ids.n = start;
    const b = await fn(side.store, 'postgres');
    expect(ids.n, 'both stores made as many ids').toBe(end);
    return [normalize(a), normalize(b)];
  };

  const insert: Harness['insert'] = async (table, rows) => {
    if (rows.length === 0) return;
    liteDb
      .insert(liteTables[table])
      .values(rows as never)
      .run();
    await side.db.insert(pgTables[table]).values(rows as never);
  };

  return {
    lite,
    pg: side.store,
    tag,
    both,
    same: async (fn) => {
      const [a, b] = await both(fn);
      expect(b).toEqual(a);
      return a;
    },
    insert,
    installation: async (id) => {
      await insert('installations', [
        {
          id,
          crm: 'hubspot',
          accountId: id,
          status: 'active',
          scopes: [],
          accessTokenEnc: 'enc',
          settings: {},
          updatedAt: '2026-01-01T00:00:00.000Z',
        },
      ]);
      await insert('programs', [{ id: `prg_${id}`, installationId: id, isDefault: true }]);
    },
  };
}

/**
 * Answers as both stores must agree on them: instants each database stamps itself (`createdAt`)
 * and serial ids (each SQLite database starts its own at 1, the shared PostgreSQL one does not)
 * become markers; everything else, money, JSON and nulls included, is compared as it is.
 */
export function normalize<T>(value: T): T {
  const walk = (v: unknown, key?: string): unknown => {
    if (Array.isArray(v)) return v.map((item) => walk(item));
    if (v && typeof v === 'object' && !(v instanceof Date)) {
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, k)]));
    }
    if (key === 'createdAt' && typeof v === 'string') {
      expect(v).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      return '<instant>';
    }
    if ((key === 'id' || key === 'lineId') && typeof v === 'number') return '<serial>';
    return v;
  };
  return walk(value) as T;
}

/** Rows a repository returns in no particular order, sorted for comparison. */
export function unordered<T>(rows: T[]): T[] {
  return [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

export function crmDeal(id: string, over: Partial<CrmDeal> = {}): CrmDeal {
  return {
    id,
    name: `Deal ${id}`,
    pipelineId: 'default',
    stageId: 'closedwon',
    isClosed: true,
    isWon: true,
    amountCents: 1_250_000,
    firstYearValueCents: 1_000_000,
    currency: 'EUR',
    closeDate: '2026-03-01',
    createdAt: '2026-01-05T10:00:00.000Z',
    ownerId: 'owner-1',
    sources: [],
    dealType: 'newbusiness',
    contactIds: ['c1', 'c2'],
    companyIds: ['co1'],
    modifiedAt: '2026-03-01T12:00:00.000Z',
    ...over,
  };
}

/** A referrer and referrals of it, in an installation with its default program. */
export async function referrerWithReferrals(
  h: Harness,
  installationId: string,
  referrerId: string,
  referrals: { id: string; status?: Row<'referrals'>['status']; submittedAt?: string; askId?: string | null }[],
  type: Row<'referrers'>['type'] = 'partner',
): Promise<void> {
  await h.insert('referrers', [
    {
      id: referrerId,
      installationId,
      email: `${referrerId}@example.test`,
      name: `Name ${referrerId}`,
      type,
      company: 'Acme',
      accessKey: `key-${referrerId}`,
    },
  ]);
  await h.insert(
    'referrals',
    referrals.map((r) => ({
      id: r.id,
      installationId,
      referrerId,
      programId: `prg_${installationId}`,
      programVersion: 1,
      status: r.status ?? 'submitted',
      refereeEmail: `${r.id}@referee.test`,
      refereeEmailKey: `${r.id}@referee.test`,
      submittedByKind: 'referrer' as const,
      verdict: { ok: true },
      askId: r.askId ?? null,
      submittedAt: r.submittedAt ?? '2026-02-01T09:00:00.000Z',
      updatedAt: '2026-02-01T09:00:00.000Z',
    })),
  );
}
