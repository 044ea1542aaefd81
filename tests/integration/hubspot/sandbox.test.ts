import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HUBSPOT_SCOPES } from '../../../connectors/hubspot/index.ts';
import { createHubSpotSandbox, type HubSpotSandbox } from '../../../connectors/hubspot/sandbox/index.ts';
import { install } from '../../fixtures/hubspot/install.ts';

describe('the sandbox mounted in an express app under /sandbox/hubspot', () => {
  const sandbox = createHubSpotSandbox();
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = express();
    // Body parsers in front, as an app would have them: the sandbox must still see the bodies.
    app.use(express.json(), express.urlencoded({ extended: false }));
    app.use('/sandbox/hubspot', sandbox.handler);
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sandbox/hubspot`;
  });
  afterAll(async () => {
    await sandbox.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('serves OAuth and the CRM API under the prefix', async () => {
    const { client, grant } = await install(sandbox, base);
    expect(grant.accountId).toBe(String(sandbox.state.portalId));
    await client.provision();
    const [referee] = await client.ensureReferees([
      { key: 'k', email: 'mounted@example.com', firstName: 'M', lastName: null, company: null, domain: null },
    ]);
    expect(referee?.created).toBe(true);
    expect(sandbox.state.get('contacts', referee?.person.id ?? '')?.properties.email).toBe('mounted@example.com');
  });
});

describe('sandbox behaviour a test relies on', () => {
  let sandbox: HubSpotSandbox;
  let url: string;
  let token: string;
  const api = async (method: string, path: string, body?: unknown, bearer = token) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };
  const search = (type: string, filters: unknown[], extra: Record<string, unknown> = {}) =>
    api('POST', `/crm/v3/objects/${type}/search`, {
      filterGroups: [{ filters }],
      sorts: [],
      properties: ['email', 'amount', 'dealstage'],
      limit: 100,
      after: '0',
      ...extra,
    });
  const ids = (r: { body: { results: { id: string }[] } }) => r.body.results.map((x) => x.id);

  beforeAll(async () => {
    sandbox = createHubSpotSandbox({ searchRateLimit: { points: 100, durationMs: 1000 } });
    ({ url } = await sandbox.listen());
    token = sandbox.state.issueToken([...HUBSPOT_SCOPES]).accessToken;
  });
  afterAll(() => sandbox.close());

  it('OAuth: only localhost redirects, known clients and valid grants', async () => {
    const authorize = (query: string) => fetch(`${url}/oauth/authorize?${query}`, { redirect: 'manual' });
    expect((await authorize(`client_id=${sandbox.state.clientId}&scope=oauth&redirect_uri=https://app.example.com/cb`)).status).toBe(400);
    expect((await authorize('client_id=nope&scope=oauth&redirect_uri=http://localhost/cb')).status).toBe(400);
    const ok = await authorize(
      `client_id=${sandbox.state.clientId}&scope=oauth&redirect_uri=${encodeURIComponent('http://127.0.0.1:4000/cb?x=1')}&state=s`,
    );
    expect(new URL(ok.headers.get('location') ?? '').searchParams.get('x')).toBe('1');

    const token = (form: string) =>
      fetch(`${url}/oauth/v1/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    const badSecret = await token(`grant_type=refresh_token&refresh_token=x&client_id=${sandbox.state.clientId}&client_secret=wrong`);
    expect(badSecret.status).toBe(400);
    const badRefresh = await token(
      `grant_type=refresh_token&refresh_token=x&client_id=${sandbox.state.clientId}&client_secret=${sandbox.state.clientSecret}`,
    );
    expect(await badRefresh.json()).toMatchObject({
      status: 'BAD_REFRESH_TOKEN',
      error: 'invalid_grant',
      message: 'missing or invalid refresh token',
    });
    expect((await fetch(`${url}/oauth/v1/access-tokens/unknown`)).status).toBe(404);
  });

  it('bearer auth: 401 without or with an expired token, 403 without the scope', async () => {
    expect(await api('GET', '/crm/v3/objects/contacts', undefined, 'nope')).toMatchObject({
      status: 401,
      body: { category: 'INVALID_AUTHENTICATION' },
    });
    const short = sandbox.state.issueToken([...HUBSPOT_SCOPES], -5).accessToken;
    expect(await api('GET', '/crm/v3/objects/contacts', undefined, short)).toMatchObject({
      status: 401,
      body: { category: 'EXPIRED_AUTHENTICATION', message: expect.stringMatching(/expired \d+ second\(s\) ago/) },
    });
    const readOnly = sandbox.state.issueToken(['oauth', 'crm.objects.contacts.read']).accessToken;
    expect((await api('GET', '/crm/v3/objects/contacts', undefined, readOnly)).status).toBe(200);
    expect(
      await api('POST', '/crm/v3/objects/contacts', { properties: { email: 'x@y.example' }, associations: [] }, readOnly),
    ).toMatchObject({ status: 403, body: { category: 'MISSING_SCOPES' } });
    expect((await api('POST', '/crm/v3/properties/contacts/groups', { name: 'g', label: 'G' }, readOnly)).status).toBe(403);
  });

  it('search: operators, sorting, paging, totals and limits', async () => {
    const emails = ['ann@s.example', 'bob@s.example', 'cy@s.example'];
    const [ann, bob, cy] = emails.map((email, i) =>
      sandbox.state.create('contacts', { email, firstname: `N${i}`, ...(i === 2 ? {} : { lifecyclestage: 'customer' }) }),
    );
    const d1 = sandbox.state.create('deals', { dealname: 'S1', dealstage: 'closedwon', amount: '100', closedate: '2026-01-10T00:00:00Z' });
    const d2 = sandbox.state.create('deals', {
      dealname: 'S2',
      dealstage: 'closedlost',
      amount: '250.5',
      closedate: '2026-03-01T00:00:00Z',
    });
    const d3 = sandbox.state.create('deals', { dealname: 'S3', dealstage: 'qualifiedtobuy' });

    expect(ids(await search('contacts', [{ propertyName: 'email', operator: 'EQ', value: 'BOB@s.example' }]))).toEqual([bob?.id]);
    expect(ids(await search('contacts', [{ propertyName: 'email', operator: 'IN', values: ['ann@s.example', 'cy@s.example'] }]))).toEqual([
      ann?.id,
      cy?.id,
    ]);
    // IN needs lowercase values for text properties.
    expect(ids(await search('contacts', [{ propertyName: 'email', operator: 'IN', values: ['ANN@S.EXAMPLE'] }]))).toEqual([]);
    expect(
      ids(
        await search('contacts', [
          { propertyName: 'email', operator: 'CONTAINS_TOKEN', value: '*@s.example' },
          { propertyName: 'lifecyclestage', operator: 'NEQ', value: 'customer' },
        ]),
      ),
    ).toEqual([cy?.id]);
    expect(
      ids(
        await search('contacts', [
          { propertyName: 'lifecyclestage', operator: 'HAS_PROPERTY' },
          { propertyName: 'email', operator: 'CONTAINS_TOKEN', value: '*@s.example' },
        ]),
      ),
    ).toEqual([ann?.id, bob?.id]);
    expect(ids(await search('deals', [{ propertyName: 'amount', operator: 'GT', value: '100' }]))).toEqual([d2.id]);
    expect(ids(await search('deals', [{ propertyName: 'amount', operator: 'GTE', value: '100' }]))).toEqual([d1.id, d2.id]);
    expect(
      ids(await search('deals', [{ propertyName: 'closedate', operator: 'LT', value: String(Date.parse('2026-02-01T00:00:00Z')) }])),
    ).toEqual([d1.id]);
    expect(ids(await search('deals', [{ propertyName: 'closedate', operator: 'LTE', value: '2026-03-01T00:00:00Z' }]))).toEqual([
      d1.id,
      d2.id,
    ]);
    expect(ids(await search('deals', [{ propertyName: 'dealstage', operator: 'EQ', value: 'qualifiedtobuy' }]))).toEqual([d3.id]);

    const sorted = await search('deals', [{ propertyName: 'dealname', operator: 'CONTAINS_TOKEN', value: 's*' }], {
      sorts: [{ propertyName: 'amount', direction: 'DESCENDING' }],
      limit: 2,
    });
    expect(sorted.body).toMatchObject({ total: 3, paging: { next: { after: '2' } } });
    expect(ids(sorted)).toEqual([d2.id, d1.id]);
    const rest = await search('deals', [{ propertyName: 'dealname', operator: 'CONTAINS_TOKEN', value: 's*' }], {
      sorts: [{ propertyName: 'amount', direction: 'DESCENDING' }],
      limit: 2,
      after: '2',
    });
    expect(ids(rest)).toEqual([d3.id]);
    expect(rest.body.paging).toBeUndefined();
    expect(rest.headers.get('x-hubspot-ratelimit-max')).toBeNull();

    expect((await search('deals', [], { limit: 201 })).status).toBe(400);
    expect((await search('deals', [], { after: '10000' })).status).toBe(400);
    const six = Array.from({ length: 6 }, () => ({ filters: [{ propertyName: 'amount', operator: 'HAS_PROPERTY' }] }));
    expect(
      (await api('POST', '/crm/v3/objects/deals/search', { filterGroups: six, sorts: [], properties: [], limit: 10, after: '0' })).status,
    ).toBe(400);
  });

  it('write validation, uniqueness and batch limits like HubSpot', async () => {
    expect(
      await api('POST', '/crm/v3/objects/contacts', { properties: { email: 'v@v.example', favourite_colour: 'red' }, associations: [] }),
    ).toMatchObject({
      status: 400,
      body: { category: 'VALIDATION_ERROR', message: expect.stringContaining('PROPERTY_DOESNT_EXIST') },
    });
    expect(
      (await api('POST', '/crm/v3/objects/contacts', { properties: { email: 'v@v.example', createdate: '1' }, associations: [] })).status,
    ).toBe(400);
    expect(
      (
        await api('POST', '/crm/v3/objects/deals', {
          properties: { dealname: 'x', dealstage: 'closedwon', amount: 'lots' },
          associations: [],
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await api('POST', '/crm/v3/objects/deals', {
          properties: { dealname: 'x', pipeline: '1071658799', dealstage: 'closedwon' },
          associations: [],
        })
      ).status,
    ).toBe(400);
    expect((await api('POST', '/crm/v3/objects/contacts', { properties: { email: 'V@v.example' }, associations: [] })).status).toBe(201);
    expect(await api('POST', '/crm/v3/objects/contacts', { properties: { email: 'v@V.example' }, associations: [] })).toMatchObject({
      status: 409,
      body: { category: 'CONFLICT', message: expect.stringMatching(/Existing ID: \d+/) },
    });
    const many = Array.from({ length: 101 }, (_, i) => ({ properties: { email: `b${i}@v.example` } }));
    expect((await api('POST', '/crm/v3/objects/contacts/batch/create', { inputs: many })).status).toBe(400);
    const one = sandbox.state.create('contacts', { email: 'dup@v.example' });
    expect(
      (
        await api('POST', '/crm/v3/objects/contacts/batch/update', {
          inputs: [
            { id: one.id, properties: {} },
            { id: one.id, properties: {} },
          ],
        })
      ).status,
    ).toBe(400);
    expect((await api('POST', '/crm/v3/properties/deals/groups', { name: 'dealinformation', label: 'Again' })).status).toBe(409);
    expect(
      (
        await api('POST', '/crm/v3/properties/deals', {
          name: 'amount',
          label: 'Again',
          type: 'number',
          fieldType: 'number',
          groupName: 'dealinformation',
        })
      ).status,
    ).toBe(409);
  });

  it('sends rate-limit headers on API answers and the documented 429 body beyond the limit', async () => {
    const tiny = createHubSpotSandbox({ rateLimit: { points: 2, durationMs: 60_000 } });
    const { url: tinyUrl } = await tiny.listen();
    const bearer = tiny.state.issueToken([...HUBSPOT_SCOPES]).accessToken;
    const get = () => fetch(`${tinyUrl}/crm/v3/pipelines/deals`, { headers: { authorization: `Bearer ${bearer}` } });
    const first = await get();
    expect(
      Object.fromEntries(['interval-milliseconds', 'max', 'remaining'].map((h) => [h, first.headers.get(`x-hubspot-ratelimit-${h}`)])),
    ).toEqual({ 'interval-milliseconds': '60000', max: '2', remaining: '1' });
    await get();
    const limited = await get();
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({
      status: 'error',
      errorType: 'RATE_LIMIT',
      policyName: 'TEN_SECONDLY_ROLLING',
      message: 'You have reached your ten_secondly_rolling limit.',
    });
    await tiny.close();
  });

  it('failAtRandom: a share of the API calls get a labelled 429 or 5xx, counted apart from real breaches; OAuth never', async () => {
    const busy = createHubSpotSandbox({ rateLimit: { points: 1_000, durationMs: 10_000 } });
    const { url: busyUrl } = await busy.listen();
    const bearer = busy.state.issueToken([...HUBSPOT_SCOPES]).accessToken;
    const get = () => fetch(`${busyUrl}/crm/v3/pipelines/deals`, { headers: { authorization: `Bearer ${bearer}` } });
    busy.faults.failAtRandom(1 / 3);
    const answers = await Promise.all(Array.from({ length: 300 }, get));
    const injected = answers.filter((a) => a.headers.get('x-sandbox-injected-fault') === '1');
    // 100 expected; outside 60-140 is a one-in-a-million draw.
    expect(injected.length).toBeGreaterThan(60);
    expect(injected.length).toBeLessThan(140);
    expect(new Set(injected.map((a) => a.status))).toEqual(new Set([429, 500, 502, 503]));
    expect(injected.filter((a) => a.status === 429).every((a) => a.headers.get('retry-after') === '1')).toBe(true);
    expect(answers.filter((a) => !injected.includes(a)).every((a) => a.status === 200)).toBe(true);
    expect(busy.stats).toMatchObject({ injectedFaults: injected.length, apiCalls: 300 - injected.length, rateLimitBreaches: 0 });

    busy.faults.failAtRandom(1);
    const tokenInfo = await fetch(`${busyUrl}/oauth/v1/access-tokens/${bearer}`);
    expect(tokenInfo.status).toBe(200);
    expect((await get()).headers.get('x-sandbox-injected-fault')).toBe('1');
    busy.faults.failAtRandom(0);
    expect((await get()).status).toBe(200);
    expect(() => busy.faults.failAtRandom(1.5)).toThrow(RangeError);
    await busy.close();
  });
});
