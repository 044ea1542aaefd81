import { defineConfig } from 'drizzle-kit';

/**
 * drizzle-kit for the PostgreSQL store (`npm run db:generate:postgres`): its own migrations beside
 * SQLite's, which the top-level drizzle.config.ts generates into `migrations/`. Paths are from the
 * repository root, where the script runs.
 */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/store/postgres/schema.ts',
  out: './migrations/postgres',
});
