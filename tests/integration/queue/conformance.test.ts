import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createBullmqQueue } from '../../../src/jobs/bullmq-queue.ts';
import { createEmbeddedQueue } from '../../../src/jobs/embedded-queue.ts';
import { PermanentJobError, RetryLaterError, type Job, type JobQueue, type QueueRetryPolicy } from '../../../src/jobs/queue.ts';
import { migrateDb, openDb } from '../../../src/store/db.ts';
import { deleteKeys, redisUrlForTests } from '../../support/redis-server.ts';
import { until } from './until.ts';

interface Harness {
  queue: JobQueue;
  dispose(): Promise<void>;
}

const fast: QueueRetryPolicy = { attempts: 3, backoffMs: 10 };
let redis: ReturnType<typeof redisUrlForTests> | undefined;

const implementations: { kind: string; open: (retry: QueueRetryPolicy) => Promise<Harness> }[] = [
  {
    kind: 'embedded',
    async open(retry) {
      const db = openDb(':memory:');
      migrateDb(db);
      const queue = createEmbeddedQueue(db, `conf-${randomUUID()}`, { retry, pollMs: 20, leaseMs: 500 });
      return {
        queue,
        async dispose() {
          await queue.close();
          db.$client.close();
        },
      };
    },
  },
  {
    kind: 'bullmq',
    async open(retry) {
      const { url } = await (redis ??= redisUrlForTests());
      const prefix = `rl-conf-${randomUUID()}`;
      // Lock errors are expected where a test takes a job back from a worker that still runs it.
      const queue = createBullmqQueue({ url }, 'conf', { prefix, retry, leaseMs: 1_000, onError: () => {} });
      return {
        queue,
        async dispose() {
          await queue.close();
          await deleteKeys(url, prefix);
        },
      };
    },
  },
];

afterAll(async () => {
  await (await redis)?.stop();
});

