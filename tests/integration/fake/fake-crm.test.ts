import { describe, expect, it } from 'vitest';
import { createFakeCrm, SIGNATURE_HEADER } from '../../../connectors/fake/index.ts';
import { RecordingLimiter } from '../../support/rate-limiter.ts';

describe('fake CRM: changes and the events they send', () => {
  it('queues one event per change, in order, with strictly increasing modifiedAt', () => {
    const crm = createFakeCrm();
    const acme = crm.createCompany({ name: 'Acme', domain: 'https://www.Acme.example/about' });
    const pat = crm.createPerson({ email: 'Pat@Acme.example', companyIds: [acme.id] });
    const deal = crm.createDeal({ name: 'Acme deal', amountCents: 2_500_000, contactIds: [pat.id], companyIds: [acme.id] });
    const won = crm.moveStage(deal.id, 'won');
    crm.updateCompany(acme.id, { nps: 10 });

    expect(acme.domain).toBe('acme.example');
    expect(pat.email).toBe('pat@acme.example');
    expect(deal).toMatchObject({
      pipelineId: 'sales',
      stageId: 'new',
      isClosed: false,
      firstYearValueCents: 2_500_000,
      currency: 'USD',
      sources: [],
    });
    expect(won).toMatchObject({ stageId: 'won', isClosed: true, isWon: true });
    expect(won.modifiedAt > deal.modifiedAt).toBe(true);

    const events = crm.takeEvents();
    expect(events.map((e) => [e.objectType, e.objectId, e.change])).toEqual([
      ['company', acme.id, 'created'],
      ['contact', pat.id, 'created'],
      ['deal', deal.id, 'created'],
      ['deal', deal.id, 'updated'],
      ['company', acme.id, 'updated'],
    ]);
    expect(events[2]?.related).toEqual([
      { objectType: 'contact', objectId: pat.id },
      { objectType: 'company', objectId: acme.id },
    ]);
    expect(events[3]).toMatchObject({ accountId: crm.accountId, property: 'stageId', occurredAt: won.modifiedAt });
    expect(events[4]?.related).toEqual([{ objectType: 'deal', objectId: deal.id }]);
    expect(new Set(events.map((e) => e.eventKey)).size).toBe(5);
    expect(crm.takeEvents()).toEqual([]);
  });

  it('refuses changes to records it does not have, and stages outside the pipeline, changing nothing', () => {
    const crm = createFakeCrm();
    const deal = crm.createDeal({ pipelineId: 'partners' });
    expect(deal.stageId).toBe('registered');
    expect(() => crm.moveStage(deal.id, 'won')).toThrow(/no stage won in pipeline partners/);
    expect(() => crm.createDeal({ contactIds: ['ct_404'] })).toThrow(/no person ct_404/);
    expect(() => crm.updateCompany('co_404', { nps: 1 })).toThrow(/no company co_404/);
    expect(crm.deal(deal.id)?.stageId).toBe('registered');
    expect(crm.takeEvents()).toHaveLength(1);
  });

  it('deletes and restores; merges people; converts leads with their deal', async () => {
    const crm = createFakeCrm();
    const client = await crm.connector.client(crm.session(), { limiter: new RecordingLimiter() });
    const deal = crm.createDeal({ amountCents: 100 });
    crm.deleteRecord('deal', deal.id);
    expect(await client.getDeals([deal.id])).toEqual({ records: [], gone: [{ objectType: 'deal', id: deal.id }] });
    crm.restoreRecord('deal', deal.id);
    expect((await client.getDeals([deal.id])).records).toHaveLength(1);

    const winner = crm.createPerson({ email: 'win@merge.example' });
    const loser = crm.createPerson({ email: 'lose@merge.example', lastName: 'Lose' });
    const loserDeal = crm.createDeal({ contactIds: [loser.id] });
    crm.mergePeople(winner.id, loser.id);
    expect(crm.deal(loserDeal.id)?.contactIds).toEqual([winner.id]);
    expect((await client.getPeople('contact', [loser.id])).records).toEqual([
      expect.objectContaining({ id: loser.id, mergedIntoId: winner.id, email: 'win@merge.example', lastName: 'Lose' }),
    ]);

    const lead = crm.createPerson({ objectType: 'lead', email: 'sam@initech.example', lastName: 'Park' });
    crm.takeEvents();
    const converted = crm.convertLead(lead.id, { deal: { amountCents: 5_000_000 } });
    expect(crm.person(lead.id)?.converted).toEqual(converted);
    expect(crm.person(converted.contactId)).toMatchObject({
      objectType: 'contact',
      email: 'sam@initech.example',
      companyIds: [converted.companyId],
    });
    expect(crm.company(converted.companyId)).toMatchObject({ domain: 'initech.example' });
    expect(crm.deal(converted.dealId ?? '')).toMatchObject({ amountCents: 5_000_000, contactIds: [converted.contactId] });
    expect(crm.takeEvents().at(-1)).toMatchObject({ objectType: 'lead', objectId: lead.id, change: 'updated', property: 'converted' });
    expect(() => crm.convertLead(lead.id)).toThrow(/not an unconverted lead/);
  });
});

