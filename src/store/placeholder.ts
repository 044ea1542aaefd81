import { sql, type SQL } from 'drizzle-orm';

/**
 * A named parameter of a prepared query, where drizzle's builder types take SQL but no
 * placeholder (update sets). The value reaches SQLite as given, without the column's encoding:
 * only for text and integer columns.
 */
export function placeholder(name: string): SQL {
  return sql`${sql.placeholder(name)}`;
}
