import type {
  CrmClient,
  CrmCompany,
  CrmDeal,
  CrmObjectType,
  CrmPerson,
  CrmWrite,
} from '../../connectors/connector.ts';
import { attributeDeal, attributedValueCents, isStaleDealRead, reversalDecision } from '../domain/attribution.ts';
import { toDateOnly } from '../domain/dates.ts';
import { becameEligible, evaluateEligibility } from '../domain/eligibility.ts';
import { normalizeEmail } from '../domain/normalize.ts';
import type { Program } from '../domain/program.ts';
import {
  lifecycleStepForStage,
  progressFromDeal,
  type ReferralStatus,
  type StageMapping,
} from '../domain/referral-lifecycle.ts';
import type { NotificationTopic } from '../notify/topics.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import type { ReferralRow, ReferrerRow } from '../store/referrals.repo.ts';
import type { UseCaseContext } from '../ports/context.ts';
import { programNotice, referralNotice } from '../notify/notices.ts';
import { clawback, lockedProgram, settleMilestone } from './reward-ledger.ts';

export interface RecordRef {
  objectType: CrmObjectType;
  id: string;
}

export interface ApplyResult {
  /** Records whose application threw; their events are retried, the rest are done. */
  failed: { ref: RecordRef; error: string }[];
}

/** The CRM's batch size for reads and writes. */
const BATCH = 100;

const TOPIC_FOR_STATUS: Partial<Record<ReferralStatus, NotificationTopic>> = {
  contacted: 'referral.contacted',
  qualified: 'referral.in_sales_process',
  in_sales_process: 'referral.in_sales_process',
  closed_won: 'referral.won',
  closed_lost: 'referral.lost',
};

/**
 * The one path from "these CRM records changed" to stored decisions, used by webhook sync and
 * reconciliation alike. Events are hints: the current state of each record is fetched in batches,
 * then applied idempotently (every transition, reward and notification has a key).
 */
export async function applyCrmChanges(
  ctx: UseCaseContext,
  installation: InstallationRow,
  refs: RecordRef[],
): Promise<ApplyResult> {
  const client = ctx.crm.client(installation);
  const result: ApplyResult = { failed: [] };
  const ids = (type: CrmObjectType) => [...new Set(refs.filter((r) => r.objectType === type).map((r) => r.id))];
  const dealIds = new Set(ids('deal'));
  const guard = (ref: RecordRef, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      ctx.log.error({ err, ref }, 'applying a CRM record failed');
      result.failed.push({ ref, error: err instanceof Error ? err.message : String(err) });
    }
  };

  // People: link referrals to their CRM person, follow merges and lead conversions.
  const linkedPeople: { contactIds: string[]; companyIds: string[] } = { contactIds: [], companyIds: [] };
  for (const type of ['contact', 'lead'] as const) {
    for (const chunk of chunks(ids(type), BATCH)) {
      const { records } = await client.getPeople(type, chunk);
      for (const person of records) {
        guard({ objectType: type, id: person.id }, () => {
          const touched = linkPerson(ctx, installation, person);
          if (touched && person.objectType === 'contact') linkedPeople.contactIds.push(person.id);
          if (touched) linkedPeople.companyIds.push(...person.companyIds);
          if (person.converted?.dealId) dealIds.add(person.converted.dealId);
          if (person.converted?.contactId && touched) linkedPeople.contactIds.push(person.converted.contactId);
        });
      }
    }
  }

  // Companies: eligibility to refer, written back to the record.
  const writes: CrmWrite[] = [];
  for (const chunk of chunks(ids('company'), BATCH)) {
    const { records } = await client.getCompanies(chunk);
    const owners = await ownersOfNewlyEligible(ctx, client, installation, records);
    for (const company of records) guard({ objectType: 'company', id: company.id }, () => writes.push(...applyCompany(ctx, installation, company, owners)));
    linkedPeople.companyIds.push(...records.filter((c) => ctx.store.referrals.linkedTo(installation.id, [{ objectType: 'company', ids: [c.id] }]).length).map((c) => c.id));
  }

  // A referred person or company changed: their deals may have too (new association).
  if (linkedPeople.contactIds.length || linkedPeople.companyIds.length) {
    for (const id of await client.findDealIdsFor({
      contactIds: [...new Set(linkedPeople.contactIds)],
      companyIds: [...new Set(linkedPeople.companyIds)],
    })) {
      dealIds.add(id);
    }
  }

  // Deals: lifecycle, attribution, rewards.
  for (const chunk of chunks([...dealIds], BATCH)) {
    const { records, gone } = await client.getDeals(chunk);
    await linkDealContacts(ctx, client, installation, records);
    for (const deal of records) {
      guard({ objectType: 'deal', id: deal.id }, () => writes.push(...applyDeal(ctx, installation, deal)));
      // Each deal is milliseconds of synchronous SQLite: let webhook requests in between, so a
      // drain never delays an acknowledgement towards HubSpot's 5 s timeout.
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const g of gone) guard({ objectType: 'deal', id: g.id }, () => applyDealGone(ctx, installation, g.id));
  }

  await writeBack(ctx, client, installation, writes);
  return result;
}

