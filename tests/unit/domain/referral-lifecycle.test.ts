import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  passedStepReason,
  stageLabelOf,
  stageLabels,
  changeStageMapping,
  canTransition,
  defaultStageMapping,
  expiryDecision,
  IllegalTransitionError,
  isTerminal,
  lifecycleStepForStage,
  progressFromDeal,
  REFERRAL_STATUSES,
  transition,
  type ReferralStatus,
} from '../../../src/domain/referral-lifecycle.ts';

describe('transition', () => {
  it.each<[ReferralStatus, ReferralStatus]>([
    ['submitted', 'accepted'],
    ['submitted', 'rejected'],
    ['accepted', 'contacted'],
    ['contacted', 'qualified'],
    ['qualified', 'in_sales_process'],
    ['in_sales_process', 'closed_won'],
    ['in_sales_process', 'closed_lost'],
    ['accepted', 'expired'],
    ['in_sales_process', 'contacted'], // deal moved back in the pipeline
    ['closed_won', 'in_sales_process'], // won deal reopened
    ['closed_won', 'closed_lost'],
    ['closed_lost', 'qualified'], // lost deal reopened
    ['accepted', 'closed_won'], // deal created straight in a won stage
  ])('%s → %s is allowed', (from, to) => {
    expect(transition(from, to, 'because')).toEqual({ changed: true, from, to, reason: 'because' });
  });

  it.each<[ReferralStatus, ReferralStatus]>([
    ['submitted', 'contacted'],
    ['rejected', 'accepted'],
    ['expired', 'contacted'],
    ['closed_won', 'expired'],
    ['closed_won', 'submitted'],
    ['accepted', 'rejected'],
  ])('%s → %s throws IllegalTransitionError', (from, to) => {
    expect(() => transition(from, to, 'because')).toThrow(IllegalTransitionError);
  });

  it('a repeated transition is a no-op for every status', () => {
    for (const s of REFERRAL_STATUSES) {
      const r = transition(s, s, 'webhook delivered twice');
      expect(r.changed).toBe(false);
      expect(r.reason).toContain('webhook delivered twice');
    }
  });

  it('only rejected and expired are terminal', () => {
    expect(REFERRAL_STATUSES.filter(isTerminal)).toEqual(['rejected', 'expired']);
  });

  it('canTransition agrees with transition', () => {
    fc.assert(
      fc.property(fc.constantFrom(...REFERRAL_STATUSES), fc.constantFrom(...REFERRAL_STATUSES), (from, to) => {
        if (canTransition(from, to)) expect(() => transition(from, to, 'x')).not.toThrow();
        else expect(() => transition(from, to, 'x')).toThrow(IllegalTransitionError);
      }),
    );
  });
});

describe('progressFromDeal', () => {
  it('a jump forward lists the steps passed and the milestones reached', () => {
    const p = progressFromDeal('accepted', 'closed_won');
    expect(p).toMatchObject({
      action: 'move',
      direction: 'forward',
      path: ['contacted', 'qualified', 'in_sales_process', 'closed_won'],
      milestonesReached: ['qualified', 'closed_won'],
      leftClosedWon: false,
    });
  });

  it('a lost deal does not claim it passed qualification', () => {
    expect(progressFromDeal('contacted', 'closed_lost')).toMatchObject({ path: ['closed_lost'], milestonesReached: [] });
  });

  it('a reopened won deal moves the referral back and flags the reversal', () => {
    const p = progressFromDeal('closed_won', 'in_sales_process');
    expect(p).toMatchObject({ action: 'move', direction: 'backward', path: ['in_sales_process'], leftClosedWon: true });
    expect(p.reason).toContain('reopened');
  });

  it('a deal moved back a stage moves the referral back', () => {
    expect(progressFromDeal('in_sales_process', 'contacted')).toMatchObject({
      action: 'move',
      direction: 'backward',
      milestonesReached: [],
    });
  });

  it.each<[ReferralStatus, ReferralStatus]>([
    ['qualified', 'qualified'],
    ['rejected', 'closed_won'],
    ['expired', 'contacted'],
    ['submitted', 'qualified'],
  ])('%s with the deal at %s changes nothing', (current, target) => {
    const p = progressFromDeal(current, target);
    expect(p.action).toBe('none');
    expect(p.reason).not.toBe('');
  });
});

