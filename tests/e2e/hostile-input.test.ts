import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signV3 } from '../../connectors/hubspot/verify-webhook.ts';
import { escapeXml } from '../../connectors/salesforce/soap.ts';
import { SANDBOX_HUBSPOT } from '../../connectors/hubspot/registration.ts';
import { installSandbox, startTestService, type TestService } from '../support/service.ts';

/**
 * What an adversary sends from outside: signed HubSpot batches and unsigned Outbound Messages
 * with prototype keys, deep nesting and oversized values, hostile API bodies, malformed paths.
 * Whatever arrives, the answer is never a 5xx, and a refused request writes nothing: the row
 * count of every table is the same before and after it. The worker is off, so nothing else
 * writes while a request is judged. Fuzz runs are bounded to keep this to a few seconds.
 */

const UNKNOWN_ORG = '00D000000000999AAA';
/** A value the fuzzers place; replaced in the JSON text by what JSON.stringify cannot write. */
const DEEP = '"@@deep@@"';
const PROTO = '"@@proto@@"';
const LONG = '"@@long@@"';
const PROTOTYPE_WORDS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

function nestedArrays(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** Turns the fuzzers' markers into deep nesting, `__proto__` keys and a value over HubSpot's length limit. */
function hostileJson(value: unknown, depth: number): string {
  return JSON.stringify(value)
    .replaceAll(DEEP, nestedArrays(depth))
    .replaceAll(PROTO, '{"__proto__":{"polluted":true},"constructor":"polluted"}')
    .replaceAll(LONG, JSON.stringify('x'.repeat(70_000)));
}

const hostileScalar = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 24 }),
  fc.constantFrom(...PROTOTYPE_WORDS, '%ZZ', '\u0000', '', ' ', '-1', '1e400'),
);
/** Mostly odd scalars; now and then deep nesting, `__proto__` keys or an oversized string. */
const hostileValue = fc.oneof(
  { weight: 12, arbitrary: hostileScalar },
  { weight: 1, arbitrary: fc.constantFrom(JSON.parse(DEEP) as string, JSON.parse(PROTO) as string, JSON.parse(LONG) as string) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 5 }) },
);

