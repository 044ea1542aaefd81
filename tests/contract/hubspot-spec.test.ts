import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrmError, type CrmClient } from '../../connectors/connector.ts';
import { createHubSpotConnector, HUBSPOT_SCOPES } from '../../connectors/hubspot/index.ts';
import { createHubSpotSandbox, type HubSpotSandbox, type RecordedExchange } from '../../connectors/hubspot/sandbox/index.ts';
import { readSample, samplesDir, sampleJson } from '../fixtures/hubspot/samples.ts';
import { TestSession } from '../support/crm-session.ts';
import { RecordingLimiter } from '../support/rate-limiter.ts';
import { OpenApiSpecs } from './hubspot-openapi.ts';

/**
 * Every request the HubSpot connector sends, and every answer the sandbox gives, must fit
 * HubSpot's published OpenAPI specs (the numbered v1/v3/v4 files the client targets).
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const contracts = path.resolve(repoRoot, '../shared/contracts/hubspot');
const specsDir = path.join(contracts, 'specs');
const haveSpecs = existsSync(specsDir);
if (!haveSpecs) console.warn(`HubSpot contract test skipped: no OpenAPI specs at ${specsDir}`);

/**
 * Known errors in the published specs, each confirmed by HubSpot's docs and SDK issues:
 * `PublicObjectSearchRequest.sorts` is typed as strings, but the API sorts only by
 * `{propertyName, direction}` objects (strings are ignored): search guide,
 * HubSpot/hubspot-api-nodejs#14, #559; https://developers.hubspot.com/docs/api/crm/search.
 */
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is untyped JSON, patched here at known paths
function errata(doc: Record<string, any>): void {
  const search = doc.components?.schemas?.PublicObjectSearchRequest;
  if (search?.properties?.sorts) {
    search.properties.sorts.items = {
      type: 'object',
      required: ['propertyName', 'direction'],
      properties: { propertyName: { type: 'string' }, direction: { type: 'string', enum: ['ASCENDING', 'DESCENDING'] } },
    };
  }
}

// The consent page lives on app.hubspot.com and is not part of the API specs. The shared specs have
// no account-info or currencies API: their documented shapes are tests/fixtures/currencies, checked
// against the sandbox in tests/integration/currencies/sandboxes.test.ts.
const OUTSIDE_SPECS = new Set(['/oauth/authorize', '/account-info/v3/details', '/settings/v3/currencies/exchange-rates']);

// Custom objects repeat crm-objects' generic templates; standard objects are what we call.
const skip = (file: string) => file === 'crm-custom-objects-v3.json';

// The deals spec names deals by type id; /crm/v3/objects/deals is the same resource (specs/SOURCES.md).
const specPath = (p: string) => p.replace(/^\/crm\/v3\/objects\/deals(?=\/|$)/, '/crm/v3/objects/0-3');

function violations(specs: OpenApiSpecs, exchanges: RecordedExchange[]): string[] {
  const problems: string[] = [];
  for (const x of exchanges.filter((e) => !OUTSIDE_SPECS.has(e.path))) {
    const where = `${x.method} ${x.path} → ${x.status}`;
    const found = specs.find(x.method, specPath(x.path));
    if (!found) {
      problems.push(`${where}: no operation in the specs`);
      continue;
    }
    const { doc, op, params, file, template } = found;
    const declared = new Set(
      params
        .map((p) => specs.deref(doc, p))
        .filter((p) => p.in === 'query')
        .map((p) => p.name),
    );
    for (const name of Object.keys(x.query))
      if (!declared.has(name)) problems.push(`${where}: query parameter "${name}" is not in ${file} ${template}`);
    const requestSchema = op.requestBody ? specs.contentSchema(doc, op.requestBody) : undefined;
    if (x.requestBody !== undefined && !requestSchema) problems.push(`${where}: sends a body the operation does not take`);
    if (requestSchema) problems.push(...specs.validate(doc, requestSchema, x.requestBody, 'request').map((e) => `${where}: ${e}`));
    const responses = op.responses as Record<string, unknown>;
    const response = responses[String(x.status)] ?? responses.default;
    if (!response) {
      problems.push(`${where}: status not documented in ${file} ${template}`);
      continue;
    }
    const responseSchema = specs.contentSchema(doc, response);
    if (responseSchema) problems.push(...specs.validate(doc, responseSchema, x.responseBody, 'response').map((e) => `${where}: ${e}`));
    else if (x.responseBody !== undefined) problems.push(`${where}: answers a body the spec does not describe`);
  }
  return [...new Set(problems)];
}

