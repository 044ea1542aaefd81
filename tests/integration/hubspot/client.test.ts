import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrmClient, RateLimit } from '../../../connectors/connector.ts';
import { HUBSPOT_OPTIONAL_SCOPES, HUBSPOT_SCOPES, REFERLOOP_PROPERTIES } from '../../../connectors/hubspot/index.ts';
import { createHubSpotSandbox, type HubSpotSandbox } from '../../../connectors/hubspot/sandbox/index.ts';
import { connectorFor, install, REDIRECT_URI } from '../../fixtures/hubspot/install.ts';
import { sampleJson } from '../../fixtures/hubspot/samples.ts';
import type { TestSession } from '../../support/crm-session.ts';
import { RecordingLimiter } from '../../support/rate-limiter.ts';

const sandboxes: HubSpotSandbox[] = [];
async function start(options: Parameters<typeof createHubSpotSandbox>[0] = {}) {
  const sandbox = createHubSpotSandbox({ record: true, ...options });
  sandboxes.push(sandbox);
  const { url } = await sandbox.listen();
  return { sandbox, url };
}
afterAll(async () => {
  await Promise.all(sandboxes.map((s) => s.close()));
});

const calls = (sandbox: HubSpotSandbox, method: string, pathPattern: RegExp) =>
  sandbox.recorded.filter((x) => x.method === method && pathPattern.test(x.path));

describe('HubSpot OAuth against the sandbox', () => {
  it('sends the admin to consent, exchanges the code for the portal and tokens, and refreshes', async () => {
    const { sandbox, url } = await start();
    const connector = connectorFor(sandbox, url);
    const { url: consentUrl } = connector.oauth.start({ state: 'st-1', redirectUri: REDIRECT_URI });
    expect(consentUrl).toContain(`client_id=${sandbox.state.clientId}`);
    expect(consentUrl).toContain(`scope=${HUBSPOT_SCOPES.map(encodeURIComponent).join('%20')}`);
    expect(consentUrl).toContain(`optional_scope=${HUBSPOT_OPTIONAL_SCOPES.map(encodeURIComponent).join('%20')}`);

    const consent = await fetch(consentUrl, { redirect: 'manual' });
    expect(consent.status).toBe(302);
    const back = new URL(consent.headers.get('location') ?? '');
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
    expect(back.searchParams.get('state')).toBe('st-1');

    const code = back.searchParams.get('code') ?? '';
    const grant = await connector.oauth.exchangeCode({ code, redirectUri: REDIRECT_URI });
    expect(grant.accountId).toBe(String(sandbox.state.portalId));
    expect(grant.accountName).toBeTruthy();
    // The portal grants the optional currencies scope too.
    expect(grant.tokens.scopes).toEqual([...HUBSPOT_SCOPES, ...HUBSPOT_OPTIONAL_SCOPES]);
    expect(Date.parse(grant.tokens.expiresAt ?? '') - Date.now()).toBeGreaterThan(1700_000);

    const refreshed = await connector.oauth.refresh(grant.tokens);
    expect(refreshed.accessToken).not.toBe(grant.tokens.accessToken);
    expect(refreshed.refreshToken).toBe(grant.tokens.refreshToken);

    await expect(connector.oauth.exchangeCode({ code, redirectUri: REDIRECT_URI })).rejects.toMatchObject({
      code: 'invalid',
      options: { vendorCode: 'BAD_AUTH_CODE' },
    });
    sandbox.faults.revokeRefreshTokens();
    await expect(connector.oauth.refresh(grant.tokens)).rejects.toMatchObject({ code: 'auth_revoked' });
  });

  it('identifies the portal of a bare access token (referloop connect)', async () => {
    const { sandbox, url } = await start();
    const connector = connectorFor(sandbox, url);
    const issued = sandbox.state.issueToken(['oauth', 'crm.objects.contacts.read']);
    const grant = await connector.oauth.identify({ accessToken: issued.accessToken });
    expect(grant).toMatchObject({
      accountId: String(sandbox.state.portalId),
      tokens: { accessToken: issued.accessToken, scopes: ['oauth', 'crm.objects.contacts.read'] },
    });
    expect(Date.parse(grant.tokens.expiresAt ?? '')).toBeGreaterThan(Date.now());
    await expect(connector.oauth.identify({ accessToken: 'unknown' })).rejects.toMatchObject({ code: 'not_found' });
  });
});

