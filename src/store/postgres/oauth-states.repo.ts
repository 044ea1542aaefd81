import { eq, lt } from 'drizzle-orm';
import type { CrmKind } from '../../../connectors/registry.ts';
import type { Store } from '../contract.ts';
import type { OAuthStateRow } from '../oauth-states.repo.ts';
import type { Query } from './query.ts';
import { oauthStates } from './schema.ts';

/** One-time OAuth states (CSRF) and PKCE verifiers, kept server-side between install and callback. */
export function oauthStatesRepo(q: Query): Store['oauthStates'] {
  return {
    /** Saves a new state and drops the expired ones, so abandoned installs do not pile up. */
    async save(
      values: { state: string; crm: CrmKind; codeVerifier: string | null; expiresAt: string; purpose?: OAuthStateRow['purpose'] },
      now: Date,
    ) {
      await q().delete(oauthStates).where(lt(oauthStates.expiresAt, now.toISOString()));
      await q().insert(oauthStates).values(values);
    },

    /** The state, removed as it is read, in one statement: of two callbacks at once, one gets it. */
    async take(state: string) {
      return (await q().delete(oauthStates).where(eq(oauthStates.state, state)).returning())[0];
    },
  };
}
