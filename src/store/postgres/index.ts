import { AsyncLocalStorage } from 'node:async_hooks';
import { sql } from 'drizzle-orm';
import type { Store, TransactionOptions } from '../contract.ts';
import type { Cipher } from '../crypto.ts';
import { auditRepo } from './audit.repo.ts';
import { cardKeysRepo } from './card-keys.repo.ts';
import { consoleUsersRepo } from './console-users.repo.ts';
import { type Db, closePostgres } from './db.ts';
import { dealClaimsRepo } from './deal-claims.repo.ts';
import { dealsRepo } from './deals.repo.ts';
import { inboxRepo } from './inbox.repo.ts';
import { installationsRepo } from './installations.repo.ts';
import { oauthStatesRepo } from './oauth-states.repo.ts';
import { outboxRepo } from './outbox.repo.ts';
import { payoutsRepo } from './payouts.repo.ts';
import { productMilestonesRepo } from './product-milestones.repo.ts';
import { programsRepo } from './programs.repo.ts';
import { type Executor, type Query, sqlState } from './query.ts';
import { referralAsksRepo } from './referral-asks.repo.ts';
import { referralLinksRepo } from './referral-links.repo.ts';
import { referralsRepo } from './referrals.repo.ts';
import { referrerWebhookEndpointsRepo } from './referrer-webhook-endpoints.repo.ts';
import { reportsRepo } from './reports.repo.ts';
import { rewardsRepo } from './rewards.repo.ts';
import { sessionsRepo } from './sessions.repo.ts';

/** SQLSTATEs after which the whole transaction may simply be run again. */
const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected
const ATTEMPTS = 8;

/**
 * The store on a PostgreSQL pool. Repositories take `q()`, which is the transaction the calling
 * code runs in (followed through `await`s by AsyncLocalStorage) or else the pool, so a use case's
 * calls inside `transaction()` share its connection and calls elsewhere do not.
 *
 * Transactions are SERIALIZABLE: a read that decides a write (a duplicate check, a claim) holds
 * against other processes as it does on SQLite, whose writers take turns. PostgreSQL may refuse
 * one of two conflicting transactions at commit; it is run again, with a short random backoff.
 * Nested transactions are savepoints. A transaction given `turnsOn` keys runs READ COMMITTED
 * after taking a transaction-level advisory lock on each (in order, so two never wait on each
 * other): the keys, not predicate locks, keep its decision true (see the contract).
 */
export function createPostgresStore(db: Db, cipher: Cipher): Store {
  const current = new AsyncLocalStorage<Executor>();
  const q: Query = () => current.getStore() ?? db;

  const transaction = async <T>(fn: () => Promise<T>, options: TransactionOptions = {}): Promise<T> => {
    const outer = current.getStore();
    if (outer) return outer.transaction((tx) => current.run(tx, fn));
    const keys = [...new Set(options.turnsOn ?? [])].sort();
    const run =
      keys.length === 0
        ? () => db.transaction((tx) => current.run(tx, fn), { isolationLevel: 'serializable' })
        : () =>
            db.transaction(
              async (tx) => {
                for (const key of keys) await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`);
                return current.run(tx, fn);
              },
              { isolationLevel: 'read committed' },
            );
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (err) {
        if (attempt >= ATTEMPTS || !RETRYABLE.has(sqlState(err) ?? '')) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * 2 ** attempt));
      }
    }
  };

  return {
    cipher,
    installations: installationsRepo(q, cipher),
    programs: programsRepo(q),
    referrals: referralsRepo(q),
    referralAsks: referralAsksRepo(q),
    referralLinks: referralLinksRepo(q),
    productMilestones: productMilestonesRepo(q),
    rewards: rewardsRepo(q),
    payouts: payoutsRepo(q),
    deals: dealsRepo(q),
    dealClaims: dealClaimsRepo(q),
    inbox: inboxRepo(q),
    audit: auditRepo(q),
    outbox: outboxRepo(q),
    oauthStates: oauthStatesRepo(q),
    referrerWebhookEndpoints: referrerWebhookEndpointsRepo(q),
    sessions: sessionsRepo(q),
    consoleUsers: consoleUsersRepo(q),
    reports: reportsRepo(q),
    cardKeys: cardKeysRepo(q, cipher),
    transaction,
    isMigrated: async () => {
      const { rows } = await db.$client.query("SELECT to_regclass('public.installations') IS NOT NULL AS ready");
      return rows[0]?.ready === true;
    },
    close: () => closePostgres(db),
  };
}
