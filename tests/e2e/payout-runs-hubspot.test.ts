import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { eventually, startWithSandboxHubSpot, type TestService } from '../support/service.ts';

/**
 * Payout runs against a sandbox HubSpot: a partner's won deal is paid in a run, the deal is
 * reopened (the paid reward is clawed back), and the next run pays the next deal less exactly
 * what was clawed back. The CSV finance receives parses and adds up to what the API says.
 */
const CLIENT = { clientId: 'e2e-payouts-client', clientSecret: 'e2e-payouts-secret', appId: 4343 };
const PARTNER = { email: 'pia@partner-firm.com', name: 'Pia Partner', type: 'partner' };

interface RewardBody {
  id: string;
  status: string;
  netCents: number;
  milestone: string;
}
interface ReferralBody {
  id: string;
  status: string;
  referrerId: string;
  crm: { person: { id: string } } | null;
  rewards: RewardBody[];
}
interface RunBody {
  id: string;
  status: string;
  reference: string | null;
  lines: {
    payeeType: string;
    payeeId: string;
    email: string;
    currency: string;
    grossCents: number;
    recoveredCents: number;
    amountCents: number;
    rewardIds: string[];
  }[];
  totals: { currency: string; amountCents: number }[];
}

describe('payout runs, end to end with HubSpot', () => {
  let hubspot: HubSpotSandbox;
  let svc: TestService;

  beforeAll(async () => {
    ({ hubspot, svc } = await startWithSandboxHubSpot(CLIENT, { webhookBatchMs: 20, webhookRetryMs: 100 }));
  });
  afterAll(async () => {
    await svc?.stop();
    await hubspot?.close();
  });

  const json = async <T>(res: Response, status: number): Promise<T> => {
    const body = await res.text();
    expect(res.status, body).toBe(status);
    return JSON.parse(body) as T;
  };
  const referral = async (id: string) => json<ReferralBody>(await svc.api(`/referrals/${id}`), 200);
  const rowCount = (table: string) => (svc.sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

  /** A partner referral whose HubSpot deal closes won; resolves once its reward is accrued. */
  async function wonReferral(email: string, amount: string): Promise<{ referral: ReferralBody; dealId: string }> {
    const created = await json<ReferralBody>(
      await svc.api('/referrals', {
        method: 'POST',
        json: { referrer: PARTNER, referee: { email, firstName: 'Jo', lastName: 'Lee' }, submittedBy: { kind: 'rep', id: 'rep-1' } },
      }),
      201,
    );
    const pushed = await eventually(async () => ((await referral(created.id)).crm ? referral(created.id) : undefined), 15_000, 'pushed');
    const deal = hubspot.state.create('deals', { dealname: email, pipeline: 'default', dealstage: 'appointmentscheduled', amount }, [
      { type: 'contacts', id: pushed.crm!.person.id },
    ]);
    hubspot.state.update('deals', deal.id, { dealstage: 'closedwon', closedate: '2026-03-31T12:00:00Z' });
    const won = await eventually(
      async () => {
        const r = await referral(created.id);
        return r.status === 'closed_won' && r.rewards.some((w) => w.netCents > 0) ? r : undefined;
      },
      20_000,
      'closed won with a reward',
    );
    return { referral: won, dealId: deal.id };
  }

  it('a reopened paid deal reduces the next payout run by exactly the clawed-back amount; the CSV adds up to the API', async () => {
    // 10% of $5,000: $500, approved at once.
    const first = await wonReferral('jo@acme-widgets.com', '5000');
    const firstReward = first.referral.rewards.find((r) => r.netCents > 0)!;
    expect(firstReward.netCents).toBe(50_000);

    const run1 = await json<RunBody>(await svc.api('/payouts', { method: 'POST', json: { dueOn: '2026-12-31' } }), 201);
    expect(run1.lines).toMatchObject([
      { payeeType: 'referrer', payeeId: first.referral.referrerId, grossCents: 50_000, recoveredCents: 0, amountCents: 50_000 },
    ]);

    // While the reward sits in the open run, it is paid with the run only.
    const single = await svc.api(`/rewards/${firstReward.id}/mark-paid`, { method: 'POST', json: { payoutReference: 'X-1' } });
    expect(single.status).toBe(409);
    expect(await single.text()).toContain(`open payout run ${run1.id}`);
    // Nor can another run take it.
    const taken = await svc.api('/payouts', { method: 'POST', json: { dueOn: '2026-12-31', rewardIds: [firstReward.id] } });
    expect(taken.status).toBe(409);
    // A run is exported before it is paid.
    expect((await svc.api(`/payouts/${run1.id}/mark-paid`, { method: 'POST', json: { reference: 'WIRE-1' } })).status).toBe(409);

    await json(await svc.api(`/payouts/${run1.id}/export`, { method: 'POST', json: { format: 'json' } }), 200);
    const paid1 = await json<RunBody>(
      await svc.api(`/payouts/${run1.id}/mark-paid`, { method: 'POST', json: { reference: 'WIRE-1' } }),
      200,
    );
    expect(paid1).toMatchObject({ status: 'paid', reference: 'WIRE-1' });
    expect((await referral(first.referral.id)).rewards.find((r) => r.id === firstReward.id)).toMatchObject({ status: 'paid' });
    // Paying twice is refused, and changes nothing.
    const again = await svc.api(`/payouts/${run1.id}/mark-paid`, { method: 'POST', json: { reference: 'WIRE-2' } });
    expect(again.status).toBe(409);
    expect(await json<RunBody>(await svc.api(`/payouts/${run1.id}`), 200)).toMatchObject({ status: 'paid', reference: 'WIRE-1' });

    // The deal is reopened in HubSpot: the paid $500 is clawed back and owed back.
    hubspot.state.update('deals', first.dealId, { dealstage: 'contractsent' });
    await eventually(
      async () =>
        (await referral(first.referral.id)).rewards.find((r) => r.id === firstReward.id)?.status === 'reversed' ? true : undefined,
      20_000,
      'clawback',
    );
    const referrer = await json<{ balance: { currency: string; receivableCents: number; owedCents: number; paidOutCents: number }[] }>(
      await svc.api(`/referrers/${first.referral.referrerId}`),
      200,
    );
    expect(referrer.balance).toEqual([
      { currency: 'USD', owedCents: 0, paidOutCents: 50_000, receivableCents: 50_000, recoveringCents: 0 },
    ]);

    // The next deal: 10% of $8,000 is $800; the run pays $300.
    const second = await wonReferral('sam@globex-corp.com', '8000');
    const secondReward = second.referral.rewards.find((r) => r.netCents > 0)!;
    const runsBefore = rowCount('payout_runs');
    for (const bad of [{ dueOn: 'not-a-date' }, { dueOn: '2026-02-30' }, { dueOn: '2026-12-31', rewardIds: [firstReward.id] }, {}]) {
      const res = await svc.api('/payouts', { method: 'POST', json: bad });
      expect(res.status, JSON.stringify(bad)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect(rowCount('payout_runs')).toBe(runsBefore);
    expect((await svc.api('/payouts/pay_nope')).status).toBe(404);
    expect((await svc.api('/payouts', { method: 'POST', json: { dueOn: '2026-12-31', rewardIds: ['rwd_nope'] } })).status).toBe(400);
    expect((await svc.api('/payouts/pay_nope/mark-paid', { method: 'POST', json: { reference: 'W' } })).status).toBe(404);
    expect((await svc.api(`/payouts/${run1.id}/mark-paid`, { method: 'POST', json: {} })).status).toBe(400);

    const run2 = await json<RunBody>(await svc.api('/payouts', { method: 'POST', json: { dueOn: '2026-12-31' } }), 201);
    expect(run2.lines).toEqual([
      expect.objectContaining({
        rewardIds: [secondReward.id],
        grossCents: 80_000,
        recoveredCents: 50_000,
        amountCents: 30_000,
        currency: 'USD',
      }),
    ]);
    expect(run2.totals).toEqual([{ currency: 'USD', amountCents: 30_000, amount: 300 }]);

    const csvRes = await svc.api(`/payouts/${run2.id}/export`, { method: 'POST', json: { format: 'csv' } });
    expect(csvRes.status).toBe(200);
    expect(csvRes.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = parse(await csvRes.text(), { columns: true }) as Record<string, string>[];
    expect(rows).toEqual([
      {
        payee: 'Pia Partner',
        email: 'pia@partner-firm.com',
        amount: '300.00',
        currency: 'USD',
        reward_ids: secondReward.id,
        reference: expect.any(String),
        grant: 'cash',
      },
    ]);
    const csvTotal = rows.reduce((sum, r) => sum + Math.round(Number(r.amount) * 100), 0);
    expect(csvTotal).toBe(run2.totals[0]!.amountCents);

    await json(await svc.api(`/payouts/${run2.id}/mark-paid`, { method: 'POST', json: { reference: 'WIRE-2' } }), 200);
    const settled = await json<{ balance: unknown[] }>(await svc.api(`/referrers/${first.referral.referrerId}`), 200);
    expect(settled.balance).toEqual([{ currency: 'USD', owedCents: 0, paidOutCents: 80_000, receivableCents: 0, recoveringCents: 0 }]);

    const list = await json<{ items: { id: string; status: string }[] }>(await svc.api('/payouts'), 200);
    expect(list.items.map((r) => [r.id, r.status])).toEqual([
      [run2.id, 'paid'],
      [run1.id, 'paid'],
    ]);
    const page1 = await json<{ items: { id: string }[]; nextCursor: string }>(await svc.api('/payouts?limit=1'), 200);
    const page2 = await json<{ items: { id: string }[]; nextCursor: null }>(
      await svc.api(`/payouts?limit=1&cursor=${encodeURIComponent(page1.nextCursor)}`),
      200,
    );
    expect([...page1.items, ...page2.items].map((r) => r.id)).toEqual([run2.id, run1.id]);
    expect(page2.nextCursor).toBeNull();
  });
});
