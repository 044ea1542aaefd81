import { createHmac, randomBytes } from 'node:crypto';
import type { CrmPerson } from '../../connectors/connector.ts';
import { normalizeEmail } from '../domain/normalize.ts';
import {
  codeFromField,
  decideVisit,
  isWellFormedCode,
  LINK_TAG_LENGTH,
  landingUrlAllowed,
  newLinkCode,
  randomBase62,
  tagOf,
  visitRedirect,
} from '../domain/referral-links.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import type { ProgramRow } from '../store/programs.repo.ts';
import type { ReferralLinkRow } from '../store/referral-links.repo.ts';
import type { ReferrerRow } from '../store/referrals.repo.ts';
import { submitReferral } from './submit-referral.ts';

export type EnsureLinkResult =
  | { outcome: 'ok'; link: ReferralLinkRow }
  | { outcome: 'links_off' }
  | { outcome: 'not_member'; reason: string }
  | { outcome: 'landing_not_allowed'; reason: string };

/**
 * The referrer's link for one of their programs, made on first need: referrals it brings belong to
 * that program. A landing URL of its own must be on one of the program's allowed domains; asking
 * for another page revokes the old link and makes a new one.
 */
export async function ensureReferralLink(
  ctx: UseCaseContext,
  referrer: ReferrerRow,
  program: ProgramRow,
  landingUrl?: string,
): Promise<EnsureLinkResult> {
  const { store } = ctx;
  if (!(await store.programs.programsOf(referrer.id)).some((p) => p.id === program.id))
    return { outcome: 'not_member', reason: `Referrer ${referrer.id} does not belong to program ${program.id}.` };
  const policy = (await store.programs.current(program.id))?.program.links;
  if (!policy) return { outcome: 'links_off' };
  if (landingUrl !== undefined) {
    const verdict = landingUrlAllowed(landingUrl, policy.allowedDomains);
    if (!verdict.ok) return { outcome: 'landing_not_allowed', reason: `The landing URL ${verdict.reason}.` };
  }
  const now = ctx.now().toISOString();
  return await store.transaction(async () => {
    const current = await store.referralLinks.activeFor(referrer.id, program.id);
    if (current && (landingUrl === undefined || current.landingUrl === landingUrl)) return { outcome: 'ok', link: current };
    if (current) await store.referralLinks.revoke(current.code, now);
    const link = await store.referralLinks.insert({
      code: newLinkCode(await installationTag(ctx, referrer.installationId), randomBytes),
      installationId: referrer.installationId,
      referrerId: referrer.id,
      programId: program.id,
      landingUrl: landingUrl ?? null,
      createdAt: now,
    });
    await store.audit.record({
      installationId: referrer.installationId,
      actor: 'system',
      action: 'referral_link.created',
      subjectType: 'referrer',
      subjectId: referrer.id,
      after: { programId: program.id, landingUrl: link.landingUrl, replaced: current ? true : undefined },
      at: now,
    });
    return { outcome: 'ok', link };
  });
}

/** The installation's tag: the one its codes already start with, else a new one no other installation has. */
async function installationTag(ctx: UseCaseContext, installationId: string): Promise<string> {
  const existing = await ctx.store.referralLinks.tagOf(installationId);
  if (existing) return existing;
  for (;;) {
    const tag = randomBase62(LINK_TAG_LENGTH, randomBytes);
    if (!(await ctx.store.referralLinks.tagTaken(tag, installationId))) return tag;
  }
}

export interface VisitInput {
  code: string;
  /** The visitor's address: kept only as a keyed hash. */
  visitorAddress: string;
  /** The referrer signed in to the portal in this browser, if any. */
  visitorReferrerId: string | null;
  query: Record<string, unknown>;
  /** Key of the visitor hash (derived from ENCRYPTION_KEY). */
  visitorHashKey: Buffer;
}

/**
 * A visit to `/r/<code>`: where it goes, and whether it is counted. A wrong, revoked or
 * guessed code lands on the program's page of the installation its tag names (or nowhere) and
 * records nothing; the referrer's own visit goes on without being counted.
 */
