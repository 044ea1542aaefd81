/**
 * Differential conformance of the referrals, referral asks, referral links, product milestones
 * and referrer webhook endpoints repositories: each scenario runs the same calls on a fresh SQLite
 * store and on the PostgreSQL store, and both must answer alike (ids the stores make themselves
 * are compared by where they appear, not by value) and as expected.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../../../src/store/contract.ts';
import { createStore } from '../../../../src/store/index.ts';
import { openPostgres, closePostgres, type Db as PgDb } from '../../../../src/store/postgres/db.ts';
import { sqlState } from '../../../../src/store/postgres/query.ts';
import * as pgSchema from '../../../../src/store/postgres/schema.ts';
import type { Db as SqliteDb } from '../../../../src/store/db.ts';
import * as sqliteSchema from '../../../../src/store/schema.ts';
import { scratchPostgresStore } from '../../../support/postgres.ts';
import { cipher, createTestDb } from '../../notify/fixtures.ts';

type OutboxStatus = 'pending' | 'sending' | 'delivered' | 'failed' | 'suppressed' | 'cancelled';

/** What a scenario gets on each side: the store, and the rows it cannot make through its repositories. */
interface Side {
  name: 'sqlite' | 'postgres';
  store: Store;
  /** Installation ids, the same on both sides; each with its default program `prg_<id>`. */
  inst: string;
  other: string;
  /** A name unique to this scenario (the PostgreSQL database is shared by the file's tests). */
  u: (name: string) => string;
  addOutbox(row: { referrerId: string; endpointId: string; status: OutboxStatus; key: string }): Promise<void>;
  outboxStatuses(): Promise<{ key: string; status: string; lastError: string | null }[]>;
}

let pg: Store & { url: string };
let pgDb: PgDb;
let scenarios = 0;

beforeAll(async () => {
  pg = await scratchPostgresStore();
  pgDb = openPostgres(pg.url, { poolSize: 2 });
});

afterAll(async () => {
  if (pgDb) await closePostgres(pgDb);
  await pg?.close();
});

const installationRow = (id: string) => ({
  id,
  crm: 'hubspot' as const,
  accountId: id,
  status: 'active' as const,
  scopes: [],
  accessTokenEnc: cipher.encrypt('token'),
  settings: {},
  updatedAt: '2025-01-01T00:00:00.000Z',
});

function sqliteSide(db: SqliteDb, ids: { inst: string; other: string; suffix: string }): Side {
  for (const id of [ids.inst, ids.other]) {
    db.insert(sqliteSchema.installations).values(installationRow(id)).run();
    db.insert(sqliteSchema.programs)
      .values({ id: `prg_${id}`, installationId: id, isDefault: true })
      .run();
  }
  const store = createStore(db, cipher);
  return {
    name: 'sqlite',
    store,
    inst: ids.inst,
    other: ids.other,
    u: (name) => `${name}_${ids.suffix}`,
    async addOutbox(row) {
      db.insert(sqliteSchema.outbox).values(outboxRow(ids.inst, row)).run();
    },
    async outboxStatuses() {
      return db
        .select({ key: sqliteSchema.outbox.deliveryKey, status: sqliteSchema.outbox.status, lastError: sqliteSchema.outbox.lastError })
        .from(sqliteSchema.outbox)
        .where(eq(sqliteSchema.outbox.installationId, ids.inst))
        .orderBy(sqliteSchema.outbox.deliveryKey)
        .all();
    },
  };
}

async function postgresSide(ids: { inst: string; other: string; suffix: string }): Promise<Side> {
  for (const id of [ids.inst, ids.other]) {
    await pgDb.insert(pgSchema.installations).values(installationRow(id));
    await pgDb.insert(pgSchema.programs).values({ id: `prg_${id}`, installationId: id, isDefault: true });
  }
  return {
    name: 'postgres',
    store: pg,
    inst: ids.inst,
    other: ids.other,
    u: (name) => `${name}_${ids.suffix}`,
    async addOutbox(row) {
      await pgDb.insert(pgSchema.outbox).values(outboxRow(ids.inst, row));
    },
    async outboxStatuses() {
      return await pgDb
        .select({ key: pgSchema.outbox.deliveryKey, status: pgSchema.outbox.status, lastError: pgSchema.outbox.lastError })
        .from(pgSchema.outbox)
        .where(eq(pgSchema.outbox.installationId, ids.inst))
        .orderBy(pgSchema.outbox.deliveryKey);
    },
  };
}

function outboxRow(installationId: string, row: { referrerId: string; endpointId: string; status: OutboxStatus; key: string }) {
  return {
    installationId,
    referrerId: row.referrerId,
    channel: 'webhook' as const,
    topic: 'referral.accepted',
    deliveryKey: row.key,
    payload: { endpointId: row.endpointId, body: { amount: 2500000 } },
    status: row.status,
    nextAttemptAt: '2025-01-01T00:00:00.000Z',
  };
}

/**
 * Ids the stores make (referrers, attributions, asks) become `rfr#1`, `att#2`…, numbered where
 * they first appear; access keys become their length; an instant the database stamped itself
 * (within the last hour) becomes `<now>`. Everything else is compared as it is.
 */
function normalize(value: unknown): unknown {
  const seen = new Map<string, string>();
  const recent = Date.now() - 3_600_000;
  const walk = (v: unknown, key?: string): unknown => {
    if (typeof v === 'string') {
      const made = /^(rfr|att|ask)_[0-9a-f]{20}$/.exec(v);
      if (made) {
        if (!seen.has(v)) seen.set(v, `${made[1]}#${seen.size + 1}`);
        return seen.get(v);
      }
      if (key === 'accessKey') return `key:${v.length}`;
      if (key === 'createdAt' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(v) && Date.parse(v) > recent) return '<now>';
      return v;
    }
    if (Array.isArray(v)) return v.map((item) => walk(item));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, k)]));
    return v;
  };
  return walk(value);
}

/**
 * Runs the scenario on a fresh SQLite store and on the PostgreSQL store, each with the same two
 * new installations; asserts both results are equal once normalized and returns it.
 */
