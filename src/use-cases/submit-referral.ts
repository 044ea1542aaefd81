import { CrmError, type CrmClient, type CrmDeal } from '../../connectors/connector.ts';
import type { Audience, ClaimableDeal, DealHolder } from '../domain/claims.ts';
import type { ReferrerType } from '../domain/program.ts';
import { refereeIdentity } from '../domain/normalize.ts';
import { lifecycleStepForStage, type ReferralStatus, type StageMapping } from '../domain/referral-lifecycle.ts';
import { checkSubmission, type SubmissionFacts, type SubmissionVerdict } from '../domain/submission.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import type { ProgramRow, ProgramVersion } from '../store/programs.repo.ts';
import { newId, type ReferralRow, type ReferrerRow } from '../store/referrals.repo.ts';
import type { UseCaseContext } from '../ports/context.ts';
import { claimNotice, programNotice, referralNotice, rejectedSubmissionNote } from '../notify/notices.ts';
import { applyCrmChanges } from './apply-crm-changes.ts';
import type { Recipient } from '../notify/topics.ts';

/** Why a held referral waits, on its record and timeline. */
export const AWAITING_APPROVAL = 'The program approves link referrals: it waits for an approver.';

export interface SubmitReferralInput {
  installation: InstallationRow;
  referrer: { email: string; name: string; type: ReferrerType; company?: string | undefined };
  referee: {
    email: string;
    firstName?: string | undefined;
    lastName?: string | undefined;
    company?: string | undefined;
    domain?: string | undefined;
  };
  notes?: string | undefined;
  /** The deal the referral claims (the card on a deal record names it). */
  deal?: { id: string } | undefined;
  submittedBy: { kind: 'rep' | 'referrer' | 'integration'; id?: string | undefined; name?: string | undefined };
  /** Request id, recorded as the timeline's source. */
  source: string;
  /** The referral ask it answers (submitted from the ask's page in the portal). */
  askId?: string | undefined;
  /** When it counts as submitted, if not now: a link referral counts from the visit, and so does its attribution window. */
  submittedAt?: Date | undefined;
  /** The referral link a CRM form captured it by. */
  linkEvidence?: { via: 'link'; code: string; visitedAt: string } | undefined;
  /** An accepted referral waits as `submitted` for an approver (the program approves link referrals). */
  awaitApproval?: boolean | undefined;
  /**
   * The program the referral is for (a link's, or the one the card or API names); when absent, the
   * installation's default program, or the referrer's first program when they are not in the default.
   */
  programId?: string | undefined;
}

type Recorded<O extends SubmissionVerdict['outcome']> = Extract<SubmissionVerdict, { outcome: O }>;

export type SubmitReferralResult =
  | { outcome: 'accepted'; referral: ReferralRow; verdict: Recorded<'accepted'> }
  /** Accepted by the checks, waiting as `submitted` for an approver: not in the CRM, credited nothing until approved. */
  | { outcome: 'awaiting_approval'; referral: ReferralRow; verdict: Recorded<'accepted'> }
  | { outcome: 'claim_pending'; referral: ReferralRow; verdict: Recorded<'claim_pending'> }
  | { outcome: 'rejected'; referral: ReferralRow; verdict: Recorded<'rejected'> }
  /** Several open deals to choose from, or a failed claim on a named deal: nothing was written. */
  | { outcome: 'not_recorded'; verdict: Recorded<'choose_deal' | 'rejected'> }
  /** The named deal is not one this installation's CRM has. */
  | { outcome: 'deal_not_found'; reason: string }
  /** The named program is not this installation's, or the referrer does not belong to it: nothing was written. */
  | { outcome: 'program_refused'; code: 'program_not_found' | 'not_member'; reason: string };

/** Who reads the verdict: an integration acts for the admin. */
export function audienceOf(submittedBy: SubmitReferralInput['submittedBy']): Audience {
  return submittedBy.kind === 'referrer' ? 'referrer' : submittedBy.kind === 'rep' ? 'rep' : 'admin';
}

/**
 * A referral from a rep (CRM card), a referrer (portal) or an integration. The verdict is the
 * domain's; CRM facts (customer account, open deals, who holds them) are read first so a conflict
 * or a claim is told now. Rejected referrals are kept with their reasons: the submitter is told,
 * nothing is dropped. Two answers write nothing: a choice between several open deals (the
 * submitter names one and submits again) and a failed claim on a deal the submitter named.
 */
