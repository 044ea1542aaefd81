import { addDays, toDateOnly } from '../domain/dates.ts';
import { decideLeaving, defaultProgram, sameProgram, type LeavingDecision, type Program } from '../domain/program.ts';
import type { ReferrerType } from '../domain/program.ts';
import { simulateProgram, simulateSampleDeal, type SimulationDeal, type SimulationResult } from '../domain/simulation.ts';
import type { ProgramRow, ProgramVersion } from '../store/programs.repo.ts';
import { recurringFacts } from './apply-crm-changes/attribution-facts.ts';
import type { UseCaseContext } from '../ports/context.ts';

export type SaveProgramResult =
  | { outcome: 'saved'; version: ProgramVersion }
  /** The same settings as the current version: no new version is made. */
  | { outcome: 'unchanged'; version: ProgramVersion }
  /** The change was made on a version that is no longer the current one. */
  | { outcome: 'stale'; version: ProgramVersion };

/** Where a new program's first settings come from: the installation's default program, or a fresh install's. */
export const NEW_PROGRAM_SOURCES = ['default', 'blank'] as const;
export type NewProgramSource = (typeof NEW_PROGRAM_SOURCES)[number];

/**
 * Another program beside the installation's others (a partner program beside the customer one):
 * version 1 is the default program's current settings, or a fresh install's, under its own name.
 * It has no referrers until they are added or referred into it.
 */
export async function createProgram(
  ctx: UseCaseContext,
  args: { installationId: string; name: string; from: NewProgramSource; actor: string },
): Promise<{ program: ProgramRow; version: ProgramVersion }> {
  const { store } = ctx;
  const now = ctx.now();
  return await store.transaction(async () => {
    const source = args.from === 'default' ? (await store.programs.currentDefault(args.installationId))!.program : defaultProgram();
    const program = await store.programs.create(args.installationId, false);
    const version = await store.programs.addVersion(program, { ...source, name: args.name }, args.actor);
    await store.audit.record({
      installationId: args.installationId,
      actor: args.actor,
      action: 'program.created',
      subjectType: 'program',
      subjectId: program.id,
      after: { name: args.name, from: args.from, version: version.version },
      at: now.toISOString(),
    });
    return { program, version };
  });
}

/** The referrer belongs to the program from now on: they can be referred into it and get its link. */
export async function addToProgram(ctx: UseCaseContext, program: ProgramRow, referrerId: string, actor: string): Promise<boolean> {
  const now = ctx.now();
  return await ctx.store.transaction(async () => {
    const joined = await ctx.store.programs.join(program, referrerId);
    if (joined)
      await ctx.store.audit.record({
        installationId: program.installationId,
        actor,
        action: 'program.referrer_added',
        subjectType: 'referrer',
        subjectId: referrerId,
        after: { programId: program.id },
        at: now.toISOString(),
      });
    return joined;
  });
}

export type RemoveFromProgramResult = Exclude<LeavingDecision, { outcome: 'leaves' }> | { outcome: 'removed'; linkRetired: boolean };

/**
 * The referrer no longer belongs to the program: they cannot be referred into it, and their link
 * for it is retired (a prospect who visited it before still counts, as for any retired link).
 * What they referred before keeps its program and version, and earns as it would have.
 */
export async function removeFromProgram(
  ctx: UseCaseContext,
  program: ProgramRow,
  referrerId: string,
  actor: string,
): Promise<RemoveFromProgramResult> {
  const { store } = ctx;
  const now = ctx.now().toISOString();
  return await store.transaction(async () => {
    const decision = decideLeaving(
      (await store.programs.programsOf(referrerId)).map((p) => p.id),
      program.id,
    );
    if (decision.outcome !== 'leaves') return decision;
    await store.programs.leave(program, referrerId);
    const link = await store.referralLinks.activeFor(referrerId, program.id);
    if (link) await store.referralLinks.revoke(link.code, now);
    await store.audit.record({
      installationId: program.installationId,
      actor,
      action: 'program.referrer_removed',
      subjectType: 'referrer',
      subjectId: referrerId,
      before: { programId: program.id },
      after: { linkRetired: link?.code ?? null },
      at: now,
    });
    return { outcome: 'removed', linkRetired: link !== undefined };
  });
}

/**
 * A program change is a new version; referrals keep the version they were submitted under.
 * `basedOnVersion` is the version the caller read and edited, when it says so.
 */
export async function saveProgram(
  ctx: UseCaseContext,
  program: ProgramRow,
  settings: Program,
  actor: string,
  basedOnVersion?: number,
): Promise<SaveProgramResult> {
  const now = ctx.now();
  return await ctx.store.transaction(async () => {
    const before = await ctx.store.programs.current(program.id);
    if (before && basedOnVersion !== undefined && basedOnVersion !== before.version) return { outcome: 'stale', version: before };
    if (before && sameProgram(before.program, settings)) return { outcome: 'unchanged', version: before };
    const version = await ctx.store.programs.addVersion(program, settings, actor);
    await ctx.store.audit.record({
      installationId: program.installationId,
      actor,
      action: 'program.replaced',
      subjectType: 'program',
      subjectId: program.id,
      before: before ? { version: before.version, program: before.program } : null,
      after: { version: version.version, program: settings },
      at: now.toISOString(),
    });
    return { outcome: 'saved', version };
  });
}

/**
 * What a draft program would have cost over the stored won deals of the last `months` months,
 * next to the current program, per referrer; and what a sample deal would pay under each.
 */
export async function simulateDraft(
  ctx: UseCaseContext,
  program: ProgramRow,
  draft: Program,
  months: number,
  /** A sample deal closed won today, whose rewards under both are told too. */
  sample?: { amountCents: number; referrerType: ReferrerType },
): Promise<SimulationResult & { deals: number; sample?: ReturnType<typeof simulateSampleDeal> }> {
  const { store } = ctx;
  const { installationId } = program;
  const current = await store.programs.current(program.id);
  if (!current) throw new Error(`program ${program.id} has no version`);
  const today = toDateOnly(ctx.now().toISOString());
  const since = addDays(today, -Math.round(months * 30.44));
  const deals: SimulationDeal[] = [];
  for (const deal of await store.deals.wonSince(installationId, since)) {
    for (const attribution of await store.referrals.activeAttributionsForDeal(installationId, deal.dealId)) {
      if (attribution.role !== 'sourced' || (await store.referrals.get(attribution.referralId))?.programId !== program.id) continue;
      const referrer = await store.referrals.referrer(attribution.referrerId);
      if (!referrer || !deal.closeDate) continue;
      deals.push({
        referral: { id: attribution.referralId, referrerId: referrer.id, referrerType: referrer.type, referrerTier: referrer.tier },
        deal: {
          id: deal.dealId,
          firstYearValueCents: deal.firstYearValueCents,
          amountCents: deal.amountCents,
          currency: deal.currency,
          closeDate: deal.closeDate,
        },
        sharePpm: attribution.sharePpm,
        recurring: await recurringFacts(
          ctx,
          attribution.referralId,
          { id: deal.dealId, closeDate: deal.closeDate },
          {
            kind: deal.dealKind,
            reason: `the deal was recorded as ${deal.dealKind.replace('_', ' ')} when it was applied`,
          },
        ),
      });
    }
  }
  return {
    ...simulateProgram({ draft, current: current.program, deals, today }),
    deals: deals.length,
    ...(sample ? { sample: simulateSampleDeal({ draft, current: current.program, today, ...sample }) } : {}),
  };
}
