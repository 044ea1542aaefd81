/**
 * Existing data migrates to programs with ids: a store written before programs had ids (the
 * migrations up to 0004) gets one default program per installation, and every program version,
 * referral and reward names it, with the rest of the data and every reference intact.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterAll, expect, it } from 'vitest';
import { migrateDb, openDb } from '../../../src/store/db.ts';

const LAST_BEFORE_PROGRAM_IDS = '0004_inbox_without_payload';
const folder = mkdtempSync(join(tmpdir(), 'referloop-migration-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** The migrations folder as it was at `tag`: the same files, the journal cut after it. */
function migrationsUpTo(tag: string): string {
  const copy = join(folder, 'migrations');
  cpSync(resolve(import.meta.dirname, '../../../migrations'), copy, { recursive: true });
  const journalFile = join(copy, 'meta/_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] };
  journal.entries = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === tag) + 1);
  writeFileSync(journalFile, JSON.stringify(journal));
  return copy;
}

it('gives each installation a default program and every program-scoped row its id', () => {
  const db = openDb(`file:${join(folder, 'old.db')}`);
  migrate(db, { migrationsFolder: migrationsUpTo(LAST_BEFORE_PROGRAM_IDS) });
  const sql = db.$client;
  for (const id of ['inst_a', 'inst_b']) {
    sql
      .prepare(
        `INSERT INTO installations (id, crm, account_id, status, scopes, access_token_enc, settings, updated_at) VALUES (?, 'hubspot', ?, 'active', '[]', 'x', '{}', '2026-01-01')`,
      )
      .run(id, id);
    sql
      .prepare(
        `INSERT INTO programs (installation_id, version, settings, created_by) VALUES (?, 1, '{"payoutDays":90}', 'install'), (?, 2, '{"payoutDays":60}', 'admin')`,
      )
      .run(id, id);
    sql
      .prepare(`INSERT INTO referrers (id, installation_id, email, name, type, access_key) VALUES (?, ?, 'r@x.com', 'R', 'partner', 'k')`)
      .run(`rfr_${id}`, id);
    sql
      .prepare(
        `INSERT INTO referrals (id, installation_id, referrer_id, program_version, status, referee_email, referee_email_key, submitted_by_kind, verdict, submitted_at, updated_at)
         VALUES (?, ?, ?, 1, 'closed_won', 'e@y.com', 'e@y.com', 'rep', '{}', '2026-01-02', '2026-01-03')`,
      )
      .run(`ref_${id}`, id, `rfr_${id}`);
    sql
      .prepare(
        `INSERT INTO referral_events (referral_id, to_status, reasons, source, idempotency_key, occurred_at) VALUES (?, 'closed_won', '[]', 'test', ?, '2026-01-03')`,
      )
      .run(`ref_${id}`, `evt_${id}`);
    sql
      .prepare(
        `INSERT INTO rewards (id, installation_id, referral_id, referrer_id, kind, beneficiary, milestone, amount_cents, currency, status, due_date, requires_approval, program_version, reasons, idempotency_key, updated_at)
         VALUES (?, ?, ?, ?, 'commission', 'referrer', 'closed_won', 250000, 'USD', 'pending', '2026-04-01', 1, 1, '[]', ?, '2026-01-03')`,
      )
      .run(`rwd_${id}`, id, `ref_${id}`, `rfr_${id}`, `key_${id}`);
  }

  migrateDb(db);

  const programs = sql
    .prepare('SELECT id, installation_id AS installationId, is_default AS isDefault FROM programs ORDER BY installation_id')
    .all() as { id: string; installationId: string; isDefault: number }[];
  expect(programs.map((p) => [p.installationId, p.isDefault])).toEqual([
    ['inst_a', 1],
    ['inst_b', 1],
  ]);
  const programOf = Object.fromEntries(programs.map((p) => [p.installationId, p.id]));
  expect(new Set(Object.values(programOf)).size).toBe(2);
  for (const id of ['inst_a', 'inst_b']) {
    expect(
      sql.prepare('SELECT program_id AS p, version, settings FROM program_versions WHERE installation_id = ? ORDER BY version').all(id),
    ).toEqual([
      { p: programOf[id], version: 1, settings: '{"payoutDays":90}' },
      { p: programOf[id], version: 2, settings: '{"payoutDays":60}' },
    ]);
    expect(sql.prepare('SELECT program_id AS p, program_version AS v, status FROM referrals WHERE installation_id = ?').get(id)).toEqual({
      p: programOf[id],
      v: 1,
      status: 'closed_won',
    });
    expect(sql.prepare('SELECT program_id AS p, amount_cents AS cents FROM rewards WHERE installation_id = ?').get(id)).toEqual({
      p: programOf[id],
      cents: 250000,
    });
  }
  expect(sql.prepare('SELECT count(*) AS n FROM referral_events').get()).toEqual({ n: 2 });
  expect(sql.pragma('foreign_key_check')).toEqual([]);
  expect(sql.pragma('foreign_keys', { simple: true })).toBe(1);
  sql.close();
});