describe('hostile input from outside', () => {
  let svc: TestService;
  let portalId: string;
  let orgId: string;
  let salesforceInstallationId: string;

  const db = () => svc.sqlite;
  const tableCounts = (): Record<string, number> => {
    const tables = db().prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
    return Object.fromEntries(
      tables.map(({ name }) => [name, (db().prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n]),
    );
  };

  /**
   * Never a 5xx; a refusal leaves every table as it was. The one exception is a referral the
   * domain turned down (duplicate, conflict, ineligible): it is kept with its reasons by design,
   * and the answer names it as `rejectedReferralId`.
   */
  async function expectSafe(send: () => Promise<Response>): Promise<Response> {
    const before = tableCounts();
    const res = await send();
    const text = await res.clone().text();
    expect(res.status, `answered ${res.status}: ${text.slice(0, 300)}`).toBeLessThan(500);
    if (res.status >= 400 && !recordedVerdict(res, text)) expect(tableCounts()).toEqual(before);
    return res;
  }
  const recordedVerdict = (res: Response, text: string): boolean => {
    if (!/json/.test(res.headers.get('content-type') ?? '')) return false;
    const body = JSON.parse(text) as { error?: { details?: { rejectedReferralId?: unknown } } };
    return typeof body.error?.details?.rejectedReferralId === 'string';
  };

  const postHubSpot = (body: string, secret = SANDBOX_HUBSPOT.clientSecret) => {
    const url = `${svc.url}/webhooks/hubspot`;
    const timestamp = String(Date.now());
    return fetch(url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-hubspot-request-timestamp': timestamp,
        'x-hubspot-signature-v3': signV3(secret, 'POST', url, body, timestamp),
      },
    });
  };
  const postSalesforce = (body: string) =>
    fetch(`${svc.url}/webhooks/salesforce`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '""' },
    });

  const hubspotEvent = (extra: Record<string, unknown>) => ({
    eventId: 1,
    subscriptionId: 2,
    portalId: Number(portalId),
    appId: Number(SANDBOX_HUBSPOT.appId),
    occurredAt: Date.now(),
    attemptNumber: 0,
    ...extra,
  });

  const outboundMessage = (o: {
    org: string;
    type: string;
    id: string;
    notificationId: string;
    inner?: string;
  }) => `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>${o.org}</OrganizationId>
   <ActionId>04k000000000001AAA</ActionId>
   <Notification>
    <Id>${o.notificationId}</Id>
    <sObject xsi:type="sf:${o.type}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
     <sf:Id>${o.id}</sf:Id>${o.inner ?? ''}
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>`;

  beforeAll(async () => {
    svc = await startTestService({}, { worker: false });
    await installSandbox(svc, 'hubspot');
    await installSandbox(svc, 'salesforce');
    const installations = (await (await svc.api('/installations')).json()) as { id: string; crm: string; accountId: string }[];
    portalId = installations.find((i) => i.crm === 'hubspot')!.accountId;
    const salesforce = installations.find((i) => i.crm === 'salesforce')!;
    orgId = salesforce.accountId;
    salesforceInstallationId = salesforce.id;
  });
  afterAll(async () => svc?.stop());

  describe('malformed paths', () => {
    it.each([
      ['GET', '/unsubscribe/%E0%A4%A?key=x'],
      ['POST', '/unsubscribe/%E0%A4%A?key=x'],
      ['GET', '/oauth/%ZZ/install'],
      ['GET', '/oauth/%E0%A4%A/callback?code=x&state=y'],
      ['GET', '/api/v1/referrals/%ZZ'],
      ['GET', '/api/v1/referrers/%E0%A4%A'],
      ['POST', '/api/v1/rewards/%ZZ/approve'],
      ['GET', '/preferences/%ZZ?key=x'],
    ])('%s %s is a 400 naming the problem, writing nothing', async (method, path) => {
      const res = await expectSafe(() => fetch(`${svc.url}${path}`, { method, headers: { authorization: `Bearer ${svc.token}` } }));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: { code: 'bad_request', message: expect.stringMatching(/decode/i), details: {} } });
    });

    it('escapes what it echoes from a path into a page', async () => {
      const res = await expectSafe(() => fetch(`${svc.url}/oauth/${encodeURIComponent('<img src=x onerror=alert(1)>')}/install`));
      expect(res.status).toBe(404);
      const html = await res.text();
      expect(html).not.toContain('<img');
      expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;');
    });

    it('answers any path with broken escapes with a 4xx, never a 5xx', async () => {
      const prefix = fc.constantFrom(
        '/unsubscribe/',
        '/preferences/',
        '/oauth/',
        '/oauth/hubspot/',
        '/api/v1/referrals/',
        '/api/v1/referrers/',
        '/api/v1/programs/',
        '/r/',
        '/app/',
        '/',
        // the sandbox CRMs the service serves by default
        '/sandbox/hubspot/crm/v3/objects/deals/',
        '/sandbox/hubspot/crm/v3/objects/',
        '/sandbox/salesforce/services/data/v62.0/sobjects/Account/',
      );
      const broken = fc.constantFrom('%', '%Z', '%ZZ', '%E0%A4%A', '%C0%AF', '%FF', '%u0041', '%%', '%0');
      await fc.assert(
        fc.asyncProperty(
          prefix,
          fc.string({ maxLength: 8 }).map(encodeURIComponent),
          broken,
          fc.constantFrom('GET', 'POST'),
          async (p, word, bad, method) => {
            await expectSafe(() =>
              fetch(`${svc.url}${p}${word}${bad}?key=x`, { method, headers: { authorization: `Bearer ${svc.token}` } }),
            );
          },
        ),
        { numRuns: 60 },
      );
    });
  });

  describe('referral links', () => {
    it('a visit with any code and any query is never a 5xx and records nothing', async () => {
      const visits = () => (db().prepare('SELECT count(*) AS n FROM referral_link_visits').get() as { n: number }).n;
      const before = visits();
      // '.' and '..' are resolved by the client before they are sent: they would ask for another path.
      const code = fc.oneof(
        fc.string({ maxLength: 40 }).filter((c) => c !== '.' && c !== '..' && c !== 'capture.js'),
        fc.stringMatching(/^[0-9A-Za-z]{17}$/),
        fc.constantFrom('__proto__', 'constructor', '%2e%2e', '<script>'),
      );
      await fc.assert(
        fc.asyncProperty(
          code,
          fc.dictionary(fc.constantFrom('utm_source', 'utm_x', '__proto__', 'referloop_code', 'next'), fc.string()),
          async (c, query) => {
            const res = await expectSafe(() =>
              fetch(`${svc.url}/r/${encodeURIComponent(c)}?${new URLSearchParams(query)}`, { redirect: 'manual' }),
            );
            expect([302, 400, 404]).toContain(res.status);
            // No link exists here: nothing may lead anywhere but Referloop's own answer.
            expect(res.headers.get('location')).toBeNull();
          },
        ),
        { numRuns: 60 },
      );
      expect(visits()).toBe(before);
    });
  });

  describe('HubSpot webhooks (signed)', () => {
    it('ignores events whose types name prototype members, storing the good event of the batch', async () => {
      const before = (db().prepare('SELECT count(*) AS n FROM inbox').get() as { n: number }).n;
      const batch = [
        hubspotEvent({ subscriptionType: 'deal.constructor', objectId: 11 }),
        hubspotEvent({ subscriptionType: '__proto__.creation', objectId: 12 }),
        hubspotEvent({ subscriptionType: 'toString.propertyChange', objectId: 13, propertyName: 'dealstage', propertyValue: 'x' }),
        hubspotEvent({ subscriptionType: 'object.creation', objectTypeId: '__proto__', objectId: 14 }),
        hubspotEvent({ subscriptionType: 'deal.creation', objectId: 15 }),
      ];
      const res = await expectSafe(() => postHubSpot(JSON.stringify(batch)));
      expect(res.status).toBe(200);
      expect((db().prepare('SELECT count(*) AS n FROM inbox').get() as { n: number }).n).toBe(before + 1);
      expect(db().prepare('SELECT object_type AS type, object_id AS id FROM inbox ORDER BY inbox.id DESC LIMIT 1').get()).toEqual({
        type: 'deal',
        id: '15',
      });
    });

    it('refuses a property value nested 50,000 arrays deep with a 400, writing nothing', async () => {
      const body = hostileJson(
        [
          hubspotEvent({
            subscriptionType: 'deal.propertyChange',
            objectId: 16,
            propertyName: 'dealstage',
            propertyValue: JSON.parse(DEEP) as string,
          }),
        ],
        50_000,
      );
      const res = await expectSafe(() => postHubSpot(body));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/nests deeper/);
    });

    it('fuzz: signed batches of hostile events are never a 5xx, and refused ones write nothing', async () => {
      const subscriptionType = fc.oneof(
        fc.constantFrom(
          'deal.creation',
          'deal.propertyChange',
          'contact.deletion',
          'company.merge',
          'object.creation',
          'deal.associationChange',
          'object.associationChange',
        ),
        fc
          .tuple(
            fc.constantFrom('deal', 'contact', 'object', ...PROTOTYPE_WORDS),
            fc.constantFrom('creation', 'propertyChange', 'associationChange', 'merge', ...PROTOTYPE_WORDS),
          )
          .map(([o, a]) => `${o}.${a}`),
        fc.string({ maxLength: 24 }),
      );
      const id = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 1e9 }) }, { weight: 1, arbitrary: hostileValue });
      const typeId = fc.oneof(fc.constantFrom('0-1', '0-2', '0-3', '0-5', ...PROTOTYPE_WORDS), hostileValue);
      const event = fc.record(
        {
          eventId: id,
          subscriptionType,
          // Mostly what HubSpot sends, so that most batches get past the envelope checks.
          portalId: fc.oneof({ weight: 12, arbitrary: fc.constant(Number(portalId)) }, { weight: 1, arbitrary: id }),
          appId: fc.oneof({ weight: 6, arbitrary: fc.constant(Number(SANDBOX_HUBSPOT.appId)) }, { weight: 1, arbitrary: hostileValue }),
          occurredAt: fc.oneof(
            { weight: 12, arbitrary: fc.integer({ min: Date.now() - 86_400_000, max: Date.now() }) },
            { weight: 1, arbitrary: hostileValue },
          ),
          objectId: id,
          objectTypeId: typeId,
          propertyName: fc.oneof(fc.constantFrom('dealstage', 'amount', ...PROTOTYPE_WORDS), hostileValue),
          propertyValue: hostileValue,
          fromObjectId: id,
          toObjectId: id,
          fromObjectTypeId: typeId,
          toObjectTypeId: typeId,
          associationType: fc.oneof(fc.constantFrom('CONTACT_TO_DEAL', 'DEAL_TO_COMPANY', ...PROTOTYPE_WORDS), hostileValue),
          mergedObjectIds: fc.oneof(fc.array(id, { maxLength: 4 }), hostileValue),
          [PROTOTYPE_WORDS[1]!]: hostileValue,
        },
        { requiredKeys: ['subscriptionType', 'portalId', 'occurredAt'] },
      );
      const batch = fc.oneof(
        { weight: 5, arbitrary: fc.array(event, { minLength: 1, maxLength: 6 }) },
        { weight: 1, arbitrary: hostileValue },
      );
      await fc.assert(
        fc.asyncProperty(batch, fc.integer({ min: 1, max: 20_000 }), async (events, depth) => {
          await expectSafe(() => postHubSpot(hostileJson(events, depth)));
        }),
        { numRuns: 100 },
      );
    });

    it('fuzz: unsigned or wrongly signed bodies are refused with a 401, writing nothing', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.string({ maxLength: 200 }),
            fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
          ),
          async (body) => {
            const res = await expectSafe(() => postHubSpot(body, 'not-the-secret'));
            expect(res.status).toBe(401);
          },
        ),
        { numRuns: 40 },
      );
    });
  });

  describe('Salesforce Outbound Messages (unsigned)', () => {
    it('refuses SOAP nested 100 levels deep with a SOAP fault and a 4xx, writing nothing', async () => {
      const deep = `<sf:Description>${'<a>'.repeat(100)}x${'</a>'.repeat(100)}</sf:Description>`;
      const res = await expectSafe(() =>
        postSalesforce(
          outboundMessage({ org: orgId, type: 'Opportunity', id: '006000000000123AAA', notificationId: '04l000000000123AAA', inner: deep }),
        ),
      );
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
      expect(await res.text()).toMatch(/<soapenv:Fault>[\s\S]*at most 32 levels deep/);
    });

    it('refuses an unknown org whatever its message names: a Task as much as an Opportunity', async () => {
      for (const type of ['Task', 'Opportunity', 'constructor']) {
        const res = await expectSafe(() =>
          postSalesforce(outboundMessage({ org: UNKNOWN_ORG, type, id: '00T000000000001AAA', notificationId: '04l000000000124AAA' })),
        );
        expect(res.status).toBe(403);
        expect(await res.text()).toContain('<soapenv:Fault>');
      }
      // The connected org's Task is acknowledged and ignored.
      const known = await expectSafe(() =>
        postSalesforce(outboundMessage({ org: orgId, type: 'Task', id: '00T000000000001AAA', notificationId: '04l000000000125AAA' })),
      );
      expect(known.status).toBe(200);
      expect(await known.text()).toContain('<Ack>true</Ack>');
    });

    it('fuzz: hostile Outbound Messages are never a 5xx, answer in SOAP, and refused ones write nothing', async () => {
      const sfId = fc.stringMatching(/^[a-zA-Z0-9]{15}([A-Z]{3})?$/);
      const text = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom(...PROTOTYPE_WORDS));
      const message = fc.record({
        org: fc.oneof(
          { weight: 3, arbitrary: fc.constant(orgId) },
          { weight: 1, arbitrary: fc.constant(UNKNOWN_ORG) },
          { weight: 1, arbitrary: text },
        ),
        type: fc.oneof(
          fc.constantFrom('Opportunity', 'Lead', 'Contact', 'Account', 'Task', 'Case', ...PROTOTYPE_WORDS),
          fc.stringMatching(/^[A-Za-z_]{1,12}$/),
        ),
        id: fc.oneof(sfId, text),
        notificationId: fc.oneof(sfId, text),
        field: fc.constantFrom('Name', 'IsConverted', 'SystemModstamp', 'ConvertedContactId', ...PROTOTYPE_WORDS),
        value: text,
        depth: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 150 })),
      });
      const body = fc.oneof(
        {
          weight: 6,
          arbitrary: message.map((m) =>
            outboundMessage({
              ...m,
              org: escapeXml(m.org),
              id: escapeXml(m.id),
              notificationId: escapeXml(m.notificationId),
              inner: `<sf:${m.field}>${escapeXml(m.value)}${'<a>'.repeat(m.depth)}${'</a>'.repeat(m.depth)}</sf:${m.field}>`,
            }),
          ),
        },
        { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
        {
          weight: 1,
          arbitrary: fc.tuple(message, fc.nat()).map(([m, cut]) => {
            const xml = outboundMessage(m);
            return xml.slice(0, cut % xml.length);
          }),
        },
      );
      await fc.assert(
        fc.asyncProperty(body, async (xml) => {
          const res = await expectSafe(() => postSalesforce(xml));
          expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
          expect(await res.text()).toMatch(res.status === 200 ? /<Ack>true<\/Ack>/ : /<soapenv:Fault>/);
        }),
        { numRuns: 100 },
      );
    });
  });

  describe('the API', () => {
    it('fuzz: hostile referral bodies are never a 5xx, and refused ones write nothing', async () => {
      const hostileText = fc.oneof(
        { weight: 8, arbitrary: hostileScalar },
        { weight: 1, arbitrary: fc.constantFrom(JSON.parse(DEEP) as string, JSON.parse(PROTO) as string, JSON.parse(LONG) as string) },
      );
      /** Usually a valid value, so that a good share of bodies reach the submission itself. */
      const mostly = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 8, arbitrary: valid }, { weight: 1, arbitrary: hostileText });
      const optional = fc.oneof(
        { weight: 6, arbitrary: fc.constant(undefined) },
        { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 20 }) },
        { weight: 1, arbitrary: hostileText },
      );
      // Addresses the API accepts, prototype words among them (fc.emailAddress is mostly refused).
      const label = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/), fc.constantFrom('__proto__', 'constructor', 'toString'));
      const validEmail = fc
        .tuple(label, label, fc.constantFrom('com', 'io', 'example'))
        .map(([local, domain, tld]) => `${local}@${domain.replaceAll('_', 'x')}.${tld}`);
      const referral = fc.record(
        {
          // The Salesforce sandbox answers conflict checks without HubSpot's five searches a second.
          installationId: mostly(fc.constant(salesforceInstallationId)),
          referrer: mostly(
            fc.record(
              {
                email: mostly(validEmail),
                name: mostly(fc.string({ minLength: 1, maxLength: 20 })),
                type: mostly(fc.constantFrom('partner', 'customer', 'advisor', 'consultant', 'employee')),
                company: optional,
              },
              { requiredKeys: ['email', 'name', 'type'] },
            ),
          ),
          referee: mostly(
            fc.record({ email: mostly(validEmail), domain: optional, company: optional, firstName: optional }, { requiredKeys: ['email'] }),
          ),
          notes: optional,
          submittedBy: mostly(
            fc.record({ kind: mostly(fc.constantFrom('rep', 'referrer', 'integration')), id: optional }, { requiredKeys: ['kind'] }),
          ),
          [PROTOTYPE_WORDS[0]!]: hostileText,
        },
        { requiredKeys: ['installationId', 'referrer', 'referee', 'submittedBy'] },
      );
      const body = fc.oneof({ weight: 4, arbitrary: referral }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) });
      await fc.assert(
        fc.asyncProperty(body, fc.integer({ min: 1, max: 20_000 }), async (value, depth) => {
          await expectSafe(() =>
            svc.api('/referrals', { method: 'POST', body: hostileJson(value, depth), headers: { 'content-type': 'application/json' } }),
          );
        }),
        { numRuns: 100 },
      );
    });

    it('fuzz: hostile ids and query values are never a 5xx', async () => {
      const word = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom(...PROTOTYPE_WORDS));
      const path = fc.oneof(
        word.map((w) => `/referrals/${encodeURIComponent(w)}`),
        word.map((w) => `/referrers/${encodeURIComponent(w)}`),
        word.map((w) => `/referrals?objectId=1&objectTypeId=${encodeURIComponent(w)}`),
        word.map((w) => `/referrals?status=${encodeURIComponent(w)}&cursor=${encodeURIComponent(w)}`),
        word.map((w) => `/reports/summary?installationId=${encodeURIComponent(w)}`),
      );
      await fc.assert(
        fc.asyncProperty(path, async (p) => {
          await expectSafe(() => svc.api(p));
        }),
        { numRuns: 80 },
      );
    });
  });
});
