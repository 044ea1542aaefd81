import { describe, expect, it } from 'vitest';
import { type JobHandler, type JobQueue, RetryLaterError } from '../../../src/jobs/queue.ts';
import { startSyncWorker } from '../../../src/jobs/sync.worker.ts';
import { createLogger } from '../../../src/log.ts';
import type { UseCaseContext } from '../../../src/ports/context.ts';

/** The worker's handler, taken from a queue that runs nothing by itself. */
function capturedHandler(ctx: UseCaseContext): JobHandler {
  let captured: JobHandler | undefined;
  const queue = {
    work(handler: JobHandler) {
      captured = handler;
      return { close: async () => undefined };
    },
  } as unknown as JobQueue;
  startSyncWorker(queue, ctx, { concurrency: 4, sync: { maxAttempts: 5, leaseMs: 60_000, quietMs: 0, maxDelayMs: 0 } });
  return captured!;
}

const job = (name: string, installationId: string, id: string) => ({ id, name, data: { installationId }, attempt: 1 });
const sync = (installationId: string, id: string) => job('sync', installationId, id);

/**
 * A context whose store answers every installation as not active (a job's first step, which ends
 * the run there) and holds the first read until `release()`: that job is still running meanwhile.
 */
function firstJobHeld() {
  const reads: string[] = [];
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const ctx = {
    log: createLogger({ level: 'silent' }),
    store: {
      installations: {
        async get(id: string) {
          reads.push(id);
          if (reads.length === 1) await held;
          return { id, status: 'uninstalled' };
        },
      },
    },
  } as unknown as UseCaseContext;
  return { ctx, reads, release };
}

describe('the sync worker', () => {
  it('runs one sync per installation at a time: a second job for a busy installation ends at once, another installation runs', async () => {
    const { ctx, reads, release } = firstJobHeld();
    const handle = capturedHandler(ctx);

    const first = handle(sync('inst-a', 'sync:inst-a:1'));
    await new Promise((resolve) => setImmediate(resolve));
    await handle(sync('inst-a', 'sync:inst-a:2'));
    await handle(sync('inst-b', 'sync:inst-b:2'));
    expect(reads).toEqual(['inst-a', 'inst-b']);

    release();
    await first;
    await handle(sync('inst-a', 'sync:inst-a:3'));
    expect(reads).toEqual(['inst-a', 'inst-b', 'inst-a']);
  });

  it('a second push for an installation whose push runs waits its turn (retried later, no attempt spent); other kinds run', async () => {
    const { ctx, reads, release } = firstJobHeld();
    const handle = capturedHandler(ctx);
    const first = handle(job('push-referrals', 'inst-a', 'push-referrals:inst-a:1'));
    await new Promise((resolve) => setImmediate(resolve));
    const second = handle(job('push-referrals', 'inst-a', 'push-referrals:inst-a:2'));
    await expect(second).rejects.toBeInstanceOf(RetryLaterError);
    await expect(second).rejects.toMatchObject({ delayMs: 1_000 });
    await handle(sync('inst-a', 'sync:inst-a:2'));
    expect(reads).toEqual(['inst-a', 'inst-a']);
    release();
    await first;
    await handle(job('push-referrals', 'inst-a', 'push-referrals:inst-a:3'));
    expect(reads).toHaveLength(3);
  });
});