/**
 * Writes in CRM-sized batches of one record type each (a batch mixing contacts and deals would be
 * two half-full calls); a record that refuses a write is logged, not retried forever.
 */
async function writeBack(ctx: UseCaseContext, client: CrmClient, installation: InstallationRow, writes: CrmWrite[]): Promise<void> {
  const byType = new Map<string, CrmWrite[]>();
  for (const write of dedupeWrites(writes)) {
    const type = write.target === 'referral' ? `referral:${write.person.objectType}` : write.target;
    byType.set(type, [...(byType.get(type) ?? []), write]);
  }
  for (const chunk of [...byType.values()].flatMap((group) => chunks(group, BATCH))) {
    const outcomes = await client.write(chunk);
    for (const outcome of outcomes.filter((o) => !o.ok)) {
      ctx.log.warn({ installationId: installation.id, write: chunk[outcome.index]?.target, err: outcome.error?.message }, 'CRM write-back refused');
    }
  }
}

/** The last write per target record wins: a batch never updates one record twice. */
function dedupeWrites(writes: CrmWrite[]): CrmWrite[] {
  const byTarget = new Map<string, CrmWrite>();
  for (const w of writes) {
    const key = w.target === 'deal' ? `deal:${w.dealId}` : w.target === 'company' ? `company:${w.companyId}` : `referral:${w.fields.referralId}`;
    byTarget.set(key, w);
  }
  return [...byTarget.values()];
}

/**
 * A deal whose contacts, companies and id link to no referral may still be a referee's: the rep
 * converted the lead or created a new contact for them, and no event about that person reached us
 * (Salesforce sends no Outbound Message on lead conversion). Its contacts are read in one batch
 * and matched by email.
 */
async function linkDealContacts(ctx: UseCaseContext, client: CrmClient, installation: InstallationRow, deals: CrmDeal[]): Promise<void> {
  const unlinked = deals.filter((d) => candidatesFor(ctx, installation, d).length === 0).flatMap((d) => d.contactIds);
  for (const chunk of chunks([...new Set(unlinked)], BATCH)) {
    const { records } = await client.getPeople('contact', chunk);
    for (const person of records) linkPerson(ctx, installation, person);
  }
}

/** Links open referrals of this person's email (and merge/conversion targets); true when any is linked. */
function linkPerson(ctx: UseCaseContext, installation: InstallationRow, person: CrmPerson): boolean {
  const { referrals } = ctx.store;
  const linked = referrals.linkedTo(installation.id, [{ objectType: person.objectType, ids: [person.id] }]);
  const byEmail = person.email
    ? referrals.priorFor(installation.id, normalizeEmail(person.email, { plusAddressing: 'strip' }), null)
    : [];
  const all = uniqueById([...linked, ...byEmail]).filter((r) => r.status !== 'rejected');
  for (const referral of all) {
    referrals.link(installation.id, referral.id, person.objectType, person.id);
    for (const companyId of person.companyIds) referrals.link(installation.id, referral.id, 'company', companyId);
    if (person.mergedIntoId) referrals.link(installation.id, referral.id, person.objectType, person.mergedIntoId);
    if (person.converted) {
      const { contactId, companyId, dealId } = person.converted;
      if (contactId) referrals.link(installation.id, referral.id, 'contact', contactId);
      if (companyId) referrals.link(installation.id, referral.id, 'company', companyId);
      if (dealId) referrals.link(installation.id, referral.id, 'deal', dealId);
    }
  }
  return all.length > 0;
}

/** A company whose eligibility to refer changed since the last decision; null when it did not. */
function eligibilityChange(ctx: UseCaseContext, installation: InstallationRow, company: CrmCompany) {
  const program = ctx.store.programs.current(installation.id)?.program;
  if (!program) return null;
  const result = evaluateEligibility(company, program.eligibility.rules, toDateOnly(ctx.now().toISOString()));
  const previous = ctx.store.audit.decisionsFor(installation.id, 'company', company.id).find((d) => d.kind === 'eligibility');
  const before = (previous?.outcome as { eligible: boolean; summary: string } | undefined) ?? null;
  if (before && before.eligible === result.eligible && before.summary === result.summary) return null;
  return { program, result, before, newlyEligible: becameEligible(before, result) };
}

