/**
 * `referloop migrate` on PostgreSQL, and moving up with `referloop migrate --from file:… --to
 * postgres://…`: the command as a user runs it (its own process), its summary, and its refusals,
 * each one line with a non-zero exit and nothing changed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openStore } from '../../src/main.ts';
import { createCipher } from '../../src/store/crypto.ts';
import { spawnCli } from '../support/cli-process.ts';
import { freePort } from '../support/ports.ts';
import { redisUrlForTests } from '../support/redis-server.ts';
import { eventually } from '../support/service.ts';
import { scratchDatabase, type ScratchDatabase } from '../support/postgres.ts';
import { createTestDb, insertInstallation, insertReferral, insertReferrer, insertReward, storeOf } from '../integration/notify/fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'referloop-migrate-'));
const SECRETS = { ENCRYPTION_KEY: '5'.repeat(64), ADMIN_API_TOKEN: 'test-admin-token-0123456789' };
const scratches: ScratchDatabase[] = [];
afterAll(async () => {
  for (const scratch of scratches) await scratch.drop();
  rmSync(root, { recursive: true, force: true });
});

async function scratch(): Promise<ScratchDatabase> {
  const made = await scratchDatabase();
  scratches.push(made);
  return made;
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const child = spawnCli(args, { LOG_LEVEL: 'warn', ...SECRETS, ...env });
  const timer = setTimeout(() => void child.kill('SIGKILL'), 30_000);
  const { code, signal } = await child.exited;
  clearTimeout(timer);
  expect(signal, `hung:\n${child.output()}`).toBeNull();
  return { code, output: child.output(), lines: child.output().trim().split('\n') };
}

/** Refused: exit 2, one line, no stack trace. */
async function refused(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { code, lines, output } = await cli(args, env);
  expect(code, output).toBe(2);
  expect(lines, output).toHaveLength(1);
  expect(output).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

async function tableCount(url: string, table: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  } finally {
    await client.end();
  }
}

describe('referloop migrate', { timeout: 120_000 }, () => {
  const sourceFile = join(root, 'referloop.db');
  beforeAll(async () => {
    const db = createTestDb(sourceFile);
    const installationId = insertInstallation(db);
    const referrer = insertReferrer(db, installationId, { name: 'Ada', email: 'ada@example.test', digest: true });
    insertReward(db, insertReferral(db, referrer, { firstName: 'Grace', lastName: 'Hopper', company: 'Navy' }), 5_000_000_001);
    await storeOf(db).audit.record({
      installationId,
      actor: 'admin',
      action: 'x',
      subjectType: 'y',
      subjectId: 'z',
      after: { a: [1] },
      at: '2026-03-01T00:00:00.000Z',
    });
    db.$client.close();
  });

  it('applies the migrations of a PostgreSQL DATABASE_URL', async () => {
    const target = await scratch();
    const { code, output } = await cli(['migrate'], { DATABASE_URL: target.url, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(code, output).toBe(0);
    expect(await tableCount(target.url, 'installations')).toBe(0);
  });

  it('copies a SQLite installation into an empty PostgreSQL database and prints a summary; a second copy is refused', async () => {
    const target = await scratch();
    const { code, output, lines } = await cli(['migrate', '--from', `file:${sourceFile}`, '--to', target.url]);
    expect(code, output).toBe(0);
    const summary = JSON.parse(lines.at(-1)!).copied;
    expect(summary).toMatchObject({ from: `file:${sourceFile}`, to: target.url, tables: expect.any(Number), seconds: expect.any(Number) });
    expect(summary.rows).toBeGreaterThanOrEqual(6);
    expect(await tableCount(target.url, 'rewards')).toBe(1);
    expect(await tableCount(target.url, 'audit_log')).toBe(1);

    const again = await refused(['migrate', '--from', `file:${sourceFile}`, '--to', target.url]);
    expect(again).toMatch(
      /^referloop: --to "postgres:.*": the PostgreSQL database is not empty \(table \w+ has rows\): copy into a newly created database\.$/,
    );
    expect(await tableCount(target.url, 'rewards')).toBe(1);
  });

  it.each([
    [
      'a missing source file',
      ['--from', `file:${join(root, 'nowhere.db')}`, '--to', 'postgres://u@127.0.0.1:5432/x'],
      /^referloop: --from "file:.*nowhere\.db": no such file/,
    ],
    ['no --to', ['--from', 'file:./data/referloop.db'], /^referloop: Pass the PostgreSQL database to copy into with --to postgres:/],
    ['no --from', ['--to', 'postgres://u@127.0.0.1:5432/x'], /^referloop: Pass the SQLite database to copy with --from file:<path>\.$/],
    [
      'a PostgreSQL --from',
      ['--from', 'postgres://u@127.0.0.1/a', '--to', 'postgres://u@127.0.0.1/b'],
      /--from names the SQLite database to copy/,
    ],
    ['a SQLite --to', ['--from', 'file:a.db', '--to', 'file:b.db'], /--to names the PostgreSQL database to copy into/],
    ['an unknown option', ['--from', 'file:a.db', '--into', 'x'], /^referloop: Unknown option '--into'/],
  ])('refuses %s in one line', async (_case, args, message) => {
    expect(await refused(['migrate', ...args])).toMatch(message);
  });

  it('refuses a PostgreSQL server that does not answer in one line naming --to, the password masked', async () => {
    const line = await refused(['migrate', '--from', `file:${sourceFile}`, '--to', 'postgres://u:hunter2-secret@127.0.0.1:1/x']);
    expect(line).toMatch(
      /^referloop: Invalid --to="postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x": PostgreSQL cannot be reached \(.*ECONNREFUSED/,
    );
  });
});

describe('the PostgreSQL store at start', { timeout: 60_000 }, () => {
  it('DATABASE_POOL_SIZE defaults to 10 and sizes the pool; the store opened is migrated', async () => {
    const target = await scratch();
    const base = { DATABASE_URL: target.url, REDIS_URL: 'redis://127.0.0.1:1', ...SECRETS };
    expect(loadConfig(base)).toMatchObject({ storeKind: 'postgres', databasePoolSize: 10 });
    const config = loadConfig({ ...base, DATABASE_POOL_SIZE: '3' });
    expect(config.databasePoolSize).toBe(3);
    const opened = await openStore(config, createCipher(Buffer.alloc(32)));
    try {
      expect(opened.storeKind).toBe('postgres');
      expect(opened.storeKind === 'postgres' && opened.db.$client.options.max).toBe(3);
      expect(await opened.store.isMigrated()).toBe(true);
    } finally {
      await opened.store.close();
    }
  });

  it('serve on PostgreSQL and Redis: migrates at start and answers /healthz, then stops on SIGTERM', async () => {
    const target = await scratch();
    const redis = await redisUrlForTests();
    const port = await freePort();
    const child = spawnCli(['serve'], {
      PORT: String(port),
      DATABASE_URL: target.url,
      REDIS_URL: redis.url,
      SANDBOX: 'off',
      LOG_LEVEL: 'warn',
      ...SECRETS,
    });
    try {
      const health = await eventually(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        return res ? { status: res.status, body: await res.json() } : undefined;
      }, 30_000);
      expect(health, child.output()).toEqual({ status: 200, body: { status: 'ok' } });
      expect(await tableCount(target.url, 'installations')).toBe(0);
      await child.kill('SIGTERM', 10_000);
      expect((await child.exited).code, child.output()).toBe(0);
    } finally {
      await child.kill('SIGKILL');
      await redis.stop();
    }
  });
});
