import { describe, expect, it } from 'vitest';
import type { CrmEvent } from '../../../connectors/connector.ts';
import { COMPANY_ELIGIBILITY_PROPERTIES } from '../../../connectors/hubspot/map.ts';
import { parseHubSpotWebhook } from '../../../connectors/hubspot/parse-webhook.ts';
import { readSample, sampleFiles, sampleJson } from '../../fixtures/hubspot/samples.ts';

const parse = (body: unknown, appId?: string) =>
  parseHubSpotWebhook(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), { appId });

function events(body: unknown, appId?: string): CrmEvent[] {
  const parsed = parse(body, appId);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.events;
}

const base = { eventId: 1, subscriptionId: 2, portalId: 24681357, appId: 3145926, occurredAt: 1763745600000, attemptNumber: 0 };

describe('parsing every webhook sample', () => {
  const batches = sampleFiles('webhooks').filter((f) => f !== 'signature-vectors.json' && f !== 'delivery-envelope-example.json');

  it.each(batches)('%s parses with nothing ignored', (file) => {
    const parsed = parseHubSpotWebhook(Buffer.from(readSample(`webhooks/${file}`)));
    expect(parsed).toMatchObject({ ok: true, ignored: 0 });
    if (parsed.ok) expect(parsed.events.length).toBe(sampleJson<unknown[]>(`webhooks/${file}`).length);
  });

  it('contact creation (the documented v1 example)', () => {
    expect(events(readSample('webhooks/contact-creation.json'))).toEqual([
      expect.objectContaining({
        accountId: '62515',
        objectType: 'contact',
        objectId: '123',
        change: 'created',
        occurredAt: '2019-07-26T04:00:00.000Z',
      }),
    ]);
  });

  it('property changes keep the property; the docs variant with eventType parses the same', () => {
    const [viaSubscriptionType] = events(readSample('webhooks/contact-propertyChange.json'));
    const [viaEventType, creation] = events(readSample('webhooks/documented-mixed-batch.json'));
    expect(viaSubscriptionType).toMatchObject({
      objectType: 'contact',
      objectId: '1246965',
      change: 'updated',
      property: 'lifecyclestage',
      accountId: '33',
    });
    expect(viaEventType).toMatchObject({ objectType: 'contact', objectId: '1246965', change: 'updated', property: 'lifecyclestage' });
    expect(viaEventType?.eventKey).toBe(viaSubscriptionType?.eventKey);
    expect(creation).toMatchObject({ objectId: '1246978', change: 'created' });
  });

  it('deal creation, stage changes (out of order, one on a retry) and deletion', () => {
    expect(events(readSample('webhooks/deal-creation.json'))).toEqual([
      expect.objectContaining({ objectType: 'deal', objectId: '48211950113', change: 'created' }),
    ]);
    const stages = events(readSample('webhooks/deal-propertyChange-dealstage.json'));
    expect(stages.map((e) => [e.objectId, e.property, e.change])).toEqual([
      ['48211950113', 'dealstage', 'updated'],
      ['48211950113', 'dealstage', 'updated'],
      ['48211950245', 'dealstage', 'updated'],
    ]);
    expect(new Set(stages.map((e) => e.eventKey)).size).toBe(3);
    expect(events(readSample('webhooks/deal-deletion.json'))).toEqual([
      expect.objectContaining({ objectId: '48211950377', change: 'deleted' }),
    ]);
  });

  it('company property change', () => {
    expect(events(readSample('webhooks/company-propertyChange.json'))).toEqual([
      expect.objectContaining({ objectType: 'company', objectId: '30556180427', change: 'updated', property: 'domain' }),
    ]);
  });

  it.each([...COMPANY_ELIGIBILITY_PROPERTIES])(
    'a change of %s, which eligibility reads, is a company update hint naming it',
    (property) => {
      // The documented company.propertyChange event, for a property eligibility reads.
      const [documented] = sampleJson<Record<string, unknown>[]>('webhooks/company-propertyChange.json');
      expect(events([{ ...documented, propertyName: property, propertyValue: '9' }])).toEqual([
        expect.objectContaining({ objectType: 'company', objectId: '30556180427', change: 'updated', property }),
      ]);
    },
  );

  it('generic association change: one event per direction, the other side related', () => {
    const [dealSide, contactSide] = events(readSample('webhooks/object-associationChange.json'));
    expect(dealSide).toMatchObject({
      objectType: 'deal',
      objectId: '48211950113',
      change: 'associated',
      related: [{ objectType: 'contact', objectId: '90112233' }],
    });
    expect(contactSide).toMatchObject({
      objectType: 'contact',
      objectId: '90112233',
      related: [{ objectType: 'deal', objectId: '48211950113' }],
    });
    expect(dealSide?.eventKey).not.toBe(contactSide?.eventKey);
  });

  it('the delivery envelope body parses into one hint per event', () => {
    const envelope = sampleJson<{ rawBody: string }>('webhooks/delivery-envelope-example.json');
    const parsed = events(envelope.rawBody);
    expect(parsed).toHaveLength(3);
    expect(parsed[2]).toMatchObject({
      objectType: 'deal',
      objectId: '48211950245',
      change: 'updated',
      property: 'dealstage',
      occurredAt: '2025-11-21T15:11:40.000Z',
    });
  });
});

