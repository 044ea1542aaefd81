import { CrmError, type CrmClient, type CrmDeal, type CrmWrite } from '../../../connectors/connector.ts';
import { attributeDeal, attributedValueCents, isStaleDealRead, reversalDecision, type Attribution } from '../../domain/attribution.ts';
import type { CurrencyBook } from '../../domain/exchange.ts';
import type { RecurringDeal } from '../../domain/revenue-share.ts';
import { lifecycleStepForStage, type StageLabels, type StageMapping, stageLabelOf } from '../../domain/referral-lifecycle.ts';
import type { UseCaseContext } from '../../ports/context.ts';
import type { InstallationRow } from '../../store/installations.repo.ts';
import type { ProgramVersion } from '../../store/programs.repo.ts';
import type { ReferralRow } from '../../store/referrals.repo.ts';
import { promoteAfterClose } from '../promote-referrer.ts';
import { clawback, settleMilestone } from '../reward-ledger.ts';
import { linkPerson } from './apply-people.ts';
import {
  attributionCandidates,
  dealCompanyDomains,
  dealKind,
  dealSource,
  referralDecisions,
  recurringFacts,
  referralsAtDomain,
} from './attribution-facts.ts';
import { moveReferral } from './move-referral.ts';
import { type DealBatch, readDealBatch } from './deal-batch.ts';
import { readOnce, type ReadOnce } from './read-once.ts';
import { BATCH, chunks, type RecordGuard } from './record-batches.ts';

/** Deals: lifecycle, attribution, rewards; a deal the CRM no longer has is reversed. Returns the write-back. */
export async function applyDeals(
  ctx: UseCaseContext,
  client: CrmClient,
  installation: InstallationRow,
  ids: string[],
  guard: RecordGuard,
): Promise<CrmWrite[]> {
  const writes: CrmWrite[] = [];
  let currencies: Promise<CurrencyBook | null> | undefined;
  for (const chunk of chunks(ids, BATCH)) {
    const { records, gone } = await client.getDeals(chunk);
    let batch = await readDealBatch(ctx, installation, records);
    // Contacts it linked change what the deals are linked to: read again.
    if (await linkDealContacts(ctx, client, installation, records, batch)) batch = await readDealBatch(ctx, installation, records);
    const domains = await dealCompanyDomains(client, records);
    // Won deals may pay in another currency than they were sold in: the CRM's rates, read once per sync.
    const book = records.some((d) => d.isWon) ? await (currencies ??= readCurrencies(ctx, client, installation)) : null;
    for (const deal of records) {
      await guard({ objectType: 'deal', id: deal.id }, async () => {
        writes.push(...(await applyDeal(ctx, installation, deal, domains.get(deal.id) ?? null, book, batch)));
      });
      // Each deal is milliseconds of synchronous SQLite: let webhook requests in between, so a
      // drain never delays an acknowledgement towards HubSpot's 5 s timeout.
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const g of gone) await guard({ objectType: 'deal', id: g.id }, async () => await applyDealGone(ctx, installation, g.id));
  }
  return writes;
}

/**
 * A deal whose contacts, companies and id link to no referral may still be a referee's: the rep
 * converted the lead or created a new contact for them, and no event about that person reached us
 * (Salesforce sends no Outbound Message on lead conversion). Its contacts are read in one batch
 * and matched by email. True when any was linked.
 */
async function linkDealContacts(
  ctx: UseCaseContext,
  client: CrmClient,
  installation: InstallationRow,
  deals: CrmDeal[],
  batch: DealBatch,
): Promise<boolean> {
  const unlinked = deals.filter((deal) => batch.linked(deal).length === 0).flatMap((deal) => deal.contactIds);
  let linked = false;
  for (const chunk of chunks([...new Set(unlinked)], BATCH)) {
    const { records } = await client.getPeople('contact', chunk);
    for (const person of records) if (await linkPerson(ctx, installation, person)) linked = true;
  }
  return linked;
}

/** Candidates for a deal: referrals linked to its contacts, companies, or the deal itself, and referrals at its company domain. */
async function candidatesFor(
  ctx: UseCaseContext,
  installation: InstallationRow,
  deal: CrmDeal,
  companyDomain: string | null,
  batch: DealBatch,
): Promise<ReferralRow[]> {
  const linked = batch.linked(deal);
  const atDomain = (await referralsAtDomain(ctx, installation, companyDomain)).filter((r) => !linked.some((l) => l.id === r.id));
  return [...linked, ...atDomain];
}

