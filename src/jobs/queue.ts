/**
 * The job queue port. Two implementations share it and one conformance suite
 * (tests/integration/queue/conformance.test.ts): BullMQ on Redis when `REDIS_URL` is set, and an
 * embedded durable queue in SQLite otherwise. Jobs carry small hints (ids), never state.
 */

export interface JobOptions {
  /**
   * Idempotency key: adding a job whose id is waiting, active or delayed is a no-op. Once the
   * job completed, the same id may be added again (the durable dedupe lives in the store).
   */
  id: string;
  delayMs?: number;
  /** Attempts before the job goes to the dead-letter state; default from the queue. */
  attempts?: number;
}

export interface Job<T = unknown> {
  id: string;
  name: string;
  data: T;
  /** 1 on the first run. */
  attempt: number;
}

export type JobHandler = (job: Job) => Promise<void>;

export interface DeadJob {
  id: string;
  name: string;
  data: unknown;
  attempts: number;
  error: string;
  failedAt: string;
}

/** Thrown by a handler to retry later without spending an attempt (a CRM's 429 Retry-After). */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
  constructor(
    readonly delayMs: number,
    message = `retry in ${delayMs} ms`,
  ) {
    super(message);
  }
}

/** Thrown by a handler when retrying cannot help: the job goes straight to dead-letter. */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
}

export interface WorkerHandle {
  /** Stop taking jobs; wait for in-flight ones to finish (or return them to the queue after `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>;
}

export interface JobQueue {
  readonly kind: 'bullmq' | 'embedded';
  add(name: string, data: unknown, options: JobOptions): Promise<void>;
  /** Run `handler` for jobs of this queue with `concurrency` in parallel. */
  work(handler: JobHandler, options?: { concurrency?: number }): WorkerHandle;
  deadLetters(): Promise<DeadJob[]>;
  /** Move a dead job back to waiting with fresh attempts; false if no such dead job. */
  retryDead(id: string): Promise<boolean>;
  /** Jobs waiting, delayed or active: what still has to drain. */
  pendingCount(): Promise<number>;
  /** Reachable (Redis ping / SQLite open). */
  healthy(): Promise<boolean>;
  /** Connected right now, answered without waiting: work that needs the queue can be refused at once. */
  available(): boolean;
  close(): Promise<void>;
}

export interface QueueRetryPolicy {
  attempts: number;
  /** Exponential backoff base: delay = base * 2^(attempt-1), with full jitter. */
  backoffMs: number;
}

export const defaultRetryPolicy: QueueRetryPolicy = { attempts: 8, backoffMs: 1_000 };
