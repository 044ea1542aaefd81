import { describe, expect, it } from 'vitest';
import { MUST_BE_ZERO, runSoak } from './run.ts';

/**
 * The short soak `npm test` runs last, alone on the machine: the real app, two `serve` and two
 * `worker` processes on PostgreSQL and Redis, three sandbox HubSpot portals and two Salesforce orgs
 * answering a third of the calls with injected faults, a thousand webhook events duplicated and out
 * of order, a worker SIGKILLed every 4 s and Redis restarted twice. Nothing may be lost, doubled or
 * over the CRM's rate limit.
 */
describe('soak', () => {
  it('1,000 events over 5 installations: nothing lost, nothing twice, no real rate-limit breach', async () => {
    const result = await runSoak({ events: 1_000, installations: 5 });
    // The whole result, to read beside a failure.
    console.log(JSON.stringify(result));
    // What was thrown at it really happened, so the zeros are earned.
    expect(result.events).toBeGreaterThanOrEqual(1_000);
    expect(result.wonInHubSpot).toBeGreaterThan(0);
    expect(result.wonInSalesforce).toBeGreaterThan(0);
    expect(result.injectedFaults).toBeGreaterThan(0);
    expect(result.duplicatedWebhooks).toBeGreaterThan(0);
    expect(result.workerKills).toBeGreaterThan(0);
    expect(result.redisRestarts).toBe(2);
    expect(result.emails).toBeGreaterThan(0);
    expect(result.referrerWebhooks).toBeGreaterThan(0);
    expect(result.failedSubmissions).toBe(0);
    expect(Object.fromEntries(MUST_BE_ZERO.map((key) => [key, result[key]]))).toEqual(
      Object.fromEntries(MUST_BE_ZERO.map((key) => [key, 0])),
    );
  });
});
