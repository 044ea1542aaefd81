import { CrmError } from '../../connectors/connector.ts';
import { PayoutProviderError } from '../../connectors/payouts/provider.ts';
import type { Metrics } from '../metrics.ts';
import type { JobKind, Scheduler, UseCaseContext } from '../ports/context.ts';
import { pushReferrals } from '../use-cases/push-referrals.ts';
import { reconcileInstallation } from '../use-cases/reconcile-installation.ts';
import { reevaluateAccounts } from '../use-cases/reevaluate-accounts.ts';
import { placePayoutOrders } from '../use-cases/send-payouts.ts';
import { syncInstallation, type SyncOptions } from '../use-cases/sync-installation.ts';
import { PermanentJobError, RetryLaterError, type JobQueue, type WorkerHandle } from './queue.ts';

/**
 * Job ids name the installation and a time bucket, so requests for the same installation within
 * one bucket coalesce into one job that runs at the bucket's end; work that arrives while it runs
 * falls into the next bucket. The inbox, not the queue, is the source of truth: a lost job is
 * re-created by the sweeper.
 */
export function createScheduler(queue: JobQueue, coalesceMs: number, now: () => number = Date.now): Scheduler {
  // The bucket's job runs at the bucket's end: once this process added it, the bucket's other
  // webhook requests need not write it again.
  const added = new Map<string, number>();
  return {
    available: () => queue.available(),
    async schedule(kind: JobKind, installationId: string, options = {}) {
      if (options.key !== undefined) {
        // The key travels with the job: it names what to work on (a payout run's id).
        await queue.add(
          kind,
          { installationId, key: options.key },
          { id: `${kind}:${installationId}:${options.key}`, delayMs: options.delayMs ?? 0 },
        );
        return;
      }
      const window = Math.max(coalesceMs, 1);
      const t = now() + (options.delayMs ?? 0);
      const bucket = Math.floor(t / window);
      const delayMs = (bucket + 1) * window - now();
      const key = `${kind}:${installationId}`;
      if (coalesceMs > 0 && added.get(key) === bucket) return;
      await queue.add(kind, { installationId }, { id: `${key}:${bucket}`, delayMs: coalesceMs ? delayMs : 0 });
      if (coalesceMs > 0) added.set(key, bucket);
    },
  };
}

/** How soon a job that found its installation's same kind of job running looks again. */
const BUSY_RETRY_MS = 1_000;

/** Runs sync, push, reconcile and re-evaluation jobs; CRM failures become the queue's retry signals. */
export function startSyncWorker(
  queue: JobQueue,
  ctx: UseCaseContext,
  options: { concurrency: number; metrics?: Metrics; sync: SyncOptions },
): WorkerHandle {
  // One run per installation and kind at a time in this worker. Webhooks arriving during a long
  // sync add a job per coalescing bucket; run side by side they would only queue on the
  // installation's own rate limit while holding every worker slot (one portal's backlog would stall
  // the others), and two pushes of the same referrals only refuse each other's transactions.
  // A sync schedules what is left when it ends, so a sync job that finds its installation busy has
  // nothing to do; any other waits its turn.
  const running = new Set<string>();
  return queue.work(
    async (job) => {
      const { installationId, key } = job.data as { installationId: string; key?: string };
      // What the job logs carries its id.
      const jobCtx = { ...ctx, log: ctx.log.child({ jobId: job.id }) };
      const turn = `${job.name}:${installationId}:${key ?? ''}`;
      if (running.has(turn)) {
        options.metrics?.jobs.inc({ name: job.name, outcome: 'busy' });
        if (job.name === 'sync') return;
        throw new RetryLaterError(BUSY_RETRY_MS, `${job.name} already running for ${installationId}`);
      }
      running.add(turn);
      try {
        if (job.name === 'sync') await syncInstallation(jobCtx, installationId, options.sync);
        else if (job.name === 'push-referrals') await pushReferrals(jobCtx, installationId);
        else if (job.name === 'reconcile') await reconcileInstallation(jobCtx, installationId);
        else if (job.name === 'reevaluate-accounts') await reevaluateAccounts(jobCtx, installationId);
        else if (job.name === 'send-payouts' && key) await placePayoutOrders(jobCtx, key);
        else throw new PermanentJobError(`unknown job ${job.name}`);
        options.metrics?.jobs.inc({ name: job.name, outcome: 'ok' });
      } catch (err) {
        options.metrics?.jobs.inc({ name: job.name, outcome: 'error' });
        const signal = toQueueSignal(err);
        jobCtx.log.warn(
          {
            err,
            job: job.name,
            attempt: job.attempt,
            installationId,
            retry: signal instanceof RetryLaterError ? signal.delayMs : undefined,
          },
          'job failed',
        );
        throw signal;
      } finally {
        running.delete(turn);
      }
    },
    { concurrency: options.concurrency },
  );
}

