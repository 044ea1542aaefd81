import { describe, expect, test } from 'vitest';
import { nextDigestAt, referrerView, type NotificationIntent } from '../../../src/notify/enqueue.ts';
import type { Discretion } from '../../../src/notify/topics.ts';

const data: NotificationIntent['data'] = {
  referral: { id: 'ref_1', status: 'qualified', refereeName: 'Bob Buyer', refereeCompany: 'Globex', notes: 'CFO is sceptical' },
  deal: { amountCents: 2_500_000, currency: 'USD', stage: 'Negotiation' },
  reward: { id: 'rwd_1', amountCents: 250_000, currency: 'USD', status: 'approved', dueDate: '2026-06-30' },
  account: { name: 'Globex', reasons: ['NPS 10'] },
};
const defaults: Discretion = { showStage: true, showReward: true, showDealAmount: false, showInternalNotes: false };

describe('referrerView', () => {
  test('by default: stage and reward, not the deal amount, notes or account internals', () => {
    expect(referrerView(data, defaults)).toEqual({
      referral: { id: 'ref_1', status: 'in_sales_process', refereeName: 'Bob Buyer', refereeCompany: 'Globex' },
      deal: { stage: 'Negotiation' },
      reward: { id: 'rwd_1', status: 'approved', dueDate: '2026-06-30', amount: 2500, currency: 'USD' },
    });
  });

  test.each([
    [{ showStage: false }, (v: ReturnType<typeof referrerView>) => expect(v.deal).toBeUndefined()],
    [
      { showReward: false },
      (v: ReturnType<typeof referrerView>) => expect(v.reward).toEqual({ id: 'rwd_1', status: 'approved', dueDate: '2026-06-30' }),
    ],
    [
      { showDealAmount: true },
      (v: ReturnType<typeof referrerView>) => expect(v.deal).toEqual({ stage: 'Negotiation', amount: 25_000, currency: 'USD' }),
    ],
    [{ showInternalNotes: true }, (v: ReturnType<typeof referrerView>) => expect(v.referral?.notes).toBe('CFO is sceptical')],
  ])('discretion %o', (change, check) => {
    check(referrerView(data, { ...defaults, ...change }));
  });

  test.each([
    ['full_name', 'Bob', { refereeName: 'Bob Buyer', refereeCompany: 'Globex' }],
    ['first_name', 'Bob', { refereeName: 'Bob', refereeCompany: 'Globex' }],
    ['first_name', null, { refereeName: 'Globex', refereeCompany: null }],
    ['company_only', 'Bob', { refereeName: 'Globex', refereeCompany: null }],
  ] as const)('the program names the referee by %s (first name %s)', (refereeNaming, firstName, named) => {
    const withFirstName = { ...data, referral: { ...data.referral!, refereeFirstName: firstName } };
    const view = referrerView(withFirstName, { ...defaults, refereeNaming });
    expect(view.referral).toMatchObject(named);
    expect(JSON.stringify(view)).not.toContain('refereeFirstName');
    if (refereeNaming !== 'full_name') expect(JSON.stringify(view)).not.toContain('Buyer');
  });

  test('fields the intent carries beyond the allowlist never pass', () => {
    const leaky = { ...data, referral: { ...data.referral!, refereeEmail: 'bob@globex.test' } } as NotificationIntent['data'];
    expect(JSON.stringify(referrerView(leaky, defaults))).not.toContain('bob@globex.test');
  });
});

describe('nextDigestAt', () => {
  test.each([
    ['2026-03-10T07:59:59.000Z', '2026-03-10T08:00:00.000Z'],
    ['2026-03-10T08:00:00.000Z', '2026-03-11T08:00:00.000Z'],
    ['2026-03-31T23:00:00.000Z', '2026-04-01T08:00:00.000Z'],
  ])('%s → %s', (now, expected) => {
    expect(nextDigestAt(new Date(now)).toISOString()).toBe(expected);
  });
});
