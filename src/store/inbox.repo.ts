import { and, asc, desc, eq, gte, inArray, isNotNull, lt, or, sql } from 'drizzle-orm';
import type { CrmEvent } from '../../connectors/connector.ts';
import type { CrmKind } from '../../connectors/registry.ts';
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.ts';
import { inbox } from './schema.ts';

export type InboxRow = typeof inbox.$inferSelect;

/** Rows per INSERT: 100 events × 7 values stays far below SQLite's 32,766 parameters. */
const INSERT_CHUNK = 100;

/** How long an installation's events wait to be synced together (SYNC_COALESCE_MS, SYNC_MAX_DELAY_MS). */
export interface SyncWindow {
  quietMs: number;
  maxDelayMs: number;
}

/** Events waiting to be synced: pending, or claimed by a worker whose lease ran out. */
function waiting(now: Date) {
  return or(eq(inbox.status, 'pending'), and(eq(inbox.status, 'processing'), lt(inbox.leaseUntil, now.toISOString())));
}

/**
 * One JSON parameter rather than one per id: a claim of 2,000 records can hold more events than
 * SQLite's limit of 32,766 parameters.
 */
function idIn(ids: number[]) {
  return sql`${inbox.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`;
}

function waitingIn(installationId: string, now: Date) {
  return and(eq(inbox.installationId, installationId), waiting(now));
}

/** The newest waiting event plus the quiet window, or the oldest plus the longest wait, whichever comes first. */
function dueAt(db: Pick<Db, 'select'>, installationId: string, options: { now: Date } & SyncWindow): Date | null {
  const row = db
    .select({ newest: sql<string | null>`max(${inbox.receivedAt})`, oldest: sql<string | null>`min(${inbox.receivedAt})` })
    .from(inbox)
    .where(waitingIn(installationId, options.now))
    .get();
  if (!row?.newest || !row.oldest) return null;
  return new Date(Math.min(Date.parse(row.newest) + options.quietMs, Date.parse(row.oldest) + options.maxDelayMs));
}

/** One webhook request's events, grouped by the installation they belong to (null: none). */
export interface InboxWrite {
  crm: CrmKind;
  groups: { installationId: string | null; events: CrmEvent[] }[];
  now: Date;
}