function toQueueSignal(err: unknown): unknown {
  if (err instanceof PayoutProviderError) {
    if (err.code === 'rate_limited') return new RetryLaterError(10_000, err.message);
    return err.retryable ? err : new PermanentJobError(`${err.code}: ${err.message}`);
  }
  if (!(err instanceof CrmError)) return err;
  if (err.code === 'rate_limited') return new RetryLaterError(err.retryAfterMs ?? 10_000, err.message);
  if (!err.retryable) return new PermanentJobError(`${err.code}: ${err.message}`);
  return err;
}

/** Processed inbox events deleted per sweep at most: a backlog of old events goes in small steps. */
const PRUNE_PER_SWEEP = 5_000;
const DAY_MS = 86_400_000;

/**
 * Repairs what a lost job (Redis restarted, process killed before enqueueing) would leave behind:
 * pending inbox events, referrals not yet pushed and sent payout runs with orders not yet placed
 * get their job again. Also deletes processed inbox events older than the retention
 * (`INBOX_RETENTION_DAYS`).
 */
export function startSweeper(ctx: UseCaseContext, options: { intervalMs: number; inboxRetentionDays: number }): { stop(): void } {
  const sweep = () => {
    void (async () => {
      const now = ctx.now();
      const pruned = await ctx.store.inbox.prune(new Date(now.getTime() - options.inboxRetentionDays * DAY_MS), { limit: PRUNE_PER_SWEEP });
      if (pruned)
        ctx.log.info({ pruned, retentionDays: options.inboxRetentionDays }, 'processed inbox events past their retention deleted');
      for (const installationId of await ctx.store.inbox.installationsWithPending(now)) {
        await ctx.scheduler.schedule('sync', installationId);
      }
      for (const installation of await ctx.store.installations.list()) {
        if (installation.status === 'active' && (await ctx.store.referrals.unsynced(installation.id, 1)).length > 0) {
          await ctx.scheduler.schedule('push-referrals', installation.id);
        }
      }
      // Keyed by run: while its job waits, runs or lies dead (for the operator to retry), this adds none.
      for (const run of await ctx.store.payouts.runsAwaitingOrders()) {
        await ctx.scheduler.schedule('send-payouts', run.installationId, { key: run.id });
      }
    })().catch((err: unknown) => ctx.log.error({ err }, 'sweeper failed'));
  };
  // At start too: a restarted worker picks up what its predecessor left at once.
  sweep();
  const timer = setInterval(sweep, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** Every active installation is reconciled once per interval. */
export function startReconcileSchedule(ctx: UseCaseContext, intervalMs: number): { stop(): void } {
  const tick = async () => {
    for (const installation of await ctx.store.installations.list()) {
      if (installation.status !== 'active') continue;
      ctx.scheduler.schedule('reconcile', installation.id).catch((err: unknown) => ctx.log.error({ err }, 'reconcile schedule failed'));
    }
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
