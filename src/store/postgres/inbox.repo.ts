import { and, asc, desc, eq, gt, gte, inArray, isNotNull, lt, or, sql } from 'drizzle-orm';
import type { Store } from '../contract.ts';
import type { Cipher } from '../crypto.ts';
import type { InboxRow, InboxWrite, SyncWindow } from '../inbox.repo.ts';
import type { Query } from './query.ts';
import { inbox } from './schema.ts';

const recordKey = (r: { objectType: string; objectId: string }) => JSON.stringify([r.objectType, r.objectId]);

/** Events waiting to be synced: pending, or claimed by a worker whose lease ran out. */
function waiting(now: Date) {
  return or(eq(inbox.status, 'pending'), and(eq(inbox.status, 'processing'), lt(inbox.leaseUntil, now.toISOString())));
}

function waitingIn(installationId: string, now: Date) {
  return and(eq(inbox.installationId, installationId), waiting(now));
}

/** One array parameter however many ids: `id = ANY($1)`. */
function idIn(ids: number[]) {
  return sql`${inbox.id} = ANY(${sql.param(ids)}::bigint[])`;
}

/**
 * The inbox on PostgreSQL, method by method as src/store/inbox.repo.ts answers on SQLite. Several
 * workers on several machines claim at once: a claim locks the rows it takes with
 * `FOR UPDATE SKIP LOCKED`, so two claims never take the same event and never wait for each other.
 */