describe('fake CRM: OAuth and webhooks', () => {
  it('approves an install: start redirects back with a one-time code for that redirect URI', async () => {
    const crm = createFakeCrm({ accountId: 'acct-7', accountName: 'Seven' });
    const redirectUri = 'http://localhost:3000/oauth/fake/callback';
    const { url } = crm.connector.oauth.start({ state: 'st-1', redirectUri });
    const back = new URL(url);
    expect(`${back.origin}${back.pathname}`).toBe(redirectUri);
    expect(back.searchParams.get('state')).toBe('st-1');
    const code = back.searchParams.get('code') ?? '';
    await expect(crm.connector.oauth.exchangeCode({ code, redirectUri: 'http://elsewhere/cb' })).rejects.toMatchObject({ code: 'invalid' });

    const again = new URL(crm.connector.oauth.start({ state: 'st-2', redirectUri }).url).searchParams.get('code') ?? '';
    const grant = await crm.connector.oauth.exchangeCode({ code: again, redirectUri });
    expect(grant).toMatchObject({ accountId: 'acct-7', accountName: 'Seven', tokens: { scopes: ['records.read', 'records.write'] } });
    await expect(crm.connector.oauth.exchangeCode({ code: again, redirectUri })).rejects.toMatchObject({ code: 'invalid' });
    expect(await crm.connector.oauth.identify({ accessToken: grant.tokens.accessToken })).toMatchObject({ accountId: 'acct-7' });
    const refreshed = await crm.connector.oauth.refresh(grant.tokens);
    expect(refreshed.accessToken).not.toBe(grant.tokens.accessToken);
    crm.revokeRefreshTokens();
    await expect(crm.connector.oauth.refresh(grant.tokens)).rejects.toMatchObject({ code: 'auth_revoked' });
  });

  it('signs deliveries over the raw body; verify refuses a wrong secret, a changed body and a stale timestamp', () => {
    const crm = createFakeCrm();
    const { webhooks } = crm.connector;
    const company = crm.createCompany({ name: 'Signed' });
    const now = new Date();
    const request = crm.webhookRequest({ now });
    expect(webhooks.verify(request, now)).toEqual({ ok: true });
    expect(webhooks.parse(request)).toEqual({
      ok: true,
      ignored: 0,
      accountIds: [crm.accountId],
      events: [expect.objectContaining({ objectType: 'company', objectId: company.id, change: 'created' })],
    });

    const other = createFakeCrm({ webhookSecret: 'another' }).webhookRequest({ events: [], now });
    expect(webhooks.verify(other, now)).toMatchObject({ ok: false, reason: expect.stringMatching(/signature mismatch/) });
    const reserialized = { ...request, rawBody: Buffer.from(JSON.stringify(JSON.parse(request.rawBody.toString()), null, 1)) };
    expect(webhooks.verify(reserialized, now)).toMatchObject({ ok: false });
    expect(webhooks.verify(request, new Date(now.getTime() + 6 * 60_000))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/five minutes/),
    });
    expect(webhooks.verify({ ...request, headers: { ...request.headers, [SIGNATURE_HEADER]: undefined } }, now)).toMatchObject({
      ok: false,
    });
  });

  it('parses what it can: malformed events are counted as ignored, a malformed body is refused', () => {
    const { webhooks } = createFakeCrm().connector;
    const request = (body: string) => ({ method: 'POST', url: 'http://x/webhooks/fake', headers: {}, rawBody: Buffer.from(body) });
    const good = {
      accountId: 'a',
      eventKey: 'k',
      objectType: 'deal',
      objectId: 'dl_1',
      change: 'updated',
      occurredAt: '2026-12-01T10:00:00.000Z',
    };
    expect(webhooks.parse(request(JSON.stringify({ events: [good, { ...good, objectType: 'ticket' }] })))).toEqual({
      ok: true,
      events: [good],
      ignored: 1,
      accountIds: ['a'],
    });
    // An event ignored in full still names its sender, so an unknown account can be refused.
    expect(webhooks.parse(request(JSON.stringify({ events: [{ ...good, accountId: 'b', objectType: 'ticket' }] })))).toEqual({
      ok: true,
      events: [],
      ignored: 1,
      accountIds: ['b'],
    });
    expect(webhooks.parse(request('not json'))).toMatchObject({ ok: false });
    expect(webhooks.parse(request('{"items":[]}'))).toMatchObject({ ok: false });
  });
});