/** The CS owners to tell: the owners of accounts that just became eligible to refer. */
async function ownersOfNewlyEligible(ctx: UseCaseContext, client: CrmClient, installation: InstallationRow, companies: CrmCompany[]): Promise<Owners> {
  const ownerIds = companies.filter((c) => c.ownerId && eligibilityChange(ctx, installation, c)?.newlyEligible).map((c) => c.ownerId!);
  return ownerIds.length ? client.ownerEmails(ownerIds) : {};
}

type Owners = Awaited<ReturnType<CrmClient['ownerEmails']>>;

function applyCompany(ctx: UseCaseContext, installation: InstallationRow, company: CrmCompany, owners: Owners): CrmWrite[] {
  const change = eligibilityChange(ctx, installation, company);
  if (!change) return [];
  const { program, result } = change;
  const now = ctx.now();
  ctx.store.transaction(() => {
    ctx.store.audit.decide({ installationId: installation.id, subjectType: 'company', subjectId: company.id, kind: 'eligibility', outcome: result });
    if (change.newlyEligible) {
      // The account's owner (its CS owner) is told; without one, the program's own address.
      const owner = company.ownerId ? owners[company.ownerId] : undefined;
      ctx.notify(
        {
          installationId: installation.id,
          topic: 'account.eligible',
          sourceKey: `${installation.id}:company:${company.id}:eligible:${toDateOnly(now.toISOString())}`,
          recipient: owner ? { email: owner.email, name: owner.name ?? owner.email } : { email: program.senderEmail, name: program.senderName },
          data: { account: { name: company.name ?? company.domain ?? company.id, reasons: result.reasons.map((r) => r.detail) } },
          program: programNotice(program),
        },
        now,
      );
    }
  });
  return [{ target: 'company', companyId: company.id, fields: { eligible: result.eligible, eligibilityReason: result.summary } }];
}

/** Candidates for a deal: referrals linked to its contacts, companies, or the deal itself. */
function candidatesFor(ctx: UseCaseContext, installation: InstallationRow, deal: { id: string; contactIds: string[]; companyIds: string[] }): ReferralRow[] {
  return ctx.store.referrals.linkedTo(installation.id, [
    { objectType: 'contact', ids: deal.contactIds },
    { objectType: 'company', ids: deal.companyIds },
    { objectType: 'deal', ids: [deal.id] },
  ]);
}

