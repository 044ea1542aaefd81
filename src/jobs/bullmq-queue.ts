import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, Queue, UnrecoverableError, Worker, type Job as BullJob } from 'bullmq';
import { Redis } from 'ioredis';
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

export interface BullmqQueueOptions {
  /** Redis key prefix (BullMQ's `prefix`); default `bull`. */
  prefix?: string;
  retry?: QueueRetryPolicy;
  /** Job lock duration, and how often workers look for stalled jobs; default 30 s (BullMQ's). */
  leaseMs?: number;
  /** Connection and lock-renewal errors BullMQ reports while it recovers by itself. */
  onError?: (error: unknown) => void;
}

/** Errors ioredis repeats on every reconnect attempt while Redis is away. */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE']);
const isConnectionError = (error: unknown) =>
  CONNECTION_ERRORS.has((error as { code?: string } | null)?.code ?? '') ||
  /Connection is closed|Stream isn't writeable/.test(String((error as Error)?.message));

/** Ends a connection: politely when Redis answers, at once when it does not (QUIT would wait for it). */
export async function closeClient(client: Redis): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  const deadline = new AbortController();
  const quit = await Promise.race([
    client.quit().then(
      () => true,
      () => false,
    ),
    sleep(1_000, false, { signal: deadline.signal }),
  ]);
  deadline.abort();
  if (!quit) client.disconnect();
}

const defaultCloseTimeoutMs = 30_000;
/** A Redis that accepts connections but does not answer must not hold a request for long. */
const PRODUCER_COMMAND_TIMEOUT_MS = 2_000;

// BullMQ refuses integer-looking ids and ids with ':' (its key separator); ours are free-form.
const toBullId = (id: string) => `j${id.replaceAll('%', '%25').replaceAll(':', '%3A')}`;
const fromBullId = (id: string) => decodeURIComponent(id.slice(1));

/**
 * The job queue on BullMQ. Dead letters are BullMQ's failed set (kept until retried); completed
 * jobs are removed at once so their ids can be added again.
 */
