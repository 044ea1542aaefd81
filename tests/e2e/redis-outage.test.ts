/**
 * `serve` on a Redis of our own that is unreachable at start, drops while serving, and comes back:
 * start-up says so in one line; during the outage /healthz says why and writes that need the
 * queue are refused at once with a 503 and Retry-After; it recovers by itself; and SIGTERM always
 * ends the process within a bound, even with Redis gone or work in flight.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, type CliProcess } from '../support/cli-process.ts';
import { freePort } from '../support/ports.ts';
import { startRedisServer, type RedisServer } from '../support/redis-server.ts';
import { eventually } from '../support/service.ts';

const TOKEN = 'redis-outage-admin-token-0123';
const dataDir = mkdtempSync(join(tmpdir(), 'referloop-redis-outage-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function serve(redisUrl: string, name: string): Promise<{ child: CliProcess; url: string }> {
  const port = await freePort();
  const child = spawnCli(['serve'], {
    PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: `file:${join(dataDir, name, 'referloop.db')}`,
    ADMIN_API_TOKEN: TOKEN,
    REDIS_URL: redisUrl,
    LOG_LEVEL: 'warn',
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

/** SIGTERM, and how long the process took to exit. */
async function stopTimed(child: CliProcess): Promise<{ ms: number; code: number | null; signal: NodeJS.Signals | null }> {
  const started = Date.now();
  await child.kill('SIGTERM', 15_000);
  const { code, signal } = await child.exited;
  return { ms: Date.now() - started, code, signal };
}

const referral = (email: string, referrerEmail = 'pia@partner-firm.com') => ({
  referrer: { email: referrerEmail, name: 'Pia Partner', type: 'partner' },
  referee: { email, firstName: 'Jordan' },
  submittedBy: { kind: 'rep' },
});

function api(url: string, path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const { json, ...rest } = init;
  return fetch(`${url}/api/v1${path}`, {
    ...rest,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
}

const referralCount = async (url: string) => ((await (await api(url, '/referrals?limit=200')).json()) as { items: unknown[] }).items.length;

it('a Redis that does not answer at start-up: one line naming REDIS_URL, a non-zero exit, within seconds', {
  timeout: 60_000,
}, async () => {
  const { child } = await serve(`redis://127.0.0.1:${await freePort()}`, 'unreachable');
  const started = Date.now();
  const timer = setTimeout(() => void child.kill('SIGKILL'), 40_000);
  const { code, signal } = await child.exited;
  clearTimeout(timer);
  expect(signal, child.output()).toBeNull();
  expect(code).toBe(2);
  // Loading the TypeScript sources takes a good part of this on a busy machine; Redis is waited for 5 s.
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(child.output().trim().split('\n'), child.output()).toHaveLength(1);
  expect(child.output()).toMatch(/^referloop: REDIS_URL=.*Redis is unreachable/);
  expect(child.output()).not.toMatch(/rl_admin_|\n\s+at /);
});

describe('Redis dropping while serving', () => {
  let redis: RedisServer;
  let service: { child: CliProcess; url: string };

  beforeAll(async () => {
    redis = await startRedisServer();
    service = await serve(redis.url, 'outage');
    await eventually(async () => ((await fetch(`${service.url}/healthz`)).status === 200 ? true : undefined), 30_000, '/healthz');
    // The first start installs the sandbox HubSpot through OAuth.
    await eventually(
      async () => (((await (await api(service.url, '/installations')).json()) as unknown[]).length ? true : undefined),
      15_000,
      'installation',
    );
  }, 60_000);

  afterAll(async () => {
    await service?.child.kill('SIGKILL');
    await redis?.stop();
  });

  it('says so on /healthz, refuses queued writes at once with 503 and Retry-After, and recovers when Redis returns', {
    timeout: 60_000,
  }, async () => {
    expect((await api(service.url, '/referrals', { method: 'POST', json: referral('before@acme-widgets.com') })).status).toBe(201);
    const outputBefore = service.child.output().length;

    await redis.kill();
    const health = await eventually(
      async () => {
        const res = await fetch(`${service.url}/healthz`);
        return res.status === 503 ? ((await res.json()) as { reason: string }) : undefined;
      },
      10_000,
      '/healthz 503',
    );
    expect(health.reason).toMatch(/Redis\) is unreachable/);

    const before = await referralCount(service.url);
    const started = Date.now();
    const refused = await api(service.url, '/referrals', { method: 'POST', json: referral('during@mid-co.example') });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unavailable');
    expect(await referralCount(service.url)).toBe(before);

    // A few seconds of outage are a few lines of log, not one per reconnect attempt.
    await new Promise((r) => setTimeout(r, 5_000));
    const outageLog = service.child.output().slice(outputBefore).trim().split('\n').filter(Boolean);
    expect(outageLog.length, outageLog.join('\n')).toBeLessThanOrEqual(5);

    await redis.restart();
    await eventually(
      async () => ((await fetch(`${service.url}/healthz`)).status === 200 ? true : undefined),
      20_000,
      '/healthz back to 200',
    );
    const after = await eventually(
      async () => {
        const res = await api(service.url, '/referrals', { method: 'POST', json: referral('after@later-co.example') });
        return res.status === 503 ? undefined : res;
      },
      10_000,
      'writes accepted again',
    );
    expect(after.status).toBe(201);
  });

  it('SIGTERM with Redis gone exits within 10 s', { timeout: 30_000 }, async () => {
    await redis.kill();
    await eventually(async () => ((await fetch(`${service.url}/healthz`)).status === 503 ? true : undefined), 10_000, '/healthz 503');
    const { ms, signal } = await stopTimed(service.child);
    expect(signal, service.child.output()).toBeNull();
    expect(ms, service.child.output()).toBeLessThan(10_000);
  });
});

it('SIGTERM during a drain exits cleanly within 10 s', { timeout: 90_000 }, async () => {
  const redis = await startRedisServer();
  const { child, url } = await serve(redis.url, 'drain');
  try {
    await eventually(async () => ((await fetch(`${url}/healthz`)).status === 200 ? true : undefined), 30_000, '/healthz');
    await eventually(
      async () => (((await (await api(url, '/installations')).json()) as unknown[]).length ? true : undefined),
      15_000,
      'installation',
    );
    // Referrals whose CRM push jobs are queued and running when the stop comes.
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        api(url, '/referrals', { method: 'POST', json: referral(`drain-${i}@lead-${i}.example`, `partner-${i}@partner-firm.com`) }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(30).fill(201));
    const { ms, code, signal } = await stopTimed(child);
    expect(signal, child.output()).toBeNull();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
  } finally {
    await child.kill('SIGKILL');
    await redis.stop();
  }
});