export function inboxRepo(q: Query, _cipher?: Cipher): Store['inbox'] {
  /** The newest waiting event plus the quiet window, or the oldest plus the longest wait, whichever comes first. */
  const dueAt = async (run: Pick<ReturnType<Query>, 'select'>, installationId: string, options: { now: Date } & SyncWindow) => {
    const [row] = await run
      .select({ newest: sql<string | null>`max(${inbox.receivedAt})`, oldest: sql<string | null>`min(${inbox.receivedAt})` })
      .from(inbox)
      .where(waitingIn(installationId, options.now));
    if (!row?.newest || !row.oldest) return null;
    return new Date(Math.min(Date.parse(row.newest) + options.quietMs, Date.parse(row.oldest) + options.maxDelayMs));
  };

  return {
    /**
     * Stores a webhook's events in one INSERT (arrays unnested in order, so ids grow with arrival
     * as on SQLite); the unique (crm, account, event key) index is the dedupe.
     */
    async store(input: InboxWrite) {
      const rows = input.groups.flatMap(({ installationId, events }) =>
        events.map((e) => ({ installationId, status: installationId ? 'pending' : 'ignored', e })),
      );
      if (rows.length === 0) return { stored: 0, duplicates: 0 };
      const column = <T>(pick: (r: (typeof rows)[number]) => T) => sql.param(rows.map(pick));
      const result = await q().execute(sql`
        INSERT INTO inbox (crm, installation_id, status, received_at,
          account_id, event_key, object_type, object_id, change, occurred_at, related)
        SELECT ${input.crm}, installation_id, status, ${input.now.toISOString()},
               account_id, event_key, object_type, object_id, change, occurred_at, related::jsonb
          FROM unnest(
            ${column((r) => r.installationId)}::text[], ${column((r) => r.status)}::text[],
            ${column((r) => r.e.accountId)}::text[], ${column((r) => r.e.eventKey)}::text[],
            ${column((r) => r.e.objectType)}::text[], ${column((r) => r.e.objectId)}::text[],
            ${column((r) => r.e.change)}::text[], ${column((r) => r.e.occurredAt)}::text[],
            ${column((r) => (r.e.related ? JSON.stringify(r.e.related) : null))}::text[]
          ) WITH ORDINALITY AS e(installation_id, status, account_id, event_key, object_type, object_id, change, occurred_at, related, n)
         ORDER BY n
        ON CONFLICT (crm, account_id, event_key) DO NOTHING`);
      const stored = result.rowCount ?? 0;
      return { stored, duplicates: rows.length - stored };
    },

    /**
     * Claims the waiting events of up to `records` records of one installation, oldest first, each
     * record with all its waiting events, once the installation's window says they are due. In a
     * transaction of its own (a savepoint inside a caller's): waiting rows are locked with SKIP
     * LOCKED page by page in id order until enough records are found, then the rest of those
     * records' rows, then marked; what another claim holds is passed over, not waited for, and a
     * record part of which another claim holds is not taken in part. Answers the rows as they were
     * before the claim, attempts counted, as SQLite does.
     */
    async claim(installationId: string, options: { records: number; leaseMs: number; now: Date } & SyncWindow) {
      const { now } = options;
      return q().transaction(async (tx) => {
        const due = await dueAt(tx, installationId, options);
        if (!due || due > now) return [];
        // Pages of `records` rows: no more rows than records can hold the oldest `records` records.
        const pageSize = Math.max(options.records, 1);
        const records = new Map<string, { objectType: string; objectId: string }>();
        let after = 0;
        while (records.size < options.records) {
          const page = await tx
            .select({ id: inbox.id, objectType: inbox.objectType, objectId: inbox.objectId })
            .from(inbox)
            .where(and(waitingIn(installationId, now), gt(inbox.id, after)))
            .orderBy(asc(inbox.id))
            .limit(pageSize)
            .for('update', { skipLocked: true });
          for (const r of page) {
            if (records.size >= options.records) break;
            records.set(recordKey(r), { objectType: r.objectType, objectId: r.objectId });
          }
          if (page.length < pageSize) break;
          after = page.at(-1)!.id;
        }
        if (records.size === 0) return [];
        const chosen = [...records.values()];
        const ofChosen = and(
          waitingIn(installationId, now),
          sql`(${inbox.objectType}, ${inbox.objectId}) IN (SELECT * FROM unnest(${sql.param(chosen.map((r) => r.objectType))}::text[], ${sql.param(chosen.map((r) => r.objectId))}::text[]))`,
        );
        // What waits of those records, then what of it this claim can lock: a record with an event
        // another claim holds (taking it, or merely passing over it) is left whole for later.
        const visible = await tx
          .select({ id: inbox.id, objectType: inbox.objectType, objectId: inbox.objectId })
          .from(inbox)
          .where(ofChosen);
        const locked = await tx.select().from(inbox).where(ofChosen).orderBy(asc(inbox.id)).for('update', { skipLocked: true });
        const lockedIds = new Set(locked.map((r) => r.id));
        const split = new Set(visible.filter((r) => !lockedIds.has(r.id)).map(recordKey));
        const rows = locked.filter((r) => !split.has(recordKey(r)));
        if (rows.length === 0) return rows;
        await tx
          .update(inbox)
          .set({
            status: 'processing',
            attempts: sql`${inbox.attempts} + 1`,
            leaseUntil: new Date(now.getTime() + options.leaseMs).toISOString(),
          })
          .where(idIn(rows.map((r) => r.id)));
        return rows.map((r) => ({ ...r, attempts: r.attempts + 1 }));
      });
    },

    /** When the installation's waiting events fall due (see `claim`); null when none waits. */
    nextDueAt(installationId: string, options: { now: Date } & SyncWindow) {
      return dueAt(q(), installationId, options);
    },

    async extendLease(ids: number[], until: Date) {
      if (ids.length === 0) return;
      await q()
        .update(inbox)
        .set({ leaseUntil: until.toISOString() })
        .where(and(idIn(ids), eq(inbox.status, 'processing')));
    },

    async markDone(ids: number[], now: Date) {
      if (ids.length === 0) return;
      await q().update(inbox).set({ status: 'done', processedAt: now.toISOString(), leaseUntil: null, lastError: null }).where(idIn(ids));
    },

    /** Back to pending for another try, or dead once `maxAttempts` were spent. */
    async markFailed(rows: InboxRow[], error: string, maxAttempts: number) {
      if (rows.length === 0) return;
      const dead = rows.filter((r) => r.attempts >= maxAttempts).map((r) => r.id);
      const retry = rows.filter((r) => r.attempts < maxAttempts).map((r) => r.id);
      if (dead.length) await q().update(inbox).set({ status: 'dead', lastError: error, leaseUntil: null }).where(idIn(dead));
      if (retry.length) await q().update(inbox).set({ status: 'pending', lastError: error, leaseUntil: null }).where(idIn(retry));
    },

    /** Returns claimed rows untouched (rate limited: not their fault, no attempt spent). */
    async release(rows: InboxRow[]) {
      if (rows.length === 0) return;
      await q()
        .update(inbox)
        .set({ status: 'pending', attempts: sql`${inbox.attempts} - 1`, leaseUntil: null })
        .where(idIn(rows.map((r) => r.id)));
    },

    /**
     * Deletes processed events (done, or ignored) received before `before`, up to `limit`, oldest
     * first, walking the table in id order in pages of `page`, each page deleted on its own, and
     * stops at the first event received since `before` (as on SQLite).
     */
    async prune(before: Date, options: { limit: number; page?: number }) {
      const cutoff = before.toISOString();
      const page = options.page ?? 1_000;
      let deleted = 0;
      let after = 0;
      while (deleted < options.limit) {
        const rows = await q()
          .select({ id: inbox.id, receivedAt: inbox.receivedAt, status: inbox.status })
          .from(inbox)
          .where(gt(inbox.id, after))
          .orderBy(asc(inbox.id))
          .limit(page);
        const expired = rows.filter((r) => r.receivedAt < cutoff);
        const ids = expired
          .filter((r) => r.status === 'done' || r.status === 'ignored')
          .map((r) => r.id)
          .slice(0, options.limit - deleted);
        if (ids.length) deleted += (await q().delete(inbox).where(idIn(ids)).returning({ id: inbox.id })).length;
        if (rows.length < page || expired.length < rows.length) break;
        after = rows.at(-1)!.id;
      }
      return deleted;
    },

    /** Installations with events waiting, for the sweeper that re-enqueues lost jobs. */
    async installationsWithPending(now: Date) {
      const rows = await q()
        .selectDistinct({ installationId: inbox.installationId })
        .from(inbox)
        .where(and(isNotNull(inbox.installationId), waiting(now)))
        .orderBy(asc(inbox.installationId));
      return rows.map((r) => r.installationId!);
    },

    /** When the installation's latest CRM event arrived (ids grow with arrival). */
    async lastReceivedAt(installationId: string) {
      const [row] = await q()
        .select({ receivedAt: inbox.receivedAt })
        .from(inbox)
        .where(eq(inbox.installationId, installationId))
        .orderBy(desc(inbox.id))
        .limit(1);
      return row?.receivedAt ?? null;
    },

    async pendingCount(installationId?: string) {
      const [row] = await q()
        .select({ n: sql<number>`count(*)::int` })
        .from(inbox)
        .where(
          and(inArray(inbox.status, ['pending', 'processing']), installationId ? eq(inbox.installationId, installationId) : undefined),
        );
      return row?.n ?? 0;
    },

    /** Replay: processed events received since `since` go back to pending. */
    async requeueSince(since: Date, installationId?: string) {
      const rows = await q()
        .update(inbox)
        .set({ status: 'pending', attempts: 0, lastError: null, leaseUntil: null })
        .where(
          and(
            gte(inbox.receivedAt, since.toISOString()),
            inArray(inbox.status, ['done', 'dead']),
            installationId ? eq(inbox.installationId, installationId) : undefined,
          ),
        )
        .returning({ id: inbox.id });
      return rows.length;
    },

    async dead(installationId?: string) {
      return q()
        .select()
        .from(inbox)
        .where(and(eq(inbox.status, 'dead'), installationId ? eq(inbox.installationId, installationId) : undefined))
        .orderBy(asc(inbox.id));
    },

    async retryDead(id: number) {
      const rows = await q()
        .update(inbox)
        .set({ status: 'pending', attempts: 0, lastError: null })
        .where(and(eq(inbox.id, id), eq(inbox.status, 'dead')))
        .returning({ id: inbox.id });
      return rows.length > 0;
    },
  };
}