describe.each(implementations)('$kind queue conformance', ({ open }) => {
  let harness: Harness | undefined;
  const start = async (retry: QueueRetryPolicy = fast) => (harness = await open(retry)).queue;
  afterEach(async () => {
    await harness?.dispose();
    harness = undefined;
  });

  it('adds and processes jobs, with ids BullMQ would refuse as they are', async () => {
    const queue = await start();
    const seen: Job[] = [];
    await queue.add('sync', { installationId: 'i1' }, { id: 'sync:i1:42' });
    await queue.add('push', { n: 2 }, { id: '42' });
    const worker = queue.work(async (job) => void seen.push(job));
    await until(() => seen.length === 2, 'two jobs');
    expect(seen.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: '42', name: 'push', data: { n: 2 }, attempt: 1 },
      { id: 'sync:i1:42', name: 'sync', data: { installationId: 'i1' }, attempt: 1 },
    ]);
    await until(async () => (await queue.pendingCount()) === 0, 'drained');
    expect(await queue.healthy()).toBe(true);
    expect(queue.available()).toBe(true);
    await worker.close();
  });

  it('ignores adding an id that is waiting or active, and takes it again once completed', async () => {
    const queue = await start();
    await queue.add('x', { v: 1 }, { id: 'dup' });
    await queue.add('x', { v: 2 }, { id: 'dup' });
    expect(await queue.pendingCount()).toBe(1);

    const runs: unknown[] = [];
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const worker = queue.work(async (job) => {
      runs.push(job.data);
      if (runs.length === 1) await gate;
    });
    await until(() => runs.length === 1, 'first run');
    await queue.add('x', { v: 3 }, { id: 'dup' });
    release();
    await until(async () => (await queue.pendingCount()) === 0, 'drained');
    await sleep(100);
    expect(runs).toEqual([{ v: 1 }]);

    await queue.add('x', { v: 4 }, { id: 'dup' });
    await until(() => runs.length === 2, 'second run');
    expect(runs).toEqual([{ v: 1 }, { v: 4 }]);
    await worker.close();
  });

  it('runs up to `concurrency` jobs at once', async () => {
    const queue = await start();
    for (let i = 0; i < 7; i++) await queue.add('slow', { i }, { id: `c${i}` });
    let active = 0;
    let peak = 0;
    let done = 0;
    const worker = queue.work(
      async () => {
        peak = Math.max(peak, ++active);
        await sleep(80);
        active--;
        done++;
      },
      { concurrency: 3 },
    );
    await until(() => done === 7, 'seven jobs');
    expect(peak).toBe(3);
    await worker.close();
  });

  it('retries a failing job with backoff until it succeeds', async () => {
    const queue = await start({ attempts: 4, backoffMs: 20 });
    const attempts: number[] = [];
    const worker = queue.work(async (job) => {
      attempts.push(job.attempt);
      if (job.attempt < 3) throw new Error('flaky');
    });
    await queue.add('flaky', null, { id: 'f' });
    await until(async () => attempts.length === 3 && (await queue.pendingCount()) === 0, 'success on attempt 3');
    expect(attempts).toEqual([1, 2, 3]);
    expect(await queue.deadLetters()).toEqual([]);
    await worker.close();
  });

  it('reschedules on RetryLaterError after its delay without spending an attempt', async () => {
    const queue = await start({ attempts: 2, backoffMs: 10 });
    const runs: { attempt: number; at: number }[] = [];
    const worker = queue.work(async (job) => {
      runs.push({ attempt: job.attempt, at: Date.now() });
      if (runs.length < 4) throw new RetryLaterError(60);
    });
    await queue.add('limited', null, { id: 'r' });
    await until(async () => runs.length === 4 && (await queue.pendingCount()) === 0, 'four runs');
    expect(runs.map((run) => run.attempt)).toEqual([1, 1, 1, 1]);
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.at - runs[i - 1]!.at).toBeGreaterThanOrEqual(55);
    expect(await queue.deadLetters()).toEqual([]);
    await worker.close();
  });

  it('dead-letters a poison job after its attempts while the others proceed', async () => {
    const queue = await start();
    const done: string[] = [];
    const poisonRuns: Record<string, number> = {};
    const worker = queue.work(
      async (job) => {
        if (job.name === 'poison') {
          poisonRuns[job.id] = job.attempt;
          throw new Error(`boom ${job.id}`);
        }
        done.push(job.id);
      },
      { concurrency: 2 },
    );
    await queue.add('poison', { bad: true }, { id: 'p3' });
    await queue.add('poison', { bad: true }, { id: 'p1', attempts: 1 });
    for (let i = 0; i < 5; i++) await queue.add('good', { i }, { id: `g${i}` });
    await until(async () => done.length === 5 && (await queue.deadLetters()).length === 2, 'five done, two dead');

    const dead = (await queue.deadLetters()).sort((a, b) => a.id.localeCompare(b.id));
    expect(dead.map(({ failedAt, ...rest }) => rest)).toEqual([
      { id: 'p1', name: 'poison', data: { bad: true }, attempts: 1, error: 'boom p1' },
      { id: 'p3', name: 'poison', data: { bad: true }, attempts: 3, error: 'boom p3' },
    ]);
    expect(Number.isNaN(Date.parse(dead[0]!.failedAt))).toBe(false);
    expect(poisonRuns).toEqual({ p1: 1, p3: 3 });
    expect(await queue.pendingCount()).toBe(0);
    await worker.close();
  });

  it('dead-letters a PermanentJobError at once', async () => {
    const queue = await start({ attempts: 5, backoffMs: 10 });
    let runs = 0;
    const worker = queue.work(async () => {
      runs++;
      throw new PermanentJobError('auth_revoked: token gone');
    });
    await queue.add('push', null, { id: 'perm' });
    await until(async () => (await queue.deadLetters()).length === 1, 'dead letter');
    expect(await queue.deadLetters()).toMatchObject([{ id: 'perm', attempts: 1, error: 'auth_revoked: token gone' }]);
    expect(runs).toBe(1);
    await worker.close();
  });

  it('retryDead puts a dead job back with fresh attempts', async () => {
    const queue = await start({ attempts: 2, backoffMs: 10 });
    let healthy = false;
    const runs: number[] = [];
    const worker = queue.work(async (job) => {
      runs.push(job.attempt);
      if (!healthy) throw new Error('down');
    });
    await queue.add('x', null, { id: 'again' });
    await until(async () => (await queue.deadLetters()).length === 1, 'dead letter');
    expect(await queue.retryDead('missing')).toBe(false);

    healthy = true;
    expect(await queue.retryDead('again')).toBe(true);
    await until(async () => runs.length === 3 && (await queue.pendingCount()) === 0, 'rerun');
    expect(runs).toEqual([1, 2, 1]);
    expect(await queue.deadLetters()).toEqual([]);
    expect(await queue.retryDead('again')).toBe(false);
    await worker.close();
  });

  it('counts waiting, delayed and active jobs as pending', async () => {
    const queue = await start();
    await queue.add('now', null, { id: 'n1' });
    await queue.add('now', null, { id: 'n2' });
    await queue.add('later', null, { id: 'l1', delayMs: 60_000 });
    expect(await queue.pendingCount()).toBe(3);

    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const ran: string[] = [];
    const worker = queue.work(
      async (job) => {
        ran.push(job.id);
        if (job.id === 'n2') await gate;
      },
      { concurrency: 2 },
    );
    await until(() => ran.length === 2, 'both due jobs started');
    await until(async () => (await queue.pendingCount()) === 2, 'n1 done; n2 active, l1 delayed');
    release();
    await until(async () => (await queue.pendingCount()) === 1, 'only the delayed job left');
    expect(ran.sort()).toEqual(['n1', 'n2']);
    await worker.close();
  });

  it('close waits for in-flight jobs and stops taking new ones', async () => {
    const queue = await start();
    let started = false;
    let finished = false;
    const worker = queue.work(async () => {
      started = true;
      await sleep(300);
      finished = true;
    });
    await queue.add('long', null, { id: 'long' });
    await until(() => started, 'job started');
    await worker.close(5_000);
    expect(finished).toBe(true);

    await queue.add('after', null, { id: 'after' });
    await sleep(200);
    expect(await queue.pendingCount()).toBe(1);
  });

  it('close gives back jobs still running after its timeout, without spending their attempt', async () => {
    const queue = await start();
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const attempts: number[] = [];
    const first = queue.work(async (job) => {
      attempts.push(job.attempt);
      await gate;
    });
    await queue.add('stuck', null, { id: 'stuck' });
    await until(() => attempts.length === 1, 'job started');
    const closedAt = Date.now();
    await first.close(100);
    expect(Date.now() - closedAt).toBeLessThan(2_000);
    expect(await queue.pendingCount()).toBe(1);

    const second = queue.work(async (job) => void attempts.push(job.attempt));
    await until(async () => attempts.length === 2 && (await queue.pendingCount()) === 0, 'taken again');
    expect(attempts).toEqual([1, 1]);
    release();
    await sleep(100);
    expect(await queue.deadLetters()).toEqual([]);
    await second.close();
  });
});
