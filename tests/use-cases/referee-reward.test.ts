import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPayoutRun, referrerBalance } from '../../src/use-cases/payout-runs.ts';
import { createWorld, type World } from './world.ts';

const MINUTE = 60_000;

describe("dual-sided programs: the referee's reward is the referee's", () => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
    const current = (await world.store.programs.currentDefault(world.installation.id))!.program;
    await world.store.programs.addVersion(
      (await world.store.programs.defaultProgram(world.installation.id))!,
      { ...current, refereeReward: { milestone: 'closed_won', amountCents: 20_000, description: 'a $200 credit' } },
      'test',
    );
  });
  afterEach(async () => await world.close());

  const refereeNotices = async () =>
    (await world.rows("SELECT delivery_key, payload FROM outbox WHERE topic = 'referee.reward_earned' ORDER BY id")) as {
      delivery_key: string;
      payload: string;
    }[];

  it('is paid to the referee in its own payout line, and the referee is told once, when it is earned', async () => {
    const pushed = await world.refer({ email: 'Pat@Acme.example', firstName: 'Pat', lastName: 'Lee' });
    world.advance(MINUTE);
    const deal = world.crm.createDeal({ name: 'Acme', amountCents: 2_500_000, contactIds: [pushed.crmPersonId!], closeDate: '2026-03-31' });
    await world.sync();
    world.advance(MINUTE);
    world.crm.moveStage(deal.id, 'won');
    expect((await world.sync()).failed).toEqual([]);

    // Both are created in the same instant, so their order is not part of the contract.
    const won = (await world.store.rewards.forReferral(pushed.id)).filter((r) => r.milestone === 'closed_won');
    expect(won.map((r) => [r.beneficiary, r.netCents, r.status]).sort()).toEqual([
      ['referee', 20_000, 'approved'],
      ['referrer', 50_000, 'approved'],
    ]);
    const notices = await refereeNotices();
    expect(notices).toHaveLength(1);
    expect(JSON.parse(notices[0]!.payload)).toMatchObject({
      audience: 'referee',
      to: { name: 'Pat Lee', email: 'Pat@Acme.example' },
      data: { reward: { amount: 200, currency: 'USD' } },
    });
    expect(JSON.parse(notices[0]!.payload).data.referrer).toBeUndefined();

    // Applying the same deal again tells nobody again.
    await world.apply([{ objectType: 'deal', id: deal.id }]);
    expect(await refereeNotices()).toHaveLength(1);

    // The referrer's balance is the referrer's own $500 and the $50 qualified fee.
    const referrer = (await world.store.referrals.referrer(pushed.referrerId))!;
    expect(await referrerBalance(world.ctx, referrer)).toEqual([
      { currency: 'USD', owedCents: 55_000, paidOutCents: 0, receivableCents: 0, recoveringCents: 0 },
    ]);

    const run = await createPayoutRun(world.ctx, {
      installation: world.installation,
      program: world.program,
      dueOn: '2026-12-31',
      actor: 'test',
    });
    if (!run.ok) throw new Error(run.reason);
    expect(run.run.lines.map((l) => [l.payeeType, l.payeeEmail, l.amountCents])).toEqual([
      ['referee', 'Pat@Acme.example', 20_000],
      ['referrer', referrer.email, 55_000],
    ]);
  });
});