/**
 * The CRM's company currency and exchange rates. A CRM that cannot tell them now does not stop the
 * sync: rewards in other currencies wait in needs_rate, with the reason, until a later sync settles them.
 */
async function readCurrencies(ctx: UseCaseContext, client: CrmClient, installation: InstallationRow): Promise<CurrencyBook | null> {
  try {
    return await client.currencies();
  } catch (error) {
    if (error instanceof CrmError && (error.code === 'auth_revoked' || error.code === 'auth_expired')) throw error;
    ctx.log.warn({ installationId: installation.id, err: error }, 'exchange rates could not be read; rewards in other currencies wait');
    return null;
  }
}

async function applyDeal(
  ctx: UseCaseContext,
  installation: InstallationRow,
  deal: CrmDeal,
  companyDomain: string | null,
  currencies: CurrencyBook | null,
  batch: DealBatch,
): Promise<CrmWrite[]> {
  const { store } = ctx;
  const now = ctx.now();
  const { current } = batch;
  if (!current) return [];
  // Each referral follows its own program; the default program only judges a deal none of them reaches.
  const { program } = current;
  const previous = batch.previous(deal.id);
  if (isStaleDealRead(previous && { modifiedAt: previous.crmModifiedAt }, deal)) {
    ctx.log.info({ dealId: deal.id, applied: previous?.crmModifiedAt, fetched: deal.modifiedAt }, 'older read of a deal ignored');
    return [];
  }
  const referrals = await candidatesFor(ctx, installation, deal, companyDomain, batch);
  if (referrals.length === 0 && !previous) return [];
  // A refetch of a deal whose facts did not change (many events about one deal) decides nothing new,
  // unless its rewards wait for an exchange rate the CRM may have now.
  const waitsForRate = batch.waitsForRate(deal.id);
  if (
    !waitsForRate &&
    previous?.appliedFingerprint &&
    previous.appliedFingerprint === dealFingerprint(await programVersionsOf(ctx, current, referrals), deal, companyDomain, referrals)
  )
    return [];

  const applied = await store.transaction(async () => {
    const known = readOnce(ctx);
    // Read fresh, once for both: an admin may have changed the mappings since this job began.
    const settings = await store.installations.settings((await store.installations.get(installation.id)) ?? installation);
    const source = dealSource(installation, settings, deal);
    const kind = dealKind(installation, settings, deal);
    await store.deals.save(installation.id, deal, source.source, kind.kind, now);
    const decision = attributeDeal({
      program,
      deal: { ...deal, companyDomain, sourcedBy: source.source, sourceReason: source.reason, kind: kind.kind },
      candidates: await attributionCandidates(ctx, known, referrals),
    });
    await store.audit.decideAll([
      { installationId: installation.id, subjectType: 'deal', subjectId: deal.id, kind: 'attribution', outcome: decision },
      ...referralDecisions(installation.id, deal.id, decision),
    ]);

    const reversal = reversalDecision(
      { dealWasWon: previous?.isWon ?? false, amountCents: previous?.firstYearValueCents ?? null, currency: deal.currency },
      { exists: true, isWon: deal.isWon, isClosed: deal.isClosed, amountCents: deal.firstYearValueCents },
    );
    if (reversal.reverse) await reverseDeal(ctx, installation, deal.id, reversal.reason, now);

    const stageLabel = stageLabelOf(((await ctx.store.installations.settings(installation)).stageLabels ?? {}) as StageLabels, deal);
    const step = lifecycleStepForStage(await installationStageMapping(ctx, installation), deal, stageLabel);
    const writes: CrmWrite[] = [];
    let creditedReferral: ReferralRow | undefined;
    const movedById = new Map<string, ReferralRow>();
    for (const attribution of decision.attributed) {
      const referral = (await store.referrals.get(attribution.referralId))!;
      await store.referrals.link(installation.id, referral.id, 'deal', deal.id);
      if (kind.kind !== 'new_business') {
        // A renewal or expansion leaves the referral where its first won deal put it.
        if (deal.isWon) {
          await recordAttribution(ctx, installation, deal, attribution, (await known.lockedProgram(referral)).attribution.model, now);
          if (attribution.role === 'sourced') creditedReferral ??= referral;
          await settleRecurring(
            ctx,
            known,
            referral,
            deal,
            attribution.sharePpm,
            await recurringFacts(ctx, referral.id, deal, kind),
            now,
            currencies,
          );
        }
        continue;
      }
      const moved = await moveReferral(ctx, {
        referral,
        to: step.step,
        reason: step.reason,
        source: `crm:deal:${deal.id}:${deal.modifiedAt}`,
        deal,
        stageLabel,
        known,
        now,
      });
      movedById.set(moved.id, moved);
      if (deal.isWon) {
        await recordAttribution(ctx, installation, deal, attribution, (await known.lockedProgram(moved)).attribution.model, now);
        if (attribution.role === 'sourced') creditedReferral ??= moved;
      }
      await settleReferral(ctx, known, moved, deal, attribution.sharePpm, now, currencies);
      // After the close's rewards are settled under the current tier: a promotion pays from the next deal on.
      if (deal.isWon && deal.closeDate && moved.status === 'closed_won' && attribution.sharePpm > 0) {
        // Promotions follow the current rules of the referral's program.
        const promoting = (await store.programs.current(moved.programId))!.program;
        await promoteAfterClose(ctx, { program: promoting, referral: moved, closeDate: deal.closeDate, actor: `crm:deal:${deal.id}`, now });
      }
      const referrer = await known.referrer(moved.referrerId);
      if (moved.crmPersonId && moved.crmPersonType) {
        writes.push({
          target: 'referral',
          person: { objectType: moved.crmPersonType, id: moved.crmPersonId },
          dealId: deal.id,
          fields: {
            referralId: moved.id,
            status: moved.status,
            referrerName: referrer.name,
            referrerEmail: referrer.email,
            referrerType: referrer.type,
          },
        });
      }
    }
    if (creditedReferral) {
      const referrer = await known.referrer(creditedReferral.referrerId);
      writes.push({
        target: 'deal',
        dealId: deal.id,
        fields: {
          referralId: creditedReferral.id,
          referrerName: referrer.name,
          attributedAmountCents: attributedValueCents(deal.firstYearValueCents, decision.attributed),
          currency: deal.currency,
        },
      });
    }
    // The candidates are the same referrals as before; only the attributed ones moved.
    const candidatesNow = referrals.map((r) => movedById.get(r.id) ?? r);
    await store.deals.setFingerprint(
      installation.id,
      deal.id,
      dealFingerprint(await programVersionsOf(ctx, current, candidatesNow), deal, companyDomain, candidatesNow),
    );
    return { writes, moved: [...movedById.values()] };
  });
  batch.moved(applied.moved);
  return applied.writes;
}