export function createBullmqQueue(connection: { url: string } | Redis, name: string, options: BullmqQueueOptions = {}): JobQueue {
  const retry = options.retry ?? defaultRetryPolicy;
  const leaseMs = options.leaseMs ?? 30_000;
  const report = options.onError ?? ((error: unknown) => console.error(`[queue ${name}]`, error));
  const client = connection instanceof Redis ? connection : new Redis(connection.url);
  const ownsClient = client !== connection;
  // While Redis is away every connection reports every reconnect attempt: say it once per outage.
  // Before the first connection, start-up's own check says it.
  let down = true;
  const onError = (error: unknown) => {
    if (isConnectionError(error)) {
      if (down) return;
      down = true;
    }
    report(error);
  };
  client.on('error', onError);
  client.on('ready', () => (down = false));
  // Adding a job fails at once while Redis is away rather than waiting for it in memory: the
  // caller answers 503 now, and the inbox and the sweeper re-create what was not added.
  const producer = client.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS });
  producer.on('error', onError);
  const queue = new Queue(name, {
    connection: producer,
    prefix: options.prefix,
    defaultJobOptions: {
      attempts: retry.attempts,
      // BullMQ's exponential backoff with jitter 1 is full jitter: uniform in [0, base * 2^(n-1)).
      backoff: { type: 'exponential', delay: retry.backoffMs, jitter: 1 },
      removeOnComplete: true,
    },
  });
  queue.on('error', onError);
  const handles = new Set<WorkerHandle>();

  function work(handler: JobHandler, { concurrency = 1 }: { concurrency?: number } = {}): WorkerHandle {
    const running = new Set<{ job: BullJob; token: string }>();
    // Workers block on Redis, so BullMQ requires commands to wait out a reconnect, never give up.
    const workerClient = client.duplicate({ maxRetriesPerRequest: null });
    const worker = new Worker(
      name,
      async (job: BullJob, token?: string) => {
        const entry = { job, token: token ?? '' };
        running.add(entry);
        try {
          await handler({ id: fromBullId(String(job.id)), name: job.name, data: job.data, attempt: job.attemptsMade + 1 });
        } catch (error) {
          if (error instanceof RetryLaterError) {
            // Per-job delay that keeps attemptsMade (skipAttempt); RateLimitError would pause the whole queue.
            await job.moveToDelayed(Date.now() + error.delayMs, token);
            throw new DelayedError();
          }
          if (error instanceof PermanentJobError) throw new UnrecoverableError(error.message);
          throw error;
        } finally {
          running.delete(entry);
        }
      },
      {
        connection: workerClient,
        prefix: options.prefix,
        concurrency,
        lockDuration: leaseMs,
        stalledInterval: leaseMs,
        // A job whose worker died is retried as often as a failing one, then dead-lettered.
        maxStalledCount: retry.attempts,
        // After a lost connection, retry moving finished jobs soon rather than after BullMQ's 15 s.
        runRetryDelay: 1_000,
      },
    );
    worker.on('error', onError);

    async function idleWithoutRedis(signal: AbortSignal): Promise<void> {
      while (workerClient.status === 'ready' || running.size > 0) await sleep(100, undefined, { signal });
    }

    const handle: WorkerHandle = {
      async close(timeoutMs = defaultCloseTimeoutMs) {
        handles.delete(handle);
        const closing = worker.close();
        const deadline = new AbortController();
        const finished = await Promise.race([
          closing.then(() => true),
          // BullMQ's close waits for Redis; without it, nothing is left to wait for once no job runs.
          idleWithoutRedis(deadline.signal).then(
            () => false,
            () => false,
          ),
          sleep(timeoutMs, false, { signal: deadline.signal }),
        ]);
        deadline.abort();
        const released = closing.then(() => closeClient(workerClient)).catch(onError);
        if (!finished) {
          // Hand stragglers back now instead of after their lock expires; their late results are
          // refused. Without Redis their locks expire there and another worker takes them over.
          if (workerClient.status === 'ready')
            await Promise.all([...running].map(({ job, token }) => job.moveToWait(token).catch(onError)));
          return;
        }
        await released;
      },
    };
    handles.add(handle);
    return handle;
  }

  return {
    kind: 'bullmq',
    async add(jobName, data, jobOptions: JobOptions) {
      await queue.add(jobName, data ?? null, {
        jobId: toBullId(jobOptions.id),
        delay: jobOptions.delayMs,
        attempts: jobOptions.attempts ?? retry.attempts,
      });
    },
    work,
    async deadLetters(): Promise<DeadJob[]> {
      const failed = await queue.getFailed();
      return failed.map((job) => ({
        id: fromBullId(String(job.id)),
        name: job.name,
        data: job.data,
        attempts: job.attemptsMade,
        error: job.failedReason,
        failedAt: new Date(job.finishedOn ?? job.timestamp).toISOString(),
      }));
    },
    async retryDead(id) {
      const job = await queue.getJob(toBullId(id));
      if (!job || !(await job.isFailed())) return false;
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      return true;
    },
    pendingCount: () => queue.getJobCountByTypes('waiting', 'delayed', 'active', 'prioritized', 'paused', 'waiting-children'),
    available: () => producer.status === 'ready',
    async healthy() {
      // Commands queue up while Redis is away; a health check must answer now.
      const deadline = new AbortController();
      const ok = await Promise.race([
        client.ping().then(
          () => true,
          () => false,
        ),
        sleep(1_000, false, { signal: deadline.signal }),
      ]);
      deadline.abort();
      return ok;
    },
    async close() {
      await Promise.all([...handles].map((handle) => handle.close()));
      // BullMQ's close waits for Redis; a queue whose Redis is gone just lets go.
      if (producer.status === 'ready') await queue.close();
      await closeClient(producer);
      if (ownsClient) await closeClient(client);
    },
  };
}
