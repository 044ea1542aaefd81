import { describe, expect, it } from 'vitest';
import type { JobOptions, JobQueue } from '../../../src/jobs/queue.ts';
import { createScheduler } from '../../../src/jobs/sync.worker.ts';

/** The queue's add calls; nothing else of the port is used by the scheduler. */
function recordingQueue() {
  const added: { name: string; data: unknown; options: JobOptions }[] = [];
  const queue = {
    kind: 'embedded',
    available: () => true,
    async add(name: string, data: unknown, options: JobOptions) {
      added.push({ name, data, options });
    },
  } as unknown as JobQueue;
  return { queue, added };
}

describe('the scheduler', () => {
  it('coalesces unkeyed requests into one job per time bucket, run at the bucket’s end', async () => {
    const { queue, added } = recordingQueue();
    const scheduler = createScheduler(queue, 1_000, () => 10_250);
    await scheduler.schedule('sync', 'inst-1');
    await scheduler.schedule('sync', 'inst-1');
    expect(added).toEqual([{ name: 'sync', data: { installationId: 'inst-1' }, options: { id: 'sync:inst-1:10', delayMs: 750 } }]);
  });

  it('names a keyed job by its key, at once: the same key is the same job, another key another', async () => {
    const { queue, added } = recordingQueue();
    const scheduler = createScheduler(queue, 1_000, () => 10_250);
    await scheduler.schedule('reevaluate-accounts', 'inst-1', { key: 'basis-a' });
    await scheduler.schedule('reevaluate-accounts', 'inst-1', { key: 'basis-b' });
    expect(added.map((a) => a.options)).toEqual([
      { id: 'reevaluate-accounts:inst-1:basis-a', delayMs: 0 },
      { id: 'reevaluate-accounts:inst-1:basis-b', delayMs: 0 },
    ]);
    expect(added[0]).toMatchObject({ name: 'reevaluate-accounts', data: { installationId: 'inst-1' } });
  });
});
