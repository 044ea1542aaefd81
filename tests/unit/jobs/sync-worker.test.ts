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

describe('the sync worker', () => {
  it('runs one sync per installation at a time: a second job for a busy installation ends at once, another installation runs', async () => {
    const reads: string[] = [];
    let finishA = () => {};
    const aBusy = new Promise<void>((resolve) => {
      finishA = resolve;
    });
    const ctx = {
      log: createLogger({ level: 'silent' }),
      store: {
        installations: {
          // The sync's first step; an installation that is not active ends the run there.
          async get(id: string) {
            reads.push(id);
            if (id === 'inst-a' && reads.filter((r) => r === 'inst-a').length === 1) await aBusy;
            return { id, status: 'uninstalled' };
          },
        },
      },
    } as unknown as UseCaseContext;
    const handle = capturedHandler(ctx);

    const first = handle(sync('inst-a', 'sync:inst-a:1'));
    await new Promise((resolve) => setImmediate(resolve));
    await handle(sync('inst-a', 'sync:inst-a:2'));
    await handle(sync('inst-b', 'sync:inst-b:2'));
    expect(reads).toEqual(['inst-a', 'inst-b']);

    finishA();
    await first;
    await handle(sync('inst-a', 'sync:inst-a:3'));
    expect(reads).toEqual(['inst-a', 'inst-b', 'inst-a']);
  });
  it('a second push for an installation whose push runs waits its turn (retried later, no attempt spent); other kinds run', async () => {
    let finishPush = () => {};
    const pushBusy = new Promise<void>((resolve) => {
      finishPush = resolve;
    });
    const reads: string[] = [];
    const ctx = {
      log: createLogger({ level: 'silent' }),
      store: {
        installations: {
          async get(id: string) {
            reads.push(id);
            if (reads.length === 1) await pushBusy;
            return { id, status: 'uninstalled' };
          },
        },
      },
    } as unknown as UseCaseContext;
    const handle = capturedHandler(ctx);
    const first = handle(job('push-referrals', 'inst-a', 'push-referrals:inst-a:1'));
    await new Promise((resolve) => setImmediate(resolve));
    const second = handle(job('push-referrals', 'inst-a', 'push-referrals:inst-a:2'));
    await expect(second).rejects.toBeInstanceOf(RetryLaterError);
    await expect(second).rejects.toMatchObject({ delayMs: 1_000 });
    await handle(sync('inst-a', 'sync:inst-a:2'));
    expect(reads).toEqual(['inst-a', 'inst-a']);
    finishPush();
    await first;
    await handle(job('push-referrals', 'inst-a', 'push-referrals:inst-a:3'));
    expect(reads).toHaveLength(3);
  });
});
