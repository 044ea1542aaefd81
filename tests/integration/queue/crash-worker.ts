/**
 * A worker process for crash.test.ts: works the queue named by the environment and records each
 * job's effect once (unique key), plus every run, in a SQLite file the test reads.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { createBullmqQueue } from '../../../src/jobs/bullmq-queue.ts';
import { createEmbeddedQueue } from '../../../src/jobs/embedded-queue.ts';
import { openDb } from '../../../src/store/db.ts';

const env = (key: string) => process.env[key] ?? '';
const leaseMs = Number(env('LEASE_MS'));
const effects = new Database(env('EFFECTS_DB'));
effects.pragma('journal_mode = WAL');
effects.pragma('busy_timeout = 5000');
const recordRun = effects.prepare('INSERT INTO runs (job_id, pid) VALUES (?, ?)');
const recordEffect = effects.prepare('INSERT INTO effects (job_id, pid) VALUES (?, ?) ON CONFLICT (job_id) DO NOTHING');

const queue =
  env('QUEUE_KIND') === 'bullmq'
    ? createBullmqQueue({ url: env('REDIS_URL') }, env('QUEUE_NAME'), { prefix: env('PREFIX'), leaseMs })
    : createEmbeddedQueue(openDb(env('JOBS_DB')), env('QUEUE_NAME'), { leaseMs, pollMs: 20 });

const worker = queue.work(
  async (job) => {
    recordRun.run(job.id, process.pid);
    await sleep(50);
    recordEffect.run(job.id, process.pid);
    await sleep(5);
  },
  { concurrency: 4 },
);

process.once('SIGTERM', () => {
  void worker
    .close(5_000)
    .then(() => queue.close())
    .then(() => process.exit(0));
});
