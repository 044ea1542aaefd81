import { describe, expect, it } from 'vitest';
import { defaultProgram } from '../../../src/domain/program.ts';
import { programSchema } from '../../../src/http/program.schema.ts';
import { checkDraft, getAt, issuesByField, setAt, withCurrency } from '../../../web/src/console/program/draft.ts';
import { mappingOf, newEligibilityRule, newRule, newRuleId } from '../../../web/src/console/program/rows.ts';
import { pathWords } from '../../../web/src/console/program/words.ts';
import { everySettingProgram } from '../../support/every-setting-program.ts';

describe('the editor’s draft is the document GET answered', () => {
  it.each([
    ['the default program', defaultProgram()],
    ['a program with every setting', everySettingProgram()],
  ])('%s passes the API’s schema as it is, and the schema adds and drops nothing', (_, program) => {
    expect(checkDraft(program)).toEqual({});
    expect(programSchema.parse(program)).toEqual(program);
  });

  it('sets a value by path without touching the original, and removes an optional setting', () => {
    const program = everySettingProgram();
    const changed = setAt(program, ['rewardRules', 5, 'brackets', 2, 'fee', 'rateBasisPoints'], 250);
    expect(getAt(changed, ['rewardRules', 5, 'brackets', 2, 'fee', 'rateBasisPoints'])).toBe(250);
    expect(getAt(program, ['rewardRules', 5, 'brackets', 2, 'fee', 'rateBasisPoints'])).toBe(200);
    expect(changed.rewardRules[0]).toBe(program.rewardRules[0]);

    const noCap = setAt(program, ['caps', 'perReferralCents'], undefined);
    expect(noCap.caps).toEqual({ perReferrerPerYearCents: 2_500_000 });
    expect('perReferralCents' in noCap.caps).toBe(false);
  });

  it('names what the schema refuses by the field’s path, as the API does', () => {
    const program = setAt(setAt(defaultProgram(), ['rewardRules', 3, 'rateBasisPoints'], 12_000), ['attribution', 'windowDays'], 0);
    expect(checkDraft(program)).toEqual({
      'rewardRules.3.rateBasisPoints': 'must be between 0 and 100%',
      'attribution.windowDays': 'must be at least 1 day',
    });
    const promoted = { ...everySettingProgram(), promotionRules: [{ id: 'p', closedWonReferrals: 3, withinDays: 30, toTier: 'diamond' }] };
    expect(checkDraft(promoted)).toEqual({ 'promotionRules.0.toTier': "diamond is not one of the program's tiers (silver, gold)" });
  });

  it('says the API’s field names as the editor’s labels do', () => {
    const rule = { ...(defaultProgram().rewardRules[3] as object), minCents: 500, maxCents: 100, minDealCents: 10, maxDealCents: 5 };
    const program = setAt(defaultProgram(), ['rewardRules', 3], rule);
    expect(checkDraft(program)).toEqual({
      'rewardRules.3.maxCents': 'the “at least” amount must not be above the “at most” amount',
      'rewardRules.3.maxDealCents': '“only for deals from” must be below “only for deals below”',
    });
  });

  it('reads a 400’s issues by field, inside the PUT document or the program itself, the first of a field winning', () => {
    expect(
      issuesByField([
        { field: 'program.caps.perReferralCents', message: 'must not be negative' },
        { field: 'program.caps.perReferralCents', message: 'second' },
        { field: 'payoutDays', message: 'must be a whole number of days' },
        { field: 'program', message: 'whole' },
        { field: 'programme', message: 'not ours' },
      ]),
    ).toEqual({
      'caps.perReferralCents': 'must not be negative',
      payoutDays: 'must be a whole number of days',
      '': 'whole',
      programme: 'not ours',
    });
  });
});

describe('changing the program’s currency keeps the amounts as typed', () => {
  it('USD → EUR keeps every minor unit; USD → JPY drops the cents digits; JPY → KWD adds three', () => {
    const program = everySettingProgram();
    const eur = withCurrency(program, 'EUR');
    expect(eur.ok && eur.program).toEqual({ ...program, currency: 'EUR' });

    const jpy = withCurrency(program, 'JPY');
    if (!jpy.ok) throw new Error(jpy.error);
    expect(jpy.program.approvalThresholdCents).toBe(1_000);
    expect(jpy.program.rewardRules[5]).toMatchObject({ brackets: [{ fromCents: 0 }, { fromCents: 10_000 }, { fee: { minCents: 1_000 } }] });
    expect(jpy.program.caps).toEqual({ perReferralCents: 5_000, perReferrerPerYearCents: 25_000 });
    // Rates and counts are not amounts.
    expect(jpy.program.rewardRules[3]).toMatchObject({ rateBasisPoints: 1_000 });
    expect(jpy.program.dedupe.windowDays).toBe(180);

    const kwd = withCurrency(jpy.program, 'KWD');
    expect(kwd.ok && kwd.program.approvalThresholdCents).toBe(1_000_000);
  });

  it('refuses a currency with fewer decimals than an amount has', () => {
    const program = setAt(defaultProgram(), ['approvalThresholdCents'], 100_050);
    expect(withCurrency(program, 'JPY')).toEqual({
      ok: false,
      error: 'one amount has more decimals than JPY allows (0): round it to JPY first',
    });
  });
});

describe('new rows', () => {
  it('a new rule of each kind gets a fresh id and, once given a rate or amount, passes the schema', () => {
    let program = defaultProgram();
    for (const kind of ['fixed', 'percent', 'bracket', 'revenue_share'] as const) {
      program = { ...program, rewardRules: [...program.rewardRules, newRule(program, kind)] };
    }
    expect(program.rewardRules.slice(4).map((r) => r.id)).toEqual(['fixed-1', 'percent-1', 'bracket-1', 'revenue_share-1']);
    expect(checkDraft(program)).toEqual({});
    expect(newRuleId([{ id: 'percent-1' }, { id: 'percent-2' }], 'percent')).toBe('percent-3');
  });

  it('a new eligibility rule of each kind passes the schema', () => {
    const rules = (['min_nps', 'min_customer_days', 'min_health_score', 'lifecycle_stage', 'no_open_escalation'] as const).map(
      newEligibilityRule,
    );
    expect(checkDraft({ ...defaultProgram(), eligibility: { rules } })).toEqual({});
  });

  it('the eligibility-fields form: an empty field is not read, the customer values a list', () => {
    expect(
      mappingOf({
        fields: { nps: ' nps__c ', customerSince: '', healthScore: 'health', openEscalations: '' },
        accountTypeField: 'type',
        customerValues: 'Customer, Customer - Direct,',
      }),
    ).toEqual({
      nps: 'nps__c',
      customerSince: null,
      healthScore: 'health',
      openEscalations: null,
      accountType: { field: 'type', customerValues: ['Customer', 'Customer - Direct'] },
    });
    expect(
      mappingOf({
        fields: { nps: '', customerSince: '', healthScore: '', openEscalations: '' },
        accountTypeField: ' ',
        customerValues: 'x',
      }).accountType,
    ).toBeNull();
  });
});

describe('what to fix, in words', () => {
  it.each([
    ['rewardRules.1.rateBasisPoints', 'Reward rule 2, percent'],
    ['rewardRules.4.brackets.0.fromCents', 'Reward rule 5, row 1, deals from'],
    ['attribution.windowDays', 'Attribution, window days'],
    ['approvalThresholdCents', 'Approval threshold'],
    ['', 'The program'],
  ])('%s → %s', (key, words) => {
    expect(pathWords(key)).toBe(words);
  });
});
