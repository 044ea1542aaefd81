import { describe, expect, it } from 'vitest';
import {
  becameEligible,
  evaluateEligibility,
  tenureCrossesOn,
  tenureCrossingDue,
  type AccountFacts,
} from '../../../src/domain/eligibility.ts';
import { defaultEligibilityRules, type EligibilityRule } from '../../../src/domain/program.ts';

const today = '2026-04-01';
const happy: AccountFacts = {
  nps: 9,
  customerSince: '2026-01-01',
  healthScore: 70,
  lifecycleStage: 'customer',
  openEscalations: 0,
  isCustomer: true,
};

describe('evaluateEligibility with the default rules', () => {
  it('an account passing every rule is eligible, with one reason per rule', () => {
    const r = evaluateEligibility(happy, defaultEligibilityRules(), today);
    expect(r.eligible).toBe(true);
    expect(r.reasons).toEqual([
      { rule: 'min_nps', passed: true, detail: 'NPS 9 is at least 9' },
      { rule: 'min_customer_days', passed: true, detail: 'customer for 90 days, at least 90' },
      { rule: 'min_health_score', passed: true, detail: 'health score 70 is at least 70' },
      { rule: 'lifecycle_stage', passed: true, detail: 'lifecycle stage is customer' },
      { rule: 'no_open_escalation', passed: true, detail: 'no open escalation' },
    ]);
    expect(r.summary).toBe('Eligible to refer: all 5 rules pass.');
  });

  it.each<[string, Partial<AccountFacts>, string, string]>([
    ['NPS below 9', { nps: 8 }, 'min_nps', 'NPS 8 is below 9'],
    ['no NPS', { nps: null }, 'min_nps', 'no NPS score recorded'],
    ['customer for 89 days', { customerSince: '2026-01-02' }, 'min_customer_days', 'customer for 89 days, fewer than 90'],
    ['not a customer', { isCustomer: false }, 'min_customer_days', 'the account is not a customer'],
    ['no customer-since date', { customerSince: null }, 'min_customer_days', 'no customer-since date recorded'],
    ['low health', { healthScore: 69 }, 'min_health_score', 'health score 69 is below 70'],
    ['another stage', { lifecycleStage: 'opportunity' }, 'lifecycle_stage', 'lifecycle stage is opportunity, not customer'],
    ['no stage', { lifecycleStage: undefined }, 'lifecycle_stage', 'no lifecycle stage recorded'],
    ['an open escalation', { openEscalations: 2 }, 'no_open_escalation', '2 open escalations'],
  ])('%s makes the account ineligible and says why', (_label, change, rule, detail) => {
    const r = evaluateEligibility({ ...happy, ...change }, defaultEligibilityRules(), today);
    expect(r.eligible).toBe(false);
    expect(r.reasons.filter((x) => !x.passed)).toEqual([{ rule, passed: false, detail }]);
    expect(r.summary).toBe(`Not eligible to refer: ${detail}.`);
  });

  it('health score only applies when recorded', () => {
    const r = evaluateEligibility({ ...happy, healthScore: null }, defaultEligibilityRules(), today);
    expect(r.eligible).toBe(true);
    expect(r.reasons[2]).toEqual({ rule: 'min_health_score', passed: true, detail: 'no health score recorded, which this program allows' });
  });

  it("passes a 'customer' stage rule for a value the installation's mapping says means customer, naming it", () => {
    const mapped = { ...happy, lifecycleStage: 'Customer - Direct', stageMeansCustomer: true };
    const r = evaluateEligibility(mapped, defaultEligibilityRules(), today);
    expect(r.eligible).toBe(true);
    expect(r.reasons[3]).toEqual({
      rule: 'lifecycle_stage',
      passed: true,
      detail: 'lifecycle stage is Customer - Direct, which means customer',
    });
    expect(evaluateEligibility({ ...mapped, stageMeansCustomer: false }, defaultEligibilityRules(), today).eligible).toBe(false);
  });

  it('matches the lifecycle stage regardless of case', () => {
    expect(evaluateEligibility({ ...happy, lifecycleStage: 'Customer' }, defaultEligibilityRules(), today).eligible).toBe(true);
  });

  it('reads customerSince given as an instant', () => {
    expect(evaluateEligibility({ ...happy, customerSince: '2026-01-01T15:00:00Z' }, defaultEligibilityRules(), today).eligible).toBe(true);
  });

  it('lists several failures in the summary', () => {
    const r = evaluateEligibility({ ...happy, nps: 3, openEscalations: 1 }, defaultEligibilityRules(), today);
    expect(r.summary).toBe('Not eligible to refer: NPS 3 is below 9; 1 open escalation.');
  });
});

