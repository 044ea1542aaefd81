import { and, asc, eq, getTableColumns, gte, inArray, lt, lte, notInArray, or, sql } from 'drizzle-orm';
import type { Store } from '../contract.ts';
import type { Cipher } from '../crypto.ts';
import { EXPIRED_CLAIM_DETAIL, isDigestEmail, type NewOutboxRow, type OutboxSettlement } from '../outbox.repo.ts';
import type { Executor, Query } from './query.ts';
import { deliveryAttempts, outbox, referrers } from './schema.ts';

/** One array parameter however many ids: `id = ANY($1)`. */
function idIn(ids: number[]) {
  return sql`${outbox.id} = ANY(${sql.param(ids)}::bigint[])`;
}

/**
 * The notification outbox on PostgreSQL, method by method as src/store/outbox.repo.ts answers on
 * SQLite. Several notifiers deliver at once: the reads a claim is decided on (`firstDue`,
 * `dueEmailsOf`) lock what they answer with `FOR UPDATE SKIP LOCKED`, so a second notifier passes
 * over a message the first is claiming rather than waiting for it or taking it too. `claimNext`
 * claims in a READ COMMITTED transaction of its own: in a SERIALIZABLE one, two notifiers claiming
 * at once read and write the same index pages and one of them is refused (40001) every time.
 */
