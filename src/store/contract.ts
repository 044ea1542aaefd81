import type { Cipher } from './crypto.ts';
import type { auditRepo } from './audit.repo.ts';
import type { cardKeysRepo } from './card-keys.repo.ts';
import type { consoleUsersRepo } from './console-users.repo.ts';
import type { dealClaimsRepo } from './deal-claims.repo.ts';
import type { dealsRepo } from './deals.repo.ts';
import type { inboxRepo } from './inbox.repo.ts';
import type { installationsRepo } from './installations.repo.ts';
import type { oauthStatesRepo } from './oauth-states.repo.ts';
import type { outboxRepo } from './outbox.repo.ts';
import type { payoutsRepo } from './payouts.repo.ts';
import type { productMilestonesRepo } from './product-milestones.repo.ts';
import type { programsRepo } from './programs.repo.ts';
import type { referralAsksRepo } from './referral-asks.repo.ts';
import type { referralLinksRepo } from './referral-links.repo.ts';
import type { referralsRepo } from './referrals.repo.ts';
import type { referrerWebhookEndpointsRepo } from './referrer-webhook-endpoints.repo.ts';
import type { reportsRepo } from './reports.repo.ts';
import type { rewardsRepo } from './rewards.repo.ts';
import type { sessionsRepo } from './sessions.repo.ts';

/** A repository as the rest of the app sees it: every method answers with a promise. */
export type AsyncRepo<R> = {
  [K in keyof R]: R[K] extends (...args: infer A) => infer T ? (...args: A) => Promise<Awaited<T>> : never;
};

/**
 * The store contract: what every implementation (SQLite, PostgreSQL) offers and the only way the
 * rest of the app reaches the database. The repositories' shapes are those of the SQLite ones
 * (src/store/*.repo.ts), made asynchronous; each implementation must answer every method alike
 * (tests/integration/store/transactions.test.ts says what transactions promise).
 */
export interface TransactionOptions {
  /** The keys whose holders take turns: every one a read of the transaction decides a write on. */
  turnsOn?: string[];
}

export interface Store {
  cipher: Cipher;
  installations: AsyncRepo<ReturnType<typeof installationsRepo>>;
  programs: AsyncRepo<ReturnType<typeof programsRepo>>;
  referrals: AsyncRepo<ReturnType<typeof referralsRepo>>;
  referralAsks: AsyncRepo<ReturnType<typeof referralAsksRepo>>;
  /** Referral links and their counted visits. */
  referralLinks: AsyncRepo<ReturnType<typeof referralLinksRepo>>;
  productMilestones: AsyncRepo<ReturnType<typeof productMilestonesRepo>>;
  rewards: AsyncRepo<ReturnType<typeof rewardsRepo>>;
  payouts: AsyncRepo<ReturnType<typeof payoutsRepo>>;
  deals: AsyncRepo<ReturnType<typeof dealsRepo>>;
  dealClaims: AsyncRepo<ReturnType<typeof dealClaimsRepo>>;
  inbox: AsyncRepo<ReturnType<typeof inboxRepo>>;
  audit: AsyncRepo<ReturnType<typeof auditRepo>>;
  outbox: AsyncRepo<ReturnType<typeof outboxRepo>>;
  oauthStates: AsyncRepo<ReturnType<typeof oauthStatesRepo>>;
  referrerWebhookEndpoints: AsyncRepo<ReturnType<typeof referrerWebhookEndpointsRepo>>;
  sessions: AsyncRepo<ReturnType<typeof sessionsRepo>>;
  consoleUsers: AsyncRepo<ReturnType<typeof consoleUsersRepo>>;
  /** The facts behind `GET /api/v1/reports`. */
  reports: AsyncRepo<ReturnType<typeof reportsRepo>>;
  /** Per-installation keys for CRM packages' cards (Salesforce). */
  cardKeys: AsyncRepo<ReturnType<typeof cardKeysRepo>>;
  /**
   * Runs `fn` in one transaction: every store call `fn` makes, however deep, belongs to it, and
   * calls made elsewhere meanwhile do not. A transaction is serializable: a read that decides a
   * write (a duplicate check, a claim) holds when another process decides at the same time. `fn`
   * may be run more than once (PostgreSQL retries a serialization failure), so it does nothing but
   * store calls and pure work: no network, no timers.
   *
   * `turnsOn` names every key the transaction's decision reads (a referee, a referrer, a deal):
   * transactions sharing a key take turns, and each sees what the previous one committed. On
   * PostgreSQL such a transaction runs READ COMMITTED after advisory locks on its keys rather than
   * SERIALIZABLE, whose predicate locks cover index pages, so on a young table (one page) every
   * submission would refuse every other's commit; on SQLite writers take turns already.
   */
  transaction<T>(fn: () => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** The migrations have run (health check). */
  isMigrated(): Promise<boolean>;
  close(): Promise<void>;
}
