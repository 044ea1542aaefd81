/**
 * Programs side by side, on a store written before them (SQLite through 0021, PostgreSQL through
 * 0000): each installation keeps its one program unchanged, every referrer belongs to it, and its
 * referral links and payout runs name it.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { migrate as migrateSqlite } from 'drizzle-orm/better-sqlite3/migrator';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { migrateDb, openDb } from '../../../src/store/db.ts';
import { closePostgres, migratePostgres, openPostgres } from '../../../src/store/postgres/db.ts';
import { scratchDatabase } from '../../support/postgres.ts';

const folder = mkdtempSync(join(tmpdir(), 'referloop-programs-migration-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** A migrations folder as it was at `tag`: the same files, the journal cut after it. */
function migrationsUpTo(dialectFolder: string, tag: string): string {
  const copy = join(folder, tag);
  cpSync(resolve(import.meta.dirname, '../../..', dialectFolder), copy, { recursive: true });
  const journalFile = join(copy, 'meta/_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] };
  journal.entries = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === tag) + 1);
  writeFileSync(journalFile, JSON.stringify(journal));
  return copy;
}

/** Two installations, each with its program (two versions), a referrer, a link and a payout run: as written before. */
const before = [
  `INSERT INTO installations (id, crm, account_id, status, scopes, access_token_enc, settings, updated_at) VALUES
     ('inst_a', 'hubspot', 'a', 'active', '[]', 'x', '{}', '2026-01-01'), ('inst_b', 'hubspot', 'b', 'active', '[]', 'x', '{}', '2026-01-01')`,
  `INSERT INTO programs (id, installation_id, is_default) VALUES ('prg_a', 'inst_a', TRUE), ('prg_b', 'inst_b', TRUE)`,
  `INSERT INTO program_versions (program_id, installation_id, version, settings, created_by) VALUES
     ('prg_a', 'inst_a', 1, '{"name":"A"}', 'install'), ('prg_a', 'inst_a', 2, '{"name":"A2"}', 'admin'),
     ('prg_b', 'inst_b', 1, '{"name":"B"}', 'install')`,
  `INSERT INTO referrers (id, installation_id, email, name, type, access_key, created_at) VALUES
     ('rfr_a', 'inst_a', 'r@a.test', 'R', 'partner', 'k1', '2026-01-02T00:00:00.000Z'),
     ('rfr_b', 'inst_b', 'r@b.test', 'R', 'customer', 'k2', '2026-01-03T00:00:00.000Z')`,
  `INSERT INTO referral_links (code, installation_id, referrer_id, landing_url, created_at) VALUES
     ('AAAAcode', 'inst_a', 'rfr_a', NULL, '2026-01-04'), ('BBBBcode', 'inst_b', 'rfr_b', 'https://b.test/', '2026-01-04')`,
  `INSERT INTO referral_link_visits (code, visitor_key, utm, visited_at) VALUES ('AAAAcode', 'v', '{}', '2026-01-05')`,
  `INSERT INTO payout_runs (id, installation_id, status, due_on) VALUES ('pay_a', 'inst_a', 'paid', '2026-02-01')`,
];

async function expectKeptAndNamed(query: (sql: string) => Promise<Record<string, unknown>[]>): Promise<void> {
  expect(await query('SELECT id, installation_id AS inst, is_default AS d FROM programs ORDER BY id')).toEqual([
    { id: 'prg_a', inst: 'inst_a', d: expect.anything() },
    { id: 'prg_b', inst: 'inst_b', d: expect.anything() },
  ]);
  expect(await query('SELECT program_id AS p, version AS v FROM program_versions ORDER BY program_id, version')).toEqual([
    { p: 'prg_a', v: 1 },
    { p: 'prg_a', v: 2 },
    { p: 'prg_b', v: 1 },
  ]);
  expect(
    await query('SELECT program_id AS p, referrer_id AS r, installation_id AS i, created_at AS at FROM referrer_programs ORDER BY p'),
  ).toEqual([
    { p: 'prg_a', r: 'rfr_a', i: 'inst_a', at: '2026-01-02T00:00:00.000Z' },
    { p: 'prg_b', r: 'rfr_b', i: 'inst_b', at: '2026-01-03T00:00:00.000Z' },
  ]);
  expect(await query('SELECT code, program_id AS p, landing_url AS landing FROM referral_links ORDER BY code')).toEqual([
    { code: 'AAAAcode', p: 'prg_a', landing: null },
    { code: 'BBBBcode', p: 'prg_b', landing: 'https://b.test/' },
  ]);
  expect(await query('SELECT code FROM referral_link_visits')).toEqual([{ code: 'AAAAcode' }]);
  expect(await query('SELECT id, program_id AS p, status FROM payout_runs')).toEqual([{ id: 'pay_a', p: 'prg_a', status: 'paid' }]);
}

it('on SQLite, keeps each installation’s one program and gives it every referrer, link and payout run', async () => {
  const db = openDb(`file:${join(folder, 'old.db')}`);
  migrateSqlite(db, { migrationsFolder: migrationsUpTo('migrations', '0021_payout_sends') });
  for (const statement of before) db.$client.prepare(statement.replaceAll('TRUE', '1')).run();

  migrateDb(db);

  await expectKeptAndNamed(async (sql) => db.$client.prepare(sql).all() as Record<string, unknown>[]);
  expect(db.$client.pragma('foreign_key_check')).toEqual([]);
  db.$client.close();
});

it('on PostgreSQL, does the same', async () => {
  const scratch = await scratchDatabase();
  const db = openPostgres(scratch.url, { poolSize: 1 });
  try {
    await migratePg(db, { migrationsFolder: migrationsUpTo('migrations/postgres', '0000_init') });
    for (const statement of before) await db.$client.query(statement);

    await migratePostgres(db);

    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    try {
      await expectKeptAndNamed(async (sql) => (await client.query(sql)).rows as Record<string, unknown>[]);
    } finally {
      await client.end();
    }
  } finally {
    await closePostgres(db);
    await scratch.drop();
  }
});