export function outboxRepo(q: Query, _cipher?: Cipher): Store['outbox'] {
  const due = (at: string) =>
    or(and(eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, at)), and(eq(outbox.status, 'sending'), lte(outbox.leaseUntil, at)));

  /** One claimed by a notifier whose lease ran out, else the earliest due; locked, what others lock passed over. */
  const firstDue = async (run: Executor, at: string) => {
    const [expired] = await run
      .select()
      .from(outbox)
      .where(and(eq(outbox.status, 'sending'), lte(outbox.leaseUntil, at)))
      .orderBy(asc(outbox.id))
      .limit(1)
      .for('update', { skipLocked: true });
    if (expired) return expired;
    const [pending] = await run
      .select()
      .from(outbox)
      .where(and(eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, at)))
      .orderBy(asc(outbox.nextAttemptAt), asc(outbox.id))
      .limit(1)
      .for('update', { skipLocked: true });
    return pending;
  };
  const dueEmailsOf = (run: Executor, referrerId: string, at: string) =>
    run
      .select()
      .from(outbox)
      .where(and(due(at), eq(outbox.channel, 'email'), eq(outbox.referrerId, referrerId)))
      .orderBy(asc(outbox.id))
      .for('update', { skipLocked: true });
  const claim = async (run: Executor, ids: number[], leaseUntil: string) => {
    if (ids.length === 0) return;
    await run
      .update(outbox)
      .set({ status: 'sending', leaseUntil, attempts: sql`${outbox.attempts} + 1` })
      .where(idIn(ids));
  };
  const recordAttempts = async (
    run: Executor,
    attempts: { outboxId: number; attempt: number; ok: boolean; detail: string; at: string }[],
  ) => {
    if (attempts.length === 0) return;
    await run.insert(deliveryAttempts).values(attempts);
  };

  return {
    /** Whether any delivery of this transition was enqueued before (keys `${sourceKey}:…`; ';' sorts right after ':'). */
    async enqueuedBefore(sourceKey: string) {
      const rows = await q()
        .select({ id: outbox.id })
        .from(outbox)
        .where(and(gte(outbox.deliveryKey, `${sourceKey}:`), lt(outbox.deliveryKey, `${sourceKey};`)))
        .limit(1);
      return rows.length > 0;
    },

    /** One statement: the referrer's row, the other facts as subqueries beside it (see the SQLite repository). */
    async referrerMessageFacts(installationId, referrerId, about) {
      const [row] = await q()
        .select({
          referrer: getTableColumns(referrers),
          // Plain SQL with aliases: drizzle leaves columns unqualified in a one-table select, which
          // inside a subquery would name the subquery's own table.
          enqueuedBefore: sql<boolean>`exists (select 1 from outbox o where o.delivery_key >= ${`${about.sourceKey}:`} and o.delivery_key < ${`${about.sourceKey};`})`,
          endpointIds: sql<
            string[]
          >`array(select e.id from webhook_endpoints e where e.referrer_id = referrers.id and e.status = 'enabled' order by e.created_at, e.id)`,
          referrerOfReferral: sql<
            string | null
          >`(select r.referrer_id from referrals r where r.id = ${about.referralId} and r.installation_id = ${installationId})`,
          referrerOfReward: sql<
            string | null
          >`(select w.referrer_id from rewards w where w.id = ${about.rewardId} and w.installation_id = ${installationId})`,
        })
        .from(referrers)
        .where(and(eq(referrers.id, referrerId), eq(referrers.installationId, installationId)));
      if (!row) return undefined;
      return {
        ...row,
        referrerOfReferral: row.referrerOfReferral ?? undefined,
        referrerOfReward: row.referrerOfReward ?? undefined,
      };
    },

    /** Adds the rows whose delivery keys are new, in order; returns how many. Call inside a transaction. */
    async add(rows: NewOutboxRow[]) {
      if (rows.length === 0) return 0;
      const added = await q()
        .insert(outbox)
        .values(
          rows.map((row) => ({
            ...row,
            referralId: row.referralId ?? null,
            referrerId: row.referrerId ?? null,
            lastError: row.lastError ?? null,
          })),
        )
        .onConflictDoNothing({ target: outbox.deliveryKey })
        .returning({ id: outbox.id });
      return added.length;
    },

    /** The next message due at `at`: one claimed by a notifier whose lease ran out, else the earliest due. Locked, others skipped. */
    firstDue(at: string) {
      return firstDue(q(), at);
    },

    /** A referrer's emails due at `at`, oldest first (those another notifier is claiming left out). */
    dueEmailsOf(referrerId: string, at: string) {
      return dueEmailsOf(q(), referrerId, at);
    },

    /** What the notifier delivers next, claimed in one step (see the SQLite repository's `claimNext`). */
    claimNext(at: string, leaseUntil: string) {
      // Its own transaction outside any other (READ COMMITTED: see above), a savepoint inside one.
      return q().transaction(async (tx) => {
        const first = await firstDue(tx, at);
        if (!first) return [];
        // The first is locked already: this transaction's own lock is not skipped.
        const rows = isDigestEmail(first) ? (await dueEmailsOf(tx, first.referrerId!, at)).filter(isDigestEmail) : [first];
        await recordAttempts(
          tx,
          rows
            .filter((r) => r.status === 'sending')
            .map((r) => ({ outboxId: r.id, attempt: r.attempts, ok: false, detail: EXPIRED_CLAIM_DETAIL, at })),
        );
        await claim(
          tx,
          rows.map((r) => r.id),
          leaseUntil,
        );
        return rows.map((r) => ({ ...r, attempts: r.attempts + 1 }));
      });
    },

    claim(ids: number[], leaseUntil: string) {
      return claim(q(), ids, leaseUntil);
    },

    recordAttempts(attempts: { outboxId: number; attempt: number; ok: boolean; detail: string; at: string }[]) {
      return recordAttempts(q(), attempts);
    },

    /** Ends the claim on these rows with their next state. */
    async settle(ids: number[], next: OutboxSettlement) {
      if (ids.length === 0) return;
      await q()
        .update(outbox)
        .set({
          status: next.status,
          leaseUntil: null,
          lastError: next.lastError,
          // Only a delivery sets deliveredAt, only a retry nextAttemptAt; the others keep theirs.
          ...(next.deliveredAt !== undefined ? { deliveredAt: next.deliveredAt } : {}),
          ...(next.nextAttemptAt !== undefined ? { nextAttemptAt: next.nextAttemptAt } : {}),
        })
        .where(idIn(ids));
    },

    /**
     * A referrer's messages on one channel about one referral's earlier deal steps (`topics`),
     * cancelled and failed ones left out: `held` while pending, never attempted and not due at
     * `at`; `told` once on their way.
     */
    async stepMessagesOf(referralId: string, channel: 'email' | 'crm', referrerId: string, topics: string[], at: string) {
      if (topics.length === 0) return [];
      const rows = await q()
        .select({
          id: outbox.id,
          topic: outbox.topic,
          status: outbox.status,
          attempts: outbox.attempts,
          nextAttemptAt: outbox.nextAttemptAt,
        })
        .from(outbox)
        .where(
          and(
            eq(outbox.referralId, referralId),
            eq(outbox.channel, channel),
            eq(outbox.referrerId, referrerId),
            inArray(outbox.topic, topics),
            notInArray(outbox.status, ['cancelled', 'failed']),
          ),
        )
        .orderBy(asc(outbox.id));
      return rows.map((m) => ({
        id: m.id,
        topic: m.topic,
        state: m.status === 'pending' && m.attempts === 0 && m.nextAttemptAt > at ? ('held' as const) : ('told' as const),
        sendAt: m.nextAttemptAt,
      }));
    },

    /** Cancels messages still held (pending, never attempted), each with its reason. Call inside a transaction. */
    async cancel(messages: { id: number; reason: string }[]) {
      for (const m of messages) {
        await q()
          .update(outbox)
          .set({ status: 'cancelled', lastError: m.reason })
          .where(and(eq(outbox.id, m.id), eq(outbox.status, 'pending'), eq(outbox.attempts, 0)));
      }
    },

    /** A referral's emails, oldest first, whatever their state (the first-run tour shows them). */
    async emailsOfReferral(referralId: string) {
      return q()
        .select()
        .from(outbox)
        .where(and(eq(outbox.referralId, referralId), eq(outbox.channel, 'email')))
        .orderBy(asc(outbox.id));
    },

    /** Whether a referrer still takes email, and the key of their unsubscribe link. */
    async emailPreferences(referrerId: string) {
      const [row] = await q()
        .select({ emailOptOut: referrers.emailOptOut, accessKey: referrers.accessKey })
        .from(referrers)
        .where(eq(referrers.id, referrerId));
      return row;
    },
  };
}
