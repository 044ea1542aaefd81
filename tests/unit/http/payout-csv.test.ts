import { describe, expect, it } from 'vitest';
import { csvCell, payoutRunCsv, toCsv } from '../../../src/http/payout-export.ts';
import type { PayoutRunWithLines } from '../../../src/store/payouts.repo.ts';

describe('CSV cells: RFC 4180 quoting, formulas neutralised', () => {
  it.each([
    ['plain', 'plain'],
    ['Lee, Pat', '"Lee, Pat"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\r\nlines', '"two\r\nlines"'],
    ['=HYPERLINK("http://evil.example")', `"'=HYPERLINK(""http://evil.example"")"`],
    ['+1 555', "'+1 555"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['-12.50', '-12.50'],
    ['1250.00', '1250.00'],
  ])('%j → %j', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('rows end with CRLF and start with the header', () => {
    expect(toCsv(['a', 'b'], [['1', 'x,y']])).toBe('a,b\r\n1,"x,y"\r\n');
  });
});

describe('payoutRunCsv', () => {
  const run: PayoutRunWithLines = {
    id: 'pay_1',
    installationId: 'ins_1',
    programId: 'prg_1',
    status: 'exported',
    dueOn: '2026-04-30',
    reference: null,
    createdAt: '2026-04-30T10:00:00.000Z',
    exportedAt: '2026-04-30T10:00:00.000Z',
    sentAt: null,
    paidAt: null,
    lines: [
      {
        id: 7,
        runId: 'pay_1',
        payeeType: 'referrer',
        payeeKey: 'ref_1',
        payeeName: '=cmd|calc',
        payeeEmail: 'carla@customer-co.example',
        currency: 'USD',
        grossCents: 60_000,
        recoveredCents: 50_000,
        amountCents: 10_000,
        sendStatus: null,
        providerOrderId: null,
        providerRewardId: null,
        failureReason: null,
        grantKey: 'cash',
        grant: null,
        rewardIds: ['rwd_a', 'rwd_b'],
      },
      {
        id: 9,
        runId: 'pay_1',
        payeeType: 'referrer',
        payeeKey: 'ref_1',
        payeeName: 'Carla Customer',
        payeeEmail: 'carla@customer-co.example',
        currency: 'USD',
        grossCents: 25_000,
        recoveredCents: 0,
        amountCents: 25_000,
        sendStatus: null,
        providerOrderId: null,
        providerRewardId: null,
        failureReason: null,
        grantKey: 'donation:Save the Children, UK',
        grant: { kind: 'donation', charity: 'Save the Children, UK' },
        rewardIds: ['rwd_d'],
      },
      {
        id: 8,
        runId: 'pay_1',
        payeeType: 'referee',
        payeeKey: 'pat@acme.example',
        payeeName: 'Pat Lee',
        payeeEmail: 'pat@acme.example',
        currency: 'JPY',
        grossCents: 3_000,
        recoveredCents: 0,
        amountCents: 3_000,
        sendStatus: null,
        providerOrderId: null,
        providerRewardId: null,
        failureReason: null,
        grantKey: 'gift_card',
        grant: { kind: 'gift_card' },
        rewardIds: ['rwd_c'],
      },
    ],
  };
  it('one line per payee, currency and grant, amounts in major units with the currency digits, the grant last', () => {
    expect(payoutRunCsv(run).split('\r\n')).toEqual([
      'payee,email,amount,currency,reward_ids,reference,grant',
      "'=cmd|calc,carla@customer-co.example,100.00,USD,rwd_a rwd_b,pay_1-7,cash",
      'Carla Customer,carla@customer-co.example,250.00,USD,rwd_d,pay_1-9,"donation:Save the Children, UK"',
      'Pat Lee,pat@acme.example,3000,JPY,rwd_c,pay_1-8,gift_card',
      '',
    ]);
  });
});
