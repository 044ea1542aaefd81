import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { sqlitePath } from './database-url.ts';
import * as schema from './schema.ts';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

const migrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), '../../migrations');

/**
 * Opens the SQLite store with WAL (readers never block the writer), foreign keys on, and a busy
 * timeout so a second process (a CLI command beside `serve`) waits instead of failing.
 */
export function openDb(databaseUrl: string): Db {
  const path = sqlitePath(databaseUrl);
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const client = new Database(path);
  client.pragma('journal_mode = WAL');
  client.pragma('foreign_keys = ON');
  client.pragma('busy_timeout = 5000');
  client.pragma('synchronous = NORMAL');
  reuseStatements(client, 500);
  return drizzle(client, { schema }) as Db;
}

/**
 * drizzle prepares a new statement for every query it runs, and compiling SQL was most of a sync
 * run's CPU. Statements are kept by their SQL text, the least recently used dropped first. A
 * statement handed out again starts in the default row mode: drizzle switches it to raw when it
 * needs arrays, and expects objects when it does not.
 */
function reuseStatements(client: Database.Database, capacity: number): void {
  const compile = client.prepare.bind(client);
  const statements = new Map<string, Database.Statement>();
  client.prepare = ((source: string) => {
    let statement = statements.get(source);
    if (statement) {
      statements.delete(source);
      if (statement.reader) statement.raw(false);
    } else {
      statement = compile(source);
      if (statements.size >= capacity) statements.delete(statements.keys().next().value!);
    }
    statements.set(source, statement);
    return statement;
  }) as Database.Database['prepare'];
}

/**
 * Applies the migrations. SQLite changes a table by rebuilding it, which needs foreign keys off
 * (they cannot be switched inside the migrations' transaction, so it is done around it) and a
 * check afterwards that every reference still holds: https://www.sqlite.org/lang_altertable.html#otheralter
 */
export function migrateDb(db: Db): void {
  db.$client.pragma('foreign_keys = OFF');
  try {
    migrate(db, { migrationsFolder });
    const broken = db.$client.pragma('foreign_key_check') as { table: string; parent: string }[];
    if (broken.length)
      throw new Error(`migration left ${broken.length} broken references, first ${broken[0]!.table} → ${broken[0]!.parent}`);
  } finally {
    db.$client.pragma('foreign_keys = ON');
  }
}

export { schema };