export function inboxRepo(db: Db) {
  // One INSERT per request (chunks of INSERT_CHUNK rows): a statement per event made binding and
  // stepping, not SQLite's own work, most of what storing cost. What the events of a group share
  // (CRM, installation, status, time) is bound once; each row binds its own seven values.
  const inserts = new Map<number, Statement>();
  const insertRows = (rows: number) => {
    let statement = inserts.get(rows);
    if (!statement) {
      statement = db.$client.prepare(
        `INSERT INTO inbox (crm, installation_id, status, received_at,
           account_id, event_key, object_type, object_id, change, occurred_at, related)
         SELECT ?, ?, ?, ?, column1, column2, column3, column4, column5, column6, column7
           FROM (VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?)').join(', ')})
          WHERE true -- lets ON CONFLICT follow a SELECT
         ON CONFLICT (crm, account_id, event_key) DO NOTHING`,
      );
      inserts.set(rows, statement);
    }
    return statement;
  };

  const insertEvents = (input: InboxWrite): number => {
    const receivedAt = input.now.toISOString();
    let stored = 0;
    for (const { installationId, events } of input.groups) {
      const status = installationId ? 'pending' : 'ignored';
      for (let start = 0; start < events.length; start += INSERT_CHUNK) {
        const chunk = events.slice(start, start + INSERT_CHUNK);
        const values: unknown[] = [input.crm, installationId, status, receivedAt];
        for (const e of chunk)
          values.push(
            e.accountId,
            e.eventKey,
            e.objectType,
            e.objectId,
            e.change,
            e.occurredAt,
            e.related ? JSON.stringify(e.related) : null,
          );
        stored += insertRows(chunk.length).run(values).changes;
      }
    }
    return stored;
  };

  const pruneScan = db.$client.prepare<[number, number], { id: number; receivedAt: string; status: string }>(
    'SELECT id, received_at AS receivedAt, status FROM inbox WHERE id > ? ORDER BY id LIMIT ?',
  );
  const pruneDelete = db.$client.prepare<[string]>('DELETE FROM inbox WHERE id IN (SELECT value FROM json_each(?))');

  // Group commit: the webhook requests whose events arrive in one turn of the event loop share
  // one transaction. The commit is most of what storing a request costs, so a burst of
  // concurrent requests pays for it once.
  type Uncommitted = {
    input: InboxWrite;
    resolve: (result: { stored: number; duplicates: number }) => void;
    reject: (err: unknown) => void;
  };
  const uncommitted: Uncommitted[] = [];
  const commitTogether = db.$client.transaction((inputs: InboxWrite[]) => inputs.map(insertEvents));
  const settle = (write: Uncommitted, stored: number) =>
    write.resolve({ stored, duplicates: write.input.groups.reduce((n, g) => n + g.events.length, 0) - stored });
  const commitUncommitted = () => {
    const writes = uncommitted.splice(0);
    try {
      const stored = commitTogether(writes.map((w) => w.input));
      writes.forEach((w, i) => {
        settle(w, stored[i]!);
      });
    } catch {
      // One bad request must not fail the others: each is tried on its own.
      for (const w of writes) {
        try {
          settle(w, commitTogether([w.input])[0]!);
        } catch (err) {
          w.reject(err);
        }
      }
    }
  };

  return {
    /**
     * Stores a webhook's events, grouped by the installation they belong to; resolves once they
     * are committed, so the webhook can be acknowledged. The unique (crm, account, event key)
     * index is the dedupe: a redelivery inserts nothing. Commits on its own, never inside a
     * caller's transaction (see the group commit above).
     */
    store(input: InboxWrite): Promise<{ stored: number; duplicates: number }> {
      return new Promise((resolve, reject) => {
        if (uncommitted.length === 0) setImmediate(commitUncommitted);
        uncommitted.push({ input, resolve, reject });
      });
    },

    /**
     * Claims the waiting events of up to `records` CRM records of one installation, oldest first,
     * each record with all its events: a record is fetched once per run, not once per run for
     * every run its events were spread over. Nothing is claimed until the installation's webhooks
     * pause for `quietMs` or its oldest waiting event has waited `maxDelayMs` (`nextDueAt`): a
     * burst is synced as one, in full batches, rather than piecemeal while it lasts.
     */
    claim(installationId: string, options: { records: number; leaseMs: number; now: Date } & SyncWindow): InboxRow[] {
      const { now } = options;
      const waiting = waitingIn(installationId, now);
      return db.transaction((tx) => {
        const due = dueAt(tx, installationId, options);
        if (!due || due > now) return [];
        const oldest = tx
          .select({ objectType: inbox.objectType, objectId: inbox.objectId })
          .from(inbox)
          .where(waiting)
          .groupBy(inbox.objectType, inbox.objectId)
          .orderBy(sql`min(${inbox.id})`)
          .limit(options.records)
          .all();
        const rows = tx
          .select()
          .from(inbox)
          .where(
            and(
              waiting,
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
            leaseUntil: new Date(now.getTime() + options.leaseMs).toISOString(),
          })
          .where(idIn(rows.map((r) => r.id)))
          .run();
        return rows.map((r) => ({ ...r, attempts: r.attempts + 1 }));
      });
    },

    /** When the installation's waiting events fall due (see `claim`); null when none waits. */
    nextDueAt(installationId: string, options: { now: Date } & SyncWindow): Date | null {
      return dueAt(db, installationId, options);
    },

    extendLease(ids: number[], until: Date): void {
      if (ids.length === 0) return;
      db.update(inbox)
        .set({ leaseUntil: until.toISOString() })
        .where(and(idIn(ids), eq(inbox.status, 'processing')))
        .run();
    },

    markDone(ids: number[], now: Date): void {
      if (ids.length === 0) return;
      db.update(inbox).set({ status: 'done', processedAt: now.toISOString(), leaseUntil: null, lastError: null }).where(idIn(ids)).run();
    },

    /** Back to pending for another try, or dead once `maxAttempts` were spent. */
    markFailed(rows: InboxRow[], error: string, maxAttempts: number): void {
      if (rows.length === 0) return;
      const dead = rows.filter((r) => r.attempts >= maxAttempts).map((r) => r.id);
      const retry = rows.filter((r) => r.attempts < maxAttempts).map((r) => r.id);
      if (dead.length) db.update(inbox).set({ status: 'dead', lastError: error, leaseUntil: null }).where(idIn(dead)).run();
      if (retry.length) db.update(inbox).set({ status: 'pending', lastError: error, leaseUntil: null }).where(idIn(retry)).run();
    },

    /** Returns claimed rows untouched (rate limited: not their fault, no attempt spent). */
    release(rows: InboxRow[]): void {
      if (rows.length === 0) return;
      db.update(inbox)
        .set({ status: 'pending', attempts: sql`${inbox.attempts} - 1`, leaseUntil: null })
        .where(idIn(rows.map((r) => r.id)))
        .run();
    },

    /**
     * Deletes processed events (done, or ignored: no installation) received before `before`, up to
     * `limit`, oldest first; pending, processing and dead events stay. Walks the table in id order
     * (ids grow with arrival) in pages of `page`, each deleted in its own short transaction, and
     * stops at the first event received since `before`.
     */
    prune(before: Date, options: { limit: number; page?: number }): number {
      const cutoff = before.toISOString();
      const page = options.page ?? 1_000;
      let deleted = 0;
      let after = 0;
      while (deleted < options.limit) {
        const rows = pruneScan.all(after, page);
        const expired = rows.filter((r) => r.receivedAt < cutoff);
        const ids = expired
          .filter((r) => r.status === 'done' || r.status === 'ignored')
          .map((r) => r.id)
          .slice(0, options.limit - deleted);
        if (ids.length) deleted += pruneDelete.run(JSON.stringify(ids)).changes;
        if (rows.length < page || expired.length < rows.length) break;
        after = rows.at(-1)!.id;
      }
      return deleted;
    },

    /** Installations with events waiting, for the sweeper that re-enqueues lost jobs. */
    installationsWithPending(now: Date): string[] {
      const rows = db
        .selectDistinct({ installationId: inbox.installationId })
        .from(inbox)
        .where(and(isNotNull(inbox.installationId), waiting(now)))
        .all();
      return rows.map((r) => r.installationId!);
    },

    /** When the installation's latest CRM event arrived (ids grow with arrival: no index on received_at needed). */
    lastReceivedAt(installationId: string): string | null {
      return (
        db
          .select({ receivedAt: inbox.receivedAt })
          .from(inbox)
          .where(eq(inbox.installationId, installationId))
          .orderBy(desc(inbox.id))
          .limit(1)
          .get()?.receivedAt ?? null
      );
    },

    pendingCount(installationId?: string): number {
      const row = db
        .select({ n: sql<number>`count(*)` })
        .from(inbox)
        .where(and(inArray(inbox.status, ['pending', 'processing']), installationId ? eq(inbox.installationId, installationId) : undefined))
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