/** What every CRM client does is in tests/conformance/crm-client.ts; these cases are HubSpot's own. */
describe('HubSpot client against the sandbox', () => {
  let sandbox: HubSpotSandbox;
  let url: string;
  let client: CrmClient;
  let session: TestSession;

  beforeAll(async () => {
    ({ sandbox, url } = await start());
    ({ client, session } = await install(sandbox, url));
  });

  it('provisions the Referloop group and properties once; a reinstall changes nothing', async () => {
    const total = 3 + Object.values(REFERLOOP_PROPERTIES).flat().length;
    const first = await client.provision();
    expect(first).toMatchObject({ existing: [], missing: [] });
    expect(first.created).toHaveLength(total);
    expect(sandbox.state.model.groups.deals.get('referloop')).toMatchObject({ label: 'Referloop' });
    expect(sandbox.state.model.properties.companies.get('referloop_referral_eligible')).toMatchObject({
      type: 'bool',
      groupName: 'referloop',
    });

    // An admin relabels a property; reinstalling must leave it alone.
    const status = sandbox.state.model.properties.contacts.get('referloop_referral_status');
    if (status) status.label = 'Referral stage (ours)';
    const before = JSON.stringify(Object.values(sandbox.state.model.properties).map((m) => [...m.values()]));
    const writes = () =>
      sandbox.recorded.filter((x) => x.method === 'POST' && /\/properties\/[^/]+(\/groups|\/batch\/create)?$/.test(x.path)).length;
    const writesBefore = writes();
    const second = await client.provision();
    expect(second.created).toEqual([]);
    expect(second.existing).toHaveLength(total);
    expect(writes()).toBe(writesBefore);
    expect(JSON.stringify(Object.values(sandbox.state.model.properties).map((m) => [...m.values()]))).toBe(before);
  });

  it('takes the contact with the Primary company label as the primary contact, ahead of earlier ones', async () => {
    const { state } = sandbox;
    const company = state.create('companies', { name: 'Primary Label Co', domain: 'primary-label.example' }).id;
    state.create('contacts', { email: 'earlier@primary-label.example', lastname: 'Earlier' }, [{ type: 'companies', id: company }]);
    const champion = state.create('contacts', { email: 'champion@primary-label.example', lastname: 'Champion' }).id;
    // The Primary contact→company type (1), as a rep sets it in the record's association labels.
    state.model.associate('contacts', champion, 'companies', company, 1, 'CRM_UI');
    expect(await client.primaryContact(company)).toMatchObject({ id: champion, email: 'champion@primary-label.example' });
  });

  it('finds the Primary label past the first page of a large company’s contacts', async () => {
    const { state } = sandbox;
    const company = state.create('companies', { name: 'Large Co', domain: 'large-co.example' }).id;
    for (let i = 0; i < 120; i++)
      state.create('contacts', { email: `c${i}@large-co.example`, lastname: `C${i}` }, [{ type: 'companies', id: company }]);
    const champion = state.create('contacts', { email: 'champion@large-co.example', lastname: 'Champion' }).id;
    state.model.associate('contacts', champion, 'companies', company, 1, 'CRM_UI');
    expect(await client.primaryContact(company)).toMatchObject({ id: champion });
  });

  it('ensureReferees associates found and created contacts with the company found by domain, and creates each contact once', async () => {
    const acme = sandbox.state.create('companies', { name: 'Acme Robotics', domain: 'acme-robotics.example' });
    const existing = sandbox.state.create('contacts', { email: 'pat@acme-robotics.example', firstname: 'Pat' });
    const referees = [
      {
        key: 'ref-1',
        email: 'Dana@Acme-Robotics.example',
        firstName: 'Dana',
        lastName: 'Lee',
        company: 'Acme Robotics',
        domain: 'https://www.acme-robotics.example/',
      },
      {
        key: 'ref-2',
        email: 'pat@acme-robotics.example',
        firstName: 'Patricia',
        lastName: null,
        company: null,
        domain: 'acme-robotics.example',
      },
      {
        key: 'ref-4',
        email: 'dana@acme-robotics.example',
        firstName: 'Dana',
        lastName: 'Lee',
        company: null,
        domain: 'acme-robotics.example',
      },
    ];
    const first = await client.ensureReferees(referees);
    expect(first[0]?.person).toMatchObject({ companyIds: [acme.id] });
    expect(first[1]?.person).toMatchObject({ id: existing.id, companyIds: [acme.id] });
    expect(sandbox.state.associatedIds('contacts', existing.id, 'companies')).toEqual([acme.id]);
    expect(sandbox.state.associatedIds('contacts', first[0]?.person.id ?? '', 'companies')).toEqual([acme.id]);

    const contacts = sandbox.state.list('contacts').length;
    await client.ensureReferees(referees);
    expect(sandbox.state.list('contacts')).toHaveLength(contacts);
  });

  it('ensureReferees survives a contact created by someone else between its read and its create', async () => {
    class RacingLimiter extends RecordingLimiter {
      override async take(bucket: string, limit: RateLimit) {
        // The second call is the batch create: a rep adds the same contact just before it lands.
        if (this.takes.length === 1) sandbox.state.create('contacts', { email: 'race@beta.example' });
        return super.take(bucket, limit);
      }
    }
    const racing = await connectorFor(sandbox, url).client(session, { limiter: new RacingLimiter() });
    const [result] = await racing.ensureReferees([
      { key: 'k', email: 'race@beta.example', firstName: null, lastName: null, company: null, domain: null },
    ]);
    expect(result).toMatchObject({ created: false, person: { email: 'race@beta.example' } });
    expect(sandbox.state.list('contacts').filter((c) => c.properties.email === 'race@beta.example')).toHaveLength(1);
  });

  it('reads people and companies in batches of 100 and reports ids HubSpot no longer has', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => sandbox.state.create('contacts', { email: `bulk${i}@bulk.example` }).id);
    const reads = calls(sandbox, 'POST', /contacts\/batch\/read$/).length;
    const { records, gone } = await client.getPeople('contact', [...ids, '99999999']);
    expect(records.map((r) => r.id)).toEqual(ids);
    expect(gone).toEqual([{ objectType: 'contact', id: '99999999' }]);
    expect(calls(sandbox, 'POST', /contacts\/batch\/read$/).length - reads).toBe(2);

    const company = sandbox.state.create('companies', { name: 'Gone Co', domain: 'gone.example', lifecyclestage: 'customer' });
    sandbox.state.archive('companies', company.id);
    const kept = sandbox.state.create('companies', {
      name: 'Kept',
      domain: 'kept.example',
      lifecyclestage: 'customer',
      hs_lifecyclestage_customer_date: '2024-01-15T00:00:00Z',
    });
    expect(await client.getCompanies([company.id, kept.id])).toEqual({
      records: [expect.objectContaining({ id: kept.id, isCustomer: true, customerSince: '2024-01-15', domain: 'kept.example' })],
      gone: [{ objectType: 'company', id: company.id }],
    });
    await expect(client.getPeople('lead', ['1'])).rejects.toMatchObject({ code: 'invalid' });
  });

  it('a merged-away contact reads as the winner, with mergedIntoId', async () => {
    const winner = sandbox.state.create('contacts', { email: 'winner@merge.example', firstname: 'Win' });
    const loser = sandbox.state.create('contacts', { email: 'loser@merge.example', lastname: 'Lose' });
    sandbox.state.merge('contacts', winner.id, loser.id);
    const { records, gone } = await client.getPeople('contact', [loser.id, winner.id]);
    expect(gone).toEqual([]);
    expect(records).toEqual([
      expect.objectContaining({ id: loser.id, mergedIntoId: winner.id, email: 'winner@merge.example', lastName: 'Lose' }),
      expect.objectContaining({ id: winner.id }),
    ]);
    expect((await client.findPeopleByEmail(['loser@merge.example'])).map((p) => p.id)).toEqual([winner.id]);
  });

  it('maps deals from stage metadata per pipeline, with first-year value and associations; pipelines are cached', async () => {
    const contact = sandbox.state.create('contacts', { email: 'buyer@deal.example' });
    const company = sandbox.state.create('companies', { name: 'Deal Co', domain: 'deal.example' });
    const links = [
      { type: 'contacts' as const, id: contact.id },
      { type: 'companies' as const, id: company.id },
    ];
    const won = sandbox.state.create(
      'deals',
      { dealname: 'Won', dealstage: 'closedwon', amount: '24000.50', deal_currency_code: 'EUR', closedate: '2026-11-21T15:10:00Z' },
      links,
    );
    const partner = sandbox.state.create('deals', {
      dealname: 'Partner',
      pipeline: '1071658799',
      dealstage: '1071658803',
      amount: '9500',
      hs_acv: '12000',
      hs_num_of_associated_line_items: '2',
    });
    const onHold = sandbox.state.create('deals', { dealname: 'On hold', pipeline: '1071658799', dealstage: '1071658804', amount: '100' });
    const open = sandbox.state.create('deals', { dealname: 'Open', dealstage: 'contractsent' });
    const pipelineReads = () => calls(sandbox, 'GET', /\/pipelines\/deals$/).length;
    const before = pipelineReads();

    const { records, gone } = await client.getDeals([won.id, partner.id, onHold.id, open.id, '424242']);
    expect(records.map((d) => [d.name, d.isClosed, d.isWon, d.amountCents, d.firstYearValueCents])).toEqual([
      ['Won', true, true, 2_400_050, 2_400_050],
      ['Partner', true, true, 950_000, 1_200_000],
      ['On hold', true, false, 10_000, 10_000],
      ['Open', false, false, null, null],
    ]);
    expect(records[0]).toMatchObject({
      currency: 'EUR',
      closeDate: '2026-11-21',
      contactIds: [contact.id],
      companyIds: [company.id],
      pipelineId: 'default',
    });
    expect(records[1]).toMatchObject({ currency: 'USD', pipelineId: '1071658799' });
    expect(gone).toEqual([{ objectType: 'deal', id: '424242' }]);

    await client.getDeals([won.id]);
    expect(pipelineReads() - before).toBe(1);
    // A stage added since the cache was filled makes the client look again.
    sandbox.state.model.pipelines[1]?.stages.push({
      id: '1071658807',
      label: 'Renewed',
      displayOrder: 9,
      metadata: { isClosed: 'true', probability: '1.0' },
    });
    sandbox.state.update('deals', open.id, { pipeline: '1071658799', dealstage: '1071658807' });
    expect((await client.getDeals([open.id])).records[0]).toMatchObject({ isWon: true });
    expect(pipelineReads() - before).toBe(2);
    expect((await client.listPipelineStages()).filter((s) => s.isWon).map((s) => s.stageId)).toEqual([
      'closedwon',
      '1071658803',
      '1071658807',
    ]);
  });

  it('writes in batches with one outcome per input: 207 failures per item, repeated targets merged, leads refused', async () => {
    const contact = sandbox.state.create('contacts', { email: 'written@write.example' });
    const deal = sandbox.state.create('deals', { dealname: 'W', dealstage: 'closedwon', amount: '25000' });
    const company = sandbox.state.create('companies', { name: 'Write Co' });
    const fields = {
      referralId: 'R-1',
      status: 'accepted',
      referrerName: 'Bo Rivera',
      referrerEmail: 'bo@partner.example',
      referrerType: 'partner',
    };
    const outcomes = await client.write([
      { target: 'referral', person: { objectType: 'contact', id: contact.id }, fields },
      { target: 'deal', dealId: '77777777', fields: { referralId: 'R-1', referrerName: 'Bo', attributedAmountCents: 1, currency: 'USD' } },
      {
        target: 'deal',
        dealId: deal.id,
        fields: { referralId: 'R-1', referrerName: 'Bo Rivera', attributedAmountCents: 250_000, currency: 'USD' },
      },
      { target: 'referral', person: { objectType: 'lead', id: contact.id }, fields },
      { target: 'company', companyId: company.id, fields: { eligible: true, eligibilityReason: 'NPS 10 ≥ 9; customer 400 days ≥ 90' } },
      { target: 'referral', person: { objectType: 'contact', id: contact.id }, fields: { ...fields, status: 'qualified' } },
    ]);
    expect(outcomes.map((o) => [o.index, o.ok, o.error?.code])).toEqual([
      [0, true, undefined],
      [1, false, 'not_found'],
      [2, true, undefined],
      [3, false, 'invalid'],
      [4, true, undefined],
      [5, true, undefined],
    ]);
    expect(sandbox.state.get('contacts', contact.id)?.properties).toMatchObject({
      referloop_referral_status: 'qualified',
      referloop_referrer: 'Bo Rivera',
      referloop_referrer_type: 'partner',
    });
    expect(sandbox.state.get('deals', deal.id)?.properties).toMatchObject({
      referloop_attributed_amount: '2500.00',
      referloop_referral_id: 'R-1',
    });
    expect(sandbox.state.get('companies', company.id)?.properties).toMatchObject({ referloop_referral_eligible: 'true' });
  });

  it('writes a timeline note as escaped HTML paragraphs, its title in bold', async () => {
    const contact = sandbox.state.create('contacts', { email: 'noted@note.example' });
    const note = {
      person: { objectType: 'contact' as const, id: contact.id },
      title: 'Referral won',
      body: 'Deal closed <won>\nReward: $500',
      idempotencyKey: 'ref-9:closed_won',
    };
    await client.addTimelineNote(note);
    const notes = sandbox.state.associatedIds('contacts', contact.id, 'notes').map((id) => sandbox.state.get('notes', id));
    expect(notes).toHaveLength(1);
    expect(notes[0]?.properties.hs_note_body).toContain(
      '<p><strong>Referral won</strong></p><p>Deal closed &#60;won&#62;</p><p>Reward: $500</p>',
    );
  });
});

