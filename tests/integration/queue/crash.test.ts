import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createBullmqQueue } from '../../../src/jobs/bullmq-queue.ts';
import { createEmbeddedQueue } from '../../../src/jobs/embedded-queue.ts';
import type { JobQueue } from '../../../src/jobs/queue.ts';
import { migrateDb, openDb } from '../../../src/store/db.ts';
import { spawnTsProcess, startRedisServer, type TsProcess } from '../../support/redis-server.ts';
import { until } from './until.ts';

const workerFile = fileURLToPath(new URL('./crash-worker.ts', import.meta.url));
const jobCount = 80;

interface Setup {
  queue: JobQueue;
  env: Record<string, string>;
  dispose(): Promise<void>;
}

async function setUp(kind: 'embedded' | 'bullmq', dir: string): Promise<Setup> {
  const name = `crash-${randomUUID()}`;
  if (kind === 'embedded') {
    const jobsDb = join(dir, 'jobs.db');
    const db = openDb(jobsDb);
    migrateDb(db);
    return {
      queue: createEmbeddedQueue(db, name),
      env: { QUEUE_KIND: kind, QUEUE_NAME: name, JOBS_DB: jobsDb, LEASE_MS: '300' },
      dispose: async () => void db.$client.close(),
    };
  }
  const redis = await startRedisServer();
  const queue = createBullmqQueue({ url: redis.url }, name, { prefix: 'crash' });
  return {
    queue,
    env: { QUEUE_KIND: kind, QUEUE_NAME: name, REDIS_URL: redis.url, PREFIX: 'crash', LEASE_MS: '500' },
    async dispose() {
      await queue.close();
      await redis.stop();
    },
  };
}

/** Waits like `until`, but a failure carries the worker's output. */
async function watch(worker: TsProcess, ...args: Parameters<typeof until>): Promise<void> {
  try {
    await until(...args);
  } catch (error) {
    throw new Error(`${(error as Error).message}\nworker ${worker.pid} output:\n${worker.output()}`);
  }
}

describe.each(['embedded', 'bullmq'] as const)('%s queue and a worker killed mid-batch', (kind) => {
  it('processes every job with one effect each after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'referloop-crash-'));
    const effects = new Database(join(dir, 'effects.db'));
    effects.pragma('journal_mode = WAL');
    effects.pragma('busy_timeout = 5000');
    effects.exec(`
      CREATE TABLE effects (job_id TEXT PRIMARY KEY, pid INTEGER NOT NULL);
      CREATE TABLE runs (job_id TEXT NOT NULL, pid INTEGER NOT NULL);
    `);
    const effectCount = () => (effects.prepare('SELECT count(*) AS n FROM effects').get() as { n: number }).n;
    const setup = await setUp(kind, dir);
    const env = { ...setup.env, EFFECTS_DB: join(dir, 'effects.db') };
    const ids = Array.from({ length: jobCount }, (_, i) => `job:${i}`);
    try {
      for (const id of ids) await setup.queue.add('effect', null, { id });

      const first = spawnTsProcess(workerFile, env);
      // Kill once a third is done and a job is mid-handler (run recorded, its effect 50 ms away).
      const midway = effects.prepare('SELECT count(*) AS n FROM runs WHERE pid = ? AND job_id NOT IN (SELECT job_id FROM effects)');
      await watch(
        first,
        () => effectCount() >= jobCount / 3 && (midway.get(first.pid) as { n: number }).n > 0,
        'a third of the effects and a job in flight',
        20_000,
      );
      await first.kill('SIGKILL');
      expect(effectCount()).toBeLessThan(jobCount);
      expect(await setup.queue.pendingCount()).toBeGreaterThan(0);

      const second = spawnTsProcess(workerFile, env);
      await watch(
        second,
        async () => effectCount() === jobCount && (await setup.queue.pendingCount()) === 0,
        'every effect and an empty queue',
        20_000,
      );
      await second.kill('SIGTERM');

      const recorded = effects.prepare('SELECT job_id AS id FROM effects ORDER BY job_id').all() as { id: string }[];
      expect(recorded.map((row) => row.id)).toEqual([...ids].sort());
      // The jobs the first worker had in hand when it died ran again in the second.
      const rerun = effects
        .prepare('SELECT count(DISTINCT a.job_id) AS n FROM runs a JOIN runs b ON a.job_id = b.job_id WHERE a.pid = ? AND b.pid = ?')
        .get(first.pid, second.pid) as { n: number };
      expect(rerun.n).toBeGreaterThan(0);
      expect(await setup.queue.deadLetters()).toEqual([]);
    } finally {
      await setup.dispose();
      effects.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
