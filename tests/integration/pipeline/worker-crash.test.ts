/**
 * Guarantee: no accepted webhook event is lost across a crash, and nothing happens twice.
 *
 * The HTTP edge runs in this process, a sandbox HubSpot beside it, and the sync worker as a
 * `referloop worker` child process on the same SQLite file. Partners' referrals are pushed to
 * HubSpot, the sales team wins a deal for each, and while the worker is draining the webhooks the
 * worker is killed with SIGKILL in the middle of a batch (inbox events claimed, not yet done).
 * A fresh worker must finish everything: every event done, every referral won once, one reward
 * each, one notification per transition.
 *
 * Recovery of the killed worker's claimed events is decided by the inbox claim lease
 * (INBOX_LEASE_MS, 2 s here) and the new worker's sweeper (every 5 s) or the next webhook's sync;
 * the killed job itself comes back after JOB_LEASE_MS (2 s here).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../support/redis-server.ts';
import {
  closedWon,
  inboxByStatus,
  INBOX_LEASE_MS,
  scalar,
  seedReferrals,
  startPipeline,
  until,
  waitPushed,
  winDeal,
  type Pipeline,
} from './harness.ts';

const N = 40;
/** The sales team's pace: one won deal per this many ms, so the worker drains while deals keep coming. */
const DEAL_EVERY_MS = 60;

