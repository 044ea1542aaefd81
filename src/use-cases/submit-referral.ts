import { CrmError, type CrmClient } from '../../connectors/connector.ts';
import type { ReferrerType } from '../domain/program.ts';
import { refereeIdentity } from '../domain/normalize.ts';
import type { ReferralStatus } from '../domain/referral-lifecycle.ts';
import { checkSubmission, type SubmissionFacts, type SubmissionVerdict } from '../domain/submission.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import { newId, type ReferralRow, type ReferrerRow } from '../store/referrals.repo.ts';
import type { UseCaseContext } from '../ports/context.ts';
import { programNotice, referralNotice } from '../notify/notices.ts';

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
  submittedBy: { kind: 'rep' | 'referrer' | 'integration'; id?: string | undefined };
  /** Request id, recorded as the timeline's source. */
  source: string;
}

export type SubmitReferralResult =
  | { outcome: 'accepted'; referral: ReferralRow; verdict: SubmissionVerdict }
  | { outcome: 'rejected'; referral: ReferralRow; verdict: Extract<SubmissionVerdict, { outcome: 'rejected' }> };

/**
 * A referral from a rep (CRM card), a referrer (portal) or an integration. The verdict is the
 * domain's; CRM facts (customer account, open deals) are read first so a conflict is told now.
 * Rejected referrals are kept with their reasons: the submitter is told, nothing is dropped.
 */
export async function submitReferral(ctx: UseCaseContext, input: SubmitReferralInput): Promise<SubmitReferralResult> {
  const { store } = ctx;
  const installation = input.installation;
  const current = store.programs.currentDefault(installation.id);
  if (!current) throw new Error(`installation ${installation.id} has no program`);
  const program = current.program;
  const policy = { plusAddressing: program.dedupe.plusAddressing };
  const referrerEmail = refereeIdentity({ email: input.referrer.email }, policy).email;
  const referee = refereeIdentity(
    { email: input.referee.email, domain: input.referee.domain ?? null, company: input.referee.company ?? null },
    policy,
  );
  const crmFacts = await readCrmFacts(ctx, installation, referee);
  const now = ctx.now();

  // What the verdict reads from the store is read in the transaction that writes, after the CRM
  // has answered: submissions awaiting the CRM at the same time then see each other's referrer
  // and referral, whatever the CRM's latency, and the later ones are duplicates, not errors.
  const { referral, verdict } = store.transaction(() => {
    const existingReferrer = store.referrals.referrerByEmail(installation.id, referrerEmail);
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
      priorReferrals: store.referrals.priorFor(installation.id, referee.email, referee.domain).map((r) => ({
        id: r.id,
        referrerId: r.referrerId,
        refereeEmail: r.refereeEmailKey,
        refereeDomain: r.refereeDomain,
        status: r.status,
        submittedAt: r.submittedAt,
        protectedUntil: r.protectedUntil,
      })),
      crm: crmFacts.facts,
    };
    const verdict = checkSubmission(facts);
    const referrer = existingReferrer ?? createReferrer(ctx, installation.id, referrerEmail, input.referrer, now);
    const referralId = newId('ref');
    const status: ReferralStatus = verdict.outcome === 'accepted' ? 'accepted' : 'rejected';
    const reasons = crmFacts.note ? [...verdict.reasons, crmFacts.note] : verdict.reasons;
    const row = store.referrals.insert({
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
      submittedAt: now.toISOString(),
      updatedAt: now.toISOString(),
    });
    const at = now.toISOString();
    store.referrals.addEvent({
      referralId,
      fromStatus: null,
      toStatus: 'submitted',
      reasons: [`submitted by ${input.submittedBy.kind}`],
      source: input.source,
      idempotencyKey: `${referralId}:submitted`,
      occurredAt: at,
    });
    store.referrals.addEvent({
      referralId,
      fromStatus: 'submitted',
      toStatus: status,
      reasons,
      source: input.source,
      idempotencyKey: `${referralId}:${status}`,
      occurredAt: at,
    });
    if (verdict.outcome === 'accepted') supersede(ctx, verdict.supersedes, referralId, now);
    tellReferrer(ctx, row, referrer, programNotice(program), verdict, input.submittedBy.kind, now);
    return { referral: row, verdict };
  });

  if (verdict.outcome === 'accepted') {
    // The referral is stored: if the queue dropped since the request was let in, the sweeper
    // schedules its push once it is back.
    await ctx.scheduler
      .schedule('push-referrals', installation.id)
      .catch((err: unknown) => ctx.log.warn({ err: String(err), installationId: installation.id }, 'push of a new referral left to the sweeper'));
    return { outcome: 'accepted', referral, verdict };
  }
  return { outcome: 'rejected', referral, verdict };
}

