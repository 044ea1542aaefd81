import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import { z } from 'zod';
import type { ReferralStatus } from '../domain/referral-lifecycle.ts';
import { grantLabel, grantOf } from '../domain/grants.ts';
import type { RewardStatus } from '../domain/rewards.ts';
import { verdictView } from '../domain/verdict.ts';
import { validateEndpointUrl } from '../notify/endpoint-url.ts';
import { isPortalLanding, referrerPortalLink, signInLinkUrl } from '../notify/portal-link.ts';
import { generateWebhookSecret } from '../notify/referrer-webhooks.ts';
import { enqueueDeletionRequestNotice } from '../notify/deletion-request.ts';
import { enqueueLinkEmail } from '../notify/sign-in-link.ts';
import { escapeHtml } from '../notify/templates.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { ReferralRow } from '../store/referrals.repo.ts';
import type { RewardWithNet } from '../store/rewards.repo.ts';
import { hashToken } from '../store/sessions.repo.ts';
import { submitReferral } from '../use-cases/submit-referral.ts';
import { ApiError, parseInput, requireQueue } from './errors.ts';
import { page } from './pages.ts';
import { requestContext } from './request-context.ts';
import {
  clearSessionCookie,
  CSRF_HEADER,
  csrfMatches,
  requireReferrerSession,
  SESSION_COOKIE,
  cookieValue,
  sessionOf,
  setSessionCookie,
} from './sessions.ts';

export interface PortalSettings {
  magicLinkTtlMs: number;
  sessionTtlMs: number;
  /** Link requests allowed per email and per client address in `rateWindowMs`. */
  perEmailLimit?: number;
  perIpLimit?: number;
  rateWindowMs?: number;
  /** Referrer webhook endpoints on private addresses (ALLOW_PRIVATE_WEBHOOK_ENDPOINTS). */
  allowPrivateEndpoints?: boolean;
}

const STATUS_WORDS: Record<ReferralStatus, string> = {
  submitted: 'Received, being reviewed',
  claim_pending: 'Waiting for approval of your claim on an open deal',
  accepted: 'Accepted: our team will reach out',
  rejected: 'Not accepted',
  contacted: 'Contacted by our team',
  qualified: 'In our sales process',
  in_sales_process: 'In our sales process',
  closed_won: 'Became a customer',
  closed_lost: 'Did not go ahead',
  expired: 'Expired without a deal',
};

const REWARD_WORDS: Record<RewardStatus, string> = {
  pending: 'Pending',
  needs_rate: 'Pending: waiting for an exchange rate',
  approved: 'Approved',
  payable: 'Payable',
  paid: 'Paid',
  rejected: 'Not granted',
  reversed: 'Recovered',
};

const email = z.string().trim().toLowerCase().email('expected an email address').max(254);
/** `to`: the portal page the link opens once signed in (a referral ask's), kept from the link that expired. */
const magicLinkRequest = z.object({ email, to: z.string().max(100).optional() });
const portalReferral = z.object({
  referee: z.object({
    email,
    firstName: z.string().trim().max(100).optional(),
    lastName: z.string().trim().max(100).optional(),
    company: z.string().trim().max(200).optional(),
  }),
  notes: z.string().trim().max(5_000).optional(),
  /** Submitted from this referral ask's page: counted as a referral that came from the ask. */
  askId: z.string().trim().min(1).max(64).optional(),
  /** One of the referrer's programs; by default the installation's default program (or their first). */
  programId: z.string().trim().min(1).max(100).optional(),
});
const detailsPatch = z
  .object({
    name: z.string().trim().min(1, 'say your name').max(200).optional(),
    notifications: z.enum(['every_step', 'digest', 'none']).optional(),
    /** Empty clears it: rewards go to the sign-in email. */
    payoutEmail: z.union([email, z.literal('')]).optional(),
  })
  .strict();
const endpointInput = z.object({ url: z.string().trim().min(1).max(2048) });
const linkForm = z.object({ token: z.string().min(20).max(100), to: z.string().max(100).optional() });

/** Same answer whether the email is known or not: no one learns who refers here. */
const LINK_SENT = { message: 'If this email belongs to a referrer of this program, a sign-in link is on its way.' };

