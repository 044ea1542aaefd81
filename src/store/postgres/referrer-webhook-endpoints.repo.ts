import { and, asc, eq, sql } from 'drizzle-orm';
import type { Store } from '../contract.ts';
import type { Cipher } from '../crypto.ts';
import type { Query } from './query.ts';
import { outbox, webhookEndpoints } from './schema.ts';

/** Referrers' webhook endpoints on PostgreSQL: the SQLite repository's behaviour method by method. */
export function referrerWebhookEndpointsRepo(q: Query, _cipher?: Cipher): Store['referrerWebhookEndpoints'] {
  return {
    async insert(values) {
      const [row] = await q().insert(webhookEndpoints).values(values).returning();
      return row!;
    },

    async get(id) {
      return (await q().select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).limit(1))[0];
    },

    async ofReferrer(referrerId) {
      return await q()
        .select()
        .from(webhookEndpoints)
        .where(eq(webhookEndpoints.referrerId, referrerId))
        .orderBy(asc(webhookEndpoints.createdAt), asc(webhookEndpoints.id));
    },

    async delete(id) {
      await q().delete(webhookEndpoints).where(eq(webhookEndpoints.id, id));
    },

    async enable(id) {
      const [row] = await q()
        .update(webhookEndpoints)
        .set({ status: 'enabled', failingSince: null, disabledReason: null })
        .where(eq(webhookEndpoints.id, id))
        .returning();
      return row!;
    },

    async setFailingSince(id, since) {
      await q().update(webhookEndpoints).set({ failingSince: since }).where(eq(webhookEndpoints.id, id));
    },

    // Both changes land together, in the caller's transaction or a savepoint of it, else one of their own.
    async disable(endpoint, failingSince, disabledReason) {
      await q().transaction(async (tx) => {
        await tx
          .update(webhookEndpoints)
          .set({ status: 'disabled', disabledReason, failingSince })
          .where(eq(webhookEndpoints.id, endpoint.id));
        await tx
          .update(outbox)
          .set({ status: 'failed', lastError: 'webhook endpoint disabled' })
          .where(
            and(
              eq(outbox.channel, 'webhook'),
              eq(outbox.referrerId, endpoint.referrerId),
              eq(outbox.status, 'pending'),
              sql`${outbox.payload} ->> 'endpointId' = ${endpoint.id}`,
            ),
          );
      });
    },
  };
}