async function both<T>(scenario: (side: Side) => Promise<T>): Promise<T> {
  const n = ++scenarios;
  const ids = { inst: `inst_${n}_${randomUUID().slice(0, 8)}`, other: `inst_${n}_other_${randomUUID().slice(0, 8)}`, suffix: `${n}` };
  const sqlite = normalize(await scenario(sqliteSide(createTestDb(), ids))) as T;
  const postgres = normalize(await scenario(await postgresSide(ids))) as T;
  expect(postgres).toEqual(sqlite);
  return sqlite;
}

/** What a call's promise settled as: a value, or that it was refused. */
async function settled<T>(promise: Promise<T>): Promise<{ ok: T } | { refused: true }> {
  try {
    return { ok: await promise };
  } catch {
    return { refused: true };
  }
}

const referrerValues = (installationId: string, email: string, createdAt: string, extra: Record<string, unknown> = {}) => ({
  installationId,
  email,
  name: `Name of ${email}`,
  type: 'partner' as const,
  createdAt,
  ...extra,
});

function referralValues(
  s: Side,
  id: string,
  referrerId: string,
  submittedAt: string,
  extra: Partial<Parameters<Store['referrals']['insert']>[0]> = {},
): Parameters<Store['referrals']['insert']>[0] {
  const email = `${id}@example.test`;
  return {
    id: s.u(id),
    installationId: s.inst,
    referrerId,
    programId: `prg_${s.inst}`,
    programVersion: 1,
    status: 'submitted',
    refereeEmail: email,
    refereeEmailKey: email,
    refereeFirstName: 'Jordan',
    refereeLastName: id,
    refereeCompany: null,
    submittedByKind: 'referrer',
    verdict: { ok: true, reasons: ['fresh'], nested: { amount: 1234567 } },
    submittedAt,
    updatedAt: submittedAt,
    ...extra,
  };
}

/** A scenario's id as the last scenario run named it (see Side.u). */
const u = (id: string) => `${id}_${scenarios}`;

const at = (minute: number) => `2025-03-01T10:${String(minute).padStart(2, '0')}:00.000Z`;

describe('referrals: referrers', () => {
  it('inserts, finds by email and id, lists oldest first, updates, and refuses a second referrer with the same email', async () => {
    const result = await both(async (s) => {
      const r = s.store.referrals;
      const late = await r.insertReferrer(referrerValues(s.inst, 'late@x.test', at(30), { company: 'Late Co', tier: 'gold' }));
      const early = await r.insertReferrer(referrerValues(s.inst, 'early@x.test', at(10)));
      await r.insertReferrer(referrerValues(s.other, 'early@x.test', at(5)));
      await r.updateReferrer(early.id, { payoutEmail: 'pay@x.test', digest: true, emailOptOut: true, company: null });
      return {
        late,
        byEmail: await r.referrerByEmail(s.inst, 'early@x.test'),
        missingEmail: (await r.referrerByEmail(s.inst, 'nobody@x.test')) ?? null,
        otherInstallation: (await r.referrerByEmail(s.other, 'late@x.test')) ?? null,
        byId: await r.referrer(late.id),
        missingId: (await r.referrer('rfr_00000000000000000000')) ?? null,
        list: (await r.listReferrers(s.inst)).map((x) => x.email),
        emptyList: await r.listReferrers('inst_none'),
        duplicate: await settled(r.insertReferrer(referrerValues(s.inst, 'late@x.test', at(40)))),
      };
    });
    expect(result.late).toMatchObject({
      email: 'late@x.test',
      company: 'Late Co',
      tier: 'gold',
      digest: false,
      emailOptOut: false,
      accessKey: 'key:32',
    });
    expect(result.byEmail).toMatchObject({ payoutEmail: 'pay@x.test', digest: true, emailOptOut: true, company: null, createdAt: at(10) });
    expect(result.missingEmail).toBeNull();
    expect(result.otherInstallation).toBeNull();
    expect(result.missingId).toBeNull();
    expect(result.list).toEqual(['early@x.test', 'late@x.test']);
    expect(result.emptyList).toEqual([]);
    expect(result.duplicate).toEqual({ refused: true });
  });
});