describe('lifecycleStepForStage', () => {
  const mapping = { sales: { s1: 'contacted', s2: 'qualified' } } as const;
  it.each([
    [{ pipelineId: 'sales', stageId: 's1', isClosed: false, isWon: false }, 'contacted'],
    [{ pipelineId: 'sales', stageId: 's2', isClosed: false, isWon: false }, 'qualified'],
    [{ pipelineId: 'sales', stageId: 's9', isClosed: false, isWon: false }, 'in_sales_process'], // unmapped
    [{ pipelineId: 'other', stageId: 's1', isClosed: false, isWon: false }, 'in_sales_process'],
    [{ pipelineId: 'sales', stageId: 'won', isClosed: true, isWon: true }, 'closed_won'],
    [{ pipelineId: 'sales', stageId: 'lost', isClosed: true, isWon: false }, 'closed_lost'],
    // won/lost come only from the flags: a mapped stage flagged closed is still closed
    [{ pipelineId: 'sales', stageId: 's2', isClosed: true, isWon: false }, 'closed_lost'],
    // ids from the CRM that name prototype members find no mapping
    [{ pipelineId: 'constructor', stageId: 'name', isClosed: false, isWon: false }, 'in_sales_process'],
    [{ pipelineId: '__proto__', stageId: 'toString', isClosed: false, isWon: false }, 'in_sales_process'],
    [{ pipelineId: 'sales', stageId: 'constructor', isClosed: false, isWon: false }, 'in_sales_process'],
  ])('%o → %s', (deal, step) => {
    const r = lifecycleStepForStage(mapping, deal);
    expect(r.step).toBe(step);
    expect(r.reason).not.toBe('');
  });
});

it('defaultStageMapping maps the first open stage to contacted, the second to qualified, the rest to in sales process', () => {
  const stages = [
    { pipelineId: 'p1', stageId: 'closedwon', displayOrder: 5, isClosed: true, isWon: true },
    { pipelineId: 'p1', stageId: 'presentation', displayOrder: 3, isClosed: false, isWon: false },
    { pipelineId: 'p1', stageId: 'appointment', displayOrder: 0, isClosed: false, isWon: false },
    { pipelineId: 'p1', stageId: 'qualifiedtobuy', displayOrder: 1, isClosed: false, isWon: false },
    { pipelineId: 'p1', stageId: 'decision', displayOrder: 4, isClosed: false, isWon: false },
    { pipelineId: 'p2', stageId: 'a', displayOrder: 1, isClosed: false, isWon: false },
    { pipelineId: 'p2', stageId: 'lost', displayOrder: 2, isClosed: true, isWon: false },
  ];
  expect(defaultStageMapping(stages)).toEqual({
    p1: { appointment: 'contacted', qualifiedtobuy: 'qualified', presentation: 'in_sales_process', decision: 'in_sales_process' },
    p2: { a: 'contacted' },
  });
});

it('defaultStageMapping keeps CRM ids named like prototype members as plain keys, polluting nothing', () => {
  const mapping = defaultStageMapping([
    { pipelineId: '__proto__', stageId: 'polluted', displayOrder: 0, isClosed: false, isWon: false },
    { pipelineId: 'constructor', stageId: '__proto__', displayOrder: 1, isClosed: false, isWon: false },
  ]);
  expect(Object.keys(mapping)).toEqual(['__proto__', 'constructor']);
  expect(JSON.parse(JSON.stringify(mapping))).toEqual(
    JSON.parse('{"__proto__":{"polluted":"contacted"},"constructor":{"__proto__":"contacted"}}'),
  );
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(lifecycleStepForStage(mapping, { pipelineId: '__proto__', stageId: 'polluted', isClosed: false, isWon: false }).step).toBe(
    'contacted',
  );
});