function applyDeal(ctx: UseCaseContext, installation: InstallationRow, deal: CrmDeal): CrmWrite[] {
  const { store } = ctx;
  const now = ctx.now();
  const current = store.programs.current(installation.id);
  if (!current) return [];
  const { program } = current;
  const previous = store.deals.get(installation.id, deal.id);
  if (isStaleDealRead(previous && { modifiedAt: previous.crmModifiedAt }, deal)) {
    ctx.log.info({ dealId: deal.id, applied: previous?.crmModifiedAt, fetched: deal.modifiedAt }, 'older read of a deal ignored');
    return [];
  }
  const referrals = candidatesFor(ctx, installation, deal);
  if (referrals.length === 0 && !previous) return [];
  // A refetch of a deal whose facts did not change (many events about one deal) decides nothing new.
  if (previous?.appliedFingerprint && previous.appliedFingerprint === dealFingerprint(current.version, deal, referrals)) return [];

  return store.transaction(() => {
    const known = readOnce(ctx);
    store.deals.save(installation.id, deal, now);
    const decision = attributeDeal({
      program,
      deal: { ...deal, companyDomain: null },
      candidates: referrals.map((r) => {
        const links = store.referrals.links(r.id);
        return {
          referralId: r.id,
          referrerId: r.referrerId,
          referrerType: known.referrer(r.referrerId).type,
          submittedAt: r.submittedAt,
          status: r.status,
          refereePersonIds: links.filter((l) => l.objectType === 'contact' || l.objectType === 'lead').map((l) => l.objectId),
          refereeCompanyIds: links.filter((l) => l.objectType === 'company').map((l) => l.objectId),
          refereeDomain: r.refereeDomain,
        };
      }),
    });
    store.audit.decide({ installationId: installation.id, subjectType: 'deal', subjectId: deal.id, kind: 'attribution', outcome: decision });

    const reversal = reversalDecision(
      { dealWasWon: previous?.isWon ?? false, amountCents: previous?.firstYearValueCents ?? null, currency: deal.currency },
      { exists: true, isWon: deal.isWon, isClosed: deal.isClosed, amountCents: deal.firstYearValueCents },
    );
    if (reversal.reverse) reverseDeal(ctx, installation, deal.id, reversal.reason, now);

    const step = lifecycleStepForStage(installationStageMapping(ctx, installation), deal);
    const writes: CrmWrite[] = [];
    let creditedReferral: ReferralRow | undefined;
    const movedById = new Map<string, ReferralRow>();
    for (const attribution of decision.attributed) {
      const referral = store.referrals.get(attribution.referralId)!;
      store.referrals.link(installation.id, referral.id, 'deal', deal.id);
      const moved = moveReferral(ctx, known, referral, step.step, `${step.reason}`, `crm:deal:${deal.id}:${deal.modifiedAt}`, deal, now);
      movedById.set(moved.id, moved);
      if (deal.isWon) {
        recordAttribution(ctx, installation, deal, attribution, program.attribution.model, now);
        if (attribution.role === 'sourced') creditedReferral ??= moved;
      }
      settleReferral(ctx, known, moved, deal, attribution.sharePpm, now);
      const referrer = known.referrer(moved.referrerId);
      if (moved.crmPersonId && moved.crmPersonType) {
        writes.push({
          target: 'referral',
          person: { objectType: moved.crmPersonType, id: moved.crmPersonId },
          fields: { referralId: moved.id, status: moved.status, referrerName: referrer.name, referrerEmail: referrer.email, referrerType: referrer.type },
        });
      }
    }
    if (creditedReferral) {
      const referrer = known.referrer(creditedReferral.referrerId);
      writes.push({
        target: 'deal',
        dealId: deal.id,
        fields: { referralId: creditedReferral.id, referrerName: referrer.name, attributedAmountCents: attributedValueCents(deal.firstYearValueCents, decision.attributed), currency: deal.currency },
      });
    }
    // The candidates are the same referrals as before; only the attributed ones moved.
    const candidatesNow = referrals.map((r) => movedById.get(r.id) ?? r);
    store.deals.setFingerprint(installation.id, deal.id, dealFingerprint(current.version, deal, candidatesNow));
    return writes;
  });
}

/**
 * What applying one deal reads repeatedly and nothing in it changes: referrers, and the program
 * versions referrals are locked to (a version is never edited).
 */
function readOnce(ctx: UseCaseContext) {
  const referrers = new Map<string, ReferrerRow>();
  const programs = new Map<string, Program>();
  return {
    referrer(id: string): ReferrerRow {
      return cached(referrers, id, () => ctx.store.referrals.referrer(id)!);
    },
    lockedProgram(referral: ReferralRow): Program {
      return cached(programs, `${referral.installationId}:${referral.programVersion}`, () => lockedProgram(ctx, referral));
    },
  };
}

type ReadOnce = ReturnType<typeof readOnce>;

function cached<V>(values: Map<string, V>, key: string, read: () => V): V {
  let value = values.get(key);
  if (value === undefined) values.set(key, (value = read()));
  return value;
}

/** Everything applying a deal depends on: its facts, its candidates and their statuses, the program version. */
function dealFingerprint(programVersion: number, deal: CrmDeal, candidates: ReferralRow[]): string {
  const { modifiedAt: _modifiedAt, name: _name, ...facts } = deal;
  return JSON.stringify([
    programVersion,
    { ...facts, contactIds: [...deal.contactIds].sort(), companyIds: [...deal.companyIds].sort() },
    candidates.map((r) => `${r.id}:${r.status}`).sort(),
  ]);
}

/** A deal the CRM no longer has: what it earned is reversed; its referrals go back to accepted. */
function applyDealGone(ctx: UseCaseContext, installation: InstallationRow, dealId: string): void {
  const now = ctx.now();
  const previous = ctx.store.deals.get(installation.id, dealId);
  if (!previous || previous.deleted) return;
  ctx.store.transaction(() => {
    const known = readOnce(ctx);
    ctx.store.deals.markDeleted(installation.id, dealId, now);
    const decision = reversalDecision(
      { dealWasWon: previous.isWon, amountCents: previous.firstYearValueCents },
      { exists: false, isWon: false, isClosed: false, amountCents: null },
    );
    if (decision.reverse) reverseDeal(ctx, installation, dealId, decision.reason, now);
    for (const referral of ctx.store.referrals.linkedTo(installation.id, [{ objectType: 'deal', ids: [dealId] }])) {
      moveReferral(ctx, known, referral, 'accepted', `deal ${dealId} was deleted in the CRM`, `crm:deal:${dealId}:deleted:${now.toISOString()}`, null, now);
    }
  });
}

