/**
 * A newcomer's wrong settings: each stops start-up with one line naming the variable and the
 * cause, a non-zero exit, no stack trace, no hang, and nothing generated.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../support/cli-process.ts';
import { freePort } from '../support/ports.ts';
import { DEFAULT_TEST_DATABASE_URL } from '../support/prerequisites-plan.ts';

const root = mkdtempSync(join(tmpdir(), 'referloop-start-up-'));
/** Set, so a start refused on PostgreSQL makes no data folder in the working directory. */
const SECRETS = { ENCRYPTION_KEY: '5'.repeat(64), ADMIN_API_TOKEN: 'test-admin-token-0123456789' };
/** The test server (its user and host), for a database that does not exist on it. */
const POSTGRES = (process.env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL).replace(/\/[^/]*$/, '');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs `serve` with `env`, expecting it to refuse: returns its single line of output. */
/**
 * New entries of the working directory named like a URL's scheme (`postgres:`), as a store that took
 * the URL for a path would create. Other test files write their own outputs here meanwhile.
 */
function urlNamedEntriesSince(before: string[]): string[] {
  return readdirSync(process.cwd()).filter((name) => !before.includes(name) && name.includes(':'));
}

async function refusedStart(env: Record<string, string>, options: Parameters<typeof spawnCli>[2] = {}): Promise<string> {
  const child = spawnCli(['serve'], { PORT: String(await freePort()), LOG_LEVEL: 'warn', ...env }, options);
  const timer = setTimeout(() => void child.kill('SIGKILL'), 15_000);
  const { code, signal } = await child.exited;
  clearTimeout(timer);
  const lines = child.output().trim().split('\n');
  expect(signal, `hung:\n${child.output()}`).toBeNull();
  expect(code).toBe(2);
  expect(lines, child.output()).toHaveLength(1);
  expect(child.output()).not.toMatch(/\n\s+at |Error:/);
  return lines[0]!;
}