export async function submitReferral(ctx: UseCaseContext, input: SubmitReferralInput): Promise<SubmitReferralResult> {
  const { store } = ctx;
  const installation = input.installation;
  const chosen = await chooseProgram(ctx, installation, input);
  if ('refused' in chosen) return chosen.refused;
  const { programRow, current, referrerEmail } = chosen;
  const program = current.program;
  const policy = { plusAddressing: program.dedupe.plusAddressing };
  const referee = refereeIdentity(
    { email: input.referee.email, domain: input.referee.domain ?? null, company: input.referee.company ?? null },
    policy,
  );
  const crmFacts = await readCrmFacts(ctx, installation, referee, input.deal?.id ?? null);
  if ('dealNotFound' in crmFacts) return { outcome: 'deal_not_found', reason: crmFacts.dealNotFound };
  const now = input.submittedAt ?? ctx.now();
  const audience = audienceOf(input.submittedBy);

  // What the verdict reads from the store is read in the transaction that writes, after the CRM
  // has answered: submissions awaiting the CRM at the same time then see each other's referrer
  // and referral, whatever the CRM's latency, and the later ones are duplicates, not errors.
  // Those sharing a referee, a referee's domain, a referrer or a deal take turns; others do not wait.
  const turnsOn = [
    `referee:${installation.id}:${referee.email}`,
    ...(referee.domain ? [`referee-domain:${installation.id}:${referee.domain}`] : []),
    `referrer:${installation.id}:${referrerEmail}`,
    ...dealsOf(crmFacts.facts).map((dealId) => `deal:${installation.id}:${dealId}`),
  ];
  const result = await store.transaction(
    async (): Promise<SubmitReferralResult> => {
      const existingReferrer = await store.referrals.referrerByEmail(installation.id, referrerEmail);
      const facts: SubmissionFacts = {
        program,
        now: now.toISOString(),
        referrer: {
          id: existingReferrer?.id ?? null,
          email: referrerEmail,
          type: existingReferrer?.type ?? input.referrer.type,
          agreementAcceptedAt: existingReferrer?.agreementAcceptedAt ?? null,
        },
        referee: { email: input.referee.email, domain: input.referee.domain ?? null, company: input.referee.company ?? null },
        priorReferrals: (await store.referrals.priorFor(installation.id, referee.email, referee.domain)).map((r) => ({
          id: r.id,
          referrerId: r.referrerId,
          refereeEmail: r.refereeEmailKey,
          refereeDomain: r.refereeDomain,
          status: r.status,
          submittedAt: r.submittedAt,
          protectedUntil: r.protectedUntil,
        })),
        audience,
        // Who holds the deals is read here too, so two claims on one deal at once cannot both hold it.
        crm: { ...crmFacts.facts, holders: await dealHolders(ctx, installation, dealsOf(crmFacts.facts)) },
      };
      const verdict = checkSubmission(facts);
      if (verdict.outcome === 'choose_deal' || (verdict.outcome === 'rejected' && verdict.claim))
        return { outcome: 'not_recorded', verdict };
      const referrer = existingReferrer ?? (await createReferrer(ctx, installation.id, referrerEmail, input.referrer, now));
      // The referrer belongs to the program they were referred into from now on: a new one joins it here.
      await store.programs.join(programRow, referrer.id);
      const referralId = newId('ref');
      const held = input.awaitApproval === true && verdict.outcome === 'accepted' && !verdict.claimedDealId;
      const status: ReferralStatus = held ? 'submitted' : verdict.outcome;
      const reasons = [...verdict.reasons, ...(crmFacts.note ? [crmFacts.note] : []), ...(held ? [AWAITING_APPROVAL] : [])];
      const row = await store.referrals.insert({
        id: referralId,
        installationId: installation.id,
        referrerId: referrer.id,
        programId: current.programId,
        programVersion: current.version,
        status,
        refereeEmail: input.referee.email.trim(),
        refereeEmailKey: verdict.refereeEmail,
        refereeDomain: verdict.refereeDomain,
        refereeFirstName: input.referee.firstName ?? null,
        refereeLastName: input.referee.lastName ?? null,
        refereeCompany: input.referee.company ?? null,
        notes: input.notes ?? null,
        submittedByKind: input.submittedBy.kind,
        submittedById: input.submittedBy.id ?? null,
        verdict: { ...verdict, reasons },
        duplicateOf: verdict.outcome === 'rejected' ? (verdict.collidesWith?.referralId ?? null) : null,
        protectedUntil: verdict.protectedUntil ?? null,
        askId: input.askId ?? null,
        linkEvidence: input.linkEvidence ?? null,
        submittedAt: now.toISOString(),
        updatedAt: now.toISOString(),
      });
      const at = now.toISOString();
      await store.referrals.addEvent({
        referralId,
        fromStatus: null,
        toStatus: 'submitted',
        reasons: [`submitted by ${input.submittedBy.kind}`],
        source: input.source,
        idempotencyKey: `${referralId}:submitted`,
        occurredAt: at,
      });
      const notice = programNotice(program);
      if (held) {
        // Told as received; accepted (or declined) once an approver decides.
        await ctx.notify(referralNotice(row, referrer, notice, 'referral.received', `${referralId}:submitted`), now);
        return { outcome: 'awaiting_approval', referral: row, verdict: verdict as Recorded<'accepted'> };
      }
      await store.referrals.addEvent({
        referralId,
        fromStatus: 'submitted',
        toStatus: status,
        reasons,
        source: input.source,
        idempotencyKey: `${referralId}:${status}`,
        occurredAt: at,
      });
      if (verdict.outcome === 'accepted') await supersede(ctx, verdict.supersedes, referralId, now);
      await tellReferrer(ctx, row, referrer, notice, verdict, input.submittedBy.kind, now);
      // A colleague's duplicate or conflict is told to them on the referee's CRM record, as well as in the verdict.
      if (verdict.outcome === 'rejected' && input.submittedBy.kind !== 'referrer' && crmFacts.person)
        await ctx.notify(rejectedSubmissionNote(row, referrer, notice, crmFacts.person, verdict.reasons), now);
      if (verdict.outcome !== 'rejected' && verdict.claimedDealId) {
        await recordClaim(ctx, { installationId: installation.id, referralId, dealId: verdict.claimedDealId, input, at: now, verdict });
        // The deal's owner is told a referral asks for credit on their deal (by email: the CRM's owner).
        const owner = crmFacts.dealOwners?.[verdict.claimedDealId];
        if (owner) await ctx.notify(claimNotice(row, referrer, notice, owner, verdict.reasons.join(' ')), now);
      }
      switch (verdict.outcome) {
        case 'accepted':
          return { outcome: 'accepted', referral: row, verdict };
        case 'claim_pending':
          return { outcome: 'claim_pending', referral: row, verdict };
        case 'rejected':
          return { outcome: 'rejected', referral: row, verdict };
      }
    },
    { turnsOn },
  );

  if (result.outcome === 'accepted') {
    // The referral is stored: if the queue dropped since the request was let in, the sweeper
    // schedules its push once it is back.
    await ctx.scheduler
      .schedule('push-referrals', installation.id)
      .catch((err: unknown) =>
        ctx.log.warn({ err: String(err), installationId: installation.id }, 'push of a new referral left to the sweeper'),
      );
    if (result.verdict.claimedDealId) await applyClaimedDeal(ctx, installation, result.verdict.claimedDealId);
  }
  return result;
}