describe('HubSpot client: reconciliation paging', () => {
  it('pages oldest first through contacts, companies and deals, then resumes from its cursor', async () => {
    const { sandbox, url } = await start();
    const { client } = await install(sandbox, url);
    const contacts = Array.from({ length: 250 }, (_, i) => sandbox.state.create('contacts', { email: `c${i}@page.example` }).id);
    const companies = [sandbox.state.create('companies', { name: 'P1' }).id, sandbox.state.create('companies', { name: 'P2' }).id];
    const deals = [sandbox.state.create('deals', { dealname: 'D1', dealstage: 'qualifiedtobuy' }).id];

    const since = new Date(Date.now() - 60_000);
    const pages: { objectType: string; id: string; modifiedAt: string }[][] = [];
    let cursor: string | null = null;
    for (let more = true; more; ) {
      const page = await client.changedSince(cursor, since);
      pages.push(page.records);
      ({ nextCursor: cursor, hasMore: more } = page);
    }
    expect(pages.map((p) => p.length)).toEqual([200, 50, 2, 1]);
    const seen = pages.flat();
    expect(seen.filter((r) => r.objectType === 'contact').map((r) => r.id)).toEqual(contacts);
    expect(seen.filter((r) => r.objectType === 'company').map((r) => r.id)).toEqual(companies);
    expect(seen.filter((r) => r.objectType === 'deal').map((r) => r.id)).toEqual(deals);
    const contactTimes = seen.filter((r) => r.objectType === 'contact').map((r) => r.modifiedAt);
    expect([...contactTimes].sort()).toEqual(contactTimes);

    await new Promise((resolve) => setTimeout(resolve, 5));
    sandbox.state.update('contacts', contacts[7] ?? '', { firstname: 'Changed' });
    sandbox.state.update('deals', deals[0] ?? '', { dealstage: 'closedwon' });
    const next: typeof seen = [];
    for (let more = true; more; ) {
      const page = await client.changedSince(cursor, since);
      next.push(...page.records);
      ({ nextCursor: cursor, hasMore: more } = page);
    }
    const key = (r: { objectType: string; id: string }) => `${r.objectType}:${r.id}`;
    const changed = [`contact:${contacts[7]}`, `deal:${deals[0]}`];
    expect(next.map(key)).toEqual(expect.arrayContaining(changed));
    // Besides the changes, only records of the last round's newest millisecond come back (≥, so none is skipped).
    const newest = (type: string) =>
      seen
        .filter((r) => r.objectType === type)
        .map((r) => r.modifiedAt)
        .sort()
        .at(-1);
    for (const r of next.filter((r) => !changed.includes(key(r)))) expect(r.modifiedAt).toBe(newest(r.objectType));
    await expect(client.changedSince('garbage', since)).rejects.toMatchObject({ code: 'invalid' });
  });
});

