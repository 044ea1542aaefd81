import type { Cipher } from './crypto.ts';
import type { Db } from './db.ts';
import { auditRepo } from './audit.repo.ts';
import { dealsRepo } from './deals.repo.ts';
import { inboxRepo } from './inbox.repo.ts';
import { installationsRepo } from './installations.repo.ts';
import { outboxRepo } from './outbox.repo.ts';
import { programsRepo } from './programs.repo.ts';
import { referralsRepo } from './referrals.repo.ts';
import { rewardsRepo } from './rewards.repo.ts';

/**
 * Every repository over one SQLite connection. better-sqlite3 is synchronous, so repository
 * calls made inside `transaction()` all belong to that transaction.
 */
export function createStore(db: Db, cipher: Cipher) {
  return {
    db,
    cipher,
    installations: installationsRepo(db, cipher),
    programs: programsRepo(db),
    referrals: referralsRepo(db),
    rewards: rewardsRepo(db),
    deals: dealsRepo(db),
    inbox: inboxRepo(db),
    audit: auditRepo(db),
    outbox: outboxRepo(db),
    transaction<T>(fn: () => T): T {
      return db.$client.transaction(fn)();
    },
  };
}

export type Store = ReturnType<typeof createStore>;
