import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { createTremendousSandbox, SANDBOX_PRODUCTS, type TremendousSandbox } from '../../connectors/payouts/tremendous/sandbox/index.ts';
import { placePayoutOrders } from '../../src/use-cases/send-payouts.ts';
import {
  CREDITED_CUSTOMER,
  creditAndFeeOnceWon,
  creditReferral,
  grantCreditWhenWon,
  referAndPush,
  sendUntilDelivered,
  tremendousEnv,
} from '../support/account-credit.ts';
import { startWithSandboxHubSpot, type TestService } from '../support/service.ts';

/**
 * An account credit, end to end: a customer's referral closes won in a sandbox HubSpot under a rule
 * granting a $300 account credit; the payout run sent through the sandbox Tremendous pays the $50
 * qualification fee in cash there, and writes the credit as a note on the referrer's HubSpot company,
 * once, where the billing team sees it.
 */
const CLIENT = { clientId: 'e2e-credit-client', clientSecret: 'e2e-credit-secret', appId: 4646 };

describe('an account credit written to the referrer’s HubSpot company', () => {
  let hubspot: HubSpotSandbox;
  let tremendous: TremendousSandbox;
  let svc: TestService;
  let installationId: string;

  beforeAll(async () => {
    tremendous = createTremendousSandbox();
    const env = tremendousEnv(tremendous, await tremendous.listen());
    ({ hubspot, svc, installationId } = await startWithSandboxHubSpot(CLIENT, { webhookBatchMs: 20, webhookRetryMs: 100 }, env));
    tremendous.setWebhookUrl(`${svc.url}/webhooks/payouts/tremendous`);
  });
  afterAll(async () => {
    await svc?.stop();
    await hubspot?.close();
    await tremendous?.close();
  });

  it('the credit is noted on the company once and its line delivered; the cash fee goes through the provider', async () => {
    // The referrer's company and contact in HubSpot.
    const company = hubspot.state.create('companies', { name: 'Happy Customer', domain: 'happy-customer.com', lifecyclestage: 'customer' });
    hubspot.state.create('contacts', { email: CREDITED_CUSTOMER.email, firstname: 'Cora', lastname: 'Customer' }, [
      { type: 'companies', id: company.id },
    ]);
    await grantCreditWhenWon(svc, installationId);

    const pushed = await referAndPush(svc, { email: 'jo@credit-prospect.com', firstName: 'Jo' });
    const deal = hubspot.state.create(
      'deals',
      { dealname: 'Credit deal', pipeline: 'default', dealstage: 'appointmentscheduled', amount: '20000' },
      [{ type: 'contacts', id: pushed.crm!.person.id }],
    );
    hubspot.state.update('deals', deal.id, { dealstage: 'closedwon', closedate: '2026-03-31T12:00:00Z' });
    const runId = await sendUntilDelivered(svc, await creditAndFeeOnceWon(svc, pushed.id));

    const notesOf = () =>
      hubspot.state
        .associatedIds('companies', company.id, 'notes')
        .map((id) => hubspot.state.get('notes', id)!.properties.hs_note_body ?? '');
    expect(notesOf()).toEqual([expect.stringContaining('Referral reward: account credit of $300.00')]);
    expect(notesOf()[0]).toContain('Cora Customer (cora@happy-customer.com) earned an account credit of $300.00');
    // Only the cash fee went to the provider.
    expect(tremendous.rewards().map((r) => [r.products, r.denomination])).toEqual([[[SANDBOX_PRODUCTS.cash], 50]]);
    // Both rewards paid, each once.
    expect((await creditReferral(svc, pushed.id)).rewards.map((r) => r.status)).toEqual(['paid', 'paid']);

    // The send job run again writes no second note.
    await placePayoutOrders(svc.service.runtime.ctx, runId);
    expect(notesOf()).toHaveLength(1);
  });
});
