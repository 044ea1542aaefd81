/**
 * Where a DATABASE_URL puts the SQLite file. Apart from db.ts so that the configuration reads it
 * without loading the SQLite driver and drizzle (commands such as `referloop token` open no database).
 */

/** `file:./data/referloop.db`, a plain path, or `:memory:`. */
export function sqlitePath(databaseUrl: string): string {
  return databaseUrl.startsWith('file:') ? databaseUrl.slice('file:'.length) : databaseUrl;
}