describe.each(['embedded', 'bullmq'] as const)('%s queue: the sync worker is killed with SIGKILL mid-batch and restarted', (kind) => {
  let redis: RedisServer | undefined;
  let p: Pipeline;
  let ids: string[];
  let atKill: { closedWon: number; processing: number[] };
  let recoveredMs: number;

  beforeAll(async () => {
    const started = Date.now();
    redis = kind === 'bullmq' ? await startRedisServer() : undefined;
    p = await startPipeline(redis ? { redisUrl: redis.url } : {});
    const first = p.startWorker();
    ids = await seedReferrals(p, N, `crash${kind}`, { personal: true });
    const contacts = await waitPushed(p, ids);
    await p.hubspot.state.webhooksIdle();

    // The sales team wins one deal after another; the worker drains behind them.
    const salesTeam = (async () => {
      for (const [i, id] of ids.entries()) {
        winDeal(p.hubspot, contacts.get(id)!, `Account ${i} — platform`);
        await sleep(DEAL_EVERY_MS);
      }
    })();

    // Kill once a quarter is won and the worker holds claimed events it has not finished: freeze it,
    // look, and kill it only if it still holds some (else let it go on and look again).
    const processing = () => p.db.prepare("SELECT id FROM inbox WHERE status = 'processing' ORDER BY id").pluck().all() as number[];
    for (;;) {
      await until(
        () => {
          const won = closedWon(p.db, ids);
          if (won === N) throw new Error(`the batch drained before the kill (${N} won): raise N or slow the worker`);
          return won >= N / 4 && processing().length > 0;
        },
        'a quarter of the referrals won and a batch in flight',
        30_000,
        p.workerOutput,
        2,
      );
      process.kill(first.pid, 'SIGSTOP');
      if (processing().length > 0) break;
      process.kill(first.pid, 'SIGCONT');
    }
    await first.kill('SIGKILL');
    atKill = { closedWon: closedWon(p.db, ids), processing: processing() };

    // A supervisor restarts the worker; meanwhile webhooks keep arriving at the edge.
    await sleep(300);
    const restartedAt = Date.now();
    p.startWorker();
    await salesTeam;
    await p.hubspot.state.webhooksIdle();
    await until(
      () => {
        const inbox = inboxByStatus(p.db);
        return closedWon(p.db, ids) === N && Object.keys(inbox).every((status) => status === 'done' || status === 'dead');
      },
      'every referral won and every inbox event settled after the restart',
      35_000,
      () =>
        [
          `inbox by status: ${JSON.stringify(inboxByStatus(p.db))}, won ${closedWon(p.db, ids)}/${N}`,
          `events the killed worker had claimed, still processing: ${JSON.stringify(
            p.db.prepare(`SELECT id, attempts, lease_until FROM inbox WHERE status = 'processing' LIMIT 5`).all(),
          )} (INBOX_LEASE_MS=${INBOX_LEASE_MS})`,
          p.workerOutput(),
        ].join('\n'),
    );
    recoveredMs = Date.now() - restartedAt;
    console.info(
      `[${kind}] killed at ${atKill.closedWon}/${N} won with ${atKill.processing.length} events in flight; drained ${recoveredMs} ms after the restart; ${Date.now() - started} ms in all`,
    );
  }, 75_000);

  afterAll(async () => {
    await p?.stop();
    await redis?.stop();
  });

  it('was killed mid-drain, holding claimed events', () => {
    expect(atKill.closedWon).toBeGreaterThan(0);
    expect(atKill.closedWon).toBeLessThan(N);
    expect(atKill.processing.length).toBeGreaterThan(0);
  });

  it('ends every acknowledged event done, none pending, processing or dead', async () => {
    expect(inboxByStatus(p.db)).toEqual({ done: expect.any(Number) });
    // The events the dead worker held were claimed again by the new one.
    const held = p.db
      .prepare(`SELECT status, attempts FROM inbox WHERE id IN (${atKill.processing.map(() => '?').join(',')})`)
      .all(...atKill.processing) as { status: string; attempts: number }[];
    expect(held.every((row) => row.status === 'done' && row.attempts >= 2)).toBe(true);
    const dead = (await (await p.api('/dead-letters')).json()) as { jobs: unknown[]; events: unknown[] };
    expect(dead.events).toEqual([]);
  });

  it("drains the queue, the killed worker's job included, with no dead job", async () => {
    const { queue } = p.edge.runtime;
    // The killed job is taken over once its lease (JOB_LEASE_MS) runs out, then finds nothing left to do.
    await until(async () => (await queue.pendingCount()) === 0, 'an empty queue', 15_000, p.workerOutput);
    expect(await queue.deadLetters()).toEqual([]);
  });

  it('wins every referral once: one closed_won timeline entry and one $2,500 closed-won reward each', () => {
    const placeholders = ids.map(() => '?').join(',');
    expect(scalar(p.db, `SELECT count(*) FROM referrals WHERE status = 'closed_won' AND id IN (${placeholders})`, ...ids)).toBe(N);
    const wonEntries = p.db
      .prepare(`SELECT referral_id AS id, count(*) AS n FROM referral_events WHERE to_status = 'closed_won' GROUP BY referral_id`)
      .all() as { id: string; n: number }[];
    expect(wonEntries).toHaveLength(N);
    expect(wonEntries.filter((r) => r.n !== 1)).toEqual([]);
    // No step of the journey was recorded twice (a replayed batch must add nothing).
    expect(
      p.db.prepare('SELECT referral_id, from_status, to_status, count(*) AS n FROM referral_events GROUP BY 1, 2, 3 HAVING n > 1').all(),
    ).toEqual([]);

    const rewards = p.db.prepare('SELECT referral_id AS id, milestone, amount_cents AS cents FROM rewards').all() as {
      id: string;
      milestone: string;
      cents: number;
    }[];
    expect(rewards).toHaveLength(N);
    expect(new Set(rewards.map((r) => r.id)).size).toBe(N);
    expect(rewards.every((r) => r.milestone === 'closed_won' && r.cents === 250_000)).toBe(true);
    expect(scalar(p.db, 'SELECT count(*) FROM reward_events')).toBe(
      scalar(p.db, "SELECT count(*) FROM reward_events WHERE kind = 'accrued'"),
    );
  });

  it('writes no notification twice: per referral, topic and channel never more outbox rows than transitions telling it', () => {
    // What each step of the timeline tells the referrer (qualified reads as in_sales_process).
    const topicOf: Record<string, string> = {
      submitted: 'referral.received',
      accepted: 'referral.accepted',
      contacted: 'referral.contacted',
      qualified: 'referral.in_sales_process',
      in_sales_process: 'referral.in_sales_process',
      closed_won: 'referral.won',
    };
    const told = new Map<string, number>();
    for (const e of p.db.prepare('SELECT referral_id AS id, to_status AS status FROM referral_events').all() as {
      id: string;
      status: string;
    }[]) {
      const key = `${e.id} ${topicOf[e.status] ?? e.status}`;
      told.set(key, (told.get(key) ?? 0) + 1);
    }
    const outbox = p.db
      .prepare('SELECT referral_id AS id, topic, channel, count(*) AS n FROM outbox WHERE referral_id IS NOT NULL GROUP BY 1, 2, 3')
      .all() as { id: string; topic: string; channel: string; n: number }[];
    // Topics no transition tells (an internal notice of the referral) come once.
    const transitionTopics = new Set(Object.values(topicOf));
    expect(outbox.filter((o) => o.n > (transitionTopics.has(o.topic) ? (told.get(`${o.id} ${o.topic}`) ?? 0) : 1))).toEqual([]);
    // And every one-off moment exactly once per referral: received, accepted, contacted, won.
    for (const topic of ['referral.received', 'referral.accepted', 'referral.contacted', 'referral.won']) {
      const rows = outbox.filter((o) => o.topic === topic && o.channel === 'email');
      expect(rows, topic).toHaveLength(N);
      expect(
        rows.filter((o) => o.n !== 1),
        topic,
      ).toEqual([]);
    }
  });

  it('tells the referrer each moment once: one outbox row per (referral, topic, channel)', () => {
    // Crash or not: a deal that jumps to closed won walks the referral through qualified and
    // in_sales_process, which both read 'in sales process' to a referrer; they must hear it once
    // (TOPIC_FOR_STATUS and moveReferral in src/use-cases/apply-crm-changes/move-referral.ts).
    const repeated = p.db
      .prepare('SELECT referral_id, topic, channel, count(*) AS n FROM outbox GROUP BY 1, 2, 3 HAVING n > 1 LIMIT 3')
      .all();
    expect(repeated).toEqual([]);
  });
});
