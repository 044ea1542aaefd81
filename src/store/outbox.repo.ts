import { and, eq, gte, lt, lte, notInArray, or, sql } from 'drizzle-orm';
import type { Db } from './db.ts';
import { placeholder } from './placeholder.ts';
import { deliveryAttempts, outbox, referrals, referrers, rewards, webhookEndpoints } from './schema.ts';

export type OutboxRow = typeof outbox.$inferSelect;
/** A row as enqueued: attempts, lease and delivery come later. */
export type NewOutboxRow = Omit<typeof outbox.$inferInsert, 'id' | 'attempts' | 'leaseUntil' | 'deliveredAt'>;
type ReferrerRow = typeof referrers.$inferSelect;

/** Where a claimed message goes next: delivered, suppressed, failed, or pending a retry. */
export interface OutboxSettlement {
  status: OutboxRow['status'];
  lastError: string | null;
  deliveredAt?: string;
  nextAttemptAt?: string;
}

/** See `referrerMessageFacts`. */
export interface ReferrerMessageFacts {
  enqueuedBefore: boolean;
  referrer: ReferrerRow;
  endpointIds: string[];
  referrerOfReferral: string | undefined;
  referrerOfReward: string | undefined;
}

/** What a claim records for a message whose earlier claim ran out before its outcome was recorded. */
export const EXPIRED_CLAIM_DETAIL = 'claim expired before the outcome was recorded (notifier stopped?)';

/** An email held for its referrer's digest (its payload names the digest's time). */
export const isDigestEmail = (row: OutboxRow) =>
  row.channel === 'email' && row.referrerId !== null && Boolean((row.payload as { digestAt?: unknown } | null)?.digestAt);

/** Rows whose ids are in the JSON array bound as `ids`: any number of rows, one prepared statement. */
const idIn = sql`${outbox.id} IN (SELECT value FROM json_each(${sql.placeholder('ids')}))`;

/**
 * The notification outbox as enqueueing and the notifier use it for every message. Prepared once:
 * every referral step writes deliveries, and every delivery is claimed and settled.
 */