/**
 * The program a submission belongs to, and the referrer's email as that program reads it. A named
 * program must be the installation's and, for a known referrer, one of theirs; a referrer not yet
 * known joins it. Unnamed: the default program, unless the known referrer belongs only to others
 * and answers no ask (then the first they joined). Dedupe still spans the installation: one
 * referee, one referral.
 */
async function chooseProgram(
  ctx: UseCaseContext,
  installation: InstallationRow,
  input: SubmitReferralInput,
): Promise<
  | { programRow: ProgramRow; current: ProgramVersion; referrerEmail: string }
  | { refused: Extract<SubmitReferralResult, { outcome: 'program_refused' }> }
> {
  const { store } = ctx;
  const fallback = (await store.programs.defaultProgram(installation.id))!;
  const named = input.programId === undefined ? undefined : await store.programs.get(input.programId);
  if (input.programId !== undefined && (!named || named.installationId !== installation.id)) {
    const reason = `There is no program ${input.programId} in this installation.`;
    return { refused: { outcome: 'program_refused', code: 'program_not_found', reason } };
  }
  const emailIn = async (row: ProgramRow) =>
    refereeIdentity(
      { email: input.referrer.email },
      { plusAddressing: (await store.programs.current(row.id))!.program.dedupe.plusAddressing },
    ).email;
  const known = await store.referrals.referrerByEmail(installation.id, await emailIn(named ?? fallback));
  const theirs = known ? await store.programs.programsOf(known.id) : [];
  let programRow = named ?? fallback;
  // An ask is the default program's (its ask policy sent it): its referrals are too.
  if (known && !named && !input.askId && !theirs.some((p) => p.id === fallback.id) && theirs[0]) programRow = theirs[0];
  if (known && named && !theirs.some((p) => p.id === named.id)) {
    const names = await Promise.all(theirs.map(async (p) => `${p.id} (${(await store.programs.current(p.id))!.program.name})`));
    const reason = `The referrer ${known.email} does not belong to program ${named.id}; their programs: ${names.join(', ') || 'none'}.`;
    return { refused: { outcome: 'program_refused', code: 'not_member', reason } };
  }
  return { programRow, current: (await store.programs.current(programRow.id))!, referrerEmail: await emailIn(programRow) };
}

