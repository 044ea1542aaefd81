import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSalesforceConnector } from '../../connectors/salesforce/index.ts';
import { verifyTokenSignature } from '../../connectors/salesforce/oauth.ts';
import { createSalesforceSandbox, type SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import {
  OUTBOUND_NS,
  SOAP_ENV_NS,
  SOBJECT_NS,
  XSI_NS,
  attribute,
  child,
  parseXml,
  soapBodyContent,
  type XmlElement,
} from '../../connectors/salesforce/soap.ts';
import { REDIRECT_URI, authorize } from '../fixtures/salesforce/harness.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const contracts = path.resolve(repoRoot, '../shared/contracts/salesforce');
const present = existsSync(path.join(contracts, 'samples'));
if (!present)
  console.warn(`Salesforce contract suite skipped: ${contracts} not found (the shared contracts folder sits beside the repository).`);

const text = (rel: string) => readFileSync(path.join(contracts, rel), 'utf8');
const json = <T = Record<string, unknown>>(rel: string) => JSON.parse(text(rel)) as T;
const keys = (o: unknown) => Object.keys(o as object).sort();

/**
 * The notifications() schema as the Outbound Messaging WSDL documents it
 * (https://developer.salesforce.com/docs/platform/api/guide/sforce-api-om-outboundmessaging-wsdl.html).
 * No org-generated Outbound Message WSDL is published, so the contract is this schema plus the
 * sample request.
 */
const NOTIFICATIONS_SEQUENCE = ['OrganizationId', 'ActionId', 'SessionId', 'EnterpriseUrl', 'PartnerUrl'];
const NOTIFICATION_SEQUENCE = ['Id', 'sObject'];

function checkOutboundMessage(xml: string): { sObjectType: string; fields: Map<string, string> }[] {
  const root = parseXml(xml) as XmlElement;
  expect([root.ns, root.local]).toEqual([SOAP_ENV_NS, 'Envelope']);
  expect(root.children.map((c) => [c.ns, c.local])).toEqual([[SOAP_ENV_NS, 'Body']]);
  const notifications = soapBodyContent(root) as XmlElement;
  expect([notifications.ns, notifications.local]).toEqual([OUTBOUND_NS, 'notifications']);
  const sequence = notifications.children.map((c) => c.local);
  expect(sequence.slice(0, 5)).toEqual(NOTIFICATIONS_SEQUENCE);
  const list = notifications.children.slice(5);
  expect(list.length).toBeGreaterThanOrEqual(1);
  expect(list.length).toBeLessThanOrEqual(100);
  expect(notifications.children.every((c) => c.ns === OUTBOUND_NS)).toBe(true);
  expect(child(notifications, OUTBOUND_NS, 'OrganizationId')?.text).toMatch(/^00D[A-Za-z0-9]{15}$/);
  expect(attribute(child(notifications, OUTBOUND_NS, 'SessionId') as XmlElement, XSI_NS, 'nil')).toBe('true');
  expect(child(notifications, OUTBOUND_NS, 'PartnerUrl')?.text).toMatch(/\/services\/Soap\/u\/\d+\.\d\/00D[A-Za-z0-9]{12}$/);
  return list.map((n) => {
    expect(n.local).toBe('Notification');
    expect(n.children.map((c) => c.local)).toEqual(NOTIFICATION_SEQUENCE);
    const sObject = child(n, OUTBOUND_NS, 'sObject') as XmlElement;
    const type = sObject.resolve(attribute(sObject, XSI_NS, 'type') ?? '');
    expect(type.ns).toBe(SOBJECT_NS);
    expect(sObject.children.every((f) => f.ns === SOBJECT_NS)).toBe(true);
    expect(sObject.children[0]?.local).toBe('Id');
    return { sObjectType: type.local, fields: new Map(sObject.children.map((f) => [f.local, f.text])) };
  });
}

describe.skipIf(!present)('Salesforce sandbox against the shared contract', () => {
  let sandbox: SalesforceSandbox;
  let url: string;
  let token: string;
  const data = '/services/data/v62.0';
  const call = async (method: string, rel: string, body?: unknown, bearer = token) => {
    const res = await fetch(`${url}${rel.startsWith('/services') ? rel : data + rel}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const raw = await res.text();
    return { status: res.status, headers: res.headers, body: raw ? (JSON.parse(raw) as unknown) : undefined };
  };

  beforeAll(async () => {
    sandbox = createSalesforceSandbox({ queryBatchSize: 2, outboundRetryMs: 10 });
    ({ url } = await sandbox.listen());
    token = sandbox.issueAccessToken();
  });
  afterAll(() => sandbox.close());

  it('keeps the unit-test copies of the samples identical to the shared ones', () => {
    const copies = fileURLToPath(new URL('../fixtures/salesforce/samples/', import.meta.url));
    const origin: Record<string, string> = {
      'opportunity-stage-change.request.xml': 'samples/outbound-message/opportunity-stage-change.request.xml',
      'ack.response.xml': 'samples/outbound-message/ack.response.xml',
      'token-response.authorization_code.json': 'samples/oauth/token-response.authorization_code.json',
      'token-response.refresh_token.json': 'samples/oauth/token-response.refresh_token.json',
      'token-error.invalid_grant.json': 'samples/oauth/token-error.invalid_grant.json',
      ...Object.fromEntries(readdirSync(path.join(contracts, 'samples/errors')).map((f) => [`errors/${f}`, `samples/errors/${f}`])),
    };
    for (const [copy, source] of Object.entries(origin)) expect(readFileSync(path.join(copies, copy), 'utf8'), copy).toBe(text(source));
  });

  describe('Outbound Messages', () => {
    it('sends the documented notifications() structure, as the sample does', async () => {
      const sample = checkOutboundMessage(text('samples/outbound-message/opportunity-stage-change.request.xml'));
      const received: string[] = [];
      const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push(`${String(req.headers['content-type'])}|${String(req.headers.soapaction)}|${Buffer.concat(chunks).toString()}`);
          // The documented Ack, byte for byte, must count as delivered.
          res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(text('samples/outbound-message/ack.response.xml'));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      sandbox.setOutboundUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const account = sandbox.actions.createAccount({ Name: 'Globex' });
      const contact = sandbox.actions.createContact({ LastName: 'Lee', AccountId: account.Id });
      sandbox.actions.createOpportunity({
        name: 'Globex - Platform Expansion',
        accountId: account.Id as string,
        amount: 48000,
        fields: { ContactId: contact.Id },
      });
      await sandbox.outboundSettled();
      server.close();

      const [contentType, soapAction, xml] = (received.find((r) => r.includes('sf:Opportunity')) ?? '').split('|') as [
        string,
        string,
        string,
      ];
      expect(contentType).toMatch(/^text\/xml/);
      expect(soapAction).toBe('""');
      const [opp] = checkOutboundMessage(xml);
      expect(opp?.sObjectType).toBe('Opportunity');
      const describe = (await call('GET', '/sobjects/Opportunity/describe')).body as { fields: { name: string }[] };
      const fields = [...(opp?.fields.keys() ?? [])];
      expect(fields.every((f) => describe.fields.some((d) => d.name === f))).toBe(true);
      const standard = (names: string[]) => names.filter((n) => !n.endsWith('__c')).sort();
      expect(standard(fields)).toEqual(standard([...(sample[0]?.fields.keys() ?? [])]));
      for (const [name, value] of sample[0]?.fields ?? []) {
        const ours = opp?.fields.get(name);
        if (ours === undefined) continue;
        const shape = (v: string) => (/^(true|false)$/.test(v) ? 'boolean' : v.replace(/[A-Za-z0-9]/g, 'x'));
        if (/Id$|Date$|Modstamp$|^Is|Amount/.test(name)) expect(shape(ours), name).toBe(shape(value));
      }
    });

    it('acknowledges with the documented Ack', () => {
      const { webhooks } = createSalesforceConnector({ clientId: 'x', clientSecret: 'y', loginUrl: url });
      expect(webhooks.acknowledge().body).toBe(text('samples/outbound-message/ack.response.xml'));
    });
  });

  describe('REST', () => {
    it('answers queries and queryMore in the documented page shape', async () => {
      const accountId = sandbox.actions.createAccount({ Name: 'Initech' }).Id as string;
      for (const amount of [12500, 48000, 9000]) sandbox.actions.createOpportunity({ accountId, amount });
      const soql = text('samples/rest/query.request.txt')
        .split('\n')[0]
        ?.replace(/^GET \/services\/data\/v62\.0\/query\?q=/, '')
        .replaceAll('+', ' ')
        .replace('Referral__c', 'Referral_Id__c')
        .replace('2026-09-21T00:00:00Z', '2000-01-01T00:00:00Z') as string;
      const page1 = await call('GET', `/query?q=${encodeURIComponent(soql)}`);
      const sample1 = json('samples/rest/query-response.page1.json');
      expect(page1.status).toBe(200);
      expect(Object.keys(page1.body as object)).toEqual(Object.keys(sample1));
      const body1 = page1.body as { nextRecordsUrl: string; records: Record<string, unknown>[] };
      expect(body1.nextRecordsUrl).toMatch(/^\/services\/data\/v62\.0\/query\/01g[A-Za-z0-9]{12,15}-2$/);
      const sampleRecord = (sample1.records as Record<string, unknown>[])[0] as Record<string, unknown>;
      const record = body1.records[0] as Record<string, unknown>;
      expect(keys(record)).toEqual(
        keys(sampleRecord)
          .map((k) => (k === 'Referral__c' ? 'Referral_Id__c' : k))
          .sort(),
      );
      expect((record.attributes as { url: string }).url).toMatch(/^\/services\/data\/v62\.0\/sobjects\/Opportunity\/006[A-Za-z0-9]{15}$/);
      expect(String(record.SystemModstamp)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0000$/);
      expect(String(record.CloseDate)).toMatch(/^\d{4}-\d\d-\d\d$/);
      for (const k of ['IsClosed', 'IsWon', 'Amount']) expect(typeof record[k], k).toBe(typeof sampleRecord[k]);

      const page2 = await call('GET', body1.nextRecordsUrl);
      expect(Object.keys(page2.body as object)).toEqual(Object.keys(json('samples/rest/query-response.page2.queryMore.json')));
      const empty = await call('GET', `/query?q=${encodeURIComponent("SELECT Id FROM Opportunity WHERE Name = 'none'")}`);
      expect(empty.body).toEqual(json('samples/rest/query-response.empty.json'));
      expect(page1.headers.get('sforce-limit-info')).toMatch(/^api-usage=\d+\/\d+$/);
    });

    it.each([
      [
        'samples/rest/opportunitystage-query-response.json',
        'SELECT Id, ApiName, MasterLabel, IsActive, IsClosed, IsWon, DefaultProbability, ForecastCategoryName, SortOrder FROM OpportunityStage WHERE IsClosed = true ORDER BY SortOrder',
      ],
      [
        'samples/rest/opportunitycontactrole-query-response.json',
        'SELECT Id, OpportunityId, ContactId, Role, IsPrimary FROM OpportunityContactRole',
      ],
      [
        'samples/rest/lead-converted-query-response.json',
        'SELECT Id, IsConverted, ConvertedDate, ConvertedAccountId, ConvertedContactId, ConvertedOpportunityId, Email, SystemModstamp FROM Lead WHERE IsConverted = true',
      ],
    ])('answers like %s', async (sampleFile, soql) => {
      const lead = sandbox.actions.createLead({ LastName: 'Lee', Company: 'Globex', Email: 'pat.lee@globex.example' });
      sandbox.actions.convertLead({ leadId: lead.Id as string });
      const sample = json<{ records: Record<string, unknown>[] }>(sampleFile);
      const { body } = await call('GET', `/query?q=${encodeURIComponent(soql)}`);
      const ours = (body as { records: Record<string, unknown>[] }).records[0] as Record<string, unknown>;
      const theirs = sample.records[0] as Record<string, unknown>;
      const fields = keys(ours).filter((k) => k in theirs);
      expect(fields).toEqual(keys(theirs).filter((k) => k !== 'Referral__c'));
      for (const k of fields.filter((f) => ours[f] !== null)) expect(typeof ours[k], k).toBe(typeof theirs[k]);
    });

    it('describes objects with the documented keys and the same standard field metadata', async () => {
      const sample = json<{ fields: Record<string, unknown>[]; childRelationships: Record<string, unknown>[] }>(
        'samples/rest/describe-opportunity.excerpt.json',
      );
      const { body } = await call('GET', '/sobjects/Opportunity/describe');
      const ours = body as { fields: Record<string, unknown>[]; childRelationships: Record<string, unknown>[] };
      expect(keys(ours)).toEqual(expect.arrayContaining(keys(sample)));
      for (const field of sample.fields.filter((f) => f.custom === false)) {
        const mine = ours.fields.find((f) => f.name === field.name) as Record<string, unknown>;
        const { label: _l, picklistValues: _p, ...meta } = field;
        expect(mine, String(field.name)).toMatchObject(meta);
      }
      expect(keys(ours.childRelationships.find((c) => c.childSObject === 'OpportunityContactRole'))).toEqual(
        keys(sample.childRelationships[0]),
      );
    });

    it('upserts by external id like the documented 201 and 200 bodies', async () => {
      const req = text('samples/rest/upsert-by-external-id.request.http');
      const body = JSON.parse(req.slice(req.indexOf('{'))) as Record<string, unknown>;
      const lead = sandbox.actions.createLead({ LastName: 'Lee', Company: 'Globex' });
      const fields = { ...body, Lead__c: lead.Id };
      const created = await call('PATCH', '/sobjects/Referral__c/Referloop_Id__c/hs-ref-000123', fields);
      expect([created.status, keys(created.body)]).toEqual([201, keys(json('samples/rest/upsert-by-external-id.created-201.json'))]);
      const updated = await call('PATCH', '/sobjects/Referral__c/Referloop_Id__c/hs-ref-000123', fields);
      expect(updated.status).toBe(200);
      expect(updated.body).toEqual({
        ...json('samples/rest/upsert-by-external-id.updated-200.json'),
        id: (created.body as { id: string }).id,
      });
    });

    it('answers sObject Collections like the documented partial failure and allOrNone rollback', async () => {
      const ids = [0, 1].map((i) => sandbox.actions.createAccount({ Name: `Collection ${i}` }).Id as string);
      const sampleUpdate = json<{ records: Record<string, unknown>[] }>('samples/rest/sobject-collections-update.request.json');
      const records = sampleUpdate.records.map((r, i) => ({
        attributes: { type: 'Account' },
        id: ids[i],
        Referral_Eligibility_Reason__c: String(r.Status__c),
      }));
      const first = await call('PATCH', '/composite/sobjects', { allOrNone: false, records: [records[0]] });
      sandbox.faults.failNextRecords('UNABLE_TO_LOCK_ROW', 1);
      const second = await call('PATCH', '/composite/sobjects', { allOrNone: false, records: [records[1]] });
      const partial = [...(first.body as unknown[]), ...(second.body as unknown[])];
      const sample = json<unknown[]>('samples/rest/sobject-collections-update.response-partial-failure.json');
      expect(partial.map(keys)).toEqual(sample.map(keys));
      expect((partial[1] as { errors: { statusCode: string }[] }).errors.map(keys)).toEqual(
        (sample[1] as { errors: unknown[] }).errors.map(keys),
      );

      const upsert = json<{ allOrNone: boolean; records: Record<string, unknown>[] }>(
        'samples/rest/sobject-collections-upsert.request.json',
      );
      const rename = (r: Record<string, unknown>) =>
        Object.fromEntries(
          Object.entries(r).map(([k, v]) => (k === 'Referral_Key__c' ? ['Referloop_Id__c', `coll-${String(v)}`] : [k, v])),
        );
      const rolled = await call('PATCH', '/composite/sobjects/Referral__c/Referloop_Id__c', {
        ...upsert,
        records: upsert.records.map(rename),
      });
      const expected = json<{ success: boolean; created: boolean; errors: { statusCode: string; fields: string[] }[] }[]>(
        'samples/rest/sobject-collections-upsert.response-allOrNone-rollback.json',
      );
      const got = rolled.body as typeof expected;
      expect(got.map((r) => [r.success, r.created, r.errors.map((e) => [e.statusCode, e.fields])])).toEqual(
        expected.map((r) => [r.success, r.created, r.errors.map((e) => [e.statusCode, e.fields])]),
      );
      expect(sandbox.state.records('Referral__c').some((r) => String(r.Referloop_Id__c).startsWith('coll-'))).toBe(false);
    });

    it('runs the documented Composite request with a reference between subrequests', async () => {
      const request = JSON.parse(text('samples/rest/composite.request.json').replaceAll('Referral_Key__c', 'Referloop_Id__c')) as Record<
        string,
        unknown
      >;
      await call('PATCH', '/sobjects/Referral__c/Referloop_Id__c/hs-ref-000123', { Status__c: 'Qualified' });
      const { status, body } = await call('POST', '/composite', request);
      const sample = json<{ compositeResponse: Record<string, unknown>[] }>('samples/rest/composite.response.json');
      const ours = (body as typeof sample).compositeResponse;
      expect(status).toBe(200);
      expect(ours.map(keys)).toEqual(sample.compositeResponse.map(keys));
      expect(ours.map((r) => r.httpStatusCode)).toEqual(sample.compositeResponse.map((r) => r.httpStatusCode));
      expect(keys(ours[0]?.httpHeaders)).toEqual(keys(sample.compositeResponse[0]?.httpHeaders));
      expect(ours[1]?.body).toMatchObject({ Status__c: 'Won', attributes: { type: 'Referral__c' } });
    });

    it('fails with the documented error bodies', async () => {
      sandbox.faults.setApiUsage(0);
      expect((await call('GET', '/limits', undefined, 'not-a-token')).body).toEqual(json('samples/errors/401-invalid-session.json'));
      const noDate = await call('POST', '/sobjects/Opportunity', { Name: 'No date', StageName: 'Prospecting' });
      expect(noDate.body).toEqual(json('samples/errors/400-required-field-missing.json'));
      const malformed = await call('GET', `/query?q=${encodeURIComponent('SELECT Id FROM Opportunity WHERE')}`);
      expect([malformed.status, keys((malformed.body as unknown[])[0])]).toEqual([
        400,
        keys(json<unknown[]>('samples/errors/400-malformed-query.json')[0]),
      ]);
      await call('PATCH', '/sobjects/Referral__c/Referloop_Id__c/dup-1', {});
      const dup = await call('POST', '/sobjects/Referral__c', { Referloop_Id__c: 'DUP-1' });
      expect([dup.status, (dup.body as { errorCode: string }[])[0]?.errorCode]).toEqual([400, 'DUPLICATE_VALUE']);
      expect(keys((dup.body as unknown[])[0])).toEqual(keys(json<unknown[]>('samples/errors/400-duplicate-value.json')[0]));
      const gone = sandbox.actions.createAccount({ Name: 'Gone' }).Id as string;
      sandbox.actions.deleteRecord({ sobject: 'Account', id: gone });
      expect((await call('PATCH', `/sobjects/Account/${gone}`, { Name: 'x' })).body).toEqual(json('samples/errors/entity-is-deleted.json'));
      sandbox.faults.failNext('UNABLE_TO_LOCK_ROW');
      expect((await call('GET', '/limits')).body).toMatchObject([{ errorCode: 'UNABLE_TO_LOCK_ROW', message: expect.any(String) }]);
      sandbox.faults.setApiUsage(sandbox.state.apiUsage.limit);
      const limited = await call('GET', '/limits');
      expect([limited.status, limited.body]).toEqual([403, json('samples/errors/403-request-limit-exceeded.json')]);
      sandbox.faults.setApiUsage(0);
    });

    it('routes the Postman collection requests Referloop relies on', async () => {
      const collection = path.join(contracts, 'specs/postman-salesforce-apis/src/collections/salesforce_apis');
      const accountId = sandbox.actions.createAccount({ Name: 'Postman' }).Id as string;
      const vars: Record<string, string> = {
        '{{_endpoint}}': url,
        '{{version}}': '62.0',
        '<SOBJECT_API_NAME>': 'Referral__c',
        '<RECORD_ID>': accountId,
        '<FIELD_NAME>': 'Referloop_Id__c',
        '<FIELD_VALUE>': 'hs-ref-000123',
      };
      const files = [
        'rest/query.json',
        'rest/limit.json',
        'rest/sobject_describe.json',
        'rest/sobject_basic_information.json',
        'rest/sobject_rows_by_external_id.json',
        'composite/composite.json',
        'composite/sobject_collections_create.json',
        'composite/sobject_collections_update.json',
        'composite/sobject_collections_delete.json',
      ];
      for (const file of files) {
        const spec = JSON.parse(readFileSync(path.join(collection, file), 'utf8')) as { method: string; url: string };
        let target = spec.url;
        for (const [k, v] of Object.entries(vars)) target = target.replaceAll(k, v);
        const res = await fetch(
          target.replace('/sobjects/Referral__c/', file.includes('basic') ? '/sobjects/Account/' : '/sobjects/Referral__c/'),
          {
            method: spec.method,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: !['POST', 'PATCH'].includes(spec.method)
              ? undefined
              : JSON.stringify(
                  file.includes('composite.json')
                    ? { compositeRequest: [{ method: 'GET', url: `${data}/limits`, referenceId: 'l' }] }
                    : { records: [] },
                ),
          },
        );
        expect([file, res.status]).not.toEqual([file, 404]);
      }
    });
  });

  describe('OAuth', () => {
    it('answers the token endpoint with the documented fields and a verifiable signature', async () => {
      const connector = createSalesforceConnector({ clientId: 'sandbox-client-id', clientSecret: 'sandbox-client-secret', loginUrl: url });
      const start = connector.oauth.start({ state: 's', redirectUri: REDIRECT_URI });
      const code = (await authorize(start.url)).searchParams.get('code') ?? '';
      const form = (params: Record<string, string>) =>
        fetch(`${url}/services/oauth2/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(params),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, string> }));
      const client = { client_id: 'sandbox-client-id', client_secret: 'sandbox-client-secret' };
      const issued = await form({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: start.codeVerifier ?? '',
        ...client,
      });
      expect(keys(issued.body)).toEqual(keys(json('samples/oauth/token-response.authorization_code.json')));
      expect(issued.body.issued_at).toMatch(/^\d{13}$/);
      expect(verifyTokenSignature(issued.body as never, 'sandbox-client-secret')).toBe(true);

      const refreshed = await form({ grant_type: 'refresh_token', refresh_token: issued.body.refresh_token ?? '', ...client });
      expect(keys(refreshed.body)).toEqual(keys(json('samples/oauth/token-response.refresh_token.json')));
      const refused = await form({ grant_type: 'refresh_token', refresh_token: 'nope', ...client });
      expect([refused.status, keys(refused.body)]).toEqual([400, keys(json('samples/oauth/token-error.invalid_grant.json'))]);
    });
  });
});