describe('referrals: referrals', () => {
  it('inserts and reads JSON, nulls and statuses; finds by domain, by prior email or domain, by referrer; updates', async () => {
    const result = await both(async (s) => {
      const r = s.store.referrals;
      const rf = await r.insertReferrer(referrerValues(s.inst, 'rf@x.test', at(0)));
      const rf2 = await r.insertReferrer(referrerValues(s.inst, 'rf2@x.test', at(1)));
      const inserted = await r.insert(
        referralValues(s, 'a', rf.id, at(20), {
          refereeDomain: 'acme.test',
          linkEvidence: { via: 'link', code: 'ABCDxyz', visitedAt: at(19) },
          notes: 'naïve — ünïcode ✓',
        }),
      );
      await r.insert(referralValues(s, 'b', rf.id, at(10), { refereeDomain: 'acme.test', refereeEmailKey: 'same@key.test' }));
      await r.insert(referralValues(s, 'c', rf2.id, at(10), { refereeEmailKey: 'same@key.test' }));
      await r.insert(referralValues(s, 'd', rf2.id, at(5), { refereeDomain: 'other.test' }));
      await r.setStatus(s.u('d'), 'accepted', new Date(at(40)));
      await r.update(s.u('c'), { crmPersonType: 'contact', crmPersonId: '77', verdict: { ok: false, reasons: [] }, notes: null });
      return {
        inserted,
        missing: (await r.get('ref_missing')) ?? null,
        byDomain: (await r.byDomain(s.inst, 'acme.test')).map((x) => x.id).sort(),
        byDomainOther: await r.byDomain(s.other, 'acme.test'),
        priorEmailOnly: (await r.priorFor(s.inst, 'same@key.test', null)).map((x) => x.id),
        priorEmailOrDomain: (await r.priorFor(s.inst, 'same@key.test', 'acme.test')).map((x) => x.id),
        priorDomainHitsEmailToo: (await r.priorFor(s.inst, `${s.u('a')}@example.test`, 'acme.test')).map((x) => x.id),
        priorNone: await r.priorFor(s.inst, 'nobody@x.test', 'none.test'),
        byReferrer: (await r.byReferrer(rf2.id)).map((x) => x.id),
        d: await r.get(s.u('d')),
        c: await r.get(s.u('c')),
      };
    });
    expect(result.inserted).toMatchObject({
      verdict: { ok: true, reasons: ['fresh'], nested: { amount: 1234567 } },
      linkEvidence: { via: 'link', code: 'ABCDxyz', visitedAt: at(19) },
      notes: 'naïve — ünïcode ✓',
      refereeCompany: null,
      crmSyncedAt: null,
    });
    expect(result.missing).toBeNull();
    expect(result.byDomain).toEqual([u('a'), u('b')]);
    expect(result.byDomainOther).toEqual([]);
    expect(result.priorEmailOnly).toEqual([u('b'), u('c')]);
    expect(result.priorEmailOrDomain).toEqual([u('b'), u('c'), u('a')]);
    expect(result.priorDomainHitsEmailToo).toEqual([u('b'), u('a')]);
    expect(result.priorNone).toEqual([]);
    expect(result.byReferrer).toEqual([u('d'), u('c')]);
    expect(result.d).toMatchObject({ status: 'accepted', updatedAt: at(40) });
    expect(result.c).toMatchObject({ crmPersonType: 'contact', crmPersonId: '77', verdict: { ok: false, reasons: [] }, notes: null });
  });

  it('counts by status, and lists unsynced open referrals oldest first up to the limit', async () => {
    const result = await both(async (s) => {
      const r = s.store.referrals;
      const rf = await r.insertReferrer(referrerValues(s.inst, 'rf@x.test', at(0)));
      const statuses = ['accepted', 'contacted', 'qualified', 'in_sales_process', 'submitted', 'accepted', 'rejected'] as const;
      for (const [i, status] of statuses.entries()) await r.insert(referralValues(s, `r${i}`, rf.id, at(50 - i * 5), { status }));
      await r.update(s.u('r1'), { crmSyncedAt: at(55) });
      const otherRf = await r.insertReferrer(referrerValues(s.other, 'rf@x.test', at(0)));
      await r.insert({
        ...referralValues(s, 'o', otherRf.id, at(1)),
        installationId: s.other,
        programId: `prg_${s.other}`,
        status: 'accepted',
      });
      return {
        counts: await r.countsByStatus([s.inst]),
        countsBoth: await r.countsByStatus([s.inst, s.other]),
        countsNone: await r.countsByStatus([]),
        unsynced: (await r.unsynced(s.inst, 10)).map((x) => x.id),
        unsyncedTwo: (await r.unsynced(s.inst, 2)).map((x) => x.id),
      };
    });
    expect(result.counts).toEqual([
      { status: 'accepted', count: 2 },
      { status: 'contacted', count: 1 },
      { status: 'in_sales_process', count: 1 },
      { status: 'qualified', count: 1 },
      { status: 'rejected', count: 1 },
      { status: 'submitted', count: 1 },
    ]);
    expect(result.countsBoth.find((c) => c.status === 'accepted')?.count).toBe(3);
    expect(result.countsNone).toEqual([]);
    expect(result.unsynced).toEqual([u('r5'), u('r3'), u('r2'), u('r0')]);
    expect(result.unsyncedTwo).toEqual([u('r5'), u('r3')]);
  });
});