/** Reverses the deal's attributions and claws back the rewards it earned. */
function reverseDeal(ctx: UseCaseContext, installation: InstallationRow, dealId: string, reason: string, now: Date): void {
  for (const attribution of ctx.store.referrals.activeAttributionsForDeal(installation.id, dealId)) {
    ctx.store.referrals.reverseAttribution(attribution.id, reason, now);
    const rewards = ctx.store.rewards.forReferral(attribution.referralId).filter((r) => r.dealId === dealId && r.milestone === 'closed_won');
    clawback(ctx, rewards, reason, `crm:deal:${dealId}`, now);
  }
}

function recordAttribution(
  ctx: UseCaseContext,
  installation: InstallationRow,
  deal: CrmDeal,
  attribution: ReturnType<typeof attributeDeal>['attributed'][number],
  model: string,
  now: Date,
): void {
  const active = ctx.store.referrals.activeAttributionsForDeal(installation.id, deal.id).find((a) => a.referralId === attribution.referralId);
  if (active && active.sharePpm === attribution.sharePpm && active.role === attribution.role) return;
  if (active) ctx.store.referrals.reverseAttribution(active.id, 'the attribution was recomputed', now);
  ctx.store.referrals.insertAttribution({
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
function settleReferral(ctx: UseCaseContext, known: ReadOnce, referral: ReferralRow, deal: CrmDeal, sharePpm: number, now: Date): void {
  const referrer = known.referrer(referral.referrerId);
  const program = known.lockedProgram(referral);
  const status = referral.status;
  const actor = `crm:deal:${deal.id}`;
  if (status === 'qualified' || status === 'in_sales_process' || status === 'closed_won') {
    settleMilestone(ctx, { referral, referrer, program, milestone: 'qualified', deal: null, sharePpm: 1_000_000, actor, now });
  }
  if (status === 'closed_won' && deal.isWon) {
    settleMilestone(ctx, {
      referral,
      referrer,
      program,
      milestone: 'closed_won',
      deal: { id: deal.id, firstYearValueCents: deal.firstYearValueCents, amountCents: deal.amountCents, currency: deal.currency, closeDate: deal.closeDate },
      sharePpm,
      actor,
      now,
    });
  }
}

/**
 * Moves a referral to where its deal says, through the steps it passed, with a timeline entry and
 * a notification for each. Leaving closed won reverses what the win earned.
 */
function moveReferral(
  ctx: UseCaseContext,
  known: ReadOnce,
  referral: ReferralRow,
  target: ReferralStatus,
  reason: string,
  source: string,
  deal: CrmDeal | null,
  now: Date,
): ReferralRow {
  const progress = progressFromDeal(referral.status, target);
  if (progress.action === 'none') return referral;
  const { store } = ctx;
  const referrer = known.referrer(referral.referrerId);
  const program = programNotice(known.lockedProgram(referral));
  let from = progress.from;
  for (const to of progress.path) {
    const key = `${referral.id}:${from}->${to}:${source}`;
    const added = store.referrals.addEvent({
      referralId: referral.id,
      fromStatus: from,
      toStatus: to,
      reasons: [reason],
      source,
      idempotencyKey: key,
      occurredAt: now.toISOString(),
    });
    store.referrals.setStatus(referral.id, to, now);
    const topic = TOPIC_FOR_STATUS[to];
    // Qualified and in-sales-process read the same to a referrer: a step between them says nothing new.
    if (added && topic && topic !== TOPIC_FOR_STATUS[from]) {
      const row = { ...referral, status: to };
      const dealFacts = deal ? { amountCents: deal.amountCents, currency: deal.currency, stage: deal.stageId } : undefined;
      ctx.notify(referralNotice(row, referrer, program, topic, key, reason, dealFacts), now);
    }
    from = to;
  }
  if (progress.leftClosedWon) {
    const rewards = store.rewards.forReferral(referral.id).filter((r) => r.milestone === 'closed_won');
    clawback(ctx, rewards, progress.reason, source, now);
  }
  // The row as setStatus left it.
  return { ...referral, status: progress.to, updatedAt: now.toISOString() };
}

function installationStageMapping(ctx: UseCaseContext, installation: InstallationRow): StageMapping {
  return (ctx.store.installations.settings(installation).stageMapping ?? {}) as StageMapping;
}

function uniqueById(rows: ReferralRow[]): ReferralRow[] {
  return [...new Map(rows.map((r) => [r.id, r])).values()];
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
