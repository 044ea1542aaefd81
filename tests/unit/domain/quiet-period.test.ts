import { describe, expect, it } from 'vitest';
import { type EarlierStepMessage, planStepMessage } from '../../../src/domain/quiet-period.ts';

const now = '2026-05-01T10:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(now) + seconds * 1000).toISOString();

describe('planStepMessage', () => {
  it('holds an open step for the quiet period', () => {
    expect(planStepMessage({ step: 'contacted', now, quietPeriodSeconds: 60, earlier: [] })).toEqual({
      sendAt: at(60),
      reason: `held for the quiet period until ${at(60)}`,
      cancel: [],
    });
  });

  it('replaces a held earlier step and keeps the first step’s deadline, so merging never delays beyond one period', () => {
    const earlier: EarlierStepMessage[] = [{ id: 7, step: 'contacted', state: 'held', sendAt: at(20) }];
    const plan = planStepMessage({ step: 'in_sales_process', now, quietPeriodSeconds: 60, earlier });
    expect(plan.sendAt).toBe(at(20));
    expect(plan.cancel).toEqual([{ id: 7, reason: 'superseded by the later step in_sales_process' }]);
  });

  it('sends a final step at once and cancels every held step', () => {
    const earlier: EarlierStepMessage[] = [
      { id: 1, step: 'contacted', state: 'told', sendAt: at(-300) },
      { id: 2, step: 'in_sales_process', state: 'held', sendAt: at(40) },
    ];
    for (const step of ['won', 'lost'] as const) {
      const plan = planStepMessage({ step, now, quietPeriodSeconds: 60, earlier });
      expect(plan.sendAt).toBe(now);
      expect(plan.cancel).toEqual([{ id: 2, reason: `superseded by the later step ${step}` }]);
    }
  });

  it('never tells an earlier step after a later one, and drops what it would have replaced', () => {
    const earlier: EarlierStepMessage[] = [
      { id: 1, step: 'in_sales_process', state: 'told', sendAt: at(-300) },
      { id: 2, step: 'won', state: 'held', sendAt: at(30) },
    ];
    const plan = planStepMessage({ step: 'contacted', now, quietPeriodSeconds: 60, earlier });
    expect(plan.sendAt).toBeNull();
    expect(plan.reason).toBe('the referrer was already told of in_sales_process, a step at or after contacted');
    expect(plan.cancel).toEqual([{ id: 2, reason: 'superseded by the later step contacted' }]);
  });

  it('tells each step of a slow deal once, in order', () => {
    const told: EarlierStepMessage[] = [];
    const sent: string[] = [];
    for (const [i, step] of (['contacted', 'in_sales_process', 'won'] as const).entries()) {
      const plan = planStepMessage({ step, now: at(i * 600), quietPeriodSeconds: 60, earlier: told });
      expect(plan.cancel).toEqual([]);
      sent.push(`${step}@${plan.sendAt}`);
      told.push({ id: i, step, state: 'told', sendAt: plan.sendAt! });
    }
    expect(sent).toEqual([`contacted@${at(60)}`, `in_sales_process@${at(660)}`, `won@${at(1200)}`]);
  });

  it('a quiet period of 0 tells every step at once', () => {
    expect(planStepMessage({ step: 'contacted', now, quietPeriodSeconds: 0, earlier: [] }).sendAt).toBe(now);
  });
});