/** The current version of the default program and of each candidate's program, by program id. */
async function programVersionsOf(ctx: UseCaseContext, defaultVersion: ProgramVersion, candidates: ReferralRow[]): Promise<string[]> {
  const versions = new Map([[defaultVersion.programId, defaultVersion.version]]);
  for (const programId of new Set(candidates.map((r) => r.programId)))
    if (!versions.has(programId)) versions.set(programId, (await ctx.store.programs.current(programId))?.version ?? 0);
  return [...versions].map(([id, version]) => `${id}@${version}`).sort();
}

/** Everything applying a deal depends on: its facts and company domain, its candidates and their statuses, the programs' versions. */
function dealFingerprint(programVersions: string[], deal: CrmDeal, companyDomain: string | null, candidates: ReferralRow[]): string {
  const { modifiedAt: _modifiedAt, name: _name, ...facts } = deal;
  return JSON.stringify([
    programVersions,
    { ...facts, companyDomain, contactIds: [...deal.contactIds].sort(), companyIds: [...deal.companyIds].sort() },
    candidates.map((r) => `${r.id}:${r.status}`).sort(),
  ]);
}

/** A deal the CRM no longer has: what it earned is reversed; its referrals go back to accepted. */
async function applyDealGone(ctx: UseCaseContext, installation: InstallationRow, dealId: string): Promise<void> {
  const now = ctx.now();
  const previous = await ctx.store.deals.get(installation.id, dealId);
  if (!previous || previous.deleted) return;
  await ctx.store.transaction(async () => {
    const known = readOnce(ctx);
    await ctx.store.deals.markDeleted(installation.id, dealId, now);
    const decision = reversalDecision(
      { dealWasWon: previous.isWon, amountCents: previous.firstYearValueCents },
      { exists: false, isWon: false, isClosed: false, amountCents: null },
    );
    if (decision.reverse) await reverseDeal(ctx, installation, dealId, decision.reason, now);
    for (const referral of await ctx.store.referrals.linkedTo(installation.id, [{ objectType: 'deal', ids: [dealId] }])) {
      await moveReferral(ctx, {
        referral,
        to: 'accepted',
        reason: `deal ${dealId} was deleted in the CRM`,
        source: `crm:deal:${dealId}:deleted:${now.toISOString()}`,
        deal: null,
        stageLabel: null,
        known,
        now,
      });
    }
  });
}

