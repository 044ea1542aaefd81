import { AsyncLocalStorage } from 'node:async_hooks';
import type { AsyncRepo, Store } from './contract.ts';
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

export type { Store } from './contract.ts';

/**
 * The store on one SQLite connection (better-sqlite3, synchronous underneath). Its repositories
 * answer with promises, as the contract says, and run their statements at once.
 *
 * One connection means one transaction at a time for the whole process: while a transaction is
 * open, only the calls made from inside it (followed through `await`s by AsyncLocalStorage) reach
 * the connection, and every other call waits until it ends. A transaction takes the write lock
 * when it begins (`BEGIN IMMEDIATE`), so a read that decides a write holds against other processes
 * too, and no transaction fails half-way on a lock it could not upgrade.
 */
export function createStore(db: Db, cipher: Cipher): Store {
  const client = db.$client;
  const inTransaction = new AsyncLocalStorage<symbol>();
  let open: { owner: symbol; ended: Promise<void> } | undefined;
  const mayRunNow = () => open === undefined || inTransaction.getStore() === open.owner;
  // Checked right before the statement runs, in the same synchronous step: a transaction that
  // began while this call waited is waited for too.
  const call = (run: (...args: unknown[]) => unknown, args: unknown[]): Promise<unknown> => {
    if (!mayRunNow()) return open!.ended.then(() => call(run, args));
    try {
      return Promise.resolve(run(...args));
    } catch (err) {
      return Promise.reject(err);
    }
  };

  const wrap = <R extends object>(repo: R): AsyncRepo<R> => {
    const wrapped: Record<string, unknown> = {};
    for (const [name, method] of Object.entries(repo) as [string, (...args: unknown[]) => unknown][]) {
      // Bound to the repository: its methods call each other through `this`, synchronously.
      const run = method.bind(repo);
      wrapped[name] = (...args: unknown[]) => call(run, args);
    }
    return wrapped as AsyncRepo<R>;
  };

  let savepoints = 0;
  const transaction = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (open && inTransaction.getStore() === open.owner) {
      // Nested: a savepoint, so the inner part can fail alone as it did with better-sqlite3's own nesting.
      const name = `nested_${++savepoints}`;
      client.exec(`SAVEPOINT ${name}`);
      try {
        const result = await fn();
        client.exec(`RELEASE ${name}`);
        return result;
      } catch (err) {
        client.exec(`ROLLBACK TO ${name}`);
        client.exec(`RELEASE ${name}`);
        throw err;
      }
    }
    while (open) await open.ended;
    const owner = Symbol('transaction');
    let end!: () => void;
    open = { owner, ended: new Promise((resolve) => (end = resolve)) };
    // A transaction whose work outlives this turn of the event loop waited for I/O while holding
    // the write lock (and on PostgreSQL could be run twice): refused, whatever it did is undone.
    // The turn ends at the loop's next check phase or next timers phase, whichever comes first:
    // entered from a setImmediate callback on a late loop, a timer the work awaited would
    // otherwise fire before the next check phase and pass unseen.
    let outlivedTurn = false;
    const outlive = () => (outlivedTurn = true);
    const turn = setImmediate(outlive);
    const timer = setTimeout(outlive, 0);
    try {
      client.exec('BEGIN IMMEDIATE');
      try {
        const result = await inTransaction.run(owner, fn);
        if (outlivedTurn) throw new Error('A store transaction waited for I/O; it must do nothing but store calls and pure work.');
        client.exec('COMMIT');
        return result;
      } catch (err) {
        if (client.inTransaction) client.exec('ROLLBACK');
        throw err;
      }
    } finally {
      clearImmediate(turn);
      clearTimeout(timer);
      open = undefined;
      end();
    }
  };

  const schemaReady = client.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'installations'");
  return {
    cipher,
    installations: wrap(installationsRepo(db, cipher)),
    programs: wrap(programsRepo(db)),
    referrals: wrap(referralsRepo(db)),
    referralAsks: wrap(referralAsksRepo(db)),
    referralLinks: wrap(referralLinksRepo(db)),
    productMilestones: wrap(productMilestonesRepo(db)),
    rewards: wrap(rewardsRepo(db)),
    payouts: wrap(payoutsRepo(db)),
    deals: wrap(dealsRepo(db)),
    dealClaims: wrap(dealClaimsRepo(db)),
    inbox: wrap(inboxRepo(db)),
    audit: wrap(auditRepo(db)),
    outbox: wrap(outboxRepo(db)),
    oauthStates: wrap(oauthStatesRepo(db)),
    referrerWebhookEndpoints: wrap(referrerWebhookEndpointsRepo(db)),
    sessions: wrap(sessionsRepo(db)),
    consoleUsers: wrap(consoleUsersRepo(db)),
    reports: wrap(reportsRepo(db)),
    cardKeys: wrap(cardKeysRepo(db, cipher)),
    transaction,
    isMigrated: async () => (schemaReady.get() as { n: number }).n === 1,
    close: async () => {
      client.close();
    },
  };
}