describe('rule settings', () => {
  it('a disabled rule is skipped', () => {
    const rules = defaultEligibilityRules().map((r): EligibilityRule => (r.kind === 'min_nps' ? { ...r, enabled: false } : r));
    const r = evaluateEligibility({ ...happy, nps: 2 }, rules, today);
    expect(r.eligible).toBe(true);
    expect(r.reasons.map((x) => x.rule)).not.toContain('min_nps');
  });

  it('a parameter changes the threshold', () => {
    const rules: EligibilityRule[] = [{ kind: 'min_nps', enabled: true, min: 7, ifMissing: 'fail' }];
    expect(evaluateEligibility({ ...happy, nps: 7 }, rules, today).eligible).toBe(true);
  });

  it('a missing field can be made to fail', () => {
    const rules: EligibilityRule[] = [{ kind: 'no_open_escalation', enabled: true, ifMissing: 'fail' }];
    const r = evaluateEligibility({ ...happy, openEscalations: null }, rules, today);
    expect(r.reasons).toEqual([{ rule: 'no_open_escalation', passed: false, detail: 'no escalation data recorded' }]);
  });

  it('no rules at all means eligible', () => {
    expect(evaluateEligibility(happy, [], today)).toEqual({ eligible: true, reasons: [], summary: 'Eligible to refer: all 0 rules pass.' });
  });
});

describe('becameEligible', () => {
  it.each([
    [{ eligible: false }, { eligible: true }, true],
    [{ eligible: true }, { eligible: true }, false],
    [{ eligible: true }, { eligible: false }, false],
    [null, { eligible: true }, false], // first evaluation: nothing is known to have changed
  ])('%o → %o: %s', (previous, current, expected) => {
    expect(becameEligible(previous, current)).toBe(expected);
  });
});

describe('tenureCrossesOn', () => {
  it.each<[string, Partial<AccountFacts>, EligibilityRule[], string | null]>([
    ['a customer: customer-since plus the minimum days', {}, defaultEligibilityRules(), '2026-04-01'],
    ['an instant reads as its day', { customerSince: '2026-01-01T23:30:00Z' }, defaultEligibilityRules(), '2026-04-01'],
    ['not a customer', { isCustomer: false }, defaultEligibilityRules(), null],
    ['no customer-since date', { customerSince: null }, defaultEligibilityRules(), null],
    [
      'the tenure rule disabled',
      {},
      defaultEligibilityRules().map((r): EligibilityRule => (r.kind === 'min_customer_days' ? { ...r, enabled: false } : r)),
      null,
    ],
    [
      'a 30-day minimum',
      {},
      defaultEligibilityRules().map((r): EligibilityRule => (r.kind === 'min_customer_days' ? { ...r, days: 30 } : r)),
      '2026-01-31',
    ],
  ])('%s', (_label, change, rules, expected) => {
    expect(tenureCrossesOn({ ...happy, ...change }, rules)).toBe(expected);
  });
});

describe('tenureCrossingDue', () => {
  it.each<[string, string | null, string, string, boolean]>([
    ['crossed after the evaluation, by today', '2026-04-01', '2026-03-20', '2026-04-01', true],
    ['crossed days ago, never evaluated since', '2026-03-25', '2026-03-20', '2026-04-01', true],
    ['crosses tomorrow', '2026-04-02', '2026-03-20', '2026-04-01', false],
    ['crossed on the day of the evaluation, which saw it', '2026-03-20', '2026-03-20', '2026-04-01', false],
    ['crossed before the evaluation', '2026-01-01', '2026-03-20', '2026-04-01', false],
    ['cannot cross by time alone', null, '2026-03-20', '2026-04-01', false],
  ])('%s', (_label, crossesOn, evaluatedOn, today, due) => {
    const decision = tenureCrossingDue({ crossesOn, evaluatedOn }, today);
    expect(decision.due).toBe(due);
    expect(decision.reason).toMatch(/tenure/);
  });
});
