import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import pg from 'pg';
import type { Store } from '../../src/store/contract.ts';
import { createCipher } from '../../src/store/crypto.ts';
import { migratePostgres, openPostgres } from '../../src/store/postgres/db.ts';
import { createPostgresStore } from '../../src/store/postgres/index.ts';
import { DEFAULT_TEST_DATABASE_URL, hostAndPort } from './prerequisites-plan.ts';

export interface ScratchDatabase {
  /** `postgres://…/referloop_test_<random>` on the test server. */
  url: string;
  /** Drops the database, ending whatever connections are still open on it. */
  drop(): Promise<void>;
}

/**
 * A fresh, empty database on the server at TEST_DATABASE_URL (or the local default), so each test
 * file has its own. When no server answers within 3 s it fails with one line saying how to get one.
 */
export async function scratchDatabase(): Promise<ScratchDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
  const name = `referloop_test_${randomBytes(6).toString('hex')}`;
  await onServer(serverUrl, `create database "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => onServer(serverUrl, `drop database if exists "${name}" with (force)`),
  };
}

async function onServer(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3_000 });
  // A connection the server drops after connect is reported here and by the query below.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    throw new Error(unreachable(serverUrl, err), { cause: err });
  }
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** One line: the server answered but refused (credentials, no such database), or none answered. */
function unreachable(serverUrl: string, err: unknown): string {
  const where = hostAndPort(serverUrl);
  // An AggregateError (every address of `localhost` refused) has no message of its own.
  const reason = (err instanceof Error && (err.message || (err as { code?: string }).code)) || String(err);
  // Errors from the server are DatabaseErrors; socket and timeout errors are not.
  if (err instanceof pg.DatabaseError) return `PostgreSQL at ${where} refused the test connection (${reason}): check TEST_DATABASE_URL`;
  return `PostgreSQL is not reachable at ${where} (${reason}): install it with \`apt-get install -y postgresql\` and start it (\`pg_ctlcluster ${clusterVersion()} main start\`), or set TEST_DATABASE_URL`;
}

/** The newest cluster Debian's postgresql-common made here, else bookworm's 15. */
function clusterVersion(): string {
  const clusters = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql').sort((a, b) => Number(a) - Number(b)) : [];
  return clusters.at(-1) ?? '15';
}

/**
 * A migrated PostgreSQL store on a scratch database of its own; `close()` ends its pool and drops
 * the database. A test of many transactions at once asks for as many connections as a service has.
 */
export async function scratchPostgresStore(poolSize = 4): Promise<Store & { url: string }> {
  const scratch = await scratchDatabase();
  const db = openPostgres(scratch.url, { poolSize });
  await migratePostgres(db);
  const store = createPostgresStore(db, createCipher(randomBytes(32)));
  return {
    ...store,
    url: scratch.url,
    close: async () => {
      await store.close();
      await scratch.drop();
    },
  };
}