/**
 * A claim accepted (at once, or by an approver) is credited by applying its deal now, so the
 * referral follows the deal at once; a CRM that cannot answer leaves it to the deal's next change,
 * which credits the claim the same way.
 */
export async function applyClaimedDeal(ctx: UseCaseContext, installation: InstallationRow, dealId: string): Promise<void> {
  try {
    await applyCrmChanges(ctx, installation, [{ objectType: 'deal', id: dealId }]);
  } catch (err) {
    if (!(err instanceof CrmError)) throw err;
    ctx.log.warn({ err: err.message, installationId: installation.id, dealId }, 'accepted claim: its deal is applied on its next change');
  }
}

/**
 * A claim holds its deal from now on: the referral is linked to the deal (so attribution sees it
 * and explains why a pending claim earns nothing yet) and the claim is kept with who made it.
 */
async function recordClaim(
  ctx: UseCaseContext,
  args: {
    installationId: string;
    referralId: string;
    dealId: string;
    input: SubmitReferralInput;
    at: Date;
    verdict: Recorded<'accepted' | 'claim_pending'>;
  },
): Promise<void> {
  const { store } = ctx;
  const at = args.at.toISOString();
  const by = args.input.submittedBy.name ?? args.input.submittedBy.id ?? args.input.submittedBy.kind;
  await store.referrals.link(args.installationId, args.referralId, 'deal', args.dealId);
  await store.dealClaims.insert({
    referralId: args.referralId,
    installationId: args.installationId,
    dealId: args.dealId,
    claimedBy: by,
    claimedAt: at,
    expiresAt: args.verdict.outcome === 'claim_pending' ? args.verdict.expiresAt : at,
  });
  // A program that needs no approval accepted the claim at once.
  if (args.verdict.outcome === 'accepted')
    await store.dealClaims.decide(args.referralId, 'approved', 'the program (no approval required)', at, null);
  await store.audit.record({
    installationId: args.installationId,
    actor: by,
    action: 'claim.created',
    subjectType: 'referral',
    subjectId: args.referralId,
    after: { dealId: args.dealId, outcome: args.verdict.outcome, reasons: args.verdict.reasons },
    at,
  });
}

/**
 * What the referrer hears of a submission. Their own gets one answer, the verdict, in words meant
 * for them. One logged by a rep or an integration is answered to that caller (the API or the card);
 * the referrer hears of it only once it is accepted, never of a colleague's duplicate or conflict.
 */
