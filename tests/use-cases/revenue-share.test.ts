import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Program } from '../../src/domain/program.ts';
import { simulateDraft } from '../../src/use-cases/program-settings.ts';
import { createWorld, type World } from './world.ts';

const DAY = 86_400_000;

/**
 * A customer's referral won in March 2025; a renewal a year later. The installed program has no
 * revenue share: the renewal earns nothing (and no second fee), and says so. Simulating a draft
 * with one reads the renewal's period from the stored first won deal.
 */
describe('renewals of a referred customer', () => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld('2025-03-01T09:00:00.000Z');
    await world.store.installations.updateSettings(
      world.installation.id,
      { dealKinds: { pipelines: {}, typeValues: { existingbusiness: 'renewal' } } },
      world.ctx.now(),
    );
  });
  afterEach(async () => await world.close());

  const winDeal = async (contactId: string, closeDate: string, dealType: string | null) => {
    const deal = world.crm.createDeal({ name: closeDate, amountCents: 2_000_000, contactIds: [contactId], closeDate, dealType });
    world.crm.moveStage(deal.id, 'won');
    expect((await world.sync()).failed).toEqual([]);
    return deal.id;
  };

  it('without a revenue-share rule a renewal earns nothing, says why, and the simulation of a draft with one pays it', async () => {
    const referral = await world.refer({ email: 'dana@renewco.example', firstName: 'Dana' });
    world.advance(60_000);
    const first = await winDeal(referral.crmPersonId!, '2025-03-10', 'newbusiness');
    world.advance(370 * DAY);
    const renewal = await winDeal(referral.crmPersonId!, '2026-03-01', 'existingbusiness');

    const rewards = (await world.store.rewards.forReferral(referral.id)).filter((r) => r.milestone === 'closed_won');
    expect(rewards.map((r) => [r.dealId, r.kind, r.amountCents])).toEqual([[first, 'milestone', 50_000]]);
    expect((await world.store.referrals.get(referral.id))!.status).toBe('closed_won');
    const plan = (await world.store.audit.decisionsFor(world.installation.id, 'referral', referral.id)).find(
      (d) => d.kind === 'reward_plan' && (d.outcome as { dealId: string }).dealId === renewal,
    )?.outcome as { notes: string[] };
    expect(plan.notes).toEqual([
      expect.stringMatching(/^the deal is a renewal \(the deal type "existingbusiness" is renewal by the installation's rule\)/),
      'no revenue-share rule pays customer referrers',
    ]);

    const programRow = (await world.store.programs.defaultProgram(world.installation.id))!;
    const current = (await world.store.programs.currentDefault(world.installation.id))!.program;
    const draft: Program = {
      ...current,
      rewardRules: [
        ...current.rewardRules,
        { id: 'share', kind: 'revenue_share', referrerTypes: ['customer'], milestone: 'closed_won', rateBasisPoints: 1_500, months: 12 },
      ],
    };
    const simulated = await simulateDraft(world.ctx, programRow, draft, 24);
    expect(simulated.deals).toBe(2);
    // Both: $50 qualified + $500 on the first deal; the draft adds 15% of the $20,000 renewal.
    expect(simulated.current.totalCents).toBe(55_000);
    expect(simulated.draft.totalCents).toBe(355_000);
  });

  it('a first deal and its renewal won in one sync: the renewal finds the referral the first deal won', async () => {
    const referral = await world.refer({ email: 'fay@samesync.example', firstName: 'Fay' });
    world.advance(60_000);
    const deal = (closeDate: string, dealType: string) => {
      const created = world.crm.createDeal({
        name: closeDate,
        amountCents: 2_000_000,
        contactIds: [referral.crmPersonId!],
        closeDate,
        dealType,
      });
      world.crm.moveStage(created.id, 'won');
      return created.id;
    };
    const first = deal('2025-03-10', 'newbusiness');
    const renewal = deal('2025-03-20', 'existingbusiness');
    // One sync applies both, the first deal first: the renewal is judged on the referral as the first deal left it.
    expect((await world.sync()).failed).toEqual([]);
    expect((await world.store.referrals.get(referral.id))!.status).toBe('closed_won');
    expect((await world.store.referrals.activeAttributionsForDeal(world.installation.id, first)).map((a) => a.referralId)).toEqual([
      referral.id,
    ]);
    expect((await world.store.referrals.activeAttributionsForDeal(world.installation.id, renewal)).map((a) => a.referralId)).toEqual([
      referral.id,
    ]);
  });

  it('a renewal on a company whose referral expired or never won is credited to no one', async () => {
    const referral = await world.refer({ email: 'eli@openco.example', firstName: 'Eli' });
    world.advance(60_000);
    const renewal = await winDeal(referral.crmPersonId!, '2025-04-01', 'existingbusiness');
    expect(await world.store.rewards.forReferral(referral.id)).toEqual([]);
    expect(await world.store.referrals.activeAttributionsForDeal(world.installation.id, renewal)).toEqual([]);
    expect((await world.store.referrals.get(referral.id))!.status).toBe('accepted');
  });

  it('a renewal does not count as a closed-won referral towards a quarterly bonus', async () => {
    const current = (await world.store.programs.currentDefault(world.installation.id))!.program;
    await world.store.programs.addVersion(
      (await world.store.programs.defaultProgram(world.installation.id))!,
      { ...current, milestoneBonuses: [{ id: 'two-a-quarter', referrerTypes: ['customer'], closedWonPerQuarter: 2, amountCents: 20_000 }] },
      'test',
    );
    const first = await world.refer({ email: 'fay@firstco.example', firstName: 'Fay' });
    const second = await world.refer({ email: 'gus@secondco.example', firstName: 'Gus' });
    world.advance(60_000);
    await winDeal(first.crmPersonId!, '2025-03-10', 'newbusiness');
    world.advance(60 * DAY);
    // In the second quarter: the first customer's renewal and the second referral's first deal.
    await winDeal(first.crmPersonId!, '2025-05-02', 'existingbusiness');
    await winDeal(second.crmPersonId!, '2025-05-03', 'newbusiness');
    expect((await world.store.rewards.forReferrer(first.referrerId)).filter((r) => r.kind === 'bonus')).toEqual([]);
  });
});
