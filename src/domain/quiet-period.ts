// Which deal steps a referrer is told, and when: steps passed within a short quiet period are
// merged into the latest, and the final ones (won, lost) are never held.

/** The deal steps a referrer hears about, in pipeline order; won and lost are final. */
export const DEAL_STEPS = ['contacted', 'in_sales_process', 'won', 'lost'] as const;
export type DealStep = (typeof DEAL_STEPS)[number];

export const DEFAULT_QUIET_PERIOD_SECONDS = 60;

const RANK: Readonly<Record<DealStep, number>> = { contacted: 1, in_sales_process: 2, won: 3, lost: 3 };

export function isFinalStep(step: DealStep): boolean {
  return step === 'won' || step === 'lost';
}

/** A message about an earlier step of the same referral, to the same recipient on the same channel. */
export interface EarlierStepMessage {
  id: number;
  step: DealStep;
  /** Still waiting (`sendAt` not reached, never attempted) or already on its way / told. */
  state: 'held' | 'told';
  /** When a held message is due. */
  sendAt: string;
}

export interface StepMessagePlan {
  /** Send the new message at this instant; null: not at all (`reason` says why). */
  sendAt: string | null;
  reason: string;
  /** Held messages the new one replaces: cancelled, never sent. */
  cancel: { id: number; reason: string }[];
}

/**
 * When to send the message announcing `step`, reached at `now`, given the messages about the
 * same referral before it. Deterministic: the same facts always give the same plan.
 *
 * - A final step (won, lost) goes out at once and cancels every held step, so the quiet period never delays the news that matters.
 * - An open step waits for the quiet period, counted from the first step still held, and cancels
 *   the held steps it replaces: a deal passing three steps in a minute is told once, at its latest.
 * - An open step at or below a step already told is not told (a later step was announced; telling
 *   an earlier one after it would read as news out of order).
 */
export function planStepMessage(args: {
  step: DealStep;
  now: string;
  quietPeriodSeconds: number;
  earlier: readonly EarlierStepMessage[];
}): StepMessagePlan {
  const { step, now, quietPeriodSeconds, earlier } = args;
  const held = earlier.filter((m) => m.state === 'held');
  const cancel = held.map((m) => ({ id: m.id, reason: `superseded by the later step ${step}` }));
  if (isFinalStep(step)) {
    return { sendAt: now, reason: `${step} is final: told at once`, cancel };
  }
  const toldRank = Math.max(0, ...earlier.filter((m) => m.state === 'told').map((m) => RANK[m.step]));
  if (RANK[step] <= toldRank) {
    const told = earlier.filter((m) => m.state === 'told' && RANK[m.step] === toldRank).map((m) => m.step)[0];
    return { sendAt: null, reason: `the referrer was already told of ${told}, a step at or after ${step}`, cancel };
  }
  const windowEnd = new Date(Date.parse(now) + quietPeriodSeconds * 1000).toISOString();
  const firstHeld = held.map((m) => m.sendAt).sort()[0];
  const sendAt = firstHeld && firstHeld < windowEnd ? firstHeld : windowEnd;
  return { sendAt, reason: `held for the quiet period until ${sendAt}`, cancel };
}