export async function visitReferralLink(ctx: UseCaseContext, input: VisitInput): Promise<{ location: string | null }> {
  const { store } = ctx;
  const link = isWellFormedCode(input.code) ? ((await store.referralLinks.byCode(input.code)) ?? null) : null;
  const installationId =
    link?.installationId ?? (isWellFormedCode(input.code) ? await store.referralLinks.installationOfTag(tagOf(input.code)) : undefined);
  // A link lands where its program says; a wrong code on the default program's page.
  const programId = link?.programId ?? (installationId ? (await store.programs.defaultProgram(installationId))?.id : undefined);
  const policy = programId ? ((await store.programs.current(programId))?.program.links ?? null) : null;
  const decision = decideVisit({ link, policy, visitorReferrerId: input.visitorReferrerId });
  if (decision.outcome === 'ignore') return { location: decision.landingUrl };
  if (decision.outcome === 'count') {
    await store.referralLinks.recordVisit({
      code: input.code,
      visitorKey: createHmac('sha256', input.visitorHashKey).update(input.visitorAddress).digest('base64url'),
      utm: Object.fromEntries(
        Object.entries(input.query).filter((e): e is [string, string] => e[0].startsWith('utm_') && typeof e[1] === 'string'),
      ),
      visitedAt: ctx.now().toISOString(),
    });
  }
  return { location: visitRedirect(decision.landingUrl, input.code, input.query) };
}

/**
 * CRM people whose form carried a referral code become referrals of the link's referrer in the
 * link's program, submitted at the visit: the usual checks apply (duplicate, conflict,
 * self-referral), and that program decides whether they wait for approval. A code of another
 * installation, one retired before anyone visited it, or a person already referred by this code
 * does nothing.
 */
export async function captureLinkReferrals(ctx: UseCaseContext, installation: InstallationRow, people: CrmPerson[]): Promise<void> {
  const { store } = ctx;
  for (const person of people) {
    // What a form put in the field is checked here: anything but a well-formed code is nobody's.
    const code = codeFromField(person.referralCode);
    if (!code || !person.email || person.mergedIntoId) continue;
    const link = await store.referralLinks.byCode(code);
    // A link retired after a prospect visited it still credits that visit (the cookie outlives the link).
    const retiredUnvisited = link?.revokedAt ? !(await store.referralLinks.latestVisit(link.code, link.revokedAt)) : false;
    if (!link || link.installationId !== installation.id || retiredUnvisited) {
      ctx.log.info({ installationId: installation.id, personId: person.id }, 'a CRM form carried a code of no link of this installation');
      continue;
    }
    const referrer = await store.referrals.referrer(link.referrerId);
    if (!referrer) continue;
    const emailKey = normalizeEmail(person.email, { plusAddressing: 'strip' });
    const known = [
      ...(await store.referrals.linkedTo(installation.id, [{ objectType: person.objectType, ids: [person.id] }])),
      ...(await store.referrals.priorFor(installation.id, emailKey, null)),
    ];
    // Every later change of the record carries the code again: it is captured once.
    if (known.some((r) => r.linkEvidence?.code === code)) continue;
    const visitedAt = (await store.referralLinks.latestVisit(code, link.revokedAt ?? ctx.now().toISOString())) ?? ctx.now().toISOString();
    await submitReferral(ctx, {
      installation,
      referrer: { email: referrer.email, name: referrer.name, type: referrer.type, company: referrer.company ?? undefined },
      referee: { email: person.email, firstName: person.firstName ?? undefined, lastName: person.lastName ?? undefined },
      submittedBy: { kind: 'integration', id: `link:${code}`, name: 'referral link' },
      source: `crm:${person.objectType}:${person.id}`,
      submittedAt: new Date(visitedAt),
      linkEvidence: { via: 'link', code, visitedAt },
      programId: link.programId,
      awaitApproval: (await store.programs.current(link.programId))?.program.links?.requireApproval === true,
    });
  }
}
