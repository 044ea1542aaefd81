import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import { eventually, startWithSandboxSalesforce, type TestService } from '../support/service.ts';

/**
 * Payout runs against a sandbox Salesforce: a won Opportunity's reward is paid in a run, the
 * Opportunity is reopened, and the next run pays the next win less exactly what was clawed back.
 */
const CLIENT = { clientId: 'e2e-payouts-sf-client', clientSecret: 'e2e-payouts-sf-secret' };

interface ReferralBody {
  id: string;
  status: string;
  referrerId: string;
  crm: { person: { id: string } } | null;
  rewards: { id: string; status: string; netCents: number }[];
}
interface RunBody {
  id: string;
  lines: { grossCents: number; recoveredCents: number; amountCents: number; rewardIds: string[] }[];
  totals: { currency: string; amountCents: number }[];
}

describe('payout runs, end to end with Salesforce', () => {
  let salesforce: SalesforceSandbox;
  let svc: TestService;

  beforeAll(async () => {
    ({ salesforce, svc } = await startWithSandboxSalesforce(CLIENT));
  });
  afterAll(async () => {
    await svc?.stop();
    await salesforce?.close();
  });

  const json = async <T>(res: Response, status: number): Promise<T> => {
    const body = await res.text();
    expect(res.status, body).toBe(status);
    return JSON.parse(body) as T;
  };
  const referral = async (id: string) => json<ReferralBody>(await svc.api(`/referrals/${id}`), 200);

  async function wonReferral(email: string, amount: number): Promise<{ referral: ReferralBody; opportunityId: string }> {
    const created = await json<ReferralBody>(
      await svc.api('/referrals', {
        method: 'POST',
        json: {
          referrer: { email: 'pia@partner-firm.com', name: 'Pia Partner', type: 'partner' },
          referee: { email, firstName: 'Jo', lastName: 'Lee', company: email.split('@')[1] },
          submittedBy: { kind: 'rep', id: '005000000000001' },
        },
      }),
      201,
    );
    const pushed = await eventually(async () => ((await referral(created.id)).crm ? referral(created.id) : undefined), 15_000, 'pushed');
    const { opportunityId } = salesforce.actions.convertLead({
      leadId: pushed.crm!.person.id,
      createOpportunity: true,
      opportunityName: email,
    });
    salesforce.actions.updateRecord({ sobject: 'Opportunity', id: opportunityId!, fields: { Amount: amount, CloseDate: '2026-03-31' } });
    salesforce.actions.moveStage({ opportunityId: opportunityId!, stageName: 'Closed Won' });
    const won = await eventually(
      async () => {
        const r = await referral(created.id);
        return r.status === 'closed_won' && r.rewards.some((w) => w.netCents > 0) ? r : undefined;
      },
      20_000,
      'closed won with a reward',
    );
    return { referral: won, opportunityId: opportunityId! };
  }

  it('a reopened paid Opportunity reduces the next payout run by exactly the clawed-back amount; the CSV adds up to the API', async () => {
    const first = await wonReferral('jo@acme-widgets.com', 5_000);
    const firstReward = first.referral.rewards.find((r) => r.netCents > 0)!;
    expect(firstReward.netCents).toBe(50_000);
    const run1 = await json<RunBody>(await svc.api('/payouts', { method: 'POST', json: { dueOn: '2026-12-31' } }), 201);
    expect((await svc.api(`/payouts/${run1.id}/export`, { method: 'POST', json: { format: 'csv' } })).status).toBe(200);
    await json(await svc.api(`/payouts/${run1.id}/mark-paid`, { method: 'POST', json: { reference: 'SF-WIRE-1' } }), 200);

    salesforce.actions.moveStage({ opportunityId: first.opportunityId, stageName: 'Qualification' });
    await eventually(
      async () =>
        (await referral(first.referral.id)).rewards.find((r) => r.id === firstReward.id)?.status === 'reversed' ? true : undefined,
      20_000,
      'clawback',
    );

    const second = await wonReferral('sam@globex-corp.com', 8_000);
    const secondReward = second.referral.rewards.find((r) => r.netCents > 0)!;
    const run2 = await json<RunBody>(await svc.api('/payouts', { method: 'POST', json: { dueOn: '2026-12-31' } }), 201);
    expect(run2.lines).toEqual([
      expect.objectContaining({ rewardIds: [secondReward.id], grossCents: 80_000, recoveredCents: 50_000, amountCents: 30_000 }),
    ]);
    const csv = await svc.api(`/payouts/${run2.id}/export`, { method: 'POST', json: { format: 'csv' } });
    const rows = parse(await csv.text(), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.payee, r.amount, r.currency])).toEqual([['Pia Partner', '300.00', 'USD']]);
    expect(rows.reduce((sum, r) => sum + Math.round(Number(r.amount) * 100), 0)).toBe(run2.totals[0]!.amountCents);
  });
});
