import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { startWithSandboxHubSpot, type TestService } from '../support/service.ts';

const CLIENT = { clientId: 'race-client', clientSecret: 'race-secret', appId: 5150 };

type ErrorBody = { error: { code: string; details: { referralId?: string } } };

/**
 * The same referral from a referrer Referloop has never seen, sent many times at once while the
 * CRM's conflict check is slow: the submissions all wait on the CRM together, so any state read
 * before that wait is stale by the time they write.
 */
describe('concurrent first submissions of a new referrer', () => {
  let hubspot: HubSpotSandbox;
  let svc: TestService;
  let installationId: string;
  const count = (sql: string, ...params: unknown[]) => (svc.sqlite.prepare(sql).get(...params) as { n: number }).n;

  beforeAll(async () => {
    ({ hubspot, svc, installationId } = await startWithSandboxHubSpot(CLIENT));
  });
  afterAll(async () => {
    await svc?.stop();
    await hubspot?.close();
  });

  // The CRM's search limit (5 a second) paces the conflict checks: fifty take about ten seconds.
  it.each([
    ['answers at once', 0, 20],
    ['answers slowly', 250, 50],
  ])(
    'when the CRM %s: one 201, the rest clean 409s naming it, one referrer',
    async (_, latencyMs, submissions) => {
      hubspot.faults.delayResponses(latencyMs);
      const referrerEmail = `new-partner-${latencyMs}@race.example`;
      const body = {
        installationId,
        referrer: { email: referrerEmail, name: 'New Partner', type: 'partner' },
        referee: { email: `buyer@race-buyer-${latencyMs}.example`, company: 'Race Buyer' },
        submittedBy: { kind: 'integration' },
      };
      const started = Date.now();
      const answers = await Promise.all(
        Array.from({ length: submissions }, async () => {
          const res = await svc.api('/referrals', { method: 'POST', json: body });
          return { status: res.status, body: (await res.json()) as { id: string } & ErrorBody };
        }),
      );
      hubspot.faults.delayResponses(0);
      const elapsedMs = Date.now() - started;

      const created = answers.filter((a) => a.status === 201);
      const refused = answers.filter((a) => a.status === 409);
      expect(answers.map((a) => a.status).filter((s) => s !== 201 && s !== 409)).toEqual([]);
      expect(created).toHaveLength(1);
      expect(refused).toHaveLength(submissions - 1);
      const acceptedId = created[0]!.body.id;
      for (const answer of refused) {
        expect(answer.body.error.code).toBe('duplicate');
        expect(answer.body.error.details.referralId).toBe(acceptedId);
      }
      expect(count('SELECT count(*) AS n FROM referrers WHERE email = ?', referrerEmail)).toBe(1);
      expect(count("SELECT count(*) AS n FROM referrals WHERE referee_email = ? AND status = 'accepted'", body.referee.email)).toBe(1);
      // The latency was really there: every submission waited on the CRM at least once.
      expect(elapsedMs).toBeGreaterThanOrEqual(latencyMs);
    },
    60_000,
  );
});