/** Where `vite build` puts the front end: dist/web from the sources (src/http) and from the build (dist/src/http). */
export function webDir(): string | undefined {
  return ['../../dist/web', '../../web'].map((p) => fileURLToPath(new URL(p, import.meta.url))).find((d) => existsSync(`${d}/index.html`));
}

/**
 * The referrer portal: sign-in links, the session, the pages (the built front end) and the JSON
 * API they read, scoped to the session's referrer and installation.
 */
export function portalRouter(ctx: UseCaseContext, publicBaseUrl: string, settings: PortalSettings): Router {
  const { store } = ctx;
  const router = Router();
  const json = express.json({ limit: 20_000 });
  const requireReferrer = requireReferrerSession(store, ctx.now);
  const window = settings.rateWindowMs ?? 60 * 60_000;

  router.post('/api/v1/portal/:installationId/magic-links', json, async (req, res) => {
    const { email: address, to } = parseInput(magicLinkRequest, req.body);
    const landing = to && isPortalLanding(to) ? to : undefined;
    const installationId = req.params.installationId;
    const installation = await store.installations.get(installationId);
    if (!installation) throw new ApiError('not_found', `No referral program ${installationId}.`);
    const now = ctx.now();
    const ip = req.ip ?? 'unknown';
    await store.transaction(async () => {
      const recent = await store.sessions.recentLinkRequests(address, ip, new Date(now.getTime() - window));
      if (recent.email >= (settings.perEmailLimit ?? 5) || recent.ip >= (settings.perIpLimit ?? 30)) {
        throw new ApiError('rate_limited', 'Too many sign-in links were asked for: wait an hour and try again.');
      }
      const referrer = await store.referrals.referrerByEmail(installationId, address);
      const program = (await store.programs.currentDefault(installationId))?.program;
      const expiresAt = new Date(now.getTime() + settings.magicLinkTtlMs);
      const token = await store.sessions.addLink({
        installationId,
        email: address,
        referrerId: referrer && program ? referrer.id : null,
        ip,
        expiresAt: expiresAt.toISOString(),
        createdAt: now.toISOString(),
      });
      if (!referrer || !program) return;
      await enqueueLinkEmail(
        store.outbox,
        {
          topic: 'portal.sign_in',
          installationId,
          referrerId: referrer.id,
          tokenHash: hashToken(token),
          data: {
            signIn: {
              url: signInLinkUrl(publicBaseUrl, installationId, token, landing),
              expiresAt: expiresAt.toISOString(),
              minutes: Math.round(settings.magicLinkTtlMs / 60_000),
            },
          },
        },
        { name: program.name, senderName: program.senderName, senderEmail: program.senderEmail },
        { name: referrer.name, email: referrer.email },
        now,
      );
    });
    res.status(202).json(LINK_SENT);
  });

  // The emailed link opens a page whose script posts the token (kept in the URL's fragment, which
  // never reaches servers or logs): mail scanners that fetch links do not use it up.
  router.post('/portal/:installationId/link', express.urlencoded({ extended: false, limit: 2_000 }), async (req, res) => {
    const installationId = req.params.installationId;
    const form = linkForm.safeParse(req.body);
    const now = ctx.now();
    const used = form.success
      ? await store.transaction(async () => await store.sessions.useLink(form.data.token, installationId, now))
      : undefined;
    if (!used?.ok) {
      // A fresh link asked for from here opens the same page the refused one would have.
      const landing = form.success && form.data.to && isPortalLanding(form.data.to) ? `?to=${encodeURIComponent(form.data.to)}` : '';
      const why =
        used?.reason === 'used'
          ? 'This sign-in link was already used.'
          : used?.reason === 'expired'
            ? 'This sign-in link has expired.'
            : 'This sign-in link is not valid.';
      res
        .status(400)
        .type('html')
        .send(
          page(
            'Sign-in link refused',
            `<p>${escapeHtml(why)} Each link works once, for a short time.</p><p><a href="${escapeHtml(
              `${referrerPortalLink('', installationId)}/sign-in${landing}`,
            )}">Send me a fresh link</a></p>`,
          ),
        );
      return;
    }
    const expiresAt = new Date(now.getTime() + settings.sessionTtlMs);
    const { token } = await store.sessions.open({
      subjectKind: 'referrer',
      subjectId: used.referrerId,
      installationId,
      role: 'referrer',
      expiresAt: expiresAt.toISOString(),
    });
    setSessionCookie(res, token, expiresAt, publicBaseUrl);
    // A link from a referral ask lands on the ask's page; any other destination is ignored.
    const destination = form.data?.to && isPortalLanding(form.data.to) ? form.data.to : 'referrals';
    res.redirect(303, `${referrerPortalLink('', installationId)}/${destination}`);
  });

  router.get('/api/v1/session', async (req, res) => {
    const session = await sessionOf(req, res, store, ctx.now());
    if (!session) throw new ApiError('unauthorized', 'Not signed in.');
    const referrer = session.subjectKind === 'referrer' ? await store.referrals.referrer(session.subjectId) : undefined;
    const user = session.subjectKind === 'user' ? await store.consoleUsers.get(session.subjectId) : undefined;
    if (user?.revokedAt) throw new ApiError('unauthorized', 'Not signed in.');
    const installation = await store.installations.get(session.installationId);
    res.setHeader('cache-control', 'no-store');
    res.json({
      subject: {
        kind: session.subjectKind,
        id: session.subjectId,
        name: referrer?.name ?? user?.name ?? null,
        ...(user ? { email: user.email } : {}),
      },
      ...(user && installation
        ? {
            installation: {
              id: installation.id,
              crm: installation.crm,
              accountId: installation.accountId,
              accountName: installation.accountName,
            },
          }
        : {}),
      installationId: session.installationId,
      // A console user's role as it stands: an admin may have changed it since sign-in.
      role: user?.role ?? session.role,
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt,
    });
  });

  router.delete('/api/v1/session', async (req, res) => {
    const session = await sessionOf(req, res, store, ctx.now());
    if (session) {
      if (!csrfMatches(req.get(CSRF_HEADER), session.csrfToken)) {
        throw new ApiError('forbidden', `Send the session's CSRF token in the ${CSRF_HEADER} header.`);
      }
      await store.sessions.revoke(cookieValue(req, SESSION_COOKIE)!, ctx.now());
    }
    clearSessionCookie(res, publicBaseUrl);
    res.status(204).end();
  });

  const me = async (res: express.Response) => {
    const session = res.locals.session as { subjectId: string; installationId: string };
    const referrer = await store.referrals.referrer(session.subjectId);
    if (!referrer || referrer.installationId !== session.installationId) throw new ApiError('unauthorized', 'Sign in again.');
    return referrer;
  };

  /** The referrer's own rewards, each with the payout run it went into (null until one gathers it). */
  const referrerRewards = async (referrerId: string) =>
    (await store.rewards.forReferrer(referrerId)).filter((r) => r.beneficiary === 'referrer');
  const portalRewards = async (rows: RewardWithNet[]) => {
    const runs = new Map((await store.payouts.runsOfRewards(rows.map((r) => r.id))).map(({ rewardId, ...run }) => [rewardId, run]));
    return rows.map((row) => ({ ...portalReward(row), payoutRun: runs.get(row.id) ?? null }));
  };

  /** The current settings of a program, by id. */
  const settingsOf = async (programId: string) => (await store.programs.current(programId))!.program;

  const details = async (referrer: Awaited<ReturnType<typeof me>>) => {
    const program = (await store.programs.currentDefault(referrer.installationId))?.program;
    const theirs = await Promise.all(
      (await store.programs.programsOf(referrer.id)).map(async (row) => ({ id: row.id, settings: await settingsOf(row.id) })),
    );
    const programs = theirs.map(({ id, settings }) => ({ id, name: settings.name }));
    return {
      name: referrer.name,
      email: referrer.email,
      company: referrer.company,
      payoutEmail: referrer.payoutEmail,
      notifications: referrer.emailOptOut ? 'none' : referrer.digest ? 'digest' : 'every_step',
      program: program ? { name: program.name } : null,
      /** Every program the referrer belongs to: a referral can be submitted into any of them. */
      programs,
      // One of their programs asking for it is enough: a partner program's agreement covers the referrer.
      agreement: { required: theirs.some(({ settings }) => settings.requireAgreement), acceptedAt: referrer.agreementAcceptedAt },
    };
  };

  router.get('/api/v1/portal/:installationId/me', requireReferrer, async (_req, res) => {
    res.json(await details(await me(res)));
  });

  router.patch('/api/v1/portal/:installationId/me', requireReferrer, json, async (req, res) => {
    const patch = parseInput(detailsPatch, req.body);
    const referrer = await me(res);
    const now = ctx.now().toISOString();
    await store.transaction(async () => {
      await store.referrals.updateReferrer(referrer.id, {
        ...(patch.name ? { name: patch.name } : {}),
        ...(patch.payoutEmail !== undefined ? { payoutEmail: patch.payoutEmail || null } : {}),
        ...(patch.notifications ? { emailOptOut: patch.notifications === 'none', digest: patch.notifications === 'digest' } : {}),
      });
      await store.audit.record({
        installationId: referrer.installationId,
        actor: `referrer:${referrer.id}`,
        action: 'referrer.details_changed',
        subjectType: 'referrer',
        subjectId: referrer.id,
        before: { name: referrer.name, payoutEmail: referrer.payoutEmail, notifications: (await details(referrer)).notifications },
        after: patch,
        at: now,
      });
    });
    res.json(await details(await me(res)));
  });

  // Programs that require their agreement refuse referrals until the referrer accepts it here.
  router.post('/api/v1/portal/:installationId/me/agreement', requireReferrer, async (_req, res) => {
    const referrer = await me(res);
    const now = ctx.now().toISOString();
    if (!referrer.agreementAcceptedAt) {
      // The versions of the referrer's programs whose terms were accepted.
      const versions = await Promise.all(
        (await store.programs.programsOf(referrer.id)).map(async (p) => ({
          programId: p.id,
          version: (await store.programs.current(p.id))!.version,
        })),
      );
      await store.transaction(async () => {
        await store.referrals.updateReferrer(referrer.id, { agreementAcceptedAt: now });
        await store.audit.record({
          installationId: referrer.installationId,
          actor: `referrer:${referrer.id}`,
          action: 'referrer.agreement_accepted',
          subjectType: 'referrer',
          subjectId: referrer.id,
          after: { agreementAcceptedAt: now, programs: versions },
          at: now,
        });
      });
    }
    res.json(await details(await me(res)));
  });

  // Everything the portal shows about the referrer, as one JSON file.
  router.get('/api/v1/portal/:installationId/me/export', requireReferrer, async (_req, res) => {
    const referrer = await me(res);
    res.attachment('my-referral-data.json').json({
      exportedAt: ctx.now().toISOString(),
      details: await details(referrer),
      referrals: await Promise.all((await store.referrals.byReferrer(referrer.id)).map((row) => portalReferral_(row))),
      rewards: await portalRewards(await referrerRewards(referrer.id)),
    });
  });

  // Recorded in the audit log and emailed to the program's admin (once a day per referrer), who must
  // keep what payouts and tax rules require and delete the rest.
  router.post('/api/v1/portal/:installationId/me/deletion-request', requireReferrer, async (_req, res) => {
    const referrer = await me(res);
    const now = ctx.now();
    // The team of the referrer's program reads it: the default program's, or their own first program's when not in it.
    const theirs = await store.programs.programsOf(referrer.id);
    const team = theirs.find((p) => p.isDefault) ?? theirs[0];
    const program = team && (await store.programs.current(team.id))?.program;
    await store.transaction(async () => {
      await store.audit.record({
        installationId: referrer.installationId,
        actor: `referrer:${referrer.id}`,
        action: 'referrer.deletion_requested',
        subjectType: 'referrer',
        subjectId: referrer.id,
        before: null,
        after: null,
        at: now.toISOString(),
      });
      if (program) {
        const sender = { name: program.name, senderName: program.senderName, senderEmail: program.senderEmail };
        await enqueueDeletionRequestNotice(store.outbox, referrer.installationId, referrer, sender, now);
      }
    });
    res.status(202).json({
      message:
        "Your request to delete your data is recorded. The program's team has been told by email: they delete what they " +
        `do not have to keep (payout and tax records may have to stay) and will tell you at ${referrer.email} what was done.`,
    });
  });

  // The referrer's own webhook endpoints (as the admin API's /referrers/:id/webhook-endpoints):
  // the signing secret is shown once, at creation.
  const endpointView = (e: { id: string; url: string; status: string; failingSince: string | null; createdAt: string }) => ({
    id: e.id,
    url: e.url,
    status: e.status,
    failingSince: e.failingSince,
    createdAt: e.createdAt,
  });
  const endpointAudit = async (referrerId: string, endpoint: { id: string; installationId: string; url: string }, action: string) =>
    await store.audit.record({
      installationId: endpoint.installationId,
      actor: `referrer:${referrerId}`,
      action,
      subjectType: 'webhook_endpoint',
      subjectId: endpoint.id,
      after: { url: endpoint.url },
      at: ctx.now().toISOString(),
    });

  router.get('/api/v1/portal/:installationId/webhook-endpoints', requireReferrer, async (_req, res) => {
    res.json({ items: (await store.referrerWebhookEndpoints.ofReferrer((await me(res)).id)).map(endpointView) });
  });

  router.post('/api/v1/portal/:installationId/webhook-endpoints', requireReferrer, json, async (req, res) => {
    const { url } = parseInput(endpointInput, req.body);
    const referrer = await me(res);
    const verdict = await validateEndpointUrl(url, { allowPrivate: settings.allowPrivateEndpoints ?? false });
    if (!verdict.ok) {
      throw new ApiError('invalid_input', `This address cannot receive notifications: ${verdict.reason}.`, {
        issues: [{ field: 'url', message: verdict.reason }],
      });
    }
    const secret = generateWebhookSecret();
    const endpoint = await store.transaction(async () => {
      const row = await store.referrerWebhookEndpoints.insert({
        id: `whe_${randomUUID()}`,
        installationId: referrer.installationId,
        referrerId: referrer.id,
        url: verdict.url,
        secretEnc: store.cipher.encrypt(secret),
        status: 'enabled',
        createdAt: ctx.now().toISOString(),
      });
      await endpointAudit(referrer.id, row, 'webhook_endpoint.created');
      return row;
    });
    res.status(201).json({ ...endpointView(endpoint), secret });
  });

  router.delete('/api/v1/portal/:installationId/webhook-endpoints/:id', requireReferrer, async (req, res) => {
    const referrer = await me(res);
    const endpoint = await store.referrerWebhookEndpoints.get(req.params.id as string);
    if (!endpoint || endpoint.referrerId !== referrer.id) throw new ApiError('not_found', 'No such webhook endpoint of yours.');
    await store.transaction(async () => {
      await store.referrerWebhookEndpoints.delete(endpoint.id);
      await endpointAudit(referrer.id, endpoint, 'webhook_endpoint.deleted');
    });
    res.status(204).end();
  });

  router.get('/api/v1/portal/:installationId/referrals', requireReferrer, async (_req, res) => {
    const referrer = await me(res);
    const items = await Promise.all((await store.referrals.byReferrer(referrer.id)).map((row) => portalReferral_(row)));
    res.json({ items });
  });

  /** A referral as its referrer sees it, in its program's name; the steps shown as its program's discretion allows, unless `showStages` says. */
  async function portalReferral_(row: ReferralRow, showStages?: boolean) {
    const timeline = await store.referrals.timeline(row.id);
    const program = await settingsOf(row.programId);
    const shown = showStages ?? program.discretion.showStage;
    return {
      id: row.id,
      program: { id: row.programId, name: program.name },
      referee: {
        name: [row.refereeFirstName, row.refereeLastName].filter(Boolean).join(' ') || row.refereeEmail,
        email: row.refereeEmail,
        company: row.refereeCompany,
      },
      status: row.status,
      statusText: STATUS_WORDS[row.status],
      submittedAt: row.submittedAt,
      claimWaiting: row.status === 'claim_pending',
      // The steps and their dates; the reasons are the team's own words and stay inside.
      timeline: (shown ? timeline : timeline.slice(-1)).map((e) => ({
        status: e.toStatus,
        statusText: STATUS_WORDS[e.toStatus],
        at: e.occurredAt,
      })),
    };
  }

  router.get('/api/v1/portal/:installationId/rewards', requireReferrer, async (_req, res) => {
    const referrer = await me(res);
    const rows = await referrerRewards(referrer.id);
    res.json({ items: await portalRewards(rows), totals: totalsOf(rows) });
  });

  /** A referral ask the signed-in referrer received: who asked, and their line. Another's ask is as good as absent. */
  async function ownAsk(referrerId: string, askId: string) {
    const ask = await store.referralAsks.get(askId);
    if (!ask || ask.referrerId !== referrerId || ask.status !== 'sent') throw new ApiError('not_found', 'No such referral ask.');
    return ask;
  }

  router.get('/api/v1/portal/:installationId/asks/:askId', requireReferrer, async (req, res) => {
    const referrer = await me(res);
    const ask = await ownAsk(referrer.id, req.params.askId as string);
    res.json({
      id: ask.id,
      accountName: ask.companyName,
      referrerName: referrer.name,
      askedBy: { name: ask.askedByName },
      message: ask.message,
      askedAt: ask.createdAt,
      referrals: await Promise.all(
        (await store.referrals.byReferrer(referrer.id)).filter((r) => r.askId === ask.id).map((r) => portalReferral_(r, false)),
      ),
    });
  });

  router.post('/api/v1/portal/:installationId/referrals', requireReferrer, json, async (req, res) => {
    const body = parseInput(portalReferral, req.body);
    const referrer = await me(res);
    if (body.askId) await ownAsk(referrer.id, body.askId);
    const installation = (await store.installations.get(referrer.installationId))!;
    requireQueue(ctx.scheduler);
    const result = await submitReferral(requestContext(ctx, res), {
      installation,
      referrer: { email: referrer.email, name: referrer.name, type: referrer.type, company: referrer.company ?? undefined },
      referee: body.referee,
      notes: body.notes,
      submittedBy: { kind: 'referrer', id: referrer.id, name: referrer.name },
      source: `${body.askId ? `ask:${body.askId}:` : ''}portal:${res.locals.requestId as string}`,
      askId: body.askId,
      programId: body.programId,
    });
    if (result.outcome === 'deal_not_found') throw new ApiError('internal', result.reason);
    if (result.outcome === 'program_refused') throw new ApiError(result.code === 'not_member' ? 'forbidden' : 'not_found', result.reason);
    // The referrer's view of the verdict: outcome and reasons, never who else referred or CRM records.
    const { outcome, reasons } = verdictView(result.verdict, 'referrer');
    res.status(outcome === 'accepted' || outcome === 'claim_pending' ? 201 : 200).json({
      outcome,
      reasons,
      referral: 'referral' in result ? await portalReferral_(result.referral, false) : null,
    });
  });

  const web = webDir();
  if (web) {
    router.use('/portal/assets', express.static(`${web}/assets`, { immutable: true, maxAge: '1y', index: false }));
    router.get(['/portal/:installationId', '/portal/:installationId/*rest'], (_req, res) => {
      res.setHeader('cache-control', 'no-cache');
      res.sendFile(`${web}/index.html`);
    });
  }
  return router;
}

