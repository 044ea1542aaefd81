import { compareText } from './compare.ts';
import { addDaysToInstant, instantMs, type IsoInstant } from './dates.ts';
import type { RewardMilestone } from './program.ts';

export const REFERRAL_STATUSES = [
  'submitted',
  'claim_pending',
  'accepted',
  'rejected',
  'contacted',
  'qualified',
  'in_sales_process',
  'closed_won',
  'closed_lost',
  'expired',
] as const;
export type ReferralStatus = (typeof REFERRAL_STATUSES)[number];

/** Lifecycle steps a CRM stage can be mapped to; won and lost come from the stage's own flags. */
export type MappedStep = 'contacted' | 'qualified' | 'in_sales_process';
/** Per pipeline, per stage: { [pipelineId]: { [stageId]: step } }. */
export type StageMapping = Record<string, Record<string, MappedStep>>;

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: ReferralStatus,
    readonly to: ReferralStatus,
  ) {
    super(`illegal referral transition ${from} → ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

/** Statuses in which the referral follows its deal; any of them can move to any other. */
const OPEN: readonly ReferralStatus[] = ['accepted', 'contacted', 'qualified', 'in_sales_process'];
const CLOSED: readonly ReferralStatus[] = ['closed_won', 'closed_lost'];

/**
 * Allowed moves. Deals move backwards as well as forwards in a pipeline and can be reopened or
 * flip between won and lost, so the referral follows in every direction between its open and
 * closed steps. Only 'rejected' and 'expired' are final. Open steps may expire: a referral can sit
 * in 'contacted' on a rep's word with no deal behind it.
 */
const TRANSITIONS: Readonly<Record<ReferralStatus, readonly ReferralStatus[]>> = {
  submitted: ['accepted', 'rejected', 'claim_pending'],
  // A claim on an existing deal: approved (accepted and linked to the deal), rejected, or expired.
  claim_pending: ['accepted', 'rejected', 'expired'],
  accepted: [...OPEN, ...CLOSED, 'expired'],
  contacted: [...OPEN, ...CLOSED, 'expired'],
  qualified: [...OPEN, ...CLOSED, 'expired'],
  in_sales_process: [...OPEN, ...CLOSED, 'expired'],
  closed_won: [...OPEN, 'closed_lost'],
  closed_lost: [...OPEN, 'closed_won'],
  rejected: [],
  expired: [],
};

/** Pipeline order used to tell forward from backward moves. */
const RANK: Readonly<Record<ReferralStatus, number>> = {
  submitted: 0,
  claim_pending: 0,
  accepted: 1,
  contacted: 2,
  qualified: 3,
  in_sales_process: 4,
  closed_lost: 5,
  closed_won: 6,
  rejected: -1,
  expired: -1,
};

export function canTransition(from: ReferralStatus, to: ReferralStatus): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

/** Final: nothing moves the referral again. Closed won/lost are not final, deals reopen. */
export function isTerminal(status: ReferralStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

export function isClosedStatus(status: ReferralStatus): boolean {
  return CLOSED.includes(status);
}

export interface TransitionResult {
  changed: boolean;
  from: ReferralStatus;
  to: ReferralStatus;
  reason: string;
}

/** A repeated transition is a no-op (`changed: false`); an illegal one is a bug and throws. */
export function transition(from: ReferralStatus, to: ReferralStatus, reason: string): TransitionResult {
  if (from === to) return { changed: false, from, to, reason: `already ${label(to)}: ${reason}` };
  if (!TRANSITIONS[from].includes(to)) throw new IllegalTransitionError(from, to);
  return { changed: true, from, to, reason };
}

export type DealProgress =
  | { action: 'none'; from: ReferralStatus; to: ReferralStatus; reason: string }
  | {
      action: 'move';
      from: ReferralStatus;
      to: ReferralStatus;
      direction: 'forward' | 'backward';
      /** Steps passed through, in order, ending with `to` (forward moves can skip steps). */
      path: ReferralStatus[];
      /** Reward milestones at or below `to`. Rewards are idempotent, so a jump straight to
       * closed_won also settles a qualified fee that was never paid, and repeats cost nothing. */
      milestonesReached: RewardMilestone[];
      /** The referral leaves closed_won: its rewards must be reversed. */
      leftClosedWon: boolean;
      reason: string;
    };

/**
 * What deal sync should do with a referral when its deal is at `target`. Referrals that were
 * never accepted, or are final, ignore deals (a value, not an error: the CRM is just a source of facts).
 */
export function progressFromDeal(current: ReferralStatus, target: ReferralStatus): DealProgress {
  if (current === target) {
    return { action: 'none', from: current, to: target, reason: `the deal still puts the referral at ${label(target)}` };
  }
  if (!canTransition(current, target)) {
    return {
      action: 'none',
      from: current,
      to: target,
      reason: `the referral is ${label(current)}, so its deal no longer changes it`,
    };
  }
  const forward = RANK[target] > RANK[current];
  // A won deal went through the steps before it; a lost one may have died at any of them.
  const path =
    forward && target === 'closed_won'
      ? OPEN.filter((s) => RANK[s] > RANK[current])
      : forward && target !== 'closed_lost'
        ? OPEN.filter((s) => RANK[s] > RANK[current] && RANK[s] < RANK[target])
        : [];
  const milestonesReached: RewardMilestone[] = [];
  if (target === 'qualified' || target === 'in_sales_process' || target === 'closed_won') milestonesReached.push('qualified');
  if (target === 'closed_won') milestonesReached.push('closed_won');
  const reopened = isClosedStatus(current) && OPEN.includes(target);
  const verb = reopened ? 'was reopened' : forward ? 'moved forward' : 'moved back';
  return {
    action: 'move',
    from: current,
    to: target,
    direction: forward ? 'forward' : 'backward',
    path: [...path, target],
    milestonesReached,
    leftClosedWon: current === 'closed_won',
    reason: `the deal ${verb}: referral goes from ${label(current)} to ${label(target)}`,
  };
}

export interface DealStage {
  pipelineId: string;
  stageId: string;
  isClosed: boolean;
  isWon: boolean;
}

/**
 * The lifecycle step a deal's stage means. Won and lost come only from the CRM's stage flags
 * (never from labels, which admins rename and translate); isWon implies closed.
 * An open stage nobody mapped is treated as 'in_sales_process'.
 */
export function lifecycleStepForStage(
  stageMapping: StageMapping,
  deal: DealStage,
  /** The stage's name as the CRM shows it, for the reason; absent: its id. */
  stageLabel?: string,
): { step: MappedStep | 'closed_won' | 'closed_lost'; reason: string } {
  const stage = stageLabel && stageLabel !== deal.stageId ? `"${stageLabel}" (${deal.stageId})` : deal.stageId;
  if (deal.isWon) return { step: 'closed_won', reason: `deal stage ${stage} is closed won in the CRM` };
  if (deal.isClosed) return { step: 'closed_lost', reason: `deal stage ${stage} is closed lost in the CRM` };
  // Pipeline and stage ids come from the CRM: only the mapping's own keys count, never a
  // prototype member such as `constructor`.
  const pipeline = Object.hasOwn(stageMapping, deal.pipelineId) ? stageMapping[deal.pipelineId] : undefined;
  const mapped = pipeline && Object.hasOwn(pipeline, deal.stageId) ? pipeline[deal.stageId] : undefined;
  if (mapped) {
    return { step: mapped, reason: `stage ${stage} of pipeline ${deal.pipelineId} is mapped to ${label(mapped)}` };
  }
  return {
    step: 'in_sales_process',
    reason: `stage ${stage} of pipeline ${deal.pipelineId} is not mapped, so it counts as in sales process`,
  };
}

/** Per pipeline, per stage: the stage's name as the CRM shows it. */
export type StageLabels = Record<string, Record<string, string>>;

export function stageLabels(stages: readonly (DealStage & { label: string })[]): StageLabels {
  // Maps turned into objects by Object.fromEntries: CRM ids stay own keys, never prototype members.
  const pipelines = new Map<string, Map<string, string>>();
  for (const stage of stages) {
    let pipeline = pipelines.get(stage.pipelineId);
    if (!pipeline) pipelines.set(stage.pipelineId, (pipeline = new Map()));
    pipeline.set(stage.stageId, stage.label);
  }
  return Object.fromEntries([...pipelines].map(([id, labels]) => [id, Object.fromEntries(labels)]));
}

/** A stage's label from `labels`, own keys only; its id when the label is unknown. */
export function stageLabelOf(labels: StageLabels, deal: Pick<DealStage, 'pipelineId' | 'stageId'>): string {
  const pipeline = Object.hasOwn(labels, deal.pipelineId) ? labels[deal.pipelineId] : undefined;
  return pipeline && Object.hasOwn(pipeline, deal.stageId) ? pipeline[deal.stageId]! : deal.stageId;
}

/**
 * The timeline reason of a step a deal passed on its way to `target` without stopping there:
 * what actually happened is the move to the target, so the reason says so.
 */
export function passedStepReason(step: ReferralStatus, target: ReferralStatus, targetReason: string): string {
  if (step === target) return targetReason;
  return `passed on the way to ${label(target)} (${targetReason})`;
}

/** Per pipeline: first open stage → contacted, second → qualified, later open stages → in sales process. */
export function defaultStageMapping(stages: readonly (DealStage & { displayOrder: number })[]): StageMapping {
  // Built in Maps and turned into objects by Object.fromEntries, which defines own keys: a CRM
  // pipeline id of `__proto__` stays a key instead of replacing the object's prototype.
  const pipelines = new Map<string, Map<string, MappedStep>>();
  const open = stages
    .filter((s) => !s.isClosed && !s.isWon)
    .sort((a, b) => a.displayOrder - b.displayOrder || compareText(a.stageId, b.stageId));
  for (const stage of open) {
    let pipeline = pipelines.get(stage.pipelineId);
    if (!pipeline) pipelines.set(stage.pipelineId, (pipeline = new Map()));
    const position = pipeline.size;
    pipeline.set(stage.stageId, position === 0 ? 'contacted' : position === 1 ? 'qualified' : 'in_sales_process');
  }
  return Object.fromEntries([...pipelines].map(([id, steps]) => [id, Object.fromEntries(steps)]));
}

export interface StageMappingProblem {
  pipelineId: string;
  stageId?: string;
  reason: string;
}

export type StageMappingChange = { ok: true; mapping: StageMapping } | { ok: false; problems: StageMappingProblem[] };

/**
 * An admin's change to the stage mapping, checked against the CRM's pipelines: each pipeline sent
 * replaces that pipeline's mapping, the others stay. Unknown pipelines and stages are refused, and
 * so is a closed stage: won and lost come from the CRM's own stage metadata, never the mapping.
 */
export function changeStageMapping(current: StageMapping, requested: StageMapping, stages: readonly DealStage[]): StageMappingChange {
  const byPipeline = new Map<string, Map<string, DealStage>>();
  for (const stage of stages) {
    const pipeline = byPipeline.get(stage.pipelineId) ?? new Map<string, DealStage>();
    pipeline.set(stage.stageId, stage);
    byPipeline.set(stage.pipelineId, pipeline);
  }
  const problems: StageMappingProblem[] = [];
  for (const [pipelineId, mapping] of Object.entries(requested)) {
    const pipeline = byPipeline.get(pipelineId);
    if (!pipeline) {
      problems.push({
        pipelineId,
        reason: `the CRM has no pipeline ${pipelineId} (its pipelines: ${[...byPipeline.keys()].join(', ') || 'none'})`,
      });
      continue;
    }
    for (const [stageId, step] of Object.entries(mapping)) {
      const stage = pipeline.get(stageId);
      if (!stage)
        problems.push({
          pipelineId,
          stageId,
          reason: `pipeline ${pipelineId} has no stage ${stageId} (its stages: ${[...pipeline.keys()].join(', ')})`,
        });
      else if (stage.isClosed || stage.isWon) {
        problems.push({
          pipelineId,
          stageId,
          reason: `stage ${stageId} is closed ${stage.isWon ? 'won' : 'lost'} in the CRM, so it cannot mean ${label(step)}: won and lost come from the CRM's stage metadata`,
        });
      }
    }
  }
  return problems.length ? { ok: false, problems } : { ok: true, mapping: { ...current, ...requested } };
}

export interface ExpiryDecision {
  expire: boolean;
  /** When the attribution window ends (or ended). */
  expiresAt: IsoInstant;
  reason: string;
}

/** An open referral with no deal expires once the attribution window since submission has passed. */
export function expiryDecision(
  referral: { status: ReferralStatus; submittedAt: IsoInstant; hasDeal: boolean },
  now: IsoInstant,
  windowDays: number,
): ExpiryDecision {
  const expiresAt = addDaysToInstant(referral.submittedAt, windowDays);
  const day = expiresAt.slice(0, 10);
  if (!OPEN.includes(referral.status)) {
    return { expire: false, expiresAt, reason: `a ${label(referral.status)} referral does not expire` };
  }
  if (referral.hasDeal) return { expire: false, expiresAt, reason: 'a deal is linked to the referral' };
  if (instantMs(now) < instantMs(expiresAt)) {
    return { expire: false, expiresAt, reason: `the ${windowDays}-day window runs until ${day}` };
  }
  return { expire: true, expiresAt, reason: `no deal within the ${windowDays}-day window, which ended on ${day}` };
}

function label(status: ReferralStatus): string {
  return status.replace(/_/g, ' ');
}
