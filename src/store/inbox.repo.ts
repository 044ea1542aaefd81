import { and, asc, eq, gte, inArray, isNotNull, lt, or, sql } from 'drizzle-orm';
import type { CrmEvent, CrmKind } from '../../connectors/connector.ts';
import type { Db } from './db.ts';
import { inbox } from './schema.ts';

export type InboxRow = typeof inbox.$inferSelect;

export function inboxRepo(db: Db) {
  const insert = db.$client.prepare(
    `INSERT INTO inbox (crm, account_id, installation_id, event_key, object_type, object_id, change, occurred_at,
       related, payload, status, received_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (crm, account_id, event_key) DO NOTHING`,
  );

  return {
    /**
     * Stores a webhook's events in one transaction before it is acknowledged. The unique
     * (crm, account, event key) index is the dedupe: a redelivery inserts nothing.
     */
    store(input: { crm: CrmKind; installationId: string | null; events: CrmEvent[]; now: Date }): {
      stored: number;
      duplicates: number;
    } {
      const receivedAt = input.now.toISOString();
      const status = input.installationId ? 'pending' : 'ignored';
      let stored = 0;
      db.$client.transaction(() => {
        for (const e of input.events) {
          stored += insert.run(
            input.crm,
            e.accountId,
            input.installationId,
            e.eventKey,
            e.objectType,
            e.objectId,
            e.change,
            e.occurredAt,
            e.related ? JSON.stringify(e.related) : null,
            JSON.stringify(e.raw ?? null),
            status,
            receivedAt,
          ).changes;
        }
      })();
      return { stored, duplicates: input.events.length - stored };
    },

    /**
     * Claims the pending events (or ones whose lease ran out) of up to `records` CRM records of one
     * installation, oldest first, each record with all its events: a record is fetched once per
     * run, not once per run for every run its events were spread over.
     */
    claim(installationId: string, records: number, leaseMs: number, now: Date): InboxRow[] {
      const nowIso = now.toISOString();
      const due = and(
        eq(inbox.installationId, installationId),
        or(eq(inbox.status, 'pending'), and(eq(inbox.status, 'processing'), lt(inbox.leaseUntil, nowIso))),
      );
      return db.transaction((tx) => {
        const oldest = tx
          .select({ objectType: inbox.objectType, objectId: inbox.objectId })
          .from(inbox)
          .where(due)
          .groupBy(inbox.objectType, inbox.objectId)
          .orderBy(sql`min(${inbox.id})`)
          .limit(records)
          .all();
        if (oldest.length === 0) return [];
        const rows = tx
          .select()
          .from(inbox)
          .where(
            and(
              due,
              sql`(${inbox.objectType}, ${inbox.objectId}) IN (SELECT value->>'objectType', value->>'objectId' FROM json_each(${JSON.stringify(oldest)}))`,
            ),
          )
          .orderBy(asc(inbox.id))
          .all();
        if (rows.length === 0) return rows;
        tx.update(inbox)
          .set({
            status: 'processing',
            attempts: sql`${inbox.attempts} + 1`,
            leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
          })
          .where(inArray(inbox.id, rows.map((r) => r.id)))
          .run();
        return rows.map((r) => ({ ...r, attempts: r.attempts + 1 }));
      });
    },

    extendLease(ids: number[], until: Date): void {
      if (ids.length === 0) return;
      db.update(inbox)
        .set({ leaseUntil: until.toISOString() })
        .where(and(inArray(inbox.id, ids), eq(inbox.status, 'processing')))
        .run();
    },

    markDone(ids: number[], now: Date): void {
      if (ids.length === 0) return;
      db.update(inbox)
        .set({ status: 'done', processedAt: now.toISOString(), leaseUntil: null, lastError: null })
        .where(inArray(inbox.id, ids))
        .run();
    },

    /** Back to pending for another try, or dead once `maxAttempts` were spent. */
    markFailed(rows: InboxRow[], error: string, maxAttempts: number): void {
      if (rows.length === 0) return;
      const dead = rows.filter((r) => r.attempts >= maxAttempts).map((r) => r.id);
      const retry = rows.filter((r) => r.attempts < maxAttempts).map((r) => r.id);
      if (dead.length) db.update(inbox).set({ status: 'dead', lastError: error, leaseUntil: null }).where(inArray(inbox.id, dead)).run();
      if (retry.length) db.update(inbox).set({ status: 'pending', lastError: error, leaseUntil: null }).where(inArray(inbox.id, retry)).run();
    },

    /** Returns claimed rows untouched (rate limited: not their fault, no attempt spent). */
    release(rows: InboxRow[]): void {
      if (rows.length === 0) return;
      db.update(inbox)
        .set({ status: 'pending', attempts: sql`${inbox.attempts} - 1`, leaseUntil: null })
        .where(inArray(inbox.id, rows.map((r) => r.id)))
        .run();
    },

    /** Installations with events waiting, for the sweeper that re-enqueues lost jobs. */
    installationsWithPending(now: Date): string[] {
      const rows = db
        .selectDistinct({ installationId: inbox.installationId })
        .from(inbox)
        .where(
          and(
            isNotNull(inbox.installationId),
            or(eq(inbox.status, 'pending'), and(eq(inbox.status, 'processing'), lt(inbox.leaseUntil, now.toISOString()))),
          ),
        )
        .all();
      return rows.map((r) => r.installationId!);
    },

    pendingCount(installationId?: string): number {
      const row = db
        .select({ n: sql<number>`count(*)` })
        .from(inbox)
        .where(
          and(
            inArray(inbox.status, ['pending', 'processing']),
            installationId ? eq(inbox.installationId, installationId) : undefined,
          ),
        )
        .get();
      return row?.n ?? 0;
    },

    /** Replay: processed events received since `since` go back to pending. */
    requeueSince(since: Date, installationId?: string): number {
      return db
        .update(inbox)
        .set({ status: 'pending', attempts: 0, lastError: null, leaseUntil: null })
        .where(
          and(
            gte(inbox.receivedAt, since.toISOString()),
            inArray(inbox.status, ['done', 'dead']),
            installationId ? eq(inbox.installationId, installationId) : undefined,
          ),
        )
        .run().changes;
    },

    dead(installationId?: string): InboxRow[] {
      return db
        .select()
        .from(inbox)
        .where(and(eq(inbox.status, 'dead'), installationId ? eq(inbox.installationId, installationId) : undefined))
        .orderBy(asc(inbox.id))
        .all();
    },

    retryDead(id: number): boolean {
      return (
        db
          .update(inbox)
          .set({ status: 'pending', attempts: 0, lastError: null })
          .where(and(eq(inbox.id, id), eq(inbox.status, 'dead')))
          .run().changes > 0
      );
    },
  };
}

export type InboxRepo = ReturnType<typeof inboxRepo>;