describe('referrals: list', () => {
  it('pages newest first through ties on submittedAt with cursors, and filters by status, referrer, type and search', async () => {
    const result = await both(async (s) => {
      const r = s.store.referrals;
      const partner = await r.insertReferrer(referrerValues(s.inst, 'pia@partner.test', at(0), { name: 'Pia PARTNER', company: 'Big_Co' }));
      const customer = await r.insertReferrer(referrerValues(s.inst, 'cy@cust.test', at(1), { name: 'Cy Élan', type: 'customer' }));
      const otherRf = await r.insertReferrer(referrerValues(s.other, 'pia@partner.test', at(0), { name: 'Pia PARTNER' }));
      // Three share one instant: the cursor must break the tie by id.
      const rows: [string, string, string, Record<string, unknown>][] = [
        ['m1', partner.id, at(30), { refereeFirstName: 'Maria', refereeLastName: 'Gómez', refereeCompany: 'ACME 100%' }],
        ['m2', partner.id, at(30), { status: 'accepted', refereeCompany: 'Widgets' }],
        ['m3', customer.id, at(30), { refereeEmail: 'ÉMILE@Example.TEST', refereeCompany: null }],
        ['m4', customer.id, at(20), { refereeFirstName: null, refereeLastName: 'Solo', refereeCompany: 'a_b' }],
        ['m5', partner.id, at(40), { status: 'accepted' }],
        ['m6', customer.id, at(10), {}],
      ];
      for (const [id, rfId, when, extra] of rows) await r.insert(referralValues(s, id, rfId, when, extra));
      await r.insert({ ...referralValues(s, 'o1', otherRf.id, at(35)), installationId: s.other, programId: `prg_${s.other}` });

      const pages: string[][] = [];
      const cursors: (string | null)[] = [];
      let cursor: [string, string] | undefined;
      for (let i = 0; i < 5; i++) {
        const page = await r.list({ installationIds: [s.inst], limit: 2, cursor });
        pages.push(page.items.map((x) => x.id));
        cursors.push(page.nextCursor);
        if (!page.nextCursor) break;
        cursor = JSON.parse(Buffer.from(page.nextCursor, 'base64url').toString('utf8')) as [string, string];
      }
      const ids = async (filter: Partial<Parameters<Store['referrals']['list']>[0]>) =>
        (await r.list({ installationIds: [s.inst], limit: 50, ...filter })).items.map((x) => x.id);
      return {
        pages,
        cursors,
        both: await ids({ installationIds: [s.inst, s.other] }),
        none: await r.list({ installationIds: [], limit: 10 }),
        accepted: await ids({ status: 'accepted' }),
        byReferrer: await ids({ referrerId: customer.id }),
        customers: await ids({ referrerType: 'customer' }),
        partnersAccepted: await ids({ referrerType: 'partner', status: 'accepted' }),
        searchFullName: await ids({ search: 'MARIA gómez' }),
        searchAsciiFold: await ids({ search: 'example.test' }),
        searchNonAscii: await ids({ search: 'émile' }),
        searchNonAsciiSameCase: await ids({ search: 'ÉMILE' }),
        searchPercent: await ids({ search: '100%' }),
        searchUnderscore: await ids({ search: 'a_b' }),
        searchReferrerName: await ids({ search: 'partner' }),
        searchReferrerCompany: await ids({ search: 'big_co' }),
        searchReferrerNonAscii: await ids({ search: 'élan' }),
        searchNothing: await ids({ search: 'zzz' }),
        lastName: await ids({ search: ' solo' }),
        exactLimit: await r.list({ installationIds: [s.inst], limit: 6 }),
      };
    });
    expect(result.pages).toEqual([
      [u('m5'), u('m3')],
      [u('m2'), u('m1')],
      [u('m4'), u('m6')],
    ]);
    expect(result.cursors[2]).toBeNull();
    expect(result.both).toEqual([u('m5'), u('o1'), u('m3'), u('m2'), u('m1'), u('m4'), u('m6')]);
    expect(result.none).toEqual({ items: [], nextCursor: null });
    expect(result.accepted).toEqual([u('m5'), u('m2')]);
    expect(result.byReferrer).toEqual([u('m3'), u('m4'), u('m6')]);
    expect(result.customers).toEqual([u('m3'), u('m4'), u('m6')]);
    expect(result.partnersAccepted).toEqual([u('m5'), u('m2')]);
    expect(result.searchFullName).toEqual([u('m1')]);
    // SQLite's lower() folds ASCII only: "ÉMILE@Example.TEST" still matches on its ASCII part.
    expect(result.searchAsciiFold).toContain(u('m3'));
    expect(result.searchNonAscii).toEqual([]);
    expect(result.searchNonAsciiSameCase).toEqual([]);
    expect(result.searchPercent).toEqual([u('m1')]);
    expect(result.searchUnderscore).toEqual([u('m4')]);
    expect(result.searchReferrerName).toEqual([u('m5'), u('m2'), u('m1')]);
    expect(result.searchReferrerCompany).toEqual([u('m5'), u('m2'), u('m1')]);
    // "Élan" keeps its É under SQLite's lower(), so the lower-cased "élan" finds nothing on either store.
    expect(result.searchReferrerNonAscii).toEqual([]);
    expect(result.searchNothing).toEqual([]);
    expect(result.lastName).toEqual([u('m4')]);
    expect(result.exactLimit.items).toHaveLength(6);
    expect(result.exactLimit.nextCursor).toBeNull();
  });
});

