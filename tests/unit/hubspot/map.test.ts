import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CrmError } from '../../../connectors/connector.ts';
import { minorUnitsToDecimal } from '../../../src/domain/money.ts';
import {
  amountToMinorUnits,
  normalizeDomain,
  stageKey,
  toCompany,
  toDeal,
  toPipelineStages,
  toUpdate,
  type HsObject,
  type HsPipeline,
} from '../../../connectors/hubspot/map.ts';

/** Pipelines as GET /crm/v3/pipelines/deals returns them: metadata values are strings. */
const pipelines: HsPipeline[] = [
  {
    id: 'default',
    label: 'Sales Pipeline',
    stages: [
      { id: 'contractsent', label: 'Contract Sent', displayOrder: 4, metadata: { isClosed: 'false', probability: '0.9' } },
      { id: 'closedwon', label: 'Closed Won', displayOrder: 5, metadata: { isClosed: 'true', probability: '1.0' } },
      { id: 'closedlost', label: 'Closed Lost', displayOrder: 6, metadata: { isClosed: 'true', probability: '0.0' } },
    ],
  },
  {
    id: '1071658799',
    label: 'Partner Pipeline',
    stages: [
      { id: '1071658803', label: 'Signed', displayOrder: 3, metadata: { isClosed: 'true', probability: '1.0' } },
      // Labelled like a win, closed with probability below 1: not won.
      { id: '1071658805', label: 'Closed Won (pending)', displayOrder: 4, metadata: { isClosed: 'true', probability: '0.9' } },
      // Probability 1 but still open: not won either.
      { id: '1071658806', label: 'Verbal yes', displayOrder: 5, metadata: { isClosed: 'false', probability: '1.0' } },
    ],
  },
];
const stages = new Map(toPipelineStages(pipelines).map((s) => [stageKey(s.pipelineId, s.stageId), s]));

const deal = (properties: HsObject['properties']): HsObject => ({
  id: '48211950113',
  properties,
  createdAt: '2026-11-21T12:00:00.000Z',
  updatedAt: '2026-11-21T15:10:03.412Z',
});
const mapDeal = (properties: HsObject['properties']) =>
  toDeal(deal(properties), {
    stage: stages.get(stageKey(properties.pipeline ?? 'default', properties.dealstage ?? '')),
    contactIds: ['90112233'],
    companyIds: [],
    sourceProperties: ['hs_analytics_source'],
    defaultCurrency: 'USD',
  });

describe('deal stage → closed / won, per pipeline, from stage metadata', () => {
  it.each([
    ['default', 'contractsent', false, false],
    ['default', 'closedwon', true, true],
    ['default', 'closedlost', true, false],
    ['1071658799', '1071658803', true, true],
    ['1071658799', '1071658805', true, false],
    ['1071658799', '1071658806', false, false],
  ])('%s / %s → closed %s, won %s', (pipeline, dealstage, isClosed, isWon) => {
    expect(mapDeal({ pipeline, dealstage, amount: '1000' })).toMatchObject({ pipelineId: pipeline, stageId: dealstage, isClosed, isWon });
  });

  it('a stage missing from the pipelines falls back to HubSpot computed hs_is_closed / hs_is_closed_won', () => {
    expect(mapDeal({ pipeline: 'gone', dealstage: 'x', hs_is_closed: 'true', hs_is_closed_won: 'true' })).toMatchObject({
      isClosed: true,
      isWon: true,
    });
    expect(mapDeal({ pipeline: 'gone', dealstage: 'x' })).toMatchObject({ isClosed: false, isWon: false });
  });
});

describe('deal values', () => {
  it.each([
    [{ amount: '24000', hs_acv: '30000', hs_num_of_associated_line_items: '2' }, 2_400_000, 3_000_000],
    [{ amount: '24000', hs_acv: '30000', hs_num_of_associated_line_items: '0' }, 2_400_000, 2_400_000],
    [{ amount: '24000', hs_acv: '30000' }, 2_400_000, 2_400_000],
    [{ amount: '24000', hs_num_of_associated_line_items: '3' }, 2_400_000, 2_400_000],
    [{ amount: '0.1', hs_acv: '0.2', hs_num_of_associated_line_items: '1' }, 10, 20],
    [{ hs_acv: null, amount: null }, null, null],
  ])('%j → amount %s, first-year %s cents', (properties, amountCents, firstYearValueCents) => {
    expect(mapDeal({ pipeline: 'default', dealstage: 'closedwon', ...properties })).toMatchObject({ amountCents, firstYearValueCents });
  });

  it('takes currency, close date, owner and associations from the record', () => {
    expect(
      mapDeal({
        dealstage: 'closedwon',
        amount: '9500',
        deal_currency_code: 'EUR',
        closedate: '2026-11-21T23:10:00Z',
        hubspot_owner_id: '71820451',
      }),
    ).toMatchObject({
      currency: 'EUR',
      closeDate: '2026-11-21',
      ownerId: '71820451',
      contactIds: ['90112233'],
      createdAt: '2026-11-21T12:00:00.000Z',
      modifiedAt: '2026-11-21T15:10:03.412Z',
    });
    expect(mapDeal({ dealstage: 'closedwon' }).currency).toBe('USD');
  });
});

