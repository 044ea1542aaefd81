import type { Cipher } from './crypto.ts';
import type { Db } from './db.ts';
import { auditRepo } from './audit.repo.ts';
import { cardKeysRepo } from './card-keys.repo.ts';
import { consoleUsersRepo } from './console-users.repo.ts';
import { dealClaimsRepo } from './deal-claims.repo.ts';
import { dealsRepo } from './deals.repo.ts';
import { inboxRepo } from './inbox.repo.ts';
import { installationsRepo } from './installations.repo.ts';
import { oauthStatesRepo } from './oauth-states.repo.ts';
import { outboxRepo } from './outbox.repo.ts';
import { payoutsRepo } from './payouts.repo.ts';
import { programsRepo } from './programs.repo.ts';
import { referralAsksRepo } from './referral-asks.repo.ts';
import { referralLinksRepo } from './referral-links.repo.ts';
import { productMilestonesRepo } from './product-milestones.repo.ts';
import { referralsRepo } from './referrals.repo.ts';
import { referrerWebhookEndpointsRepo } from './referrer-webhook-endpoints.repo.ts';
import { reportsRepo } from './reports.repo.ts';
import { rewardsRepo } from './rewards.repo.ts';
import { sessionsRepo } from './sessions.repo.ts';

/**
 * Every repository over one SQLite connection. better-sqlite3 is synchronous, so repository
 * calls made inside `transaction()` all belong to that transaction. This is the only way the rest
 * of the app reaches the database: no drizzle, SQL or schema outside `src/store/` (and the
 * embedded queue), which the dependency rules check.
 */
export function createStore(db: Db, cipher: Cipher) {
  const schemaReady = db.$client.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'installations'");
  return {
    cipher,
    installations: installationsRepo(db, cipher),
    programs: programsRepo(db),
    referrals: referralsRepo(db),
    referralAsks: referralAsksRepo(db),
    /** Referral links and their counted visits. */
    referralLinks: referralLinksRepo(db),
    productMilestones: productMilestonesRepo(db),
    rewards: rewardsRepo(db),
    payouts: payoutsRepo(db),
    deals: dealsRepo(db),
    dealClaims: dealClaimsRepo(db),
    inbox: inboxRepo(db),
    audit: auditRepo(db),
    outbox: outboxRepo(db),
    oauthStates: oauthStatesRepo(db),
    referrerWebhookEndpoints: referrerWebhookEndpointsRepo(db),
    sessions: sessionsRepo(db),
    consoleUsers: consoleUsersRepo(db),
    /** The facts behind `GET /api/v1/reports`. */
    reports: reportsRepo(db),
    /** Per-installation keys for CRM packages' cards (Salesforce). */
    cardKeys: cardKeysRepo(db, cipher),
    /**
     * Runs `fn` in one transaction. `immediate` takes the write lock at the start, for a read that
     * decides a write (claims) when another process may be making the same decision.
     */
    transaction<T>(fn: () => T, options: { immediate?: boolean } = {}): T {
      const run = db.$client.transaction(fn);
      return options.immediate ? run.immediate() : run();
    },
    /** The migrations have run (health check). */
    isMigrated(): boolean {
      return (schemaReady.get() as { n: number }).n === 1;
    },
  };
}

export type Store = ReturnType<typeof createStore>;