describe('referrals: timeline, CRM links and attributions', () => {
  it('appends events once per key and reads the timeline in order', async () => {
    const result = await both(async (s) => {
      const r = s.store.referrals;
      const rf = await r.insertReferrer(referrerValues(s.inst, 'rf@x.test', at(0)));
      await r.insert(referralValues(s, 'a', rf.id, at(1)));
      const event = (key: string, toStatus: 'accepted' | 'contacted', fromStatus?: 'submitted' | 'accepted') => ({
        referralId: s.u('a'),
        fromStatus,
        toStatus,
        reasons: ['rule:ok', `key ${key}`],
        source: 'crm',
        idempotencyKey: s.u(key),
        occurredAt: at(2),
      });
      return {
        first: await r.addEvent(event('k1', 'accepted', 'submitted')),
        replay: await r.addEvent(event('k1', 'contacted', 'accepted')),
        second: await r.addEvent(event('k2', 'contacted')),
        // Several at once: replays among them answer false, the new ones land in the order given.
        several: await r.addEvents([event('k3', 'accepted', 'submitted'), event('k1', 'accepted'), event('k4', 'contacted', 'accepted')]),
        none: await r.addEvents([]),
        timeline: (await r.timeline(s.u('a'))).map(({ id: _id, ...rest }) => rest),
        empty: await r.timeline('ref_missing'),
      };
    });
    expect(result).toMatchObject({ first: true, replay: false, second: true, several: [true, false, true], none: [], empty: [] });
    expect(result.timeline).toEqual([
      expect.objectContaining({ fromStatus: 'submitted', toStatus: 'accepted', reasons: ['rule:ok', 'key k1'] }),
      expect.objectContaining({ fromStatus: null, toStatus: 'contacted' }),
      expect.objectContaining({ fromStatus: 'submitted', toStatus: 'accepted', reasons: ['rule:ok', 'key k3'] }),
      expect.objectContaining({ fromStatus: 'accepted', toStatus: 'contacted', reasons: ['rule:ok', 'key k4'] }),
    ]);
  });

  it('links records once, finds referrals linked to many records by type and id, and open referrals without a deal', async () => {
    const result = await both(async (s) => {
      const r = s.store.referrals;
      const rf = await r.insertReferrer(referrerValues(s.inst, 'rf@x.test', at(0)));
      for (const [id, when, status] of [
        ['c', at(3), 'accepted'],
        ['a', at(1), 'contacted'],
        ['b', at(2), 'qualified'],
        ['d', at(4), 'submitted'],
      ] as const)
        await r.insert(referralValues(s, id, rf.id, when, { status }));
      const otherRf = await r.insertReferrer(referrerValues(s.other, 'rf@x.test', at(0)));
      await r.insert({ ...referralValues(s, 'o', otherRf.id, at(1)), installationId: s.other, programId: `prg_${s.other}` });
      await r.link(s.inst, s.u('a'), 'contact', '101');
      await r.link(s.inst, s.u('a'), 'contact', '101');
      await r.link(s.inst, s.u('a'), 'company', '900');
      await r.link(s.inst, s.u('b'), 'contact', '102');
      await r.link(s.inst, s.u('b'), 'deal', '7');
      await r.link(s.inst, s.u('c'), 'lead', '101');
      await r.link(s.other, s.u('o'), 'contact', '101');
      const many = Array.from({ length: 3000 }, (_, i) => String(10_000 + i));
      return {
        linksA: (await r.links(s.u('a'))).sort((x, y) => x.objectType.localeCompare(y.objectType)),
        linksNone: await r.links('ref_missing'),
        linked: (
          await r.linkedTo(s.inst, [
            { objectType: 'contact', ids: ['101', '102', '103'] },
            { objectType: 'company', ids: ['900'] },
            { objectType: 'deal', ids: ['7'] },
          ])
        ).map((x) => x.id),
        leadOnly: (await r.linkedTo(s.inst, [{ objectType: 'lead', ids: ['101'] }])).map((x) => x.id),
        otherInstallation: (await r.linkedTo(s.other, [{ objectType: 'contact', ids: ['101'] }])).map((x) => x.id),
        manyRecords: (await r.linkedTo(s.inst, [{ objectType: 'contact', ids: [...many, '102'] }])).map((x) => x.id),
        noRecords: await r.linkedTo(s.inst, []),
        noIds: await r.linkedTo(s.inst, [{ objectType: 'deal', ids: [] }]),
        fullRow: (await r.linkedTo(s.inst, [{ objectType: 'lead', ids: ['101'] }]))[0],
        eachLink: (
          await r.linksWithReferrals(s.inst, [
            { objectType: 'contact', ids: ['101', '102', '103', ...many] },
            { objectType: 'company', ids: ['900'] },
            { objectType: 'deal', ids: ['7'] },
          ])
        ).map((x) => `${x.referral.id} ${x.objectType}:${x.objectId}`),
        eachLinkOtherInstallation: (await r.linksWithReferrals(s.other, [{ objectType: 'contact', ids: ['101'] }])).map(
          (x) => x.referral.id,
        ),
        eachLinkFullRow: (await r.linksWithReferrals(s.inst, [{ objectType: 'lead', ids: ['101'] }]))[0],
        eachLinkNone: await r.linksWithReferrals(s.inst, [{ objectType: 'deal', ids: [] }]),
        openWithoutDeal: (await r.openWithoutDeal(s.inst, at(4))).map((x) => x.id).sort(),
        openBeforeEarliest: await r.openWithoutDeal(s.inst, at(1)),
      };
    });
    expect(result.linksA).toEqual([
      { objectType: 'company', objectId: '900' },
      { objectType: 'contact', objectId: '101' },
    ]);
    expect(result.linksNone).toEqual([]);
    expect(result.linked).toEqual([u('a'), u('b')]);
    expect(result.leadOnly).toEqual([u('c')]);
    expect(result.otherInstallation).toEqual([u('o')]);
    expect(result.manyRecords).toEqual([u('b')]);
    expect(result.noRecords).toEqual([]);
    expect(result.noIds).toEqual([]);
    expect(result.fullRow).toMatchObject({ id: u('c'), status: 'accepted', verdict: { ok: true } });
    expect(result.eachLink).toEqual([`${u('a')} company:900`, `${u('a')} contact:101`, `${u('b')} contact:102`, `${u('b')} deal:7`]);
    expect(result.eachLinkOtherInstallation).toEqual([u('o')]);
    expect(result.eachLinkFullRow).toEqual({ objectType: 'lead', objectId: '101', referral: result.fullRow });
    expect(result.eachLinkNone).toEqual([]);
    expect(result.openWithoutDeal).toEqual([u('a'), u('c')]);
    expect(result.openBeforeEarliest).toEqual([]);
  });

  it('records attributions with JSON evidence, lists them by referral and active by deal, and reverses them', async () => {
    const result = await both(async (s) => {
      const r = s.store.referrals;
      const rf = await r.insertReferrer(referrerValues(s.inst, 'rf@x.test', at(0)));
      await r.insert(referralValues(s, 'a', rf.id, at(1)));
      await r.insert(referralValues(s, 'b', rf.id, at(2)));
      const attribution = (referral: string, dealId: string, sharePpm: number) => ({
        installationId: s.inst,
        dealId,
        referralId: s.u(referral),
        referrerId: rf.id,
        model: 'first_touch',
        sharePpm,
        role: 'sourced' as const,
        evidence: { amountCents: 2_500_000, currency: 'EUR', touches: [{ at: at(1), via: 'email' }] },
        reasons: ['first referral of the account'],
        status: 'active' as const,
      });
      const first = await r.insertAttribution(attribution('a', 'deal-1', 600_000));
      const second = await r.insertAttribution(attribution('b', 'deal-1', 400_000));
      await r.insertAttribution(attribution('a', 'deal-2', 1_000_000));
      const beforeReversal = (await r.activeAttributionsForDeal(s.inst, 'deal-1')).map((x) => x.sharePpm).sort();
      await r.reverseAttribution(first.id, 'deal reopened', new Date(at(9)));
      return {
        first,
        secondReferrer: second.referrerId,
        beforeReversal,
        afterReversal: (await r.activeAttributionsForDeal(s.inst, 'deal-1')).map((x) => x.referralId),
        otherInstallation: await r.activeAttributionsForDeal(s.other, 'deal-1'),
        ofA: (await r.attributionsForReferral(s.u('a'))).map((x) => [x.dealId, x.status, x.reversedAt, x.reversalReason]).sort(),
        ofNone: await r.attributionsForReferral('ref_missing'),
      };
    });
    expect(result.first).toMatchObject({
      id: 'att#1',
      createdAt: '<now>',
      evidence: { amountCents: 2_500_000, currency: 'EUR', touches: [{ at: at(1), via: 'email' }] },
      reasons: ['first referral of the account'],
      reversedAt: null,
    });
    expect(result.beforeReversal).toEqual([400_000, 600_000]);
    expect(result.afterReversal).toEqual([u('b')]);
    expect(result.otherInstallation).toEqual([]);
    expect(result.ofA).toEqual([
      ['deal-1', 'reversed', at(9), 'deal reopened'],
      ['deal-2', 'active', null, null],
    ]);
    expect(result.ofNone).toEqual([]);
  });
});