async function tellReferrer(
  ctx: UseCaseContext,
  referral: ReferralRow,
  referrer: ReferrerRow,
  notice: ReturnType<typeof programNotice>,
  verdict: SubmissionVerdict,
  submittedBy: SubmitReferralInput['submittedBy']['kind'],
  now: Date,
): Promise<void> {
  const ownSubmission = submittedBy === 'referrer';
  if (verdict.outcome === 'rejected') {
    if (ownSubmission)
      await ctx.notify(
        referralNotice(referral, referrer, notice, 'referral.declined', `${referral.id}:rejected`, verdict.referrerReason),
        now,
      );
    return;
  }
  // A claim is told as received now, and as accepted or declined once an approver decides.
  if (verdict.outcome === 'claim_pending') {
    await ctx.notify(referralNotice(referral, referrer, notice, 'referral.received', `${referral.id}:submitted`), now);
    return;
  }
  if (!ownSubmission) await ctx.notify(referralNotice(referral, referrer, notice, 'referral.received', `${referral.id}:submitted`), now);
  await ctx.notify(referralNotice(referral, referrer, notice, 'referral.accepted', `${referral.id}:accepted`), now);
}

async function createReferrer(
  ctx: UseCaseContext,
  installationId: string,
  email: string,
  input: SubmitReferralInput['referrer'],
  now: Date,
): Promise<ReferrerRow> {
  const row = await ctx.store.referrals.insertReferrer({
    installationId,
    email,
    name: input.name,
    type: input.type,
    company: input.company ?? null,
  });
  await ctx.store.audit.record({
    installationId,
    actor: 'system',
    action: 'referrer.created',
    subjectType: 'referrer',
    subjectId: row.id,
    after: { type: row.type },
    at: now.toISOString(),
  });
  return row;
}

/** Under a 'last wins' program, the referrals a new one replaces end as expired, with the reason. */
export async function supersede(ctx: UseCaseContext, ids: string[], byId: string, now: Date): Promise<void> {
  for (const id of ids) {
    const old = await ctx.store.referrals.get(id);
    if (!old) continue;
    await ctx.store.referrals.setStatus(id, 'expired', now);
    await ctx.store.referrals.addEvent({
      referralId: id,
      fromStatus: old.status,
      toStatus: 'expired',
      reasons: [`superseded by referral ${byId} (the program lets the latest referral win)`],
      source: `referral:${byId}`,
      idempotencyKey: `${id}:expired:superseded`,
      occurredAt: now.toISOString(),
    });
  }
}

/**
 * What the CRM knows about the referee: an existing customer account, open deals described as a
 * rep reads them (stage label, owner name), who holds each deal, and the deal the submitter named.
 * A CRM that cannot answer does not block the submission; the verdict says the check was deferred,
 * and the deal sync still attributes correctly later. A claim on a named deal needs the CRM.
 */
async function readCrmFacts(
  ctx: UseCaseContext,
  installation: InstallationRow,
  referee: { email: string; domain: string | null },
  namedDealId: string | null,
): Promise<
  | {
      facts: SubmissionFacts['crm'];
      dealOwners?: Record<string, Recipient>;
      note?: string;
      /** The referee's record in the CRM, if it has one. */
      person?: { objectType: 'contact' | 'lead'; id: string };
    }
  | { dealNotFound: string }
> {
  const deferred = (why: string) =>
    namedDealId
      ? { dealNotFound: `Deal ${namedDealId} cannot be claimed now: ${why}.` }
      : { facts: { openDeals: [] }, note: `${why.charAt(0).toUpperCase()}${why.slice(1)}, so CRM conflicts were not checked.` };
  if (installation.status !== 'active') return deferred('the CRM is disconnected');
  let client: CrmClient;
  try {
    client = await ctx.crm.client(installation);
    const [people, companies] = await Promise.all([
      client.findPeopleByEmail([referee.email]),
      referee.domain ? client.findCompaniesByDomain([referee.domain]) : Promise.resolve([]),
    ]);
    const contactIds = people.filter((p) => p.objectType === 'contact').map((p) => p.id);
    const companyIds = [...new Set([...people.flatMap((p) => p.companyIds), ...companies.map((c) => c.id)])];
    const dealIds = contactIds.length || companyIds.length ? await client.findDealIdsFor({ contactIds, companyIds }) : [];
    const { records: deals } = await client.getDeals([...new Set([...dealIds, ...(namedDealId ? [namedDealId] : [])])]);
    const named = namedDealId ? deals.find((d) => d.id === namedDealId) : undefined;
    if (namedDealId && !named) return { dealNotFound: `Deal ${namedDealId} does not exist in this installation's CRM.` };
    const open = deals.filter((d) => !d.isClosed && d.id !== namedDealId);
    const described = named ? [named, ...open] : open;
    const customers = await customerCompanies(client, companies, described);
    const customer = companies.find((c) => c.isCustomer);
    const { deals: claimable, owners } = await describeDeals(ctx, client, installation, described, customers);
    const person = people[0];
    return {
      dealOwners: owners,
      ...(person ? { person: { objectType: person.objectType, id: person.id } } : {}),
      facts: {
        customerAccount: customer ? { companyId: customer.id, name: customer.name ?? customer.domain ?? customer.id } : null,
        openDeals: claimable.filter((d) => d.id !== namedDealId),
        namedDeal: claimable.find((d) => d.id === namedDealId) ?? null,
      },
    };
  } catch (err) {
    if (!(err instanceof CrmError)) throw err;
    ctx.log.warn({ err: err.message, code: err.code, installationId: installation.id }, 'CRM conflict check deferred');
    return deferred(`the CRM could not be asked (${err.code})`);
  }
}

