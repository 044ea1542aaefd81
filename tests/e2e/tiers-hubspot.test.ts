import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import type { Program } from '../../src/domain/program.ts';
import { eventually, startWithSandboxHubSpot, type TestService } from '../support/service.ts';

/**
 * Tiers that move, against a sandbox HubSpot: a program pays gold partners 15% instead of 10% and
 * promotes a partner to gold at their second closed-won referral within a year. The deal that
 * earns the promotion is still paid at 10%; the next one at 15%; each reward keeps its tier.
 */
const CLIENT = { clientId: 'e2e-tiers-client', clientSecret: 'e2e-tiers-secret', appId: 4343 };

interface ReferralBody {
  id: string;
  status: string;
  crm: { person: { id: string } } | null;
  referrerId: string;
  rewards: { amount: number; milestone: string; referrerTier: string | null; reasons: string[] }[];
}
interface ReferrerBody {
  id: string;
  name: string;
  type: string;
  tier: string | null;
}

describe('tiers that move, end to end with HubSpot', () => {
  let hubspot: HubSpotSandbox;
  let svc: TestService;

  beforeAll(async () => {
    ({ hubspot, svc } = await startWithSandboxHubSpot(CLIENT, { webhookBatchMs: 20, webhookRetryMs: 100 }));
  });
  afterAll(async () => {
    await svc?.stop();
    await hubspot?.close();
  });

  const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;
  const referral = (id: string) => json<ReferralBody>(svc.api(`/referrals/${id}`));
  const referrer = (id: string) => json<ReferrerBody>(svc.api(`/referrers/${id}`));
  const sql = <T>(query: string, ...params: unknown[]) => svc.sqlite.prepare(query).all(...params) as T[];
  const pia = { email: 'pia@partner-firm.com', name: 'Pia Partner', type: 'partner' };

  const logReferral = async (email: string) => {
    const res = await svc.api('/referrals', {
      method: 'POST',
      json: { referrer: pia, referee: { email, company: email.split('@')[1] }, submittedBy: { kind: 'rep', id: 'rep-7' } },
    });
    expect(res.status).toBe(201);
    const { id } = await json<ReferralBody>(res);
    return eventually(async () => ((await referral(id)).crm ? referral(id) : undefined), 15_000, 'referral pushed to HubSpot');
  };
  /** A $25,000 deal for the referral's contact, closed won on the given day. */
  const winDeal = async (pushed: ReferralBody, closeDay: string) => {
    const deal = hubspot.state.create(
      'deals',
      { dealname: `Deal ${closeDay}`, pipeline: 'default', dealstage: 'qualifiedtobuy', amount: '25000' },
      [{ type: 'contacts', id: pushed.crm!.person.id }],
    );
    hubspot.state.update('deals', deal.id, { dealstage: 'closedwon', closedate: `${closeDay}T12:00:00Z` });
    return eventually(
      async () => {
        const r = await referral(pushed.id);
        return r.status === 'closed_won' && r.rewards.some((w) => w.milestone === 'closed_won') ? r : undefined;
      },
      15_000,
      `deal closing ${closeDay} rewarded`,
    );
  };
  const commission = (r: ReferralBody) => r.rewards.find((w) => w.milestone === 'closed_won')!;

  it('a program with tiers and a promotion rule is saved', async () => {
    const document = await json<{ program: Program; version: number }>(svc.api('/program'));
    const program: Program = {
      ...document.program,
      tiers: ['silver', 'gold'],
      promotionRules: [
        {
          id: 'gold-at-2',
          description: '2 closed-won referrals in 12 months',
          referrerTypes: ['partner'],
          closedWonReferrals: 2,
          withinDays: 365,
          toTier: 'gold',
        },
      ],
      rewardRules: [
        {
          id: 'gold-commission',
          kind: 'percent',
          description: '15% for gold partners',
          referrerTypes: ['partner'],
          milestone: 'closed_won',
          rateBasisPoints: 1_500,
          referrerTiers: ['gold'],
        },
        ...document.program.rewardRules,
      ],
    };
    const res = await svc.api('/program', { method: 'PUT', json: { ...document, program } });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ changed: true, program: { tiers: ['silver', 'gold'] } });
  });

  it('PATCH /referrers/:id changes name, type and tier, audited; a tier the program does not define is refused, nothing written', async () => {
    const first = await logReferral('first@acme-widgets.com');
    const id = first.referrerId;
    const audits = () =>
      sql<{ action: string; before: string; after: string }>(
        'SELECT action, before, after FROM audit_log WHERE subject_id = ? ORDER BY id',
        id,
      );
    const auditsBefore = audits().length;

    const refused = await svc.api(`/referrers/${id}`, { method: 'PATCH', json: { tier: 'diamond', name: 'Pia P.' } });
    expect(refused.status).toBe(400);
    expect(await json(refused)).toMatchObject({
      error: { code: 'invalid_input', message: expect.stringMatching(/no tier diamond: silver, gold/) },
    });
    expect(await svc.api(`/referrers/${id}`, { method: 'PATCH', json: {} }).then((r) => r.status)).toBe(400);
    expect(await referrer(id)).toMatchObject({ name: 'Pia Partner', tier: null });
    expect(audits()).toHaveLength(auditsBefore);

    const renamed = await svc.api(`/referrers/${id}`, { method: 'PATCH', json: { name: 'Pia Partner-Lee', tier: 'silver' } });
    expect(renamed.status).toBe(200);
    expect(await json(renamed)).toMatchObject({ id, name: 'Pia Partner-Lee', type: 'partner', tier: 'silver' });
    expect(audits().at(-1)).toEqual({
      action: 'referrer.updated',
      before: JSON.stringify({ name: 'Pia Partner', tier: null }),
      after: JSON.stringify({ name: 'Pia Partner-Lee', tier: 'silver' }),
    });
    expect((await svc.api('/referrers/rfr_nobody', { method: 'PATCH', json: { tier: 'gold' } })).status).toBe(404);
    const created = await svc.api('/referrers', {
      method: 'POST',
      json: { email: 'kim@consult.example', name: 'Kim', type: 'consultant', tier: 'Gold' },
    });
    expect(created.status).toBe(400);
    expect(sql("SELECT 1 FROM referrers WHERE email = 'kim@consult.example'")).toHaveLength(0);
  });

  it('a promoted partner earns the higher rate on the next deal only, and each reward keeps the tier it was earned under', async () => {
    const [first] = sql<{ id: string }>("SELECT id FROM referrals WHERE referee_email = 'first@acme-widgets.com'");
    const firstWon = await winDeal(await referral(first!.id), '2026-02-10');
    expect(commission(firstWon)).toMatchObject({ amount: 2_500, referrerTier: 'silver' });
    expect((await referrer(firstWon.referrerId)).tier).toBe('silver');

    // The second close within a year meets the rule: it is still paid at 10%, then Pia is gold.
    const secondWon = await winDeal(await logReferral('sam@globex-corp.com'), '2026-03-20');
    expect(commission(secondWon)).toMatchObject({ amount: 2_500, referrerTier: 'silver' });
    const promoted = await eventually(
      async () => {
        const r = await referrer(secondWon.referrerId);
        return r.tier === 'gold' ? r : undefined;
      },
      10_000,
      'promotion to gold',
    );
    expect(promoted.tier).toBe('gold');
    const [audit] = sql<{ actor: string; before: string; after: string }>(
      "SELECT actor, before, after FROM audit_log WHERE subject_id = ? AND action = 'referrer.promoted'",
      promoted.id,
    );
    expect(JSON.parse(audit!.before)).toEqual({ tier: 'silver' });
    expect(JSON.parse(audit!.after)).toMatchObject({ tier: 'gold', ruleId: 'gold-at-2' });
    // Pia is told once, by email.
    expect(
      sql<{ topic: string }>(
        "SELECT topic FROM outbox WHERE referrer_id = ? AND topic = 'referrer.promoted' AND channel = 'email'",
        promoted.id,
      ),
    ).toHaveLength(1);

    const thirdWon = await winDeal(await logReferral('tess@initech-labs.com'), '2026-04-15');
    expect(commission(thirdWon)).toMatchObject({ amount: 3_750, referrerTier: 'gold' });
    expect(commission(thirdWon).reasons[0]).toMatch(/^15% of first-year value \$25,000.00 \(rule gold-commission/);

    // Earlier rewards are untouched by the promotion.
    expect(commission(await referral(firstWon.id))).toMatchObject({ amount: 2_500, referrerTier: 'silver' });
    expect(commission(await referral(secondWon.id))).toMatchObject({ amount: 2_500, referrerTier: 'silver' });
    // The third close meets the rule again, but a gold partner is not promoted (or told) twice.
    expect(sql("SELECT 1 FROM audit_log WHERE subject_id = ? AND action = 'referrer.promoted'", promoted.id)).toHaveLength(1);
  });

  it('replaying every stored event promotes no one again and tells no one twice', async () => {
    const count = (query: string) => sql(query).length;
    const snapshot = () => ({
      promotions: count("SELECT 1 FROM audit_log WHERE action = 'referrer.promoted'"),
      told: count("SELECT 1 FROM outbox WHERE topic = 'referrer.promoted'"),
      rewards: count('SELECT 1 FROM rewards'),
    });
    await hubspot.state.webhooksIdle();
    const drained = async () => ((await svc.service.runtime.store.inbox.pendingCount()) === 0 ? true : undefined);
    await eventually(drained, 20_000, 'inbox drained');
    const before = snapshot();
    expect(before).toMatchObject({ promotions: 1 });
    const res = await svc.api('/replay', { method: 'POST', json: { since: '2000-01-01T00:00:00Z' } });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { requeued: number }).requeued).toBeGreaterThan(3);
    await eventually(drained, 30_000, 'replay drained');
    expect(snapshot()).toEqual(before);
  }, 45_000);
});
