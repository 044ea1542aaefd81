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

const root = mkdtempSync(join(tmpdir(), 'referloop-start-up-'));
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

  it('DATABASE_URL of PostgreSQL: not supported by this build, and no folder named "postgres:"', async () => {
    const cwdBefore = readdirSync(process.cwd());
    const line = await refusedStart({ DATABASE_URL: 'postgres://referloop@127.0.0.1:5432/referloop' });
    expect(line).toMatch(/DATABASE_URL=.*PostgreSQL is not supported yet by this build/);
    expect(line).toMatch(/SQLite only: set file:<path> .*, a plain file path, or :memory:$/);
    expect(urlNamedEntriesSince(cwdBefore)).toEqual([]);
  });

  it.each([
    [
      'another scheme',
      'mysql://referloop@127.0.0.1/referloop',
      /DATABASE_URL="mysql:.*mysql: is not a store this build has; .*SQLite only/,
    ],
    ['a scheme without //', 'postgresql:referloop', /DATABASE_URL=.*PostgreSQL is not supported yet/],
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
