import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import type { Program } from '../../src/domain/program.ts';
import { eventually, startWithSandboxSalesforce, type TestService } from '../support/service.ts';

/**
 * Tiers that move, against a sandbox Salesforce: a program pays gold partners 15% instead of 10% and
 * promotes a partner to gold at their second closed-won referral within a year. The Opportunity that
 * earns the promotion is still paid at 10%; the next one at 15%; each reward keeps its tier.
 */
const CLIENT = { clientId: 'e2e-tiers-sf-client', clientSecret: 'e2e-tiers-sf-secret' };

interface ReferralBody {
  id: string;
  status: string;
  crm: { person: { id: string } } | null;
  referrerId: string;
  rewards: { amount: number; netCents: number; milestone: string; referrerTier: string | null; reasons: string[] }[];
}
interface ReferrerBody {
  id: string;
  name: string;
  type: string;
  tier: string | null;
}

describe('tiers that move, end to end with Salesforce', () => {
  let salesforce: SalesforceSandbox;
  let svc: TestService;

  beforeAll(async () => {
    ({ salesforce, svc } = await startWithSandboxSalesforce(CLIENT));
  });
  afterAll(async () => {
    await svc?.stop();
    await salesforce?.close();
  });

  const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;
  const referral = (id: string) => json<ReferralBody>(svc.api(`/referrals/${id}`));
  const referrer = (id: string) => json<ReferrerBody>(svc.api(`/referrers/${id}`));
  const sql = <T>(query: string, ...params: unknown[]) => svc.sqlite.prepare(query).all(...params) as T[];
  const pia = { email: 'pia@partner-firm.com', name: 'Pia Partner', type: 'partner' };

  const logReferral = async (email: string) => {
    const res = await svc.api('/referrals', {
      method: 'POST',
      json: {
        referrer: pia,
        referee: { email, firstName: 'Jo', lastName: 'Lee', company: email.split('@')[1] },
        submittedBy: { kind: 'rep', id: '005000000000001' },
      },
    });
    expect(res.status).toBe(201);
    const { id } = await json<ReferralBody>(res);
    return eventually(async () => ((await referral(id)).crm ? referral(id) : undefined), 15_000, 'referral pushed to Salesforce');
  };
  /** The referral's Lead converted to a $25,000 Opportunity, closed won on the given day. */
  const winOpportunity = async (pushed: ReferralBody, closeDay: string) => {
    const { opportunityId } = salesforce.actions.convertLead({
      leadId: pushed.crm!.person.id,
      createOpportunity: true,
      opportunityName: `Opportunity ${closeDay}`,
    });
    salesforce.actions.updateRecord({ sobject: 'Opportunity', id: opportunityId!, fields: { Amount: 25_000, CloseDate: closeDay } });
    salesforce.actions.moveStage({ opportunityId: opportunityId!, stageName: 'Closed Won' });
    return eventually(
      async () => {
        const r = await referral(pushed.id);
        return r.status === 'closed_won' && r.rewards.some((w) => w.milestone === 'closed_won') ? r : undefined;
      },
      20_000,
      `Opportunity closing ${closeDay} rewarded`,
    );
  };
  const commission = (r: ReferralBody) => r.rewards.find((w) => w.milestone === 'closed_won')!;

  it('a program with tiers and a promotion rule is saved; a negative or over-100% rate or a rule for an undefined tier is refused, writing no version', async () => {
    const document = await json<{ program: Program; version: number }>(svc.api('/program'));
    const goldCommission = {
      id: 'gold-commission',
      kind: 'percent' as const,
      description: '15% for gold partners',
      referrerTypes: ['partner' as const],
      milestone: 'closed_won' as const,
      rateBasisPoints: 1_500,
      referrerTiers: ['gold'],
    };
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
      rewardRules: [goldCommission, ...document.program.rewardRules],
    };

    const versions = () => sql('SELECT 1 FROM program_versions').length;
    const versionsBefore = versions();
    for (const rateBasisPoints of [-1_500, 150_000]) {
      const bad = { ...program, rewardRules: [{ ...goldCommission, rateBasisPoints }, ...document.program.rewardRules] };
      const refused = await svc.api('/program', { method: 'PUT', json: { ...document, program: bad } });
      expect(refused.status, String(rateBasisPoints)).toBe(400);
      expect(await refused.text()).toMatch(/rewardRules\.0\.rateBasisPoints.*between 0 and 10000 basis points/);
    }
    const forPlatinum = { ...program, rewardRules: [{ ...goldCommission, referrerTiers: ['platinum'] }, ...document.program.rewardRules] };
    const undefinedTier = await svc.api('/program', { method: 'PUT', json: { ...document, program: forPlatinum } });
    expect(undefinedTier.status).toBe(400);
    expect(await undefinedTier.text()).toMatch(/platinum is not one of the program's tiers \(silver, gold\)/);
    expect(versions()).toBe(versionsBefore);
    expect((await json<{ program: Program }>(svc.api('/program'))).program.tiers ?? []).toEqual([]);

    const res = await svc.api('/program', { method: 'PUT', json: { ...document, program } });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ changed: true, program: { tiers: ['silver', 'gold'] } });
  });

  it('a promoted partner earns the higher rate on the next Opportunity only, and each reward keeps the tier it was earned under', async () => {
    const first = await logReferral('first@acme-widgets.com');
    // A tier the program does not define is refused, and changes nothing.
    const refused = await svc.api(`/referrers/${first.referrerId}`, { method: 'PATCH', json: { tier: 'platinum' } });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/no tier platinum: silver, gold/);
    const patched = await svc.api(`/referrers/${first.referrerId}`, { method: 'PATCH', json: { tier: 'silver' } });
    expect(patched.status).toBe(200);

    const firstWon = await winOpportunity(first, '2026-02-10');
    expect(commission(firstWon)).toMatchObject({ amount: 2_500, netCents: 250_000, referrerTier: 'silver' });
    expect((await referrer(firstWon.referrerId)).tier).toBe('silver');

    // The second close within a year meets the rule: it is still paid at 10%, then Pia is gold.
    const secondWon = await winOpportunity(await logReferral('sam@globex-corp.com'), '2026-03-20');
    expect(commission(secondWon)).toMatchObject({ amount: 2_500, referrerTier: 'silver' });
    const promoted = await eventually(
      async () => {
        const r = await referrer(secondWon.referrerId);
        return r.tier === 'gold' ? r : undefined;
      },
      10_000,
      'promotion to gold',
    );
    const [audit] = sql<{ before: string; after: string }>(
      "SELECT before, after FROM audit_log WHERE subject_id = ? AND action = 'referrer.promoted'",
      promoted.id,
    );
    expect(JSON.parse(audit!.before)).toEqual({ tier: 'silver' });
    expect(JSON.parse(audit!.after)).toMatchObject({ tier: 'gold', ruleId: 'gold-at-2' });
    expect(
      sql("SELECT 1 FROM outbox WHERE referrer_id = ? AND topic = 'referrer.promoted' AND channel = 'email'", promoted.id),
    ).toHaveLength(1);

    const thirdWon = await winOpportunity(await logReferral('tess@initech-labs.com'), '2026-04-15');
    expect(commission(thirdWon)).toMatchObject({ amount: 3_750, netCents: 375_000, referrerTier: 'gold' });
    expect(commission(thirdWon).reasons[0]).toMatch(/^15% of first-year value \$25,000.00 \(rule gold-commission/);

    // Earlier rewards are untouched by the promotion, and a gold partner is not promoted (or told) twice.
    expect(commission(await referral(firstWon.id))).toMatchObject({ amount: 2_500, referrerTier: 'silver' });
    expect(commission(await referral(secondWon.id))).toMatchObject({ amount: 2_500, referrerTier: 'silver' });
    expect(sql("SELECT 1 FROM audit_log WHERE subject_id = ? AND action = 'referrer.promoted'", promoted.id)).toHaveLength(1);
    expect(sql("SELECT 1 FROM outbox WHERE referrer_id = ? AND topic = 'referrer.promoted'", promoted.id)).toHaveLength(1);
  });

  it('replaying every stored outbound message promotes no one again and tells no one twice', async () => {
    const count = (query: string) => sql(query).length;
    const snapshot = () => ({
      promotions: count("SELECT 1 FROM audit_log WHERE action = 'referrer.promoted'"),
      told: count("SELECT 1 FROM outbox WHERE topic = 'referrer.promoted'"),
      rewards: count('SELECT 1 FROM rewards'),
    });
    await salesforce.outboundSettled();
    const drained = async () => ((await svc.service.runtime.store.inbox.pendingCount()) === 0 ? true : undefined);
    await eventually(drained, 20_000, 'inbox drained');
    const before = snapshot();
    expect(before).toMatchObject({ promotions: 1, told: 1 });
    const res = await svc.api('/replay', { method: 'POST', json: { since: '2000-01-01T00:00:00Z' } });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { requeued: number }).requeued).toBeGreaterThan(3);
    await eventually(drained, 30_000, 'replay drained');
    expect(snapshot()).toEqual(before);
  }, 45_000);
});