describe('HubSpot client: tokens', () => {
  it('refreshes ahead of expiry, and once after a 401 even for concurrent calls', async () => {
    const { sandbox, url } = await start();
    const { client, session } = await install(sandbox, url);
    const company = sandbox.state.create('companies', { name: 'T' });

    await session.saveTokens({ ...(await session.tokens()), expiresAt: new Date(Date.now() + 30_000).toISOString() });
    const savedBefore = session.saved.length;
    await client.getCompanies([company.id]);
    expect(session.saved.length - savedBefore).toBe(1);
    expect(sandbox.recorded.some((x) => x.status === 401)).toBe(false);

    sandbox.faults.expireAccessTokens();
    const results = await Promise.all([1, 2, 3].map(() => client.getCompanies([company.id])));
    expect(results.every((r) => r.records.length === 1)).toBe(true);
    expect(session.saved.length - savedBefore).toBe(2);
    expect(sandbox.recorded.filter((x) => x.status === 401)).toHaveLength(3);
    expect(session.disconnects).toEqual([]);
  });

  it('a revoked refresh token disconnects the installation with a reason naming the refresh token', async () => {
    const { sandbox, url } = await start();
    const { client, session } = await install(sandbox, url);
    sandbox.faults.revokeRefreshTokens();
    sandbox.faults.expireAccessTokens();
    await expect(client.getCompanies(['1'])).rejects.toMatchObject({ code: 'auth_revoked' });
    expect(session.disconnects).toEqual([expect.stringMatching(/refresh token/)]);
  });
});