/**
 * What the referrer hears of a submission. Their own gets one answer, the verdict, in words meant
 * for them. One logged by a rep or an integration is answered to that caller (the API or the card);
 * the referrer hears of it only once it is accepted, never of a colleague's duplicate or conflict.
 */
function tellReferrer(
  ctx: UseCaseContext,
  referral: ReferralRow,
  referrer: ReferrerRow,
  notice: ReturnType<typeof programNotice>,
  verdict: SubmissionVerdict,
  submittedBy: SubmitReferralInput['submittedBy']['kind'],
  now: Date,
): void {
  const ownSubmission = submittedBy === 'referrer';
  if (verdict.outcome === 'rejected') {
    if (ownSubmission) ctx.notify(referralNotice(referral, referrer, notice, 'referral.declined', `${referral.id}:rejected`, verdict.referrerReason), now);
    return;
  }
  if (!ownSubmission) ctx.notify(referralNotice(referral, referrer, notice, 'referral.received', `${referral.id}:submitted`), now);
  ctx.notify(referralNotice(referral, referrer, notice, 'referral.accepted', `${referral.id}:accepted`), now);
}

function createReferrer(
  ctx: UseCaseContext,
  installationId: string,
  email: string,
  input: SubmitReferralInput['referrer'],
  now: Date,
): ReferrerRow {
  const row = ctx.store.referrals.insertReferrer({
    installationId,
    email,
    name: input.name,
    type: input.type,
    company: input.company ?? null,
  });
  ctx.store.audit.record({
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
function supersede(ctx: UseCaseContext, ids: string[], byId: string, now: Date): void {
  for (const id of ids) {
    const old = ctx.store.referrals.get(id);
    if (!old) continue;
    ctx.store.referrals.setStatus(id, 'expired', now);
    ctx.store.referrals.addEvent({
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
 * What the CRM knows about the referee: an existing customer account, or open deals. A CRM that
 * cannot answer does not block the submission; the verdict says the check was deferred, and the
 * deal sync still attributes correctly later.
 */
async function readCrmFacts(
  ctx: UseCaseContext,
  installation: InstallationRow,
  referee: { email: string; domain: string | null },
): Promise<{ facts: SubmissionFacts['crm']; note?: string }> {
  if (installation.status !== 'active') {
    return { facts: { openDeals: [] }, note: 'The CRM is disconnected, so CRM conflicts were not checked.' };
  }
  let client: CrmClient;
  try {
    client = ctx.crm.client(installation);
    const [people, companies] = await Promise.all([
      client.findPeopleByEmail([referee.email]),
      referee.domain ? client.findCompaniesByDomain([referee.domain]) : Promise.resolve([]),
    ]);
    const customer = companies.find((c) => c.isCustomer);
    const contactIds = people.filter((p) => p.objectType === 'contact').map((p) => p.id);
    const companyIds = [...new Set([...people.flatMap((p) => p.companyIds), ...companies.map((c) => c.id)])];
    const dealIds = contactIds.length || companyIds.length ? await client.findDealIdsFor({ contactIds, companyIds }) : [];
    const deals = dealIds.length ? (await client.getDeals(dealIds)).records : [];
    return {
      facts: {
        customerAccount: customer ? { companyId: customer.id, name: customer.name ?? customer.domain ?? customer.id } : null,
        openDeals: deals.filter((d) => !d.isClosed).map((d) => ({ dealId: d.id, name: d.name, ownerId: d.ownerId })),
      },
    };
  } catch (err) {
    if (!(err instanceof CrmError)) throw err;
    ctx.log.warn({ err: err.message, code: err.code, installationId: installation.id }, 'CRM conflict check deferred');
    return { facts: { openDeals: [] }, note: `The CRM could not be asked (${err.code}), so CRM conflicts were not checked.` };
  }
}

