/**
 * What a DATABASE_URL names: PostgreSQL or a SQLite file. Apart from db.ts so that the configuration reads it
 * without loading the SQLite driver and drizzle (commands such as `referloop token` open no database).
 */

/** `file:./data/referloop.db`, a plain path, or `:memory:`. */
export function sqlitePath(databaseUrl: string): string {
  return databaseUrl.startsWith('file:') ? databaseUrl.slice('file:'.length) : databaseUrl;
}

/** `postgres://…` or `postgresql://…` (libpq's two schemes): the PostgreSQL store. */
export function isPostgresUrl(databaseUrl: string): boolean {
  return /^postgres(ql)?:\/\//i.test(databaseUrl);
}

/** The URL with its password masked, for messages and logs; the text as is when it does not parse. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}
