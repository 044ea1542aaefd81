import { addDays, toDateOnly } from '../domain/dates.ts';
import type { Program } from '../domain/program.ts';
import { simulateProgram, type SimulationDeal, type SimulationResult } from '../domain/simulation.ts';
import type { ProgramVersion } from '../store/programs.repo.ts';
import type { UseCaseContext } from '../ports/context.ts';

/** A program change is a new version; referrals keep the version they were submitted under. */
export function replaceProgram(ctx: UseCaseContext, installationId: string, program: Program, actor: string): ProgramVersion {
  const now = ctx.now();
  return ctx.store.transaction(() => {
    const before = ctx.store.programs.current(installationId);
    const version = ctx.store.programs.addVersion(installationId, program, actor);
    ctx.store.audit.record({
      installationId,
      actor,
      action: 'program.replaced',
      subjectType: 'program',
      subjectId: installationId,
      before: before ? { version: before.version, program: before.program } : null,
      after: { version: version.version, program },
      at: now.toISOString(),
    });
    return version;
  });
}

/**
 * What a draft program would have cost over the stored won deals of the last `months` months,
 * next to the current program, per referrer.
 */
export function simulateDraft(ctx: UseCaseContext, installationId: string, draft: Program, months: number): SimulationResult & { deals: number } {
  const { store } = ctx;
  const current = store.programs.current(installationId);
  if (!current) throw new Error(`installation ${installationId} has no program`);
  const today = toDateOnly(ctx.now().toISOString());
  const since = addDays(today, -Math.round(months * 30.44));
  const deals: SimulationDeal[] = [];
  for (const deal of store.deals.wonSince(installationId, since)) {
    for (const attribution of store.referrals.activeAttributionsForDeal(installationId, deal.dealId)) {
      if (attribution.role !== 'sourced') continue;
      const referrer = store.referrals.referrer(attribution.referrerId);
      if (!referrer || !deal.closeDate) continue;
      deals.push({
        referral: { id: attribution.referralId, referrerId: referrer.id, referrerType: referrer.type, referrerTier: referrer.tier },
        deal: { id: deal.dealId, firstYearValueCents: deal.firstYearValueCents, amountCents: deal.amountCents, currency: deal.currency, closeDate: deal.closeDate },
        sharePpm: attribution.sharePpm,
      });
    }
  }
  return { ...simulateProgram({ draft, current: current.program, deals, today }), deals: deals.length };
}