describe('HubSpot client: rate limits', () => {
  it('on a 429 it holds the account off for the policy window and throws rate_limited, without retrying hot', async () => {
    const { sandbox, url } = await start({ rateLimit: { points: 3, durationMs: 10_000 } });
    const { client, limiter, grant } = await install(sandbox, url);
    const before = sandbox.recorded.length;
    for (let i = 0; i < 3; i++) await client.listPipelineStages();
    const error = await client.listPipelineStages().catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'rate_limited',
      retryable: true,
      retryAfterMs: 10_000,
      options: { vendorCode: 'TEN_SECONDLY_ROLLING' },
    });
    expect(sandbox.recorded.length - before).toBe(4);
    expect(limiter.holdOffs).toEqual([{ bucket: `hubspot:${grant.accountId}`, ms: 10_000 }]);
    const next = limiter.take(`hubspot:${grant.accountId}`, { points: 110, durationMs: 10_000 }).then(() => 'taken');
    expect(await Promise.race([next, new Promise((resolve) => setTimeout(() => resolve('held'), 200))])).toBe('held');
  });

  it('with its limit set within the portal limit, the client waits instead of hitting a 429', async () => {
    const { sandbox, url } = await start({ rateLimit: { points: 3, durationMs: 1_000 } });
    // A little headroom: the portal counts arrivals, the limiter counts departures.
    const { client } = await install(sandbox, url, { points: 3, durationMs: 1_200 });
    const started = Date.now();
    for (let i = 0; i < 5; i++) await client.listPipelineStages();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(sandbox.recorded.some((x) => x.status === 429)).toBe(false);
  });

  it('a search 429 holds off only the search bucket, for a second', async () => {
    const { sandbox, url } = await start();
    const { client, limiter, grant } = await install(sandbox, url);
    sandbox.faults.failNext(429, 1, sampleJson('api/error-429-search-secondly.json'), '/search');
    await expect(client.findCompaniesByDomain(['acme.example'])).rejects.toMatchObject({ code: 'rate_limited', retryAfterMs: 1_000 });
    expect(limiter.holdOffs).toEqual([{ bucket: `hubspot-search:${grant.accountId}`, ms: 1_000 }]);
    expect(limiter.takes.filter((b) => b.startsWith('hubspot-search:'))).toHaveLength(1);
  });

  it('a search spends only the search limit, a batch read only the ten-secondly one (HubSpot counts them apart)', async () => {
    const { sandbox, url } = await start();
    const { client, limiter, grant } = await install(sandbox, url);
    const before = limiter.takes.length;
    await client.findCompaniesByDomain(['acme.example']);
    expect(limiter.takes.slice(before)).toEqual([`hubspot-search:${grant.accountId}`]);
    const afterSearch = limiter.takes.length;
    await client.getCompanies(['1']);
    expect(limiter.takes.slice(afterSearch).some((bucket) => bucket.startsWith('hubspot-search:'))).toBe(false);
    expect(limiter.takes.length).toBeGreaterThan(afterSearch);
  });

  it('5xx and unreachable HubSpot surface as retryable unavailable', async () => {
    const { sandbox, url } = await start();
    const { client, session } = await install(sandbox, url);
    sandbox.faults.failNext(502, 1, undefined, '/crm/');
    await expect(client.getCompanies(['1'])).rejects.toMatchObject({ code: 'unavailable', retryable: true, options: { status: 502 } });
    const offline = await connectorFor(sandbox, 'http://127.0.0.1:9').client(session, { limiter: new RecordingLimiter() });
    await expect(offline.getCompanies(['1'])).rejects.toMatchObject({ code: 'unavailable', retryable: true, options: { status: 0 } });
  });
});