export function outboxRepo(db: Db) {
  // Every delivery key of a transition starts with `${sourceKey}:`, and ';' sorts right after ':'.
  const anyKeyInRange = db
    .select({ id: outbox.id })
    .from(outbox)
    .where(and(gte(outbox.deliveryKey, sql.placeholder('from')), lt(outbox.deliveryKey, sql.placeholder('to'))))
    .limit(1)
    .prepare();
  const referrerIn = db
    .select()
    .from(referrers)
    .where(and(eq(referrers.id, sql.placeholder('referrerId')), eq(referrers.installationId, sql.placeholder('installationId'))))
    .prepare();
  const enabledEndpoints = db
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.referrerId, sql.placeholder('referrerId')), eq(webhookEndpoints.status, 'enabled')))
    .orderBy(webhookEndpoints.createdAt, webhookEndpoints.id)
    .prepare();
  const referralOwner = db
    .select({ referrerId: referrals.referrerId })
    .from(referrals)
    .where(and(eq(referrals.id, sql.placeholder('id')), eq(referrals.installationId, sql.placeholder('installationId'))))
    .prepare();
  const rewardOwner = db
    .select({ referrerId: rewards.referrerId })
    .from(rewards)
    .where(and(eq(rewards.id, sql.placeholder('id')), eq(rewards.installationId, sql.placeholder('installationId'))))
    .prepare();
  const rowInsert = db
    .insert(outbox)
    .values({
      installationId: sql.placeholder('installationId'),
      referralId: sql.placeholder('referralId'),
      referrerId: sql.placeholder('referrerId'),
      channel: sql.placeholder('channel'),
      topic: sql.placeholder('topic'),
      deliveryKey: sql.placeholder('deliveryKey'),
      payload: sql.placeholder('payload'),
      status: sql.placeholder('status'),
      nextAttemptAt: sql.placeholder('nextAttemptAt'),
      lastError: sql.placeholder('lastError'),
      createdAt: sql.placeholder('createdAt'),
    })
    .onConflictDoNothing()
    .prepare();

  const due = or(
    and(eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, sql.placeholder('at'))),
    and(eq(outbox.status, 'sending'), lte(outbox.leaseUntil, sql.placeholder('at'))),
  );
  // Two lookups rather than one over `due`: for the OR, SQLite gathered and sorted every due
  // message on each claim, which a burst of thousands made the notifier's main cost. Pending
  // messages leave in due order (the outbox_due index's own order; ties by id).
  const firstPending = db
    .select()
    .from(outbox)
    .where(and(eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, sql.placeholder('at'))))
    .orderBy(outbox.nextAttemptAt, outbox.id)
    .limit(1)
    .prepare();
  const firstExpired = db
    .select()
    .from(outbox)
    .where(and(eq(outbox.status, 'sending'), lte(outbox.leaseUntil, sql.placeholder('at'))))
    .orderBy(outbox.id)
    .limit(1)
    .prepare();
  const emailsOfReferral = db
    .select()
    .from(outbox)
    .where(and(eq(outbox.referralId, sql.placeholder('referralId')), eq(outbox.channel, 'email')))
    .orderBy(outbox.id)
    .prepare();
  const dueEmailsOf = db
    .select()
    .from(outbox)
    .where(and(due, eq(outbox.channel, 'email'), eq(outbox.referrerId, sql.placeholder('referrerId'))))
    .orderBy(outbox.id)
    .prepare();
  const claim = db
    .update(outbox)
    .set({ status: 'sending', leaseUntil: placeholder('leaseUntil'), attempts: sql`${outbox.attempts} + 1` })
    .where(idIn)
    .prepare();
  const attemptInsert = db
    .insert(deliveryAttempts)
    .values({
      outboxId: sql.placeholder('outboxId'),
      attempt: sql.placeholder('attempt'),
      ok: sql.placeholder('ok'),
      detail: sql.placeholder('detail'),
      at: sql.placeholder('at'),
    })
    .prepare();
  const settleUpdate = db
    .update(outbox)
    .set({
      status: placeholder('status'),
      leaseUntil: null,
      lastError: placeholder('lastError'),
      // Only a delivery sets deliveredAt, only a retry nextAttemptAt; the others keep theirs.
      deliveredAt: sql`coalesce(${sql.placeholder('deliveredAt')}, ${outbox.deliveredAt})`,
      nextAttemptAt: sql`coalesce(${sql.placeholder('nextAttemptAt')}, ${outbox.nextAttemptAt})`,
    })
    .where(idIn)
    .prepare();
  const stepMessages = db
    .select({ id: outbox.id, topic: outbox.topic, status: outbox.status, attempts: outbox.attempts, nextAttemptAt: outbox.nextAttemptAt })
    .from(outbox)
    .where(
      and(
        eq(outbox.referralId, sql.placeholder('referralId')),
        eq(outbox.channel, sql.placeholder('channel')),
        eq(outbox.referrerId, sql.placeholder('referrerId')),
        sql`${outbox.topic} IN (SELECT value FROM json_each(${sql.placeholder('topics')}))`,
        notInArray(outbox.status, ['cancelled', 'failed']),
      ),
    )
    .orderBy(outbox.id)
    .prepare();
  const cancelHeld = db
    .update(outbox)
    .set({ status: 'cancelled', lastError: placeholder('reason') })
    .where(and(eq(outbox.id, sql.placeholder('id')), eq(outbox.status, 'pending'), eq(outbox.attempts, 0)))
    .prepare();
  const emailPreferences = db
    .select({ emailOptOut: referrers.emailOptOut, accessKey: referrers.accessKey })
    .from(referrers)
    .where(eq(referrers.id, sql.placeholder('id')))
    .prepare();

  return {
    /** Whether any delivery of this transition was enqueued before. */
    enqueuedBefore(sourceKey: string): boolean {
      return anyKeyInRange.get({ from: `${sourceKey}:`, to: `${sourceKey};` }) !== undefined;
    },

    /**
     * What enqueueing a message to a referrer checks, in one call (one round trip on PostgreSQL,
     * where a sync enqueues several per deal): whether the transition was enqueued before, the
     * referrer, their enabled webhook endpoints in creation order, and who owns the referral and
     * the reward the message is about. Undefined when the referrer is not the installation's.
     */
    referrerMessageFacts(
      installationId: string,
      referrerId: string,
      about: { sourceKey: string; referralId: string | null; rewardId: string | null },
    ): ReferrerMessageFacts | undefined {
      const referrer = referrerIn.get({ installationId, referrerId });
      if (!referrer) return undefined;
      return {
        enqueuedBefore: this.enqueuedBefore(about.sourceKey),
        referrer,
        endpointIds: enabledEndpoints.all({ referrerId }).map((e) => e.id),
        referrerOfReferral: about.referralId ? referralOwner.get({ installationId, id: about.referralId })?.referrerId : undefined,
        referrerOfReward: about.rewardId ? rewardOwner.get({ installationId, id: about.rewardId })?.referrerId : undefined,
      };
    },

    /** Adds the rows whose delivery keys are new; returns how many. Call inside a transaction. */
    add(rows: NewOutboxRow[]): number {
      let added = 0;
      for (const row of rows) {
        added += rowInsert.run({
          ...row,
          referralId: row.referralId ?? null,
          referrerId: row.referrerId ?? null,
          lastError: row.lastError ?? null,
        }).changes;
      }
      return added;
    },

    /** The next message due at `at`: one claimed by a notifier whose lease ran out, else the earliest due. */
    firstDue(at: string): OutboxRow | undefined {
      return firstExpired.get({ at }) ?? firstPending.get({ at });
    },

    /** A referrer's emails due at `at`, oldest first. */
    dueEmailsOf(referrerId: string, at: string): OutboxRow[] {
      return dueEmailsOf.all({ referrerId, at });
    },

    /**
     * Claims what the notifier delivers next, in one step of its own: the first message due at
     * `at` (see `firstDue`), or, when it is a digest email, all its referrer's due digest emails;
     * leased until `leaseUntil`, an attempt spent, and a failed attempt recorded for each whose
     * earlier claim ran out. Answers the rows as they were, attempts counted.
     */
    claimNext(at: string, leaseUntil: string): OutboxRow[] {
      return db.transaction(
        () => {
          const first = firstExpired.get({ at }) ?? firstPending.get({ at });
          if (!first) return [];
          const rows = isDigestEmail(first) ? dueEmailsOf.all({ referrerId: first.referrerId, at }).filter(isDigestEmail) : [first];
          for (const r of rows.filter((r) => r.status === 'sending')) {
            attemptInsert.run({ outboxId: r.id, attempt: r.attempts, ok: false, detail: EXPIRED_CLAIM_DETAIL, at });
          }
          claim.run({ ids: JSON.stringify(rows.map((r) => r.id)), leaseUntil });
          return rows.map((r) => ({ ...r, attempts: r.attempts + 1 }));
        },
        { behavior: 'immediate' },
      );
    },

    claim(ids: number[], leaseUntil: string): void {
      claim.run({ ids: JSON.stringify(ids), leaseUntil });
    },

    recordAttempts(attempts: { outboxId: number; attempt: number; ok: boolean; detail: string; at: string }[]): void {
      for (const attempt of attempts) attemptInsert.run(attempt);
    },

    /** Ends the claim on these rows with their next state. */
    settle(ids: number[], next: OutboxSettlement): void {
      settleUpdate.run({ ids: JSON.stringify(ids), deliveredAt: null, nextAttemptAt: null, ...next });
    },

    /**
     * A referrer's messages on one channel about one referral's earlier deal steps (`topics`),
     * cancelled and failed ones left out: `held` while pending, never attempted and not due at
     * `at`; `told` once on their way.
     */
    stepMessagesOf(
      referralId: string,
      channel: 'email' | 'crm',
      referrerId: string,
      topics: string[],
      at: string,
    ): { id: number; topic: string; state: 'held' | 'told'; sendAt: string }[] {
      return stepMessages.all({ referralId, channel, referrerId, topics: JSON.stringify(topics) }).map((m) => ({
        id: m.id,
        topic: m.topic,
        state: m.status === 'pending' && m.attempts === 0 && m.nextAttemptAt > at ? 'held' : 'told',
        sendAt: m.nextAttemptAt,
      }));
    },

    /** Cancels messages still held (pending, never attempted), each with its reason. Call inside a transaction. */
    cancel(messages: { id: number; reason: string }[]): void {
      for (const m of messages) cancelHeld.run(m);
    },

    /** A referral's emails, oldest first, whatever their state (the first-run tour shows them). */
    emailsOfReferral(referralId: string): OutboxRow[] {
      return emailsOfReferral.all({ referralId });
    },

    /** Whether a referrer still takes email, and the key of their unsubscribe link. */
    emailPreferences(referrerId: string): { emailOptOut: boolean; accessKey: string } | undefined {
      return emailPreferences.get({ id: referrerId });
    },
  };
}
