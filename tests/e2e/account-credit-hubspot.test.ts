import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { createTremendousSandbox, SANDBOX_PRODUCTS, type TremendousSandbox } from '../../connectors/payouts/tremendous/sandbox/index.ts';
import { placePayoutOrders } from '../../src/use-cases/send-payouts.ts';
import { eventually, startWithSandboxHubSpot, type TestService } from '../support/service.ts';

/**
 * An account credit, end to end: a customer's referral closes won in a sandbox HubSpot under a rule
 * granting a $300 account credit; the payout run sent through the sandbox Tremendous pays the $50
 * qualification fee in cash there, and writes the credit as a note on the referrer's HubSpot company,
 * once, where the billing team sees it.
 */
const CLIENT = { clientId: 'e2e-credit-client', clientSecret: 'e2e-credit-secret', appId: 4646 };
const CUSTOMER = { email: 'cora@happy-customer.com', name: 'Cora Customer', type: 'customer' };

interface ReferralBody {
  id: string;
  status: string;
  crm: { person: { id: string } } | null;
  rewards: { id: string; milestone: string; netCents: number; status: string; givenAs: string }[];
}
interface RunBody {
  id: string;
  lines: { grantKey?: string; givenAs: string; amountCents: number; rewardIds: string[]; sendStatus: string | null }[];
}

describe('an account credit written to the referrer’s HubSpot company', () => {
  let hubspot: HubSpotSandbox;
  let tremendous: TremendousSandbox;
  let svc: TestService;
  let installationId: string;

  beforeAll(async () => {
    tremendous = createTremendousSandbox();
    const tremendousUrl = await tremendous.listen();
    ({ hubspot, svc, installationId } = await startWithSandboxHubSpot(
      CLIENT,
      { webhookBatchMs: 20, webhookRetryMs: 100 },
      {
        PAYOUT_PROVIDER: 'tremendous',
        TREMENDOUS_API_BASE_URL: tremendousUrl,
        TREMENDOUS_API_KEY: tremendous.apiKey,
        TREMENDOUS_WEBHOOK_SECRET: tremendous.webhookSecret,
        TREMENDOUS_PRODUCTS: Object.entries(SANDBOX_PRODUCTS)
          .map(([kind, id]) => `${kind}=${id}`)
          .join(','),
      },
    ));
    tremendous.setWebhookUrl(`${svc.url}/webhooks/payouts/tremendous`);
  });
  afterAll(async () => {
    await svc?.stop();
    await hubspot?.close();
    await tremendous?.close();
  });

  const json = async <T>(res: Response, status: number): Promise<T> => {
    const body = await res.text();
    expect(res.status, body).toBe(status);
    return JSON.parse(body) as T;
  };
  const referral = async (id: string) => json<ReferralBody>(await svc.api(`/referrals/${id}`), 200);

  it('the credit is noted on the company once and its line delivered; the cash fee goes through the provider', async () => {
    // The referrer's company and contact in HubSpot.
    const company = hubspot.state.create('companies', { name: 'Happy Customer', domain: 'happy-customer.com', lifecyclestage: 'customer' });
    hubspot.state.create('contacts', { email: CUSTOMER.email, firstname: 'Cora', lastname: 'Customer' }, [
      { type: 'companies', id: company.id },
    ]);
    const store = svc.service.runtime.store;
    const programRow = (await store.programs.defaultProgram(installationId))!;
    const current = (await store.programs.current(programRow.id))!.program;
    await store.programs.addVersion(
      programRow,
      {
        ...current,
        rewardRules: [
          ...current.rewardRules.filter((r) => r.milestone === 'qualified'),
          {
            id: 'credit',
            kind: 'fixed',
            referrerTypes: ['customer'],
            milestone: 'closed_won',
            amountCents: 30_000,
            grant: { kind: 'account_credit' },
          },
        ],
      },
      'test',
    );

    const created = await json<ReferralBody>(
      await svc.api('/referrals', {
        method: 'POST',
        json: {
          referrer: CUSTOMER,
          referee: { email: 'jo@credit-prospect.com', firstName: 'Jo' },
          submittedBy: { kind: 'rep', id: 'rep-1' },
        },
      }),
      201,
    );
    const pushed = await eventually(async () => ((await referral(created.id)).crm ? referral(created.id) : undefined), 15_000, 'pushed');
    const deal = hubspot.state.create(
      'deals',
      { dealname: 'Credit deal', pipeline: 'default', dealstage: 'appointmentscheduled', amount: '20000' },
      [{ type: 'contacts', id: pushed.crm!.person.id }],
    );
    hubspot.state.update('deals', deal.id, { dealstage: 'closedwon', closedate: '2026-03-31T12:00:00Z' });
    const won = await eventually(
      async () => {
        const r = await referral(created.id);
        return r.status === 'closed_won' && r.rewards.length === 2 ? r : undefined;
      },
      20_000,
      'closed won with both rewards',
    );
    const credit = won.rewards.find((r) => r.milestone === 'closed_won')!;
    const fee = won.rewards.find((r) => r.milestone === 'qualified')!;
    expect(credit).toMatchObject({ netCents: 30_000, status: 'approved', givenAs: 'Account credit' });
    expect(fee).toMatchObject({ netCents: 5_000, givenAs: 'Cash' });

    const run = await json<RunBody>(await svc.api('/payouts', { method: 'POST', json: { dueOn: '2099-12-31' } }), 201);
    expect(run.lines.map((l) => [l.givenAs, l.amountCents, l.rewardIds])).toEqual([
      ['Account credit', 30_000, [credit.id]],
      ['Cash', 5_000, [fee.id]],
    ]);
    await json<RunBody>(await svc.api(`/payouts/${run.id}/send`, { method: 'POST' }), 202);
    const done = await eventually(
      async () => {
        const r = await json<RunBody>(await svc.api(`/payouts/${run.id}`), 200);
        return r.lines.every((l) => l.sendStatus === 'delivered') ? r : undefined;
      },
      30_000,
      'both lines delivered',
    );
    expect(done.lines.map((l) => l.sendStatus)).toEqual(['delivered', 'delivered']);

    const notesOf = () =>
      hubspot.state
        .associatedIds('companies', company.id, 'notes')
        .map((id) => hubspot.state.get('notes', id)!.properties.hs_note_body ?? '');
    expect(notesOf()).toEqual([expect.stringContaining('Referral reward: account credit of $300.00')]);
    expect(notesOf()[0]).toContain('Cora Customer (cora@happy-customer.com) earned an account credit of $300.00');
    // Only the cash fee went to the provider.
    expect(tremendous.rewards().map((r) => [r.products, r.denomination])).toEqual([[[SANDBOX_PRODUCTS.cash], 50]]);
    // Both rewards paid, each once.
    const settled = await referral(created.id);
    expect(settled.rewards.map((r) => r.status)).toEqual(['paid', 'paid']);

    // The send job run again writes no second note.
    await placePayoutOrders(svc.service.runtime.ctx, run.id);
    expect(notesOf()).toHaveLength(1);
  });
});