describe('HubSpot webhook parsing rules', () => {
  it('legacy association events name both sides through associationType', () => {
    const [event] = events([
      {
        ...base,
        subscriptionType: 'contact.associationChange',
        associationType: 'CONTACT_TO_COMPANY',
        fromObjectId: 5,
        toObjectId: 6,
        associationRemoved: true,
        isPrimaryAssociation: false,
      },
    ]);
    expect(event).toMatchObject({
      objectType: 'contact',
      objectId: '5',
      change: 'associated',
      related: [{ objectType: 'company', objectId: '6' }],
    });
  });

  it('a merge names the winner and the merged records as related', () => {
    const [event] = events([
      {
        ...base,
        subscriptionType: 'contact.merge',
        objectId: 90,
        primaryObjectId: 90,
        mergedObjectIds: [91, 92],
        newObjectId: 90,
        numberOfPropertiesMoved: 3,
      },
    ]);
    expect(event).toMatchObject({ objectType: 'contact', objectId: '90', change: 'merged' });
    expect(event?.related).toEqual([
      { objectType: 'contact', objectId: '91' },
      { objectType: 'contact', objectId: '92' },
    ]);
  });

  it('generic object.* events resolve the object from objectTypeId; unknown kinds are counted as ignored', () => {
    const parsed = parse([
      { ...base, subscriptionType: 'object.creation', objectTypeId: '0-3', objectId: 7 },
      { ...base, subscriptionType: 'object.creation', objectTypeId: '0-5', objectId: 8 },
      { ...base, subscriptionType: 'ticket.creation', objectId: 9 },
      { ...base, subscriptionType: 'contact.associationChange', associationType: 'CONTACT_TO_TICKET', fromObjectId: 1, toObjectId: 2 },
      { ...base, subscriptionType: 'conversation.creation', objectId: 10 },
      { ...base, subscriptionType: 'contact.privacyDeletion', objectId: 11 },
      { ...base, subscriptionType: 'deal.restore', objectId: 12 },
    ]);
    expect(parsed).toMatchObject({ ok: true, ignored: 4 });
    if (parsed.ok)
      expect(parsed.events.map((e) => [e.objectType, e.objectId, e.change])).toEqual([
        ['deal', '7', 'created'],
        ['contact', '11', 'deleted'],
        ['deal', '12', 'restored'],
      ]);
  });

  it('a retried notification keeps its key; a different value or time gets a new one', () => {
    const change = { ...base, subscriptionType: 'deal.propertyChange', objectId: 1, propertyName: 'dealstage', propertyValue: 'closedwon' };
    const [first] = events([change]);
    const [retry] = events([{ ...change, eventId: 99, attemptNumber: 3 }]);
    const [otherValue] = events([{ ...change, propertyValue: 'closedlost' }]);
    const [otherTime] = events([{ ...change, occurredAt: change.occurredAt + 1 }]);
    expect(retry?.eventKey).toBe(first?.eventKey);
    expect(new Set([first?.eventKey, otherValue?.eventKey, otherTime?.eventKey]).size).toBe(3);
  });

  it('gives occurredAt as an ISO instant to the millisecond, within a second and across seconds', () => {
    const at = (occurredAt: number) => events([{ ...base, subscriptionType: 'deal.creation', objectId: 1, occurredAt }])[0]?.occurredAt;
    const second = Date.UTC(2026, 10, 22, 9, 59, 59);
    expect([0, 7, 42, 999, 1000, 1005].map((ms) => at(second + ms))).toEqual(
      [0, 7, 42, 999, 1000, 1005].map((ms) => new Date(second + ms).toISOString()),
    );
    expect(at(-1)).toBe('1969-12-31T23:59:59.999Z');
    expect(at(second + 0.9)).toBe(new Date(second + 0.9).toISOString());
  });

  it('with an appId, events of other apps sharing the URL are ignored', () => {
    expect(
      parse(
        [
          { ...base, subscriptionType: 'deal.creation', objectId: 1 },
          { ...base, appId: 1, subscriptionType: 'deal.creation', objectId: 2 },
        ],
        '3145926',
      ),
    ).toMatchObject({ ok: true, ignored: 1, events: [{ objectId: '1' }] });
  });

  it.each([
    ['deal.constructor', {}],
    ['__proto__.creation', {}],
    ['toString.propertyChange', { propertyName: 'x', propertyValue: 'y' }],
    ['constructor.associationChange', { associationType: 'CONTACT_TO_DEAL', fromObjectId: 1, toObjectId: 2 }],
    ['object.creation', { objectTypeId: '__proto__' }],
    ['object.creation', { objectTypeId: 'constructor' }],
    ['object.associationChange', { fromObjectTypeId: '__proto__', toObjectTypeId: 'toString', fromObjectId: 1, toObjectId: 2 }],
  ])('ignores %s %o like any unsupported event, keeping the good ones', (subscriptionType, extra) => {
    const parsed = parse([
      { ...base, subscriptionType, objectId: 5, ...extra },
      { ...base, subscriptionType: 'deal.creation', objectId: 6 },
    ]);
    expect(parsed).toEqual({
      ok: true,
      ignored: 1,
      accountIds: ['24681357'],
      events: [expect.objectContaining({ objectType: 'deal', objectId: '6' })],
    });
  });

  it('names every portal of a batch, including one whose events were all ignored', () => {
    const parsed = parse([
      { ...base, subscriptionType: 'deal.creation', objectId: 1 },
      { ...base, portalId: 99, subscriptionType: 'ticket.creation', objectId: 2 },
    ]);
    expect(parsed).toMatchObject({ ok: true, ignored: 1, accountIds: ['24681357', '99'] });
  });

  it('refuses, without overflowing its stack, a property value nested 50,000 arrays deep', () => {
    const body = `[${JSON.stringify({ ...base, subscriptionType: 'deal.propertyChange', objectId: 1, propertyName: 'x' }).slice(0, -1)},"propertyValue":${'['.repeat(50_000)}${']'.repeat(50_000)}}]`;
    expect(parse(body)).toEqual({ ok: false, reason: 'event 0 nests deeper than 4 levels' });
  });

  it.each([
    ['a value nested five levels deep', { propertyValue: [[[['x']]]] }, 'nests deeper than 4 levels'],
    ['a value longer than HubSpot allows', { propertyValue: 'x'.repeat(65_537) }, 'has a value longer than 65536 characters'],
    ['more values than an event holds', { mergedObjectIds: Array.from({ length: 1_000 }, (_, i) => i) }, 'has more than 1000 values'],
  ])('refuses %s', (_, extra, reason) => {
    expect(parse([{ ...base, subscriptionType: 'deal.propertyChange', objectId: 1, ...extra }])).toEqual({
      ok: false,
      reason: `event 0 ${reason}`,
    });
  });

  it('keeps a flat event with the longest value HubSpot allows and a merge of many ids', () => {
    expect(
      events([
        { ...base, subscriptionType: 'deal.propertyChange', objectId: 1, propertyName: 'description', propertyValue: 'x'.repeat(65_536) },
        {
          ...base,
          subscriptionType: 'deal.merge',
          objectId: 2,
          primaryObjectId: 2,
          mergedObjectIds: Array.from({ length: 100 }, (_, i) => i + 10),
        },
      ]),
    ).toHaveLength(2);
  });

  it("ignores an id too long to be HubSpot's", () => {
    expect(parse([{ ...base, subscriptionType: 'deal.creation', objectId: '9'.repeat(65) }])).toMatchObject({
      ok: true,
      ignored: 1,
      events: [],
    });
  });

  it.each([
    ['not JSON', '[{', 'not valid JSON'],
    ['an object, not an array', { events: [] }, 'JSON array'],
    [
      'over 100 events',
      Array.from({ length: 101 }, (_, i) => ({ ...base, subscriptionType: 'deal.creation', objectId: i })),
      'at most 100',
    ],
    ['an event without portalId', [{ subscriptionType: 'deal.creation', objectId: 1, occurredAt: 1 }], 'lacks'],
    ['an occurredAt no date can hold', [{ ...base, subscriptionType: 'deal.creation', objectId: 1, occurredAt: 1e17 }], 'lacks'],
    ['a non-object event', [42], 'not an object'],
  ])('refuses %s with a reason', (_, body, reason) => {
    expect(parse(body)).toEqual({ ok: false, reason: expect.stringContaining(reason) });
  });
});