describe('expiryDecision', () => {
  const submittedAt = '2025-01-10T12:00:00.000Z';
  it.each([
    [{ status: 'accepted', submittedAt, hasDeal: false }, '2026-01-10T12:00:00.000Z', true],
    [{ status: 'accepted', submittedAt, hasDeal: false }, '2026-01-10T11:59:59.000Z', false],
    [{ status: 'accepted', submittedAt, hasDeal: true }, '2027-01-01T00:00:00.000Z', false],
    [{ status: 'closed_won', submittedAt, hasDeal: false }, '2027-01-01T00:00:00.000Z', false],
    [{ status: 'rejected', submittedAt, hasDeal: false }, '2027-01-01T00:00:00.000Z', false],
  ] as const)('%o at %s → expire %s', (referral, now, expire) => {
    const d = expiryDecision(referral, now, 365);
    expect(d.expire).toBe(expire);
    expect(d.expiresAt).toBe('2026-01-10T12:00:00.000Z');
    expect(d.reason).not.toBe('');
  });
});

describe('changeStageMapping', () => {
  const stages = [
    { pipelineId: 'sales', stageId: 'demo', isClosed: false, isWon: false },
    { pipelineId: 'sales', stageId: 'proposal', isClosed: false, isWon: false },
    { pipelineId: 'sales', stageId: 'won', isClosed: true, isWon: true },
    { pipelineId: 'sales', stageId: 'lost', isClosed: true, isWon: false },
    { pipelineId: 'partner', stageId: 'intro', isClosed: false, isWon: false },
  ];
  const current = { sales: { demo: 'contacted', proposal: 'qualified' }, partner: { intro: 'contacted' } } as const;

  it('replaces the pipelines sent and keeps the others', () => {
    expect(changeStageMapping(current, { sales: { demo: 'qualified' } }, stages)).toEqual({
      ok: true,
      mapping: { sales: { demo: 'qualified' }, partner: { intro: 'contacted' } },
    });
  });

  it.each([
    [
      'an unknown pipeline',
      { renewals: { demo: 'contacted' } },
      { pipelineId: 'renewals' },
      /no pipeline renewals \(its pipelines: sales, partner\)/,
    ],
    [
      'an unknown stage',
      { sales: { negotiation: 'in_sales_process' } },
      { pipelineId: 'sales', stageId: 'negotiation' },
      /has no stage negotiation/,
    ],
    [
      'a won stage mapped to an open step',
      { sales: { won: 'contacted' } },
      { pipelineId: 'sales', stageId: 'won' },
      /closed won in the CRM/,
    ],
    [
      'a lost stage mapped to an open step',
      { sales: { lost: 'qualified' } },
      { pipelineId: 'sales', stageId: 'lost' },
      /closed lost in the CRM/,
    ],
  ] as const)('refuses %s with the reason', (_what, requested, where, reason) => {
    const result = changeStageMapping(current, requested, stages);
    expect(result.ok).toBe(false);
    const [problem] = result.ok ? [] : result.problems;
    expect(problem).toMatchObject(where);
    expect(problem!.reason).toMatch(reason);
  });
});

describe('stage labels and the reasons that name them', () => {
  const stages = [
    { pipelineId: 'default', stageId: 'closedwon', label: 'Closed Won', isClosed: true, isWon: true },
    { pipelineId: '__proto__', stageId: 'constructor', label: 'Odd but real', isClosed: false, isWon: false },
  ];

  it('finds a stage label by own keys only, else the stage id', () => {
    const labels = stageLabels(stages);
    expect(stageLabelOf(labels, { pipelineId: 'default', stageId: 'closedwon' })).toBe('Closed Won');
    expect(stageLabelOf(labels, { pipelineId: '__proto__', stageId: 'constructor' })).toBe('Odd but real');
    expect(stageLabelOf(labels, { pipelineId: 'default', stageId: 'toString' })).toBe('toString');
    expect(stageLabelOf({}, { pipelineId: 'default', stageId: 'closedwon' })).toBe('closedwon');
  });

  it('a step the deal jumped over says so, instead of repeating the reason of the step reached', () => {
    const won = lifecycleStepForStage({}, stages[0]!, 'Closed Won');
    expect(won.reason).toBe('deal stage "Closed Won" (closedwon) is closed won in the CRM');
    expect(passedStepReason('contacted', 'closed_won', won.reason)).toBe(
      'passed on the way to closed won (deal stage "Closed Won" (closedwon) is closed won in the CRM)',
    );
    expect(passedStepReason('closed_won', 'closed_won', won.reason)).toBe(won.reason);
  });
});
