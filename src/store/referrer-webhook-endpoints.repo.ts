import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from './db.ts';
import { outbox, webhookEndpoints } from './schema.ts';

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;

/** Referrers' webhook endpoints: where signed notifications go, and whether they still work. */
export function referrerWebhookEndpointsRepo(db: Db) {
  return {
    insert(values: typeof webhookEndpoints.$inferInsert): WebhookEndpointRow {
      return db.insert(webhookEndpoints).values(values).returning().get();
    },

    get(id: string): WebhookEndpointRow | undefined {
      return db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).get();
    },

    ofReferrer(referrerId: string): WebhookEndpointRow[] {
      return db
        .select()
        .from(webhookEndpoints)
        .where(eq(webhookEndpoints.referrerId, referrerId))
        .orderBy(webhookEndpoints.createdAt)
        .all();
    },

    delete(id: string): void {
      db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)).run();
    },

    enable(id: string): WebhookEndpointRow {
      return db
        .update(webhookEndpoints)
        .set({ status: 'enabled', failingSince: null, disabledReason: null })
        .where(eq(webhookEndpoints.id, id))
        .returning()
        .get();
    },

    /** `since` is when the failures began; null clears it after a success. */
    setFailingSince(id: string, since: string | null): void {
      db.update(webhookEndpoints).set({ failingSince: since }).where(eq(webhookEndpoints.id, id)).run();
    },

    /** Disables the endpoint and fails its waiting messages, which would not be delivered either. */
    disable(endpoint: WebhookEndpointRow, failingSince: string, disabledReason: string): void {
      db.update(webhookEndpoints)
        .set({ status: 'disabled', disabledReason, failingSince })
        .where(eq(webhookEndpoints.id, endpoint.id))
        .run();
      const waiting = db
        .select({ id: outbox.id, payload: outbox.payload })
        .from(outbox)
        .where(and(eq(outbox.channel, 'webhook'), eq(outbox.referrerId, endpoint.referrerId), eq(outbox.status, 'pending')))
        .all()
        .filter((r) => (r.payload as { endpointId?: string }).endpointId === endpoint.id)
        .map((r) => r.id);
      if (waiting.length > 0) {
        db.update(outbox).set({ status: 'failed', lastError: 'webhook endpoint disabled' }).where(inArray(outbox.id, waiting)).run();
      }
    },
  };
}