describe('deal sources', () => {
  it('reports the source properties it was asked for, as read, leaving empty ones out', () => {
    const read = (properties: HsObject['properties'], sourceProperties: string[]) =>
      toDeal(deal(properties), { stage: undefined, contactIds: [], companyIds: [], sourceProperties, defaultCurrency: 'USD' }).sources;
    expect(read({ hs_analytics_source: 'REFERRALS', deal_source: 'Outbound' }, ['deal_source', 'hs_analytics_source'])).toEqual([
      { field: 'deal_source', value: 'Outbound' },
      { field: 'hs_analytics_source', value: 'REFERRALS' },
    ]);
    expect(read({ hs_analytics_source: '' }, ['hs_analytics_source'])).toEqual([]);
  });
});

describe('deal type', () => {
  it('reads the dealtype property as the deal type, none when empty', () => {
    expect(mapDeal({ dealtype: 'existingbusiness' }).dealType).toBe('existingbusiness');
    expect(mapDeal({ dealtype: '' }).dealType).toBeNull();
    expect(mapDeal({}).dealType).toBeNull();
  });
});

describe('money: HubSpot number strings ↔ integer minor units', () => {
  it.each([
    ['24000', 2_400_000],
    ['24000.5', 2_400_050],
    ['0.1', 10],
    ['0.015', 2],
    ['1234.565', 123_457],
    ['1234.564', 123_456],
    ['-10.005', -1001],
    [' 7 ', 700],
    ['.5', 50],
    ['5.', 500],
    ['0.29', 29],
    ['1.005', 101],
    ['', null],
    ['abc', null],
    ['1e5', null],
    ['1,000', null],
    [null, null],
    [undefined, null],
  ])('%j USD → %s', (value, cents) => {
    expect(amountToMinorUnits(value, 'USD')).toBe(cents);
  });

  it.each([
    ['2500', 'JPY', 2_500],
    ['2500.5', 'JPY', 2_501],
    ['1.2345', 'KWD', 1_235],
    ['9500', 'EUR', 950_000],
    ['99999999999999999999', 'USD', null],
  ])('%j %s → %s: the currency decides the digits', (value, currency, minor) => {
    expect(amountToMinorUnits(value, currency)).toBe(minor);
  });

  it('round-trips every cent amount exactly (no float error)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e13, max: 1e13 }), (cents) => amountToMinorUnits(minorUnitsToDecimal(cents, 'USD'), 'USD') === cents),
    );
  });

  it('reads a JPY deal in yen, not in hundredths of a yen', () => {
    expect(mapDeal({ dealstage: 'closedwon', amount: '5000000', deal_currency_code: 'JPY' })).toMatchObject({
      currency: 'JPY',
      amountCents: 5_000_000,
      firstYearValueCents: 5_000_000,
    });
    expect(mapDeal({ dealstage: 'closedwon', amount: '1500.125', deal_currency_code: 'KWD' })).toMatchObject({
      currency: 'KWD',
      amountCents: 1_500_125,
    });
  });

  it("writes the attributed amount with the currency's digits", () => {
    const write = (attributedAmountCents: number, currency: string) =>
      toUpdate({ target: 'deal', dealId: '7', fields: { referralId: 'R1', referrerName: 'Bo', attributedAmountCents, currency } });
    expect(write(500_000, 'JPY')).toMatchObject({
      properties: { referloop_attributed_amount: '500000', referloop_attributed_currency: 'JPY' },
    });
    expect(write(1_500_125, 'KWD')).toMatchObject({ properties: { referloop_attributed_amount: '1500.125' } });
  });
});

describe('records and writes', () => {
  it('companies: customer status and eligibility inputs', () => {
    const company = toCompany({
      id: '1',
      properties: {
        name: 'Acme',
        domain: 'WWW.Acme.example',
        lifecyclestage: 'customer',
        hs_lifecyclestage_customer_date: '2024-02-01T10:00:00Z',
        referloop_nps: '9',
        referloop_open_escalations: '0',
      },
    });
    expect(company).toMatchObject({
      domain: 'acme.example',
      isCustomer: true,
      customerSince: '2024-02-01',
      nps: 9,
      healthScore: null,
      openEscalations: 0,
    });
  });

  it.each([
    ['https://www.Acme.example/pricing?x=1', 'acme.example'],
    ['ACME.example', 'acme.example'],
    ['sub.acme.example', 'sub.acme.example'],
  ])('normalizes domain %s', (input, expected) => expect(normalizeDomain(input)).toBe(expected));

  it('maps logical writes to properties; leads have no HubSpot home', () => {
    expect(
      toUpdate({
        target: 'deal',
        dealId: '7',
        fields: { referralId: 'R1', referrerName: 'Bo', attributedAmountCents: 250_000, currency: 'USD' },
      }),
    ).toEqual({
      objectType: 'deals',
      id: '7',
      properties: {
        referloop_referral_id: 'R1',
        referloop_referrer: 'Bo',
        referloop_attributed_amount: '2500.00',
        referloop_attributed_currency: 'USD',
      },
    });
    expect(toUpdate({ target: 'company', companyId: '8', fields: { eligible: false, eligibilityReason: 'NPS 6 < 9' } })).toMatchObject({
      properties: { referloop_referral_eligible: 'false' },
    });
    const lead = toUpdate({
      target: 'referral',
      person: { objectType: 'lead', id: '1' },
      fields: { referralId: 'R', status: 's', referrerName: 'n', referrerEmail: 'e', referrerType: 't' },
    });
    expect(lead).toBeInstanceOf(CrmError);
    expect(lead).toMatchObject({ code: 'invalid' });
  });
});
