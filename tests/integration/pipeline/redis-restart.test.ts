/**
 * Guarantee: no accepted webhook event is lost across a restart of Redis.
 *
 * BullMQ on a redis-server of our own (append-only file, fsync every second, as in production),
 * the HTTP edge in this process, a `referloop worker` child process, a sandbox HubSpot whose sales
 * team keeps winning deals. Redis is killed (SIGKILL) while webhooks flow: the edge must keep
 * acknowledging them with 200 well inside HubSpot's 5 s (the inbox is SQLite; scheduling the sync
 * job is not awaited). After Redis comes back, every acknowledged event must be processed.
 */
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../support/redis-server.ts';
import {
  CLIENT,
  closedWon,
  inboxByStatus,
  scalar,
  seedReferrals,
  startPipeline,
  until,
  waitPushed,
  winDeal,
  type Pipeline,
} from './harness.ts';

const N = 24;
const DEAL_EVERY_MS = 100;
const OUTAGE_MS = 3_000;
/** HubSpot times a webhook out after 5 s; we want to be far inside that. */
const ACK_BUDGET_MS = 1_000;

let redis: RedisServer;
let p: Pipeline;

beforeAll(async () => {
  redis = await startRedisServer({ appendonly: true, appendfsync: 'everysec' });
  p = await startPipeline({ redisUrl: redis.url });
}, 30_000);

afterAll(async () => {
  await p?.stop();
  await redis?.stop();
});

/** What HubSpot sends for a deal stage change, signed with v3 like the sandbox does. */
async function postDealWebhook(dealId: string, eventId: number): Promise<{ status: number; ms: number }> {
  const uri = `${p.url}/webhooks/hubspot`;
  const body = JSON.stringify([
    {
      eventId,
      subscriptionId: 3_100_400,
      portalId: p.hubspot.state.portalId,
      appId: CLIENT.appId,
      occurredAt: Date.now(),
      subscriptionType: 'deal.propertyChange',
      attemptNumber: 0,
      objectId: Number(dealId),
      propertyName: 'dealstage',
      propertyValue: 'closedwon',
      changeSource: 'CRM_UI',
      sourceId: 'userId:71820451',
    },
  ]);
  const timestamp = String(Date.now());
  const signature = createHmac('sha256', CLIENT.clientSecret).update(`POST${uri}${body}${timestamp}`).digest('base64');
  const started = performance.now();
  const res = await fetch(uri, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': timestamp },
    signal: AbortSignal.timeout(5_000),
  });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - started };
}

it('acknowledges webhooks while Redis is down and processes every one of them after it restarts', async () => {
  p.startWorker();
  const ids = await seedReferrals(p, N, 'redisrestart', { personal: true });
  const contacts = await waitPushed(p, ids);
  await p.hubspot.state.webhooksIdle();

  const dealIds: string[] = [];
  const salesTeam = (async () => {
    for (const [i, id] of ids.entries()) {
      dealIds.push(winDeal(p.hubspot, contacts.get(id)!, `Account ${i} — platform`));
      await sleep(DEAL_EVERY_MS);
    }
  })();
  await until(() => closedWon(p.db, ids) >= 3, 'the first referrals won', 20_000, p.workerOutput);
  expect(closedWon(p.db, ids)).toBeLessThan(N);

  // --- Redis dies with jobs in it and webhooks arriving ------------------------------------------
  const inboxBefore = scalar(p.db, 'SELECT count(*) FROM inbox');
  const down = Date.now();
  await redis.kill();
  const probes: { status: number; ms: number }[] = [];
  for (let i = 0; dealIds.length > 0 && Date.now() - down < OUTAGE_MS; i++) {
    probes.push(await postDealWebhook(dealIds[i % dealIds.length]!, 7_700_000_000 + i));
    await sleep(200);
  }
  const health = await fetch(`${p.url}/healthz`);
  expect(health.status).toBe(503);
  const storedWhileDown = scalar(p.db, 'SELECT count(*) FROM inbox') - inboxBefore;
  const up = Date.now();
  await redis.restart();

  // --- and everything acknowledged while it was down gets processed ------------------------------
  await salesTeam;
  await p.hubspot.state.webhooksIdle();
  await until(
    () => closedWon(p.db, ids) === N && Object.keys(inboxByStatus(p.db)).every((s) => s === 'done' || s === 'dead'),
    'every referral won and every event settled after Redis came back',
    40_000,
    () => `inbox ${JSON.stringify(inboxByStatus(p.db))}, won ${closedWon(p.db, ids)}/${N}\n${p.workerOutput()}`,
  );
  const drainedMs = Date.now() - up;

  // The sandbox's own deliveries during the outage: every one answered 200 (it gives up after 5 s).
  const during = p.hubspot.state.deliveries.filter((d) => {
    const at = Date.parse(d.at);
    return at >= down && at < up;
  });
  console.info(
    `Redis down ${up - down} ms: ${during.length} HubSpot deliveries and ${probes.length} probes acknowledged, ` +
      `${storedWhileDown} events stored, probe p100 ${Math.max(...probes.map((x) => x.ms)).toFixed(1)} ms; drained ${drainedMs} ms after the restart`,
  );
  expect(during.length).toBeGreaterThan(0);
  expect(during.filter((d) => d.status !== 200)).toEqual([]);
  expect(probes.length).toBeGreaterThan(3);
  expect(probes.filter((x) => x.status !== 200 || x.ms > ACK_BUDGET_MS)).toEqual([]);
  expect(storedWhileDown).toBeGreaterThan(0);

  expect(inboxByStatus(p.db)).toEqual({ done: expect.any(Number) });
  expect(((await (await p.api('/dead-letters')).json()) as { events: unknown[] }).events).toEqual([]);
  const rewards = p.db.prepare('SELECT referral_id AS id, milestone, amount_cents AS cents FROM rewards').all() as {
    id: string;
    milestone: string;
    cents: number;
  }[];
  expect(rewards).toHaveLength(N);
  expect(new Set(rewards.map((r) => r.id)).size).toBe(N);
  expect(rewards.every((r) => r.milestone === 'closed_won' && r.cents === 250_000)).toBe(true);
  expect(
    p.db.prepare("SELECT referral_id, count(*) AS n FROM referral_events WHERE to_status = 'closed_won' GROUP BY 1 HAVING n > 1").all(),
  ).toEqual([]);
  expect((await fetch(`${p.url}/healthz`)).status).toBe(200);
}, 75_000);