describe('referral asks', () => {
  it('inserts, finds by id and key, picks the latest automatic ask sent, counts, and refuses a reused key', async () => {
    const result = await both(async (s) => {
      const a = s.store.referralAsks;
      const ask = (
        key: string,
        trigger: 'manual' | 'automatic' | 'milestone',
        status: 'sent' | 'refused',
        createdAt: string,
        companyId = 'co-1',
      ) => ({
        installationId: s.inst,
        companyId,
        companyName: 'Acme',
        championType: 'contact' as const,
        championId: '55',
        championEmail: 'champ@acme.test',
        championName: null,
        referrerId: null,
        askedByName: 'Rep',
        askedByEmail: 'rep@vendor.test',
        message: null,
        trigger,
        status,
        refusal: status === 'refused' ? 'too soon' : null,
        reasons: status === 'refused' ? ['period', 'opt-out'] : [],
        idempotencyKey: key,
        createdAt,
      });
      const auto = await a.insert(ask('k1', 'automatic', 'sent', at(10)));
      await a.insert(ask('k2', 'milestone', 'sent', at(20)));
      await a.insert(ask('k3', 'manual', 'sent', at(30)));
      await a.insert(ask('k4', 'automatic', 'refused', at(40)));
      await a.insert(ask('k5', 'automatic', 'sent', at(50), 'co-2'));
      await a.insert({ ...ask('k1', 'manual', 'sent', at(5)), installationId: s.other });
      const r = s.store.referrals;
      const rf = await r.insertReferrer(referrerValues(s.inst, 'rf@x.test', at(0)));
      await r.insert(referralValues(s, 'fromAsk', rf.id, at(11), { askId: auto.id }));
      await r.insert(referralValues(s, 'plain', rf.id, at(12)));
      return {
        auto,
        get: await a.get(auto.id),
        getMissing: (await a.get('ask_00000000000000000000')) ?? null,
        byKey: (await a.byKey(s.inst, 'k4'))?.status,
        byKeyOther: (await a.byKey(s.other, 'k1'))?.trigger,
        byKeyMissing: (await a.byKey(s.inst, 'k9')) ?? null,
        lastAuto: (await a.lastAutomaticSent(s.inst, 'co-1'))?.idempotencyKey,
        lastAutoOtherCompany: (await a.lastAutomaticSent(s.inst, 'co-2'))?.idempotencyKey,
        lastAutoNone: (await a.lastAutomaticSent(s.other, 'co-1')) ?? null,
        counts: await a.counts([s.inst]),
        countsBoth: await a.counts([s.inst, s.other]),
        countsNone: await a.counts([]),
        reused: await settled(a.insert(ask('k2', 'manual', 'sent', at(59)))),
      };
    });
    expect(result.auto).toMatchObject({ id: 'ask#1', reasons: [], refusal: null, championName: null, createdAt: at(10) });
    expect(result.get).toEqual(result.auto);
    expect(result.getMissing).toBeNull();
    expect(result.byKey).toBe('refused');
    expect(result.byKeyOther).toBe('manual');
    expect(result.byKeyMissing).toBeNull();
    expect(result.lastAuto).toBe('k2');
    expect(result.lastAutoOtherCompany).toBe('k5');
    expect(result.lastAutoNone).toBeNull();
    expect(result.counts).toEqual({ sent: 4, refused: 1, referralsFromAsks: 1 });
    expect(result.countsBoth).toEqual({ sent: 5, refused: 1, referralsFromAsks: 1 });
    expect(result.countsNone).toEqual({ sent: 0, refused: 0, referralsFromAsks: 0 });
    expect(result.reused).toEqual({ refused: true });
  });
});