/** Reverses the deal's attributions and claws back the rewards it earned. */
async function reverseDeal(ctx: UseCaseContext, installation: InstallationRow, dealId: string, reason: string, now: Date): Promise<void> {
  for (const attribution of await ctx.store.referrals.activeAttributionsForDeal(installation.id, dealId)) {
    await ctx.store.referrals.reverseAttribution(attribution.id, reason, now);
    const rewards = (await ctx.store.rewards.forReferral(attribution.referralId)).filter(
      (r) => r.dealId === dealId && r.milestone === 'closed_won',
    );
    await clawback(ctx, rewards, reason, `crm:deal:${dealId}`, now);
  }
}

async function recordAttribution(
  ctx: UseCaseContext,
  installation: InstallationRow,
  deal: CrmDeal,
  attribution: Attribution,
  model: string,
  now: Date,
): Promise<void> {
  const active = (await ctx.store.referrals.activeAttributionsForDeal(installation.id, deal.id)).find(
    (a) => a.referralId === attribution.referralId,
  );
  if (active && active.sharePpm === attribution.sharePpm && active.role === attribution.role) return;
  if (active) await ctx.store.referrals.reverseAttribution(active.id, 'the attribution was recomputed', now);
  await ctx.store.referrals.insertAttribution({
    installationId: installation.id,
    dealId: deal.id,
    referralId: attribution.referralId,
    referrerId: attribution.referrerId,
    model,
    sharePpm: attribution.sharePpm,
    role: attribution.role,
    evidence: attribution.evidence,
    reasons: attribution.reasons,
    status: 'active',
  });
}

/** Rewards for the milestones the referral's current status has reached. */
async function settleReferral(
  ctx: UseCaseContext,
  known: ReadOnce,
  referral: ReferralRow,
  deal: CrmDeal,
  sharePpm: number,
  now: Date,
  currencies: CurrencyBook | null,
): Promise<void> {
  const referrer = await known.referrer(referral.referrerId);
  const program = await known.lockedProgram(referral);
  const { status } = referral;
  const actor = `crm:deal:${deal.id}`;
  if (status === 'qualified' || status === 'in_sales_process' || status === 'closed_won') {
    await settleMilestone(ctx, { referral, referrer, program, milestone: 'qualified', deal: null, sharePpm: 1_000_000, actor, now });
  }
  if (status === 'closed_won' && deal.isWon) {
    await settleMilestone(ctx, {
      referral,
      referrer,
      program,
      milestone: 'closed_won',
      deal: {
        id: deal.id,
        firstYearValueCents: deal.firstYearValueCents,
        amountCents: deal.amountCents,
        currency: deal.currency,
        closeDate: deal.closeDate,
      },
      sharePpm,
      actor,
      now,
      currencies,
    });
  }
}

/** A won renewal or expansion: its revenue share, if a rule and its period say so, and nothing else. */
async function settleRecurring(
  ctx: UseCaseContext,
  known: ReadOnce,
  referral: ReferralRow,
  deal: CrmDeal,
  sharePpm: number,
  recurring: RecurringDeal | null,
  now: Date,
  currencies: CurrencyBook | null,
): Promise<void> {
  await settleMilestone(ctx, {
    referral,
    referrer: await known.referrer(referral.referrerId),
    program: await known.lockedProgram(referral),
    milestone: 'closed_won',
    deal: {
      id: deal.id,
      firstYearValueCents: deal.firstYearValueCents,
      amountCents: deal.amountCents,
      currency: deal.currency,
      closeDate: deal.closeDate,
    },
    sharePpm,
    actor: `crm:deal:${deal.id}`,
    now,
    currencies,
    recurring,
  });
}

async function installationStageMapping(ctx: UseCaseContext, installation: InstallationRow): Promise<StageMapping> {
  return ((await ctx.store.installations.settings(installation)).stageMapping ?? {}) as StageMapping;
}