/** Ids of the customer companies among the referee's and the deals' companies. */
async function customerCompanies(client: CrmClient, known: { id: string; isCustomer: boolean }[], deals: CrmDeal[]): Promise<Set<string>> {
  const unknown = [...new Set(deals.flatMap((d) => d.companyIds))].filter((id) => !known.some((c) => c.id === id));
  const fetched = unknown.length ? (await client.getCompanies(unknown)).records : [];
  return new Set([...known, ...fetched].filter((c) => c.isCustomer).map((c) => c.id));
}

/** Deals as a verdict names them: the stage's label and the owner's name, not their ids. */
async function describeDeals(
  ctx: UseCaseContext,
  client: CrmClient,
  installation: InstallationRow,
  deals: CrmDeal[],
  customers: Set<string>,
): Promise<{ deals: ClaimableDeal[]; owners: Record<string, Recipient> }> {
  if (deals.length === 0) return { deals: [], owners: {} };
  const ownerIds = [...new Set(deals.map((d) => d.ownerId).filter((id): id is string => id !== null))];
  const [stages, owners] = await Promise.all([
    client.listPipelineStages(),
    ownerIds.length ? client.ownerEmails(ownerIds) : Promise.resolve<Awaited<ReturnType<CrmClient['ownerEmails']>>>({}),
  ]);
  const mapping = ((await ctx.store.installations.settings(installation)).stageMapping ?? {}) as StageMapping;
  const dealOwners: Record<string, Recipient> = {};
  for (const d of deals) {
    const owner = d.ownerId ? owners[d.ownerId] : undefined;
    if (owner) dealOwners[d.id] = { email: owner.email, name: owner.name ?? owner.email };
  }
  const described = deals.map((d) => ({
    id: d.id,
    name: d.name,
    stageLabel: stages.find((s) => s.pipelineId === d.pipelineId && s.stageId === d.stageId)?.label ?? d.stageId,
    ownerId: d.ownerId,
    ownerName: d.ownerId ? (owners[d.ownerId]?.name ?? owners[d.ownerId]?.email ?? null) : null,
    createdAt: d.createdAt,
    isClosed: d.isClosed,
    isWon: d.isWon,
    step: lifecycleStepForStage(mapping, d).step,
    isExpansion: d.companyIds.some((id) => customers.has(id)),
  }));
  return { deals: described, owners: dealOwners };
}

function dealsOf(crm: SubmissionFacts['crm']): string[] {
  return [...crm.openDeals.map((d) => d.id), ...(crm.namedDeal ? [crm.namedDeal.id] : [])];
}

/** Per deal, the referrals linked to it (credited, or claims on it) with their referrer's name. */
async function dealHolders(ctx: UseCaseContext, installation: InstallationRow, dealIds: string[]): Promise<Record<string, DealHolder[]>> {
  const holders: Record<string, DealHolder[]> = {};
  for (const dealId of dealIds) {
    const linked = await ctx.store.referrals.linkedTo(installation.id, [{ objectType: 'deal', ids: [dealId] }]);
    holders[dealId] = await Promise.all(
      linked.map(async (r) => ({
        referralId: r.id,
        referrerId: r.referrerId,
        referrerName: (await ctx.store.referrals.referrer(r.referrerId))?.name ?? r.referrerId,
        status: r.status as ReferralStatus,
        submittedAt: r.submittedAt,
        protectedUntil: r.protectedUntil,
      })),
    );
  }
  return holders;
}