describe('referral links', () => {
  it('makes, finds, revokes and counts links and visits, and tells tags apart by installation', async () => {
    const n = scenarios + 1;
    const tag = `T${String(n).padStart(3, '0')}`;
    const otherTag = `U${String(n).padStart(3, '0')}`;
    const result = await both(async (s) => {
      const l = s.store.referralLinks;
      const r = s.store.referrals;
      const rf = await r.insertReferrer(referrerValues(s.inst, 'rf@x.test', at(0)));
      const otherRf = await r.insertReferrer(referrerValues(s.other, 'rf@x.test', at(0)));
      const before = { tagOf: (await l.tagOf(s.inst)) ?? null, taken: await l.tagTaken(tag, s.other) };
      const first = await l.insert({
        code: `${tag}first`,
        installationId: s.inst,
        referrerId: rf.id,
        programId: `prg_${s.inst}`,
        landingUrl: null,
        createdAt: at(1),
      });
      await l.revoke(first.code, at(2));
      const second = await l.insert({
        code: `${tag}second`,
        installationId: s.inst,
        referrerId: rf.id,
        programId: `prg_${s.inst}`,
        landingUrl: 'https://acme.test/landing?x=1',
        createdAt: at(2),
      });
      await l.insert({
        code: `${otherTag}other`,
        installationId: s.other,
        referrerId: otherRf.id,
        programId: `prg_${s.other}`,
        landingUrl: null,
        createdAt: at(3),
      });
      for (const [minute, visitor] of [
        [5, 'v1'],
        [7, 'v2'],
        [9, 'v1'],
      ] as const)
        await l.recordVisit({
          code: second.code,
          visitorKey: visitor,
          utm: { utm_source: 'mail', utm_campaign: 'spring' },
          visitedAt: at(minute),
        });
      await l.recordVisit({ code: first.code, visitorKey: 'v3', utm: {}, visitedAt: at(1) });
      const evidence = (code: string) => ({ via: 'link' as const, code, visitedAt: at(5) });
      await r.insert(referralValues(s, 'x', rf.id, at(6), { linkEvidence: evidence(second.code) }));
      await r.insert(referralValues(s, 'y', rf.id, at(8), { linkEvidence: evidence(second.code) }));
      await r.insert(referralValues(s, 'z', rf.id, at(8), { linkEvidence: evidence(first.code) }));
      await r.link(s.inst, s.u('x'), 'deal', '1');
      await r.link(s.inst, s.u('x'), 'deal', '2');
      await r.link(s.inst, s.u('y'), 'contact', '3');
      return {
        before,
        first,
        byCode: await l.byCode(second.code),
        byCodeMissing: (await l.byCode('nope')) ?? null,
        activeFor: (await l.activeFor(rf.id, `prg_${s.inst}`))?.code,
        activeForOtherProgram: (await l.activeFor(rf.id, `prg_${s.other}`)) ?? null,
        allFor: (await l.allFor(rf.id)).map((x) => [x.code, x.revokedAt]),
        activeForNone: (await l.activeFor('rfr_00000000000000000000', `prg_${s.inst}`)) ?? null,
        tagOf: await l.tagOf(s.inst),
        tagTakenByOther: await l.tagTaken(tag, s.other),
        tagTakenBySelf: await l.tagTaken(tag, s.inst),
        tagFree: await l.tagTaken('ZZZZ', s.inst),
        installationOfTag: await l.installationOfTag(tag),
        installationOfUnknownTag: (await l.installationOfTag('ZZZZ')) ?? null,
        latest: await l.latestVisit(second.code, at(8)),
        latestExact: await l.latestVisit(second.code, at(7)),
        latestNone: (await l.latestVisit(second.code, at(4))) ?? null,
        visits: await l.visitCount(second.code),
        visitsNone: await l.visitCount('nope'),
        stats: await l.stats(second.code),
        statsFirst: await l.stats(first.code),
        statsNone: await l.stats('nope'),
        duplicate: await settled(
          l.insert({
            code: second.code,
            installationId: s.inst,
            referrerId: rf.id,
            programId: `prg_${s.inst}`,
            landingUrl: null,
            createdAt: at(9),
          }),
        ),
      };
    });
    expect(result.before).toEqual({ tagOf: null, taken: false });
    expect(result.first).toMatchObject({ code: `${tag}first`, revokedAt: null, landingUrl: null });
    expect(result.byCode).toMatchObject({ landingUrl: 'https://acme.test/landing?x=1', revokedAt: null });
    expect(result.byCodeMissing).toBeNull();
    expect(result.activeFor).toBe(`${tag}second`);
    expect(result.allFor).toEqual([
      [`${tag}second`, null],
      [`${tag}first`, at(2)],
    ]);
    expect(result.activeForNone).toBeNull();
    expect(result.tagOf).toBe(tag);
    expect(result).toMatchObject({ tagTakenByOther: true, tagTakenBySelf: false, tagFree: false, installationOfUnknownTag: null });
    expect(result.installationOfTag).toMatch(/^inst_/);
    expect(result).toMatchObject({ latest: at(7), latestExact: at(7), latestNone: null, visits: 3, visitsNone: 0 });
    expect(result.stats).toEqual({ clicks: 3, signUps: 2, deals: 1 });
    expect(result.statsFirst).toEqual({ clicks: 1, signUps: 1, deals: 0 });
    expect(result.statsNone).toEqual({ clicks: 0, signUps: 0, deals: 0 });
    expect(result.duplicate).toEqual({ refused: true });
  });
});

describe('product milestones', () => {
  it('records milestones once per key, links their ask, and lists a company’s newest first', async () => {
    const result = await both(async (s) => {
      const m = s.store.productMilestones;
      const milestone = (id: string, key: string, occurredAt: string, companyId = 'co-1') => ({
        id: s.u(id),
        installationId: s.inst,
        companyId,
        milestone: 'activated',
        occurredAt,
        contactEmail: key === 'k1' ? 'user@acme.test' : null,
        idempotencyKey: key,
        askId: null,
        createdAt: at(50),
      });
      const first = await m.insert(milestone('ms1', 'k1', at(10)));
      await m.insert(milestone('ms2', 'k2', at(30)));
      await m.insert(milestone('ms3', 'k3', at(20)));
      await m.insert(milestone('ms4', 'k4', at(40), 'co-2'));
      await m.insert({ ...milestone('ms5', 'k1', at(10)), installationId: s.other });
      await m.setAsk(s.u('ms3'), 'ask_123');
      await m.setAsk('ms_missing', 'ask_456');
      return {
        first,
        byKey: await m.byKey(s.inst, 'k3'),
        byKeyOther: (await m.byKey(s.other, 'k1'))?.id,
        byKeyMissing: (await m.byKey(s.inst, 'k9')) ?? null,
        forCompany: (await m.forCompany(s.inst, 'co-1')).map((x) => x.id),
        forUnknown: await m.forCompany(s.inst, 'co-9'),
        duplicate: await settled(m.insert(milestone('ms6', 'k2', at(45)))),
      };
    });
    expect(result.first).toMatchObject({ id: u('ms1'), contactEmail: 'user@acme.test', askId: null, createdAt: at(50) });
    expect(result.byKey).toMatchObject({ id: u('ms3'), askId: 'ask_123' });
    expect(result.byKeyOther).toBe(u('ms5'));
    expect(result.byKeyMissing).toBeNull();
    expect(result.forCompany).toEqual([u('ms2'), u('ms3'), u('ms1')]);
    expect(result.forUnknown).toEqual([]);
    expect(result.duplicate).toEqual({ refused: true });
  });
});

