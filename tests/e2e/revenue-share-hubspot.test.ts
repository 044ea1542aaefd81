import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import type { Program } from '../../src/domain/program.ts';
import { SESSION_COOKIE } from '../../src/http/sessions.ts';
import { eventually, startWithSandboxHubSpot, type TestService } from '../support/service.ts';

/**
 * Revenue share against a sandbox HubSpot: a customer refers a company; its first deal pays the
 * new-business fee. A renewal deal (HubSpot dealtype existingbusiness) a year later pays 15% under
 * a revenue-share rule running 12 months from the first won deal, and no second new-business fee;
 * the next renewal, after the period, pays nothing and the referral says why. A renewal reopened
 * is clawed back like any deal.
 */
const CLIENT = { clientId: 'e2e-revshare-client', clientSecret: 'e2e-revshare-secret', appId: 4545 };

interface RewardBody {
  id: string;
  kind: string;
  milestone: string;
  dealId: string | null;
  amount: number;
  netCents: number;
  status: string;
  reasons: string[];
}
interface ReferralBody {
  id: string;
  installationId: string;
  referrerId: string;
  status: string;
  crm: { person: { id: string }; companyId: string | null } | null;
  rewards: RewardBody[];
  decisions: { rewards: { dealId: string | null; summary: string; notes: string[] }[] };
}