const sharedSamples = path.join(contracts, 'samples');

describe.skipIf(!existsSync(sharedSamples))('HubSpot samples copied into tests/fixtures', () => {
  it('are identical to the shared ones', () => {
    const files = (dir: string): string[] =>
      readdirSync(path.join(samplesDir, dir), { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? files(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
      );
    const copies = files('').filter((file) => file !== 'README.md');
    expect(copies.length).toBeGreaterThanOrEqual(16);
    for (const file of copies) expect(readSample(file), file).toBe(readFileSync(path.join(sharedSamples, file), 'utf8'));
  });
});

describe.skipIf(!haveSpecs)('HubSpot OpenAPI contract', () => {
  let specs: OpenApiSpecs;
  let sandbox: HubSpotSandbox;
  let limited: HubSpotSandbox;
  let url: string;
  const redirectUri = 'http://localhost:3000/oauth/hubspot/callback';

  async function install(target: HubSpotSandbox, base: string): Promise<{ client: CrmClient; session: TestSession }> {
    const connector = createHubSpotConnector({
      clientId: target.state.clientId,
      clientSecret: target.state.clientSecret,
      apiBaseUrl: base,
      authorizeUrl: `${base}/oauth/authorize`,
    });
    const consent = await fetch(connector.oauth.start({ state: 'st', redirectUri }).url, { redirect: 'manual' });
    const code = new URL(consent.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const grant = await connector.oauth.exchangeCode({ code, redirectUri });
    const session = new TestSession(grant.accountId, grant.tokens);
    return { client: await connector.client(session, { limiter: new RecordingLimiter() }), session };
  }

  beforeAll(async () => {
    specs = new OpenApiSpecs(specsDir, { errata, skip });
    sandbox = createHubSpotSandbox({ record: true });
    ({ url } = await sandbox.listen());
    const { client, session } = await install(sandbox, url);
    const { state } = sandbox;

    // The connector, every CrmClient method.
    await client.provision();
    await client.provision();
    await client.listPipelineStages();
    const acme = state.create('companies', { name: 'Acme', domain: 'acme.example' });
    const [referee] = await client.ensureReferees([
      { key: 'r1', email: 'dana@acme.example', firstName: 'Dana', lastName: 'Lee', company: 'Acme', domain: 'acme.example' },
    ]);
    const other = state.create('contacts', { email: 'old@acme.example' });
    state.merge('contacts', referee?.person.id ?? '', other.id);
    const deal = state.create('deals', { dealname: 'Acme - Annual', dealstage: '1071658803', pipeline: '1071658799', amount: '24000' }, [
      { type: 'contacts', id: referee?.person.id ?? '' },
      { type: 'companies', id: acme.id },
    ]);
    await client.findPeopleByEmail(['dana@acme.example', 'nobody@acme.example']);
    await client.findCompaniesByDomain(['acme.example']);
    await client.getPeople('contact', [referee?.person.id ?? '', other.id, '1']);
    await client.getCompanies([acme.id, '2']);
    await client.getDeals([deal.id, '3']);
    await client.findDealIdsFor({ contactIds: [referee?.person.id ?? ''], companyIds: [acme.id] });
    for (let cursor: string | null = null, more = true; more; )
      ({ nextCursor: cursor, hasMore: more } = await client.changedSince(cursor, new Date(0)));
    await client.write([
      {
        target: 'referral',
        person: { objectType: 'contact', id: referee?.person.id ?? '' },
        fields: { referralId: 'R1', status: 'accepted', referrerName: 'Bo', referrerEmail: 'bo@x.example', referrerType: 'partner' },
      },
      {
        target: 'deal',
        dealId: '424242',
        fields: { referralId: 'R1', referrerName: 'Bo', attributedAmountCents: 240000, currency: 'USD' },
      },
      { target: 'company', companyId: acme.id, fields: { eligible: true, eligibilityReason: 'NPS 10' } },
    ]);
    await client.addTimelineNote({
      person: { objectType: 'contact', id: referee?.person.id ?? '' },
      title: 'Referral accepted',
      body: 'Thanks!',
      idempotencyKey: 'k1',
    });
    await client.addTimelineNote({
      person: { objectType: 'contact', id: referee?.person.id ?? '' },
      title: 'Referral accepted',
      body: 'Thanks!',
      idempotencyKey: 'k1',
    });
    sandbox.faults.expireAccessTokens();
    await client.getCompanies([acme.id]);
    sandbox.faults.failNext(503, 1, undefined, '/crm/');
    await client.getCompanies([acme.id]).catch((e: unknown) => expect(e).toBeInstanceOf(CrmError));
    sandbox.faults.failNext(429, 1, sampleJson('api/error-429-search-secondly.json'), '/search');
    await client.findCompaniesByDomain(['acme.example']).catch((e: unknown) => expect(e).toBeInstanceOf(CrmError));
    sandbox.faults.revokeRefreshTokens();
    sandbox.faults.expireAccessTokens();
    await client.getCompanies([acme.id]).catch((e: unknown) => expect(e).toBeInstanceOf(CrmError));
    expect(session.disconnects).not.toEqual([]);

    // The sandbox's own surface, as a test playing the sales team calls it.
    const { accessToken } = state.issueToken([...HUBSPOT_SCOPES]);
    const api = (method: string, p: string, body?: unknown) =>
      fetch(`${url}${p}`, {
        method,
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const created = (await (
      await api('POST', '/crm/v3/objects/contacts', { properties: { email: 'eve@beta.example', firstname: 'Eve' }, associations: [] })
    ).json()) as { id: string };
    await api('GET', `/crm/v3/objects/contacts/${created.id}?properties=email`);
    await api('GET', '/crm/v3/objects/contacts/eve@beta.example?idProperty=email');
    await api('PATCH', `/crm/v3/objects/contacts/${created.id}`, { properties: { lastname: 'Park' } });
    await api('PATCH', `/crm/v3/objects/contacts/${created.id}`, { properties: { no_such_property: 'x' } });
    await api('GET', '/crm/v3/objects/deals?limit=1');
    await api('GET', '/crm/v3/objects/deals/999999');
    await api('POST', '/crm/v3/objects/deals', { properties: { dealname: 'Beta', dealstage: 'nope' }, associations: [] });
    await api('POST', '/crm/v3/objects/contacts', { properties: { email: 'eve@beta.example' }, associations: [] });
    await api('POST', '/crm/v3/objects/contacts/search', {
      filterGroups: [{ filters: [{ propertyName: 'email', operator: 'CONTAINS_TOKEN', value: '*@beta.example' }] }],
      sorts: [{ propertyName: 'createdate', direction: 'DESCENDING' }],
      properties: ['email'],
      limit: 1,
      after: '0',
    });
    await api('POST', '/crm/v3/objects/contacts/search', { filterGroups: [], sorts: [], properties: [], limit: 500, after: '0' });
    await api('PUT', `/crm/v4/objects/contacts/${created.id}/associations/default/companies/${acme.id}`);
    await api('GET', `/crm/v4/objects/contacts/${created.id}/associations/companies`);
    await api('POST', '/crm/v4/associations/contacts/companies/batch/archive', {
      inputs: [{ from: { id: created.id }, to: [{ id: acme.id }] }],
    });
    await api('DELETE', `/crm/v4/objects/contacts/${referee?.person.id}/associations/companies/${acme.id}`);
    await api('POST', '/crm/v3/objects/contacts/merge', { primaryObjectId: created.id, objectIdToMerge: referee?.person.id });
    await api('POST', '/crm/v3/objects/contacts/batch/read', {
      inputs: Array.from({ length: 101 }, (_, i) => ({ id: String(i) })),
      properties: [],
      propertiesWithHistory: [],
    });
    await api('POST', '/crm/v3/objects/contacts/batch/archive', { inputs: [{ id: created.id }] });
    await api('DELETE', `/crm/v3/objects/deals/${deal.id}`);
    await api('GET', '/crm/v3/properties/contacts');
    await api('GET', '/crm/v3/properties/contacts/email');
    await api('GET', '/crm/v3/properties/contacts/groups/referloop');
    await api('POST', '/crm/v3/properties/contacts/groups', { name: 'referloop', label: 'Again', displayOrder: -1 });
    await api('POST', '/crm/v3/properties/contacts', {
      name: 'referloop_referral_id',
      label: 'Again',
      type: 'string',
      fieldType: 'text',
      groupName: 'referloop',
    });
    await api('GET', '/crm/v3/pipelines/deals/default');
    await api('GET', '/crm/v3/pipelines/deals/1071658799/stages');
    await fetch(`${url}/crm/v3/objects/contacts/${created.id}`);
    await fetch(`${url}/oauth/v1/access-tokens/${accessToken}`);
    await fetch(`${url}/oauth/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=authorization_code&code=bad&redirect_uri=x&client_id=sandbox-client-id&client_secret=sandbox-client-secret',
    });

    // Real limits, not injected ones.
    limited = createHubSpotSandbox({
      record: true,
      rateLimit: { points: 4, durationMs: 60_000 },
      searchRateLimit: { points: 1, durationMs: 60_000 },
    });
    const small = await limited.listen();
    const tokens = limited.state.issueToken([...HUBSPOT_SCOPES]);
    for (let i = 0; i < 6; i++) {
      await fetch(`${small.url}/crm/v3/pipelines/deals`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
      await fetch(`${small.url}/crm/v3/objects/companies/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ filterGroups: [], sorts: [], properties: [], limit: 10, after: '0' }),
      });
    }
  });

  afterAll(async () => {
    await sandbox?.close();
    await limited?.close();
  });

  it('drives a broad slice of the API, errors included', () => {
    const statuses = new Set([...sandbox.recorded, ...limited.recorded].map((x) => x.status));
    for (const status of [200, 201, 204, 207, 302, 400, 401, 404, 409, 429, 503]) expect(statuses).toContain(status);
    expect(sandbox.recorded.length).toBeGreaterThan(60);
  });

  it('every request and response fits the HubSpot OpenAPI specs', () => {
    expect(violations(specs, sandbox.recorded)).toEqual([]);
  });

  it('rate-limited answers fit the specs too', () => {
    expect(limited.recorded.some((x) => x.status === 429 && x.path.endsWith('/search'))).toBe(true);
    expect(limited.recorded.some((x) => x.status === 429 && !x.path.endsWith('/search'))).toBe(true);
    expect(violations(specs, limited.recorded)).toEqual([]);
  });

  it('the validator itself catches a broken request', () => {
    const broken: RecordedExchange = {
      method: 'POST',
      path: '/crm/v3/objects/contacts/batch/read',
      query: { foo: ['1'] },
      requestContentType: 'application/json',
      requestBody: { inputs: [{ id: 1 }], properties: 'email' },
      status: 200,
      responseBody: { results: [] },
    };
    expect(violations(specs, [broken])).toEqual(
      expect.arrayContaining([
        expect.stringContaining('query parameter "foo"'),
        expect.stringContaining('missing required "propertiesWithHistory"'),
        expect.stringContaining('request.inputs[0].id: expected a string'),
        expect.stringContaining('request.properties: expected an array'),
        expect.stringContaining('missing required "status"'),
      ]),
    );
  });
});