describe('referrer webhook endpoints', () => {
  it('adds, lists, marks failing, disables with their waiting messages, enables and deletes endpoints', async () => {
    const result = await both(async (s) => {
      const e = s.store.referrerWebhookEndpoints;
      const r = s.store.referrals;
      const rf = await r.insertReferrer(referrerValues(s.inst, 'rf@x.test', at(0)));
      const rf2 = await r.insertReferrer(referrerValues(s.inst, 'rf2@x.test', at(0)));
      const endpoint = (id: string, referrerId: string, createdAt: string) => ({
        id: s.u(id),
        installationId: s.inst,
        referrerId,
        url: `https://hooks.test/${id}`,
        secretEnc: 'enc:secret',
        status: 'enabled' as const,
        createdAt,
      });
      const later = await e.insert(endpoint('whe2', rf.id, at(20)));
      const earlier = await e.insert(endpoint('whe1', rf.id, at(10)));
      await e.insert(endpoint('whe3', rf2.id, at(10)));
      await e.setFailingSince(earlier.id, at(30));
      const failing = await e.get(earlier.id);
      await e.setFailingSince(later.id, at(31));
      await e.setFailingSince(later.id, null);
      for (const [key, referrerId, endpointId, status] of [
        ['o1', rf.id, earlier.id, 'pending'],
        ['o2', rf.id, earlier.id, 'delivered'],
        ['o3', rf.id, later.id, 'pending'],
        ['o4', rf2.id, s.u('whe3'), 'pending'],
        ['o5', rf.id, earlier.id, 'pending'],
      ] as const)
        await s.addOutbox({ key: s.u(key), referrerId, endpointId, status });
      await e.disable(earlier, at(30), 'failing for 3 days');
      const disabled = await e.get(earlier.id);
      const outboxAfterDisable = await s.outboxStatuses();
      const enabled = await e.enable(earlier.id);
      await e.delete(later.id);
      return {
        later,
        failing: failing?.failingSince,
        cleared: (await e.get(later.id)) ?? null,
        disabled,
        outboxAfterDisable,
        enabled,
        enableMissing: (await e.enable('whe_missing')) ?? null,
        ofReferrer: (await e.ofReferrer(rf.id)).map((x) => x.id),
        ofNobody: await e.ofReferrer('rfr_none'),
        getMissing: (await e.get('whe_missing')) ?? null,
      };
    });
    expect(result.later).toMatchObject({ id: u('whe2'), status: 'enabled', failingSince: null, disabledReason: null, createdAt: at(20) });
    expect(result.failing).toBe(at(30));
    expect(result.cleared).toBeNull();
    expect(result.disabled).toMatchObject({ status: 'disabled', failingSince: at(30), disabledReason: 'failing for 3 days' });
    expect(result.outboxAfterDisable).toEqual([
      { key: u('o1'), status: 'failed', lastError: 'webhook endpoint disabled' },
      { key: u('o2'), status: 'delivered', lastError: null },
      { key: u('o3'), status: 'pending', lastError: null },
      { key: u('o4'), status: 'pending', lastError: null },
      { key: u('o5'), status: 'failed', lastError: 'webhook endpoint disabled' },
    ]);
    expect(result.enabled).toMatchObject({ id: u('whe1'), status: 'enabled', failingSince: null, disabledReason: null });
    expect(result.enableMissing).toBeNull();
    expect(result.ofReferrer).toEqual([u('whe1')]);
    expect(result.ofNobody).toEqual([]);
    expect(result.getMissing).toBeNull();
  });
});

describe('on PostgreSQL alone: concurrency and transactions', () => {
  it('takes a timeline event and a CRM link once when many callers add them at the same time', async () => {
    const s = await postgresSide({
      inst: `inst_c_${randomUUID().slice(0, 8)}`,
      other: `inst_c2_${randomUUID().slice(0, 8)}`,
      suffix: 'conc',
    });
    const rf = await pg.referrals.insertReferrer(referrerValues(s.inst, 'rf@x.test', at(0)));
    await pg.referrals.insert(referralValues(s, 'a', rf.id, at(1)));
    const key = `evt_${randomBytes(4).toString('hex')}`;
    const added = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        pg.referrals.addEvent({
          referralId: s.u('a'),
          toStatus: 'accepted',
          reasons: [`caller ${i}`],
          source: 'crm',
          idempotencyKey: key,
          occurredAt: at(2),
        }),
      ),
    );
    expect(added.filter(Boolean)).toHaveLength(1);
    expect(await pg.referrals.timeline(s.u('a'))).toHaveLength(1);
    await Promise.all(Array.from({ length: 8 }, () => pg.referrals.link(s.inst, s.u('a'), 'deal', '42')));
    expect(await pg.referrals.links(s.u('a'))).toEqual([{ objectType: 'deal', objectId: '42' }]);

    // Two sign-ups of one email at once: one referrer, the other call refused by the unique key.
    const signUps = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => pg.referrals.insertReferrer(referrerValues(s.inst, 'same@x.test', at(i)))),
    );
    expect(signUps.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const refused of signUps.filter((r) => r.status === 'rejected')) expect(sqlState(refused.reason)).toBe('23505');
    expect((await pg.referrals.listReferrers(s.inst)).filter((r) => r.email === 'same@x.test')).toHaveLength(1);
  });

  it('runs inside the open transaction: a rolled-back one leaves nothing, a committed one everything', async () => {
    const s = await postgresSide({
      inst: `inst_t_${randomUUID().slice(0, 8)}`,
      other: `inst_t2_${randomUUID().slice(0, 8)}`,
      suffix: 'tx',
    });
    const rf = await pg.referrals.insertReferrer(referrerValues(s.inst, 'rf@x.test', at(0)));
    await expect(
      pg.transaction(async () => {
        await pg.referrals.insert(referralValues(s, 'gone', rf.id, at(1)));
        await pg.referrerWebhookEndpoints.insert({
          id: s.u('whe_gone'),
          installationId: s.inst,
          referrerId: rf.id,
          url: 'https://hooks.test/x',
          secretEnc: 'x',
          status: 'enabled',
        });
        expect(await pg.referrals.get(s.u('gone'))).toBeDefined();
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await pg.referrals.get(s.u('gone'))).toBeUndefined();
    expect(await pg.referrerWebhookEndpoints.get(s.u('whe_gone'))).toBeUndefined();

    const endpoint = await pg.transaction(async () => {
      await pg.referrals.insert(referralValues(s, 'kept', rf.id, at(1)));
      const row = await pg.referrerWebhookEndpoints.insert({
        id: s.u('whe_kept'),
        installationId: s.inst,
        referrerId: rf.id,
        url: 'https://hooks.test/y',
        secretEnc: 'y',
        status: 'enabled',
      });
      // disable() opens a savepoint inside the caller's transaction.
      await pg.referrerWebhookEndpoints.disable(row, at(2), 'test');
      return row;
    });
    expect(await pg.referrals.get(s.u('kept'))).toBeDefined();
    expect(await pg.referrerWebhookEndpoints.get(endpoint.id)).toMatchObject({ status: 'disabled', disabledReason: 'test' });
  });
});
