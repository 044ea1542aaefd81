import { describe, expect, it } from 'vitest';
import type { ReferralStatus } from '../../../src/domain/referral-lifecycle.ts';
import {
  daysToClose,
  funnel,
  furthestStep,
  median,
  periodStart,
  periodsBetween,
  rangeProblem,
  rate,
  referralsOverTime,
  revenueAttributed,
  rewardTotals,
  timeToClose,
  topReferrers,
} from '../../../src/domain/reports.ts';

describe('furthestStep', () => {
  it.each<[ReferralStatus[], string]>([
    [['submitted'], 'submitted'],
    [['submitted', 'rejected'], 'submitted'],
    [['submitted', 'claim_pending'], 'submitted'],
    [['submitted', 'accepted'], 'accepted'],
    [['submitted', 'accepted', 'contacted', 'qualified'], 'qualified'],
    // A deal moved back a stage: the referral had reached qualified all the same.
    [['submitted', 'accepted', 'qualified', 'contacted'], 'qualified'],
    [['submitted', 'accepted', 'in_sales_process', 'closed_lost'], 'in_sales_process'],
    [['submitted', 'accepted', 'closed_lost'], 'accepted'],
    [['submitted', 'accepted', 'closed_won'], 'closed_won'],
    [['submitted', 'accepted', 'closed_won', 'closed_lost'], 'closed_won'],
  ])('%j → %s', (statuses, step) => {
    expect(furthestStep(statuses)).toBe(step);
  });
});

describe('funnel', () => {
  it('counts a referral at every step up to its furthest, with the rate from the step before', () => {
    const rows = funnel(['submitted', 'accepted', 'accepted', 'qualified', 'closed_won']);
    expect(rows.map((r) => [r.step, r.count])).toEqual([
      ['submitted', 5],
      ['accepted', 4],
      ['contacted', 2],
      ['qualified', 2],
      ['in_sales_process', 1],
      ['closed_won', 1],
    ]);
    expect(rows.map((r) => r.fromPrevious)).toEqual([null, 0.8, 0.5, 1, 0.5, 1]);
  });

  it('has no rate after an empty step', () => {
    expect(funnel(['submitted']).map((r) => r.fromPrevious)).toEqual([null, 0, null, null, null, null]);
  });
});

describe('rate and median', () => {
  it.each([
    [1, 4, 0.25],
    [0, 4, 0],
    [3, 0, null],
  ])('rate(%d, %d) = %s', (part, whole, expected) => {
    expect(rate(part, whole)).toBe(expected);
  });

  it.each([
    [[], null],
    [[7], 7],
    [[9, 1, 5], 5],
    [[10, 2, 4, 30], 7],
  ])('median(%j) = %s', (values, expected) => {
    expect(median(values)).toBe(expected);
  });
});

describe('periods', () => {
  it.each([
    ['2026-03-02', 'week', '2026-03-02'], // a Monday
    ['2026-03-08', 'week', '2026-03-02'], // the Sunday of the same week
    ['2026-01-01', 'week', '2025-12-29'], // a Thursday: its week starts the year before
    ['2026-03-31', 'month', '2026-03-01'],
  ] as const)('%s by %s starts on %s', (day, granularity, start) => {
    expect(periodStart(day, granularity)).toBe(start);
  });

  it('lists every period of the range', () => {
    expect(periodsBetween('2026-01-15', '2026-04-01', 'month')).toEqual(['2026-01-01', '2026-02-01', '2026-03-01', '2026-04-01']);
    expect(periodsBetween('2026-03-04', '2026-03-16', 'week')).toEqual(['2026-03-02', '2026-03-09', '2026-03-16']);
  });

  it('counts referrals per period, empty periods as 0', () => {
    const over = referralsOverTime(
      ['2026-01-05T10:00:00.000Z', '2026-01-31T23:59:59.000Z', '2026-03-01T00:00:00.000Z'],
      { from: '2026-01-01', to: '2026-03-31' },
      'month',
    );
    expect(over).toEqual([
      { periodStart: '2026-01-01', referrals: 2 },
      { periodStart: '2026-02-01', referrals: 0 },
      { periodStart: '2026-03-01', referrals: 1 },
    ]);
  });
});