describe('start-up refuses a wrong setting in one line', { timeout: 30_000 }, () => {
  it('PORT already in use: named, and no data folder or token generated', async () => {
    const port = await freePort();
    const holder: Server = await new Promise((resolve) => {
      const server = createServer();
      server.listen(port, () => resolve(server));
    });
    const dataDir = join(root, 'busy-port');
    try {
      const line = await refusedStart({ PORT: String(port), DATABASE_URL: `file:${dataDir}/referloop.db` });
      expect(line).toMatch(new RegExp(`PORT=${port} is already in use`));
      expect(line).not.toMatch(/rl_admin_/);
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('ADMIN_API_TOKEN that looks like a card key: named, and nothing created', async () => {
    const dataDir = join(root, 'card-key-token');
    const line = await refusedStart({ ADMIN_API_TOKEN: 'rlk_0123456789abcdef0123', DATABASE_URL: `file:${dataDir}/referloop.db` });
    expect(line).toMatch(/ADMIN_API_TOKEN.*must not start with rlk_, the prefix of card keys/);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('DATABASE_URL naming a folder', async () => {
    const folder = join(root, 'a-folder');
    mkdirSync(folder);
    expect(await refusedStart({ DATABASE_URL: `file:${folder}` })).toMatch(/^referloop: Invalid DATABASE_URL=.*a-folder.*is a folder/);
  });

  it('DATABASE_URL under a file', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    expect(await refusedStart({ DATABASE_URL: `file:${file}/referloop.db` })).toMatch(/DATABASE_URL=.*a file is in the way/);
  });

  it('DATABASE_URL in /proc', async () => {
    expect(await refusedStart({ DATABASE_URL: 'file:/proc/self/referloop.db' })).toMatch(/DATABASE_URL=.*\/proc\/self is a system folder/);
  });

  it('DATABASE_URL of a file that is not a database', async () => {
    const file = join(root, 'notes.txt');
    writeFileSync(file, 'not a database, just some notes\n'.repeat(100));
    expect(await refusedStart({ DATABASE_URL: `file:${file}` })).toMatch(/DATABASE_URL=.*not a SQLite database/);
  });

  it('DATABASE_URL in a folder it may not write', async () => {
    const folder = join(root, 'read-only');
    mkdirSync(folder);
    chmodSync(folder, 0o555);
    // root writes through any mode bits (CI runs as root), so root starts it as nobody.
    chmodSync(root, 0o755);
    const user = process.getuid?.() === 0 ? { user: { uid: 65534, gid: 65534 } } : {};
    expect(await refusedStart({ DATABASE_URL: `file:${folder}/referloop.db` }, user)).toMatch(/DATABASE_URL=.*not writable/);
  });

  it('DATABASE_URL of PostgreSQL without REDIS_URL: named, and no folder named "postgres:"', async () => {
    const cwdBefore = readdirSync(process.cwd());
    const line = await refusedStart({ DATABASE_URL: 'postgres://referloop@127.0.0.1:5432/referloop', ...SECRETS });
    expect(line).toMatch(/^referloop: REDIS_URL is required with a PostgreSQL DATABASE_URL: the embedded job queue lives in SQLite/);
    expect(urlNamedEntriesSince(cwdBefore)).toEqual([]);
  });

  it.each([
    ['nothing answers', 'postgres://referloop:hunter2-secret@127.0.0.1:1/referloop', /PostgreSQL cannot be reached \(.*ECONNREFUSED.*\)/],
    [
      'no such database',
      `${POSTGRES}/referloop_no_such_database`,
      /PostgreSQL refused the connection \(database "referloop_no_such_database" does not exist\); correct DATABASE_URL$/,
    ],
    [
      'no such role',
      Object.assign(new URL(`${POSTGRES}/postgres`), { username: 'referloop_no_such_role', password: '' }).toString(),
      /PostgreSQL refused the connection \(.*"referloop_no_such_role".*\); correct DATABASE_URL$/,
    ],
    ['a port that is not a number', 'postgres://referloop@127.0.0.1:port/referloop', /not a URL PostgreSQL can be reached at/],
    ['no database named', 'postgres://referloop@127.0.0.1:5432', /it names no database/],
  ])('DATABASE_URL of PostgreSQL where %s: one line naming DATABASE_URL, the password masked', async (_case, databaseUrl, cause) => {
    const line = await refusedStart({ DATABASE_URL: databaseUrl, REDIS_URL: 'redis://127.0.0.1:1', ...SECRETS });
    expect(line).toMatch(/^referloop: Invalid DATABASE_URL="postgres/);
    expect(line).toMatch(cause);
    expect(line).not.toMatch(/hunter2-secret/);
  });

  it.each(['0', '101', '2.5', 'ten', ''])('DATABASE_POOL_SIZE=%j: one line naming it', async (size) => {
    const line = await refusedStart({ DATABASE_URL: `file:${join(root, 'pool-size', 'referloop.db')}`, DATABASE_POOL_SIZE: size });
    expect(line).toBe(
      `referloop: Invalid DATABASE_POOL_SIZE=${JSON.stringify(size)}: expected a whole number of connections from 1 to 100`,
    );
  });

  it.each([
    [
      'another scheme',
      'mysql://referloop@127.0.0.1/referloop',
      /DATABASE_URL="mysql:.*mysql: is not a store this build has; set file:<path> .*, or postgres:\/\/… for PostgreSQL$/,
    ],
    ['a scheme without //', 'postgresql:referloop', /DATABASE_URL=.*a PostgreSQL URL starts with postgres:\/\//],
    ['a file:// URL', 'file:///var/lib/referloop.db', /DATABASE_URL=.*file:\/\/ URLs are not read: set file:<path>/],
    ['no file at all', 'file:', /DATABASE_URL="file:": it names no file/],
  ])('DATABASE_URL of %s: refused in one line, and no folder created', async (_case, databaseUrl, cause) => {
    const cwdBefore = readdirSync(process.cwd());
    expect(await refusedStart({ DATABASE_URL: databaseUrl })).toMatch(cause);
    expect(urlNamedEntriesSince(cwdBefore)).toEqual([]);
  });

  it('DATABASE_URL ending in a slash names a folder, which is not created', async () => {
    const folder = join(root, 'not-yet-a-folder');
    expect(await refusedStart({ DATABASE_URL: `file:${folder}/` })).toMatch(
      /DATABASE_URL=.*not-yet-a-folder is a folder, not a database file/,
    );
    expect(existsSync(folder)).toBe(false);
  });
});