describe('revenue share on renewals, end to end with HubSpot', () => {
  let hubspot: HubSpotSandbox;
  let svc: TestService;
  let referralId: string;
  let renewalId: string;

  beforeAll(async () => {
    ({ hubspot, svc } = await startWithSandboxHubSpot(CLIENT, { webhookBatchMs: 20, webhookRetryMs: 100 }));
  });
  afterAll(async () => {
    await svc?.stop();
    await hubspot?.close();
  });

  const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;
  const referral = () => json<ReferralBody>(svc.api(`/referrals/${referralId}`));
  /** A won deal of the referred contact and company, closing on the given day. */
  const winDeal = (pushed: ReferralBody, name: string, dealtype: string, amount: string, closeDay: string) => {
    const associations = [
      { type: 'contacts' as const, id: pushed.crm!.person.id },
      ...(pushed.crm!.companyId ? [{ type: 'companies' as const, id: pushed.crm!.companyId }] : []),
    ];
    const deal = hubspot.state.create(
      'deals',
      { dealname: name, pipeline: 'default', dealstage: 'qualifiedtobuy', amount, dealtype },
      associations,
    );
    hubspot.state.update('deals', deal.id, { dealstage: 'closedwon', closedate: `${closeDay}T12:00:00Z` });
    return deal.id;
  };
  const untilReferral = (check: (r: ReferralBody) => boolean, what: string) =>
    eventually(
      async () => {
        const r = await referral();
        return check(r) ? r : undefined;
      },
      15_000,
      what,
    );

  it('a program with a 15% revenue share for 12 months is saved', async () => {
    const document = await json<{ program: Program; version: number }>(svc.api('/program'));
    const program: Program = {
      ...document.program,
      rewardRules: [
        ...document.program.rewardRules,
        {
          id: 'renewal-share',
          kind: 'revenue_share',
          description: '15% of renewals and expansions for 12 months',
          referrerTypes: ['customer'],
          milestone: 'closed_won',
          rateBasisPoints: 1_500,
          months: 12,
        },
      ],
    };
    const res = await svc.api('/program', { method: 'PUT', json: { ...document, program } });
    expect(res.status).toBe(200);
    const refused = await svc.api('/program', {
      method: 'PUT',
      json: { ...document, program: { ...program, rewardRules: [{ ...program.rewardRules.at(-1), months: undefined }] } },
    });
    expect(refused.status).toBe(400);
  });

  it('the first won deal pays the new-business fee', async () => {
    const res = await svc.api('/referrals', {
      method: 'POST',
      json: {
        referrer: { email: 'cora@happy-customer.com', name: 'Cora Customer', type: 'customer' },
        referee: { email: 'dana@renewco-industries.com', company: 'renewco-industries.com' },
        submittedBy: { kind: 'rep', id: 'rep-9' },
      },
    });
    expect(res.status).toBe(201);
    referralId = (await json<ReferralBody>(res)).id;
    const pushed = await untilReferral((r) => r.crm !== null, 'referral pushed to HubSpot');
    winDeal(pushed, 'RenewCo new business', 'newbusiness', '20000', '2026-12-01');
    const won = await untilReferral((r) => r.rewards.some((w) => w.milestone === 'closed_won'), 'first deal rewarded');
    expect(won.status).toBe('closed_won');
    expect(won.rewards.filter((w) => w.milestone === 'closed_won').map((w) => [w.kind, w.amount])).toEqual([['milestone', 500]]);
  });

  it('a renewal a year later pays 15% as revenue share, tied to the first deal, and no second new-business fee', async () => {
    renewalId = winDeal(await referral(), 'RenewCo renewal 2027', 'existingbusiness', '20000', '2027-11-20');
    const paid = await untilReferral((r) => r.rewards.some((w) => w.kind === 'revenue_share'), 'renewal rewarded');
    const share = paid.rewards.find((w) => w.kind === 'revenue_share')!;
    expect(share).toMatchObject({ dealId: renewalId, amount: 3_000, milestone: 'closed_won' });
    expect(share.reasons[0]).toMatch(/^15% of first-year value \$20,000.00 revenue share \(rule renewal-share/);
    expect(share.reasons.join(' ')).toMatch(/existingbusiness.*never a second new-business reward/);
    expect(share.reasons.join(' ')).toMatch(/within rule renewal-share's 12-month period counted from deal \d+, first won on 2026-12-01/);
    expect(paid.rewards.filter((w) => w.kind === 'milestone' && w.milestone === 'closed_won')).toHaveLength(1);
    expect(paid.status).toBe('closed_won');

    // The referrer's portal says what it was for.
    const { token } = await svc.service.runtime.store.sessions.open({
      subjectKind: 'referrer',
      subjectId: paid.referrerId,
      installationId: paid.installationId,
      role: 'referrer',
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const portal = await fetch(`${svc.url}/api/v1/portal/${paid.installationId}/rewards`, {
      headers: { cookie: `${SESSION_COOKIE}=${token}` },
    });
    expect(portal.status).toBe(200);
    const { items } = (await portal.json()) as { items: { id: string; forText: string; amountCents: number }[] };
    expect(items.find((r) => r.id === share.id)).toMatchObject({
      forText: 'revenue share on a renewal or expansion',
      amountCents: 300_000,
    });
  });

  it('the next renewal, after the period, pays nothing and the referral says why', async () => {
    const late = winDeal(await referral(), 'RenewCo renewal 2028', 'existingbusiness', '20000', '2028-11-20');
    const told = await untilReferral((r) => r.decisions.rewards.some((d) => d.dealId === late), 'late renewal decided');
    const decision = told.decisions.rewards.find((d) => d.dealId === late)!;
    expect(decision.summary).toMatch(/^No reward at closed won because the deal is a renewal/);
    expect(decision.notes.join(' ')).toMatch(/closed on 2028-11-20, after rule renewal-share's 12-month period .* \(through 2027-12-01\)/);
    expect(told.rewards.filter((w) => w.dealId === late)).toEqual([]);
    expect(told.rewards.filter((w) => w.kind === 'revenue_share')).toHaveLength(1);
  });

  it('replaying every stored event pays nothing twice', async () => {
    const rewardsNow = async () => (await referral()).rewards.map((w) => [w.id, w.netCents]);
    await hubspot.state.webhooksIdle();
    const drained = async () => ((await svc.service.runtime.store.inbox.pendingCount()) === 0 ? true : undefined);
    await eventually(drained, 20_000, 'inbox drained');
    const before = await rewardsNow();
    const res = await svc.api('/replay', { method: 'POST', json: { since: '2000-01-01T00:00:00Z' } });
    expect(res.status).toBe(202);
    await eventually(drained, 30_000, 'replay drained');
    expect(await rewardsNow()).toEqual(before);
  });

  it('a renewal reopened in the CRM is clawed back', async () => {
    hubspot.state.update('deals', renewalId, { dealstage: 'contractsent' });
    const reversed = await untilReferral(
      (r) => r.rewards.some((w) => w.kind === 'revenue_share' && w.status === 'reversed'),
      'renewal share reversed',
    );
    expect(reversed.rewards.find((w) => w.kind === 'revenue_share')).toMatchObject({ netCents: 0, status: 'reversed' });
    expect(reversed.status).toBe('closed_won');
    expect(reversed.rewards.find((w) => w.kind === 'milestone' && w.milestone === 'closed_won')).toMatchObject({ netCents: 50_000 });
  });
});
