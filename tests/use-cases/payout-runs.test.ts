import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RewardsInOpenRunError } from '../../src/store/payouts.repo.ts';
import { changeReward } from '../../src/use-cases/manage-rewards.ts';
import { createPayoutRun, exportPayoutRun, markPayoutRunPaid } from '../../src/use-cases/payout-runs.ts';
import { createWorld, PARTNER, type World } from './world.ts';

const MINUTE = 60_000;

describe('payout runs on the fake CRM', () => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
  });
  afterEach(async () => await world.close());

  async function wonDeal(email: string, amountCents: number) {
    const pushed = await world.refer({ email }, PARTNER);
    world.advance(MINUTE);
    const deal = world.crm.createDeal({ name: email, amountCents, contactIds: [pushed.crmPersonId!], closeDate: '2026-03-31' });
    world.crm.moveStage(deal.id, 'won');
    await world.sync();
    return { dealId: deal.id, reward: (await world.store.rewards.forReferral(pushed.id)).find((r) => r.netCents > 0)! };
  }
  const count = async (table: string) => Number((await world.column(`SELECT count(*) FROM ${table}`))[0]);

  it('the store itself refuses a reward in two open runs, and the refused run leaves nothing behind', async () => {
    const { reward } = await wonDeal('pat@acme.example', 500_000);
    const first = await createPayoutRun(world.ctx, {
      installation: world.installation,
      program: world.program,
      dueOn: '2026-12-31',
      actor: 'test',
    });
    expect(first.ok).toBe(true);
    const before = { runs: await count('payout_runs'), lines: await count('payout_lines'), items: await count('payout_items') };
    // As a concurrent request that read before the first run was written would: straight to the store.
    await expect(
      world.store.transaction(
        async () =>
          await world.store.payouts.create({
            installationId: world.installation.id,
            programId: world.program.id,
            dueOn: '2026-12-31',
            lines: [
              {
                payeeType: 'referrer',
                payeeKey: reward.referrerId,
                payeeName: 'Pia',
                payeeEmail: 'pia@partner-firm.example',
                currency: 'USD',
                grossCents: 50_000,
                recoveredCents: 0,
                amountCents: 50_000,
                items: [{ rewardId: reward.id, amountCents: 50_000 }],
              },
            ],
          }),
      ),
    ).rejects.toThrow(RewardsInOpenRunError);
    expect({ runs: await count('payout_runs'), lines: await count('payout_lines'), items: await count('payout_items') }).toEqual(before);
  });

  it('a reward reversed inside an exported run is still paid as exported, and the next run recovers it', async () => {
    const first = await wonDeal('pat@acme.example', 500_000);
    const run1 = await createPayoutRun(world.ctx, {
      installation: world.installation,
      program: world.program,
      dueOn: '2026-12-31',
      actor: 'test',
    });
    if (!run1.ok) throw new Error(run1.reason);
    expect((await exportPayoutRun(world.ctx, run1.run, 'test')).ok).toBe(true);
    world.advance(MINUTE);
    world.crm.moveStage(first.dealId, 'proposal');
    await world.sync();
    expect(await world.store.rewards.get(first.reward.id)).toMatchObject({ status: 'reversed', netCents: 0 });

    const paid = await markPayoutRunPaid(world.ctx, (await world.store.payouts.get(run1.run.id))!, 'WIRE-1', 'test');
    expect(paid.ok).toBe(true);
    expect(await world.store.rewards.get(first.reward.id)).toMatchObject({ status: 'reversed', paidCents: 50_000 });

    // 10% of $3,000 is $300: all of it goes to the $500 owed back; $200 is carried.
    const second = await wonDeal('sam@globex.example', 300_000);
    const run2 = await createPayoutRun(world.ctx, {
      installation: world.installation,
      program: world.program,
      dueOn: '2026-12-31',
      actor: 'test',
    });
    if (!run2.ok) throw new Error(run2.reason);
    expect(run2.run.lines.map((l) => [l.grossCents, l.recoveredCents, l.amountCents])).toEqual([[30_000, 30_000, 0]]);
    // The reward in the open run is paid by the run only.
    expect(
      await changeReward(world.ctx, { reward: second.reward, action: 'mark_paid', actor: 'test', payoutReference: 'x' }),
    ).toMatchObject({
      ok: false,
      reason: `it is in open payout run ${run2.run.id}: mark the run paid instead`,
    });
    // A date before every reward's due date (2026-06-29): nothing to gather, nothing written.
    expect(
      await createPayoutRun(world.ctx, { installation: world.installation, program: world.program, dueOn: '2026-01-01', actor: 'test' }),
    ).toMatchObject({
      ok: false,
    });
  });
});