function portalReward(row: RewardWithNet) {
  return {
    id: row.id,
    referralId: row.referralId,
    milestone: row.milestone,
    // What the referrer reads it was for: a revenue share is paid on a renewal, not on the referral's close.
    forText: row.kind === 'revenue_share' ? 'revenue share on a renewal or expansion' : row.milestone.replaceAll('_', ' '),
    amountCents: row.netCents,
    currency: row.currency,
    status: row.status,
    statusText: REWARD_WORDS[row.status],
    dueDate: row.dueDate,
    payoutReference: row.payoutReference,
    // "Given as": Cash, Account credit, Gift card, Donation to X, Recognition: badge.
    givenAs: grantLabel(grantOf(row)),
    ...(row.grant?.kind === 'recognition' ? { recognitionMessage: row.grant.message } : {}),
  };
}

/** The totals' columns: a reward waiting for an exchange rate is pending to the referrer. */
const TOTAL_OF: Record<RewardStatus, 'pending' | 'approved' | 'payable' | 'paid' | 'rejected' | 'reversed'> = {
  pending: 'pending',
  needs_rate: 'pending',
  approved: 'approved',
  payable: 'payable',
  paid: 'paid',
  rejected: 'rejected',
  reversed: 'reversed',
};

/** Net minor units per currency and status: money is never added across currencies. */
function totalsOf(rows: RewardWithNet[]) {
  const totals = new Map<string, Record<(typeof TOTAL_OF)[RewardStatus], number>>();
  for (const row of rows) {
    const byStatus = totals.get(row.currency) ?? { pending: 0, approved: 0, payable: 0, paid: 0, rejected: 0, reversed: 0 };
    byStatus[TOTAL_OF[row.status]] += row.netCents;
    totals.set(row.currency, byStatus);
  }
  return [...totals].map(([currency, byStatus]) => ({ currency, ...byStatus }));
}
