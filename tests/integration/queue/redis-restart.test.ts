import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { createBullmqQueue } from '../../../src/jobs/bullmq-queue.ts';
import { startRedisServer } from '../../support/redis-server.ts';
import { until } from './until.ts';

const jobCount = 150;

it('loses no acknowledged job when Redis is killed and restarted while jobs flow', async () => {
  // fsync before every reply: an add that resolved is on disk.
  const redis = await startRedisServer({ appendonly: true, appendfsync: 'always' });
  const queue = createBullmqQueue({ url: redis.url }, 'restart', { prefix: 'restart', leaseMs: 2_000, onError: () => {} });
  try {
    const processed = new Set<string>();
    const worker = queue.work(
      async (job) => {
        await sleep(30);
        processed.add(job.id);
      },
      { concurrency: 2 },
    );

    const acknowledged = new Set<string>();
    const producer = (async () => {
      for (let i = 0; i < jobCount; i++) {
        const id = `event:${i}`;
        // Like the inbox sweeper: an add that failed is simply added again (ids make it idempotent).
        for (;;) {
          try {
            await queue.add('sync', { i }, { id });
            acknowledged.add(id);
            break;
          } catch {
            await sleep(50);
          }
        }
        await sleep(5);
      }
    })();

    // Kill while adds are in flight and a backlog waits in Redis (adds outpace the worker).
    await until(() => processed.size >= 10, 'a first share processed');
    const backlog = await queue.pendingCount();
    await redis.kill();
    await sleep(300);
    await redis.restart();
    await producer;
    await until(async () => processed.size === jobCount && (await queue.pendingCount()) === 0, 'all processed', 30_000);

    expect(backlog).toBeGreaterThan(0);
    expect(acknowledged.size).toBe(jobCount);
    expect([...acknowledged].filter((id) => !processed.has(id))).toEqual([]);
    await worker.close();
  } finally {
    await queue.close();
    await redis.stop();
  }
}, 60_000);