describe('timeToClose', () => {
  it('counts whole days from creation to close, never negative', () => {
    expect(daysToClose({ createdAt: '2026-01-01T23:00:00.000Z', closeDate: '2026-01-31' })).toBe(30);
    expect(daysToClose({ createdAt: '2026-02-02T08:00:00.000Z', closeDate: '2026-02-01' })).toBe(0);
  });

  it('compares referred won deals with the CRM’s other won deals, leaving the referred out of "other"', () => {
    const referred = [
      { dealId: 'd1', createdAt: '2026-01-01T00:00:00.000Z', closeDate: '2026-01-11' },
      { dealId: 'd2', createdAt: '2026-01-01T00:00:00.000Z', closeDate: '2026-01-21' },
    ];
    const crm = [
      { id: 'd1', createdAt: '2026-01-01T00:00:00.000Z', closeDate: '2026-01-11' },
      { id: 'd3', createdAt: '2026-01-01T00:00:00.000Z', closeDate: '2026-02-10' },
      { id: 'd4', createdAt: '2026-01-01T00:00:00.000Z', closeDate: '2026-03-02' },
      { id: 'd5', createdAt: '2026-01-01T00:00:00.000Z', closeDate: '2026-01-31' },
    ];
    expect(timeToClose(referred, crm)).toEqual({ referredMedianDays: 15, referredDeals: 2, otherMedianDays: 40, otherDeals: 3 });
    expect(timeToClose([], [])).toEqual({ referredMedianDays: null, referredDeals: 0, otherMedianDays: null, otherDeals: 0 });
  });
});

describe('revenueAttributed', () => {
  it('credits the sourced shares of each won deal, per currency, never across currencies', () => {
    expect(
      revenueAttributed([
        { dealId: 'a', currency: 'USD', amountCents: 1_000_00, attributions: [{ role: 'sourced', sharePpm: 1_000_000 }] },
        // Two referrals split a deal: the whole value is credited once.
        {
          dealId: 'b',
          currency: 'USD',
          amountCents: 100,
          attributions: [
            { role: 'sourced', sharePpm: 333_333 },
            { role: 'sourced', sharePpm: 333_333 },
            { role: 'sourced', sharePpm: 333_334 },
          ],
        },
        { dealId: 'c', currency: 'EUR', amountCents: 500_00, attributions: [{ role: 'influenced', sharePpm: 1_000_000 }] },
        { dealId: 'd', currency: 'EUR', amountCents: null, attributions: [{ role: 'sourced', sharePpm: 1_000_000 }] },
      ]),
    ).toEqual([
      { currency: 'EUR', amountCents: 0, deals: 2 },
      { currency: 'USD', amountCents: 1_001_00, deals: 2 },
    ]);
  });
});

describe('topReferrers', () => {
  it('ranks by referrals, then won, then name, and keeps the first `limit`', () => {
    const r = (referrerId: string, name: string, won = false) => ({ referrerId, name, type: 'customer', won });
    const top = topReferrers([r('1', 'Zoe'), r('1', 'Zoe', true), r('2', 'Ann'), r('2', 'Ann'), r('3', 'Bob', true), r('4', 'Al')], 3);
    expect(top.map((t) => [t.name, t.referrals, t.won])).toEqual([
      ['Zoe', 2, 1],
      ['Ann', 2, 0],
      ['Bob', 1, 1],
    ]);
  });
});

describe('rewardTotals', () => {
  it('adds pending, approved (payable included) and paid per currency and leaves the rest out', () => {
    expect(
      rewardTotals([
        { currency: 'USD', status: 'pending', netCents: 100 },
        { currency: 'USD', status: 'approved', netCents: 200 },
        { currency: 'USD', status: 'payable', netCents: 50 },
        { currency: 'USD', status: 'paid', netCents: 400 },
        { currency: 'USD', status: 'rejected', netCents: 999 },
        { currency: 'USD', status: 'reversed', netCents: 999 },
        { currency: 'EUR', status: 'paid', netCents: 70 },
      ]),
    ).toEqual([
      { currency: 'EUR', pendingCents: 0, approvedCents: 0, paidCents: 70 },
      { currency: 'USD', pendingCents: 100, approvedCents: 250, paidCents: 400 },
    ]);
  });
});

describe('rangeProblem', () => {
  it.each([
    ['2026-01-01', '2026-03-31', null],
    ['2026-01-01', '2026-01-01', null],
    ['2026-02-01', '2026-01-31', 'from (2026-02-01) is after to (2026-01-31)'],
    ['2024-01-01', '2026-01-01', 'the range is 732 days; a report covers at most 731'],
  ])('%s … %s', (from, to, problem) => {
    expect(rangeProblem(from, to)).toBe(problem);
  });
});
