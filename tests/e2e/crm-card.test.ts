import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { signV3 } from '../../connectors/hubspot/verify-webhook.ts';
import { defaultProgram } from '../../src/domain/program.ts';
import { eventually, startWithSandboxHubSpot, type TestService } from '../support/service.ts';

/**
 * The referral card inside a HubSpot record calls Referloop with `hubspot.fetch`, which signs
 * each request (X-HubSpot-Signature-v3). A card sees its own portal's installation only.
 */
const CLIENT = { clientId: 'card-client', clientSecret: 'card-secret', appId: 77 };

describe('the HubSpot CRM card', () => {
  let hubspot: HubSpotSandbox;
  let svc: TestService;
  let otherReferralId: string;
  const portalId = () => String(hubspot.state.portalId);

  /** A request as hubspot.fetch sends it: signed over method, full URL, body and timestamp. */
  const card = (path: string, init: { method?: string; json?: unknown; secret?: string } = {}) => {
    const method = init.method ?? 'GET';
    const url = `${svc.url}/api/v1${path}`;
    const body = init.json === undefined ? '' : JSON.stringify(init.json);
    const timestamp = String(Date.now());
    return fetch(url, {
      method,
      headers: {
        'content-type': 'application/json',
        'x-hubspot-signature-v3': signV3(init.secret ?? CLIENT.clientSecret, method, url, body, timestamp),
        'x-hubspot-request-timestamp': timestamp,
      },
      ...(body ? { body } : {}),
    });
  };

  beforeAll(async () => {
    ({ hubspot, svc } = await startWithSandboxHubSpot(CLIENT, { webhookBatchMs: 20 }));

    // Another customer's portal, with a referral of its own.
    const { store } = svc.service.runtime;
    const other = (
      await store.installations.upsert({
        crm: 'hubspot',
        accountId: '99999',
        tokens: { accessToken: 'other-portal-token' },
        now: new Date(),
      })
    ).row;
    await store.installations.markDisconnected(other.id, 'test fixture', new Date());
    await store.programs.addVersion(await store.programs.create(other.id, true), defaultProgram(), 'test');
    const res = await svc.api('/referrals', {
      method: 'POST',
      json: {
        installationId: other.id,
        referrer: { email: 'x@other.com', name: 'Other', type: 'customer' },
        referee: { email: 'secret@rival-corp.com' },
      },
    });
    expect(res.status).toBe(201);
    otherReferralId = ((await res.json()) as { id: string }).id;
  });
  afterAll(async () => {
    await svc?.stop();
    await hubspot?.close();
  });

  it('logs a referral from a contact record and lists it on that record', async () => {
    const contact = hubspot.state.create('contacts', { email: 'dana@bright-labs.io', firstname: 'Dana' });
    const logged = await card('/referrals', {
      method: 'POST',
      json: {
        crm: 'hubspot',
        portalId: portalId(),
        objectTypeId: '0-1',
        objectId: contact.id,
        referrer: { name: 'Cora Customer', email: 'cora@customer.com', type: 'customer' },
        referee: { email: 'dana@bright-labs.io' },
        submittedBy: { kind: 'rep', id: '123' },
      },
    });
    expect(logged.status).toBe(201);
    const { id } = (await logged.json()) as { id: string };

    const listed = await eventually(
      async () => {
        const res = await card(`/referrals?crm=hubspot&portalId=${portalId()}&objectTypeId=0-1&objectId=${contact.id}`);
        const body = (await res.json()) as { items: { id: string; referrer: { name: string } }[] };
        return body.items.length ? body.items : undefined;
      },
      15_000,
      'the referral linked to the contact',
    );
    expect(listed).toEqual([expect.objectContaining({ id, referrer: expect.objectContaining({ name: 'Cora Customer' }) })]);
  });

  it('never shows another portal’s data, whatever it asks for', async () => {
    expect((await card(`/referrals/${otherReferralId}?portalId=${portalId()}`)).status).toBe(404);
    const listed = (await (await card(`/referrals?portalId=${portalId()}`)).json()) as { items: { id: string }[] };
    expect(listed.items.map((i) => i.id)).not.toContain(otherReferralId);
    // Naming the other installation does not reach it either.
    const other = (await svc.service.runtime.store.installations.findByAccount('hubspot', '99999'))!;
    const scoped = (await (await card(`/referrals?portalId=${portalId()}&installationId=${other.id}`)).json()) as {
      items: { id: string }[];
    };
    expect(scoped.items.map((i) => i.id)).not.toContain(otherReferralId);
    // The admin sees it.
    expect((await svc.api(`/referrals/${otherReferralId}`)).status).toBe(200);
  });

  it('refuses a bad signature, an unknown portal, and routes a card has no business with', async () => {
    expect((await card(`/referrals?portalId=${portalId()}`, { secret: 'wrong' })).status).toBe(401);
    expect((await card('/referrals?portalId=424242')).status).toBe(403);
    expect((await card(`/program?portalId=${portalId()}`)).status).toBe(403);
    expect((await card(`/rewards?portalId=${portalId()}`)).status).toBe(403);
  });

  it('gets every verdict with a 2xx status, since hubspot.fetch hides the body of any other answer', async () => {
    const alex = hubspot.state.create('contacts', { email: 'alex@globex-card.io', firstname: 'Alex' });
    const deal = hubspot.state.create(
      'deals',
      { dealname: 'Globex card deal', pipeline: 'default', dealstage: 'qualifiedtobuy', hubspot_owner_id: '75000001' },
      [{ type: 'contacts', id: alex.id }],
    );
    const log = (referrer: { name: string; email: string; type: string }, referee: string, dealId?: string) =>
      card('/referrals', {
        method: 'POST',
        json: {
          portalId: portalId(),
          referrer,
          referee: { email: referee },
          ...(dealId ? { deal: { id: dealId } } : {}),
          submittedBy: { kind: 'rep', id: '123' },
        },
      });

    // The card on the deal record names it: a claim, waiting for approval.
    const claimed = await log({ name: 'Pia Partner', email: 'pia@partner-firm.com', type: 'partner' }, 'alex@globex-card.io', deal.id);
    expect(claimed.status).toBe(201);
    const claim = (await claimed.json()) as { id: string; verdict: { outcome: string; reasons: string[] } };
    expect(claim.verdict.outcome).toBe('claim_pending');
    expect(claim.verdict.reasons[0]).toContain('(stage Qualified To Buy, owner Sam Seller)');

    // Another referrer on the same deal: the conflict, its reason and who holds it, in a 200.
    const held = await log({ name: 'Cora Customer', email: 'cora@customer.com', type: 'customer' }, 'bo@globex-card-labs.io', deal.id);
    expect(held.status).toBe(200);
    const conflict = (await held.json()) as {
      id?: string;
      verdict: { outcome: string; reasons: string[]; collidesWith: Record<string, string> };
    };
    expect(conflict.id).toBeUndefined();
    expect(conflict.verdict).toMatchObject({
      outcome: 'conflict',
      collidesWith: { dealId: deal.id, referralId: claim.id, referrerName: 'Pia Partner' },
    });

    // A deal this portal does not have.
    const missing = await log(
      { name: 'Cora Customer', email: 'cora@customer.com', type: 'customer' },
      'bo@globex-card-labs.io',
      '424242424',
    );
    expect(missing.status).toBe(200);
    expect(((await missing.json()) as { verdict: { outcome: string } }).verdict.outcome).toBe('invalid');
  });
});
