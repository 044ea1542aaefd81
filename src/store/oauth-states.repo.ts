import { eq, lt } from 'drizzle-orm';
import type { CrmKind } from '../../connectors/registry.ts';
import type { Db } from './db.ts';
import { oauthStates } from './schema.ts';

export type OAuthStateRow = typeof oauthStates.$inferSelect;

/** One-time OAuth states (CSRF) and PKCE verifiers, kept server-side between install and callback. */
export function oauthStatesRepo(db: Db) {
  return {
    /** Saves a new state and drops the expired ones, so abandoned installs do not pile up. */
    save(
      values: { state: string; crm: CrmKind; codeVerifier: string | null; expiresAt: string; purpose?: OAuthStateRow['purpose'] },
      now: Date,
    ): void {
      db.delete(oauthStates).where(lt(oauthStates.expiresAt, now.toISOString())).run();
      db.insert(oauthStates).values(values).run();
    },

    /** The state, removed as it is read: a state works once. */
    take(state: string): OAuthStateRow | undefined {
      const row = db.select().from(oauthStates).where(eq(oauthStates.state, state)).get();
      if (row) db.delete(oauthStates).where(eq(oauthStates.state, state)).run();
      return row;
    },
  };
}
