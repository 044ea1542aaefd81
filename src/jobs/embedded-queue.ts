import { setTimeout as sleep } from 'node:timers/promises';
import { and, asc, eq, inArray, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { jobs } from '../store/schema.ts';
import {
  defaultRetryPolicy,
  PermanentJobError,
  RetryLaterError,
  type DeadJob,
  type JobHandler,
  type JobOptions,
  type JobQueue,
  type QueueRetryPolicy,
  type WorkerHandle,
} from './queue.ts';

export interface EmbeddedQueueOptions {
  retry?: QueueRetryPolicy;
  /** How often an idle worker looks for due jobs. */
  pollMs?: number;
  /** How long a claim lasts without renewal; a worker that died loses its jobs after this. */
  leaseMs?: number;
  now?: () => number;
  /** Worker-loop failures (the store unreachable, a settle that failed); the loop keeps going. */
  onError?: (error: unknown) => void;
}

const defaultCloseTimeoutMs = 30_000;

/**
 * The durable queue on SQLite's `jobs` table, for one process (or a few sharing the file).
 *
 * - Row ids are `<queue>:<job id>` because `jobs.id` alone is the primary key.
 * - A claim sets `status = 'active'`, spends an attempt and sets `lease_until`; the worker renews
 *   the lease while the handler runs. An expired lease is claimable again (the attempt stays
 *   spent, so a job that kills its process ends in dead-letter instead of crash-looping).
 * - `lease_until` doubles as the claim token: every settle matches it, so a worker whose lease
 *   was taken over cannot complete or fail the new claim.
 * - Completed jobs are deleted at once: the table holds only pending and dead jobs, and a
 *   completed id can simply be inserted again. Adding an id that is waiting, active or dead is
 *   a no-op (a dead job comes back through `retryDead`).
 */
export function createEmbeddedQueue(db: Db, name: string, options: EmbeddedQueueOptions = {}): JobQueue {
  const retry = options.retry ?? defaultRetryPolicy;
  const pollMs = options.pollMs ?? 100;
  const leaseMs = options.leaseMs ?? 30_000;
  const now = options.now ?? Date.now;
  const onError = options.onError ?? ((error: unknown) => console.error(`[queue ${name}]`, error));
  const rowId = (id: string) => `${name}:${id}`;
  const jobId = (row: string) => row.slice(name.length + 1);
  const mine = (row: string, lease: number) => and(eq(jobs.id, row), eq(jobs.status, 'active'), eq(jobs.leaseUntil, lease));
  const handles = new Set<WorkerHandle>();
  const wakers = new Set<() => void>();

  function claim(limit: number) {
    return db.transaction(
      (tx) => {
        const t = now();
        tx.update(jobs)
          .set({ status: 'dead', leaseUntil: null, lastError: 'lease expired on the last attempt (worker died?)', updatedAt: t })
          .where(
            and(eq(jobs.queue, name), eq(jobs.status, 'active'), lte(jobs.leaseUntil, t), sql`${jobs.attempts} >= ${jobs.maxAttempts}`),
          )
          .run();
        const due = tx
          .select({ id: jobs.id })
          .from(jobs)
          .where(
            and(
              eq(jobs.queue, name),
              or(and(eq(jobs.status, 'waiting'), lte(jobs.runAt, t)), and(eq(jobs.status, 'active'), lte(jobs.leaseUntil, t))),
            ),
          )
          .orderBy(asc(jobs.runAt))
          .limit(limit);
        return tx
          .update(jobs)
          .set({ status: 'active', attempts: sql`${jobs.attempts} + 1`, leaseUntil: t + leaseMs, updatedAt: t })
          .where(inArray(jobs.id, due))
          .returning({
            id: jobs.id,
            name: jobs.name,
            data: jobs.data,
            attempts: jobs.attempts,
            maxAttempts: jobs.maxAttempts,
            leaseUntil: jobs.leaseUntil,
          })
          .all();
      },
      { behavior: 'immediate' },
    );
  }

  type Claimed = ReturnType<typeof claim>[number];

  function settle(job: Claimed, lease: number, failure: { error: unknown } | null): void {
    const t = now();
    const error = failure?.error;
    if (!failure) {
      db.delete(jobs).where(mine(job.id, lease)).run();
    } else if (error instanceof RetryLaterError) {
      db.update(jobs)
        .set({
          status: 'waiting',
          attempts: sql`${jobs.attempts} - 1`,
          runAt: t + error.delayMs,
          leaseUntil: null,
          lastError: error.message,
          updatedAt: t,
        })
        .where(mine(job.id, lease))
        .run();
    } else {
      const message = error instanceof Error ? error.message : String(error);
      const dead = error instanceof PermanentJobError || job.attempts >= job.maxAttempts;
      // Full jitter: uniform in [0, base * 2^(attempt-1)), so retries of a burst spread out.
      const backoff = Math.floor(Math.random() * retry.backoffMs * 2 ** (job.attempts - 1));
      const next = dead ? { status: 'dead' as const } : { status: 'waiting' as const, runAt: t + backoff };
      db.update(jobs)
        .set({ ...next, leaseUntil: null, lastError: message, updatedAt: t })
        .where(mine(job.id, lease))
        .run();
    }
  }

  function work(handler: JobHandler, { concurrency = 1 }: { concurrency?: number } = {}): WorkerHandle {
    const running = new Set<{ job: Claimed; lease: number; done: Promise<void> }>();
    let stopping = false;
    let wake = () => {};
    const nap = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    const wakeUp = () => wake();
    wakers.add(wakeUp);

    function start(job: Claimed): void {
      const entry = { job, lease: job.leaseUntil ?? 0, done: Promise.resolve() };
      entry.done = (async () => {
        let failure: { error: unknown } | null = null;
        try {
          await handler({ id: jobId(job.id), name: job.name, data: job.data, attempt: job.attempts });
        } catch (error) {
          failure = { error };
        }
        try {
          settle(job, entry.lease, failure);
        } catch (error) {
          onError(error);
        }
        running.delete(entry);
        wake();
      })();
      running.add(entry);
    }

    // Renew every running lease three times per lease period, so one late tick does not lose it.
    const renewer = setInterval(
      () => {
        try {
          db.transaction((tx) => {
            const until = now() + leaseMs;
            for (const entry of running) {
              const renewed = tx.update(jobs).set({ leaseUntil: until }).where(mine(entry.job.id, entry.lease)).run();
              if (renewed.changes === 1) entry.lease = until;
            }
          });
        } catch (error) {
          onError(error);
        }
      },
      Math.max(10, Math.floor(leaseMs / 3)),
    );
    renewer.unref();

    const loop = (async () => {
      while (!stopping) {
        let claimed = 0;
        try {
          const free = concurrency - running.size;
          if (free > 0) {
            const batch = claim(free);
            claimed = batch.length;
            batch.forEach(start);
          }
        } catch (error) {
          onError(error);
        }
        // Found work and still have room: look again at once; otherwise wait for a poll or a wake.
        if (!stopping && (claimed === 0 || running.size >= concurrency)) await nap(pollMs);
      }
    })();

    const handle: WorkerHandle = {
      async close(timeoutMs = defaultCloseTimeoutMs) {
        stopping = true;
        wake();
        await loop;
        wakers.delete(wakeUp);
        handles.delete(handle);
        const deadline = new AbortController();
        const finished = await Promise.race([
          Promise.allSettled([...running].map((entry) => entry.done)).then(() => true),
          sleep(timeoutMs, false, { signal: deadline.signal }),
        ]);
        deadline.abort();
        clearInterval(renewer);
        if (finished) return;
        // Hand stragglers back without spending their attempt; their late results are fenced out.
        const t = now();
        for (const entry of running) {
          db.update(jobs)
            .set({ status: 'waiting', attempts: sql`${jobs.attempts} - 1`, runAt: t, leaseUntil: null, updatedAt: t })
            .where(mine(entry.job.id, entry.lease))
            .run();
        }
      },
    };
    handles.add(handle);
    return handle;
  }

  return {
    kind: 'embedded',
    async add(jobName, data, jobOptions: JobOptions) {
      const t = now();
      db.insert(jobs)
        .values({
          id: rowId(jobOptions.id),
          queue: name,
          name: jobName,
          // Serialized here: drizzle writes a JSON-mode null as SQL NULL, which the column refuses.
          data: sql`${JSON.stringify(data ?? null)}`,
          status: 'waiting',
          maxAttempts: jobOptions.attempts ?? retry.attempts,
          runAt: t + (jobOptions.delayMs ?? 0),
          createdAt: t,
          updatedAt: t,
        })
        .onConflictDoNothing()
        .run();
      if (!jobOptions.delayMs) for (const wakeUp of wakers) wakeUp();
    },
    work,
    async deadLetters(): Promise<DeadJob[]> {
      const rows = db
        .select()
        .from(jobs)
        .where(and(eq(jobs.queue, name), eq(jobs.status, 'dead')))
        .orderBy(asc(jobs.updatedAt))
        .all();
      return rows.map((row) => ({
        id: jobId(row.id),
        name: row.name,
        data: row.data,
        attempts: row.attempts,
        error: row.lastError ?? '',
        failedAt: new Date(row.updatedAt).toISOString(),
      }));
    },
    async retryDead(id) {
      const t = now();
      const result = db
        .update(jobs)
        .set({ status: 'waiting', attempts: 0, runAt: t, leaseUntil: null, lastError: null, updatedAt: t })
        .where(and(eq(jobs.id, rowId(id)), eq(jobs.status, 'dead')))
        .run();
      if (result.changes === 1) for (const wakeUp of wakers) wakeUp();
      return result.changes === 1;
    },
    async pendingCount() {
      const row = db
        .select({ n: sql<number>`count(*)` })
        .from(jobs)
        .where(and(eq(jobs.queue, name), inArray(jobs.status, ['waiting', 'active'])))
        .get();
      return row?.n ?? 0;
    },
    available: () => true,
    async healthy() {
      try {
        db.get(sql`select 1`);
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await Promise.all([...handles].map((handle) => handle.close()));
    },
  };
}
