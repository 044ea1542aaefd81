import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PayeeBalance } from '../../src/domain/payouts.ts';
import { grantLineKey, grantOf } from '../../src/domain/grants.ts';
import { changeReward } from '../../src/use-cases/manage-rewards.ts';
import { createPayoutRun, exportPayoutRun, markPayoutRunPaid, referrerBalance } from '../../src/use-cases/payout-runs.ts';
import { createWorld, PARTNER, type World } from './world.ts';

const MINUTE = 60_000;
/** A partner earns 10% of the deal: $500 is approved at once, $2,000 waits for approval (threshold $1,000). */
const DEAL_AMOUNTS = [500_000, 2_000_000] as const;

/** Each step acts on the referred company's first deal or on its renewal (revenue share, 15%). */
type DealName = 'first' | 'renewal';
type Step =
  | { kind: 'win'; deal: DealName }
  | { kind: 'reopen'; deal: DealName }
  | { kind: 'resize'; deal: DealName; amountCents: number }
  | { kind: 'approve' }
  | { kind: 'reject' }
  | { kind: 'pay-reward' }
  | { kind: 'open-run' }
  | { kind: 'pay-run' };

const dealName = fc.constantFrom<DealName>('first', 'renewal');
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: dealName.map((deal) => ({ kind: 'win' as const, deal })), weight: 3 },
  { arbitrary: dealName.map((deal) => ({ kind: 'reopen' as const, deal })), weight: 2 },
  {
    arbitrary: fc
      .tuple(dealName, fc.constantFrom(...DEAL_AMOUNTS))
      .map(([deal, amountCents]) => ({ kind: 'resize' as const, deal, amountCents })),
    weight: 1,
  },
  { arbitrary: fc.constant({ kind: 'approve' as const }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'reject' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'pay-reward' as const }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'open-run' as const }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'pay-run' as const }), weight: 2 },
);

/**
 * Random sequences of win, reopen, resize (of the first deal or of a renewal paying a revenue share as a gift card),
 * approve, reject and pay (one by one or by payout run) on one partner's referral, which earns recognition (no money) when qualified. The money handed over is counted here, apart from the app; after
 * every step the ledger must balance: the sum of the referrer's ledger entries equals what was paid
 * out plus what is owed (rewards not yet paid, less what the referrer owes back).
 */
describe('the reward ledger balances per payee through clawbacks and payout runs', () => {
  // About 10 s on an idle machine for all its runs; the default 30 s is too near once the other
  // suites share two cores.
  it('sum of ledger entries = paid out + owed, for any sequence', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 10, maxLength: 30 }), async (steps) => {
        const world = await createWorld();
        try {
          await runSteps(world, steps);
        } finally {
          await world.close();
        }
      }),
      // Each run is a fresh store: a scratch database on PostgreSQL costs a migration, so fewer runs there.
      { numRuns: process.env.REFERLOOP_TEST_STORE === 'postgres' ? 15 : 100 },
    );
  });

  it('the renewal in the sequences pays its revenue share as a gift card, the first deal cash, the qualification recognition', async () => {
    const world = await createWorld();
    try {
      await runSteps(world, [
        { kind: 'win', deal: 'first' },
        { kind: 'win', deal: 'renewal' },
      ]);
      const earned = await world.rows<{ kind: string; cents: number; status: string; granted: string | null }>(
        'SELECT kind, amount_cents AS cents, status, granted_as AS granted FROM rewards ORDER BY kind',
      );
      // Recognition on qualification (a SQLite JSON column holds null as JSON text 'null'), 10% of $5,000 on the first deal in cash, 15% of $5,000 on the renewal as a gift card.
      expect(
        earned.map((r) => [r.kind, r.cents, r.status, (JSON.parse(r.granted ?? 'null') as { kind: string } | null)?.kind ?? null]),
      ).toEqual([
        ['commission', 50_000, 'approved', null],
        ['milestone', 0, 'paid', 'recognition'],
        ['revenue_share', 75_000, 'approved', 'gift_card'],
      ]);
      // One run: the cash commission and the gift card are two lines of the one partner.
      const run = await createPayoutRun(world.ctx, {
        installation: world.installation,
        program: world.program,
        dueOn: '2099-12-31',
        actor: 'test',
      });
      if (!run.ok) throw new Error(run.reason);
      expect(run.run.lines.map((l) => [l.grantKey, l.amountCents])).toEqual([
        ['cash', 50_000],
        ['gift_card', 75_000],
      ]);
    } finally {
      await world.close();
    }
  });
});

async function runSteps(world: World, steps: Step[]): Promise<void> {
  // Renewals are told by the deal type; the referral is locked to a program with a revenue share.
  await world.store.installations.updateSettings(
    world.installation.id,
    { dealKinds: { pipelines: {}, typeValues: { existingbusiness: 'renewal' } } },
    world.ctx.now(),
  );
  await world.store.programs.addVersion(
    (await world.store.programs.defaultProgram(world.installation.id))!,
    {
      ...(await world.store.programs.currentDefault(world.installation.id))!.program,
      rewardRules: [
        ...(await world.store.programs.currentDefault(world.installation.id))!.program.rewardRules,
        // Grants: the revenue share is a gift card (its own payout line beside the cash commission),
        // and a qualified referral earns recognition (no money: paid at once, in no run).
        {
          id: 'share',
          kind: 'revenue_share',
          referrerTypes: ['partner'],
          milestone: 'closed_won',
          rateBasisPoints: 1_500,
          months: 12,
          grant: { kind: 'gift_card' },
        },
        {
          id: 'thanks',
          kind: 'fixed',
          referrerTypes: ['partner'],
          milestone: 'qualified',
          amountCents: 0,
          grant: { kind: 'recognition', badge: 'Door opener', message: 'Thank you for the introduction' },
        },
      ],
    },
    'test',
  );
  const pushed = await world.refer({ email: 'pat@acme.example', firstName: 'Pat', lastName: 'Lee' }, PARTNER);
  world.advance(MINUTE);
  const first = world.crm.createDeal({
    name: 'Acme',
    amountCents: DEAL_AMOUNTS[0],
    contactIds: [pushed.crmPersonId!],
    closeDate: '2026-03-31',
  });
  const renewal = world.crm.createDeal({
    name: 'Acme renewal',
    amountCents: DEAL_AMOUNTS[0],
    contactIds: [pushed.crmPersonId!],
    closeDate: '2027-03-20',
    dealType: 'existingbusiness',
  });
  const deals = { first, renewal };
  await world.sync();
  const referrer = (await world.store.referrals.referrer((await world.store.referrals.get(pushed.id))!.referrerId))!;
  const rewards = async () => await world.store.rewards.forReferrer(referrer.id);
  let handedOver = 0;
  const won = { first: false, renewal: false };

  for (const s of steps) {
    world.advance(MINUTE);
    const ctx = world.ctx;
    switch (s.kind) {
      case 'win':
      case 'reopen':
        if (won[s.deal] === (s.kind === 'win')) break;
        world.crm.moveStage(deals[s.deal].id, s.kind === 'win' ? 'won' : 'proposal');
        expect((await world.sync()).failed).toEqual([]);
        won[s.deal] = s.kind === 'win';
        break;
      case 'resize':
        world.crm.updateDeal(deals[s.deal].id, { amountCents: s.amountCents });
        expect((await world.sync()).failed).toEqual([]);
        break;
      case 'approve': {
        const reward = (await rewards()).find((r) => r.status === 'pending');
        if (reward) expect((await changeReward(ctx, { reward, action: 'approve', actor: 'test' })).ok).toBe(true);
        break;
      }
      case 'reject': {
        const reward = (await rewards()).find((r) => r.status === 'pending' || r.status === 'approved');
        if (reward && (await world.store.payouts.inOpenRuns([reward.id])).length === 0) {
          expect((await changeReward(ctx, { reward, action: 'reject', actor: 'test', reason: 'not eligible' })).ok).toBe(true);
        }
        break;
      }
      case 'pay-reward': {
        const reward = (await rewards()).find((r) => r.status === 'approved' || r.status === 'payable');
        if (!reward) break;
        const inRun = (await world.store.payouts.inOpenRuns([reward.id])).length > 0;
        const result = await changeReward(ctx, { reward, action: 'mark_paid', actor: 'test', payoutReference: 'wire-1' });
        expect(result.ok).toBe(!inRun); // refused while the reward sits in an open run
        if (result.ok) handedOver += reward.netCents;
        break;
      }
      case 'open-run': {
        const result = await createPayoutRun(ctx, {
          installation: world.installation,
          program: world.program,
          dueOn: '2099-12-31',
          actor: 'test',
        });
        if (result.ok) {
          for (const line of result.run.lines) {
            expect(line.amountCents).toBeGreaterThanOrEqual(0);
            expect(line.amountCents).toBe(line.grossCents - line.recoveredCents);
            // Every reward of a line is given as the line's grant; recognition is never paid out.
            for (const id of line.rewardIds) expect(grantLineKey(grantOf(await world.store.rewards.get(id)))).toBe(line.grantKey);
            expect(line.grantKey).not.toBe('recognition');
          }
          expect(new Set(result.run.lines.map((l) => `${l.payeeKey}:${l.currency}:${l.grantKey}`)).size).toBe(result.run.lines.length);
          expect((await exportPayoutRun(ctx, result.run, 'test')).ok).toBe(true);
        }
        break;
      }
      case 'pay-run': {
        const [open] = (await world.store.payouts.list({ installationIds: [world.installation.id], status: 'exported', limit: 1 })).items;
        if (!open) break;
        const run = (await world.store.payouts.get(open.id))!;
        const result = await markPayoutRunPaid(ctx, run, `batch-${run.id}`, 'test');
        expect(result.ok).toBe(true);
        handedOver += run.lines.reduce((sum, l) => sum + l.amountCents, 0);
        expect((await markPayoutRunPaid(ctx, (await world.store.payouts.get(open.id))!, 'again', 'test')).ok).toBe(false);
        break;
      }
    }

    const ledgerSum = Number(
      (
        await world.column(
          `SELECT coalesce(sum(e.amount_cents), 0) FROM reward_events e JOIN rewards r ON r.id = e.reward_id
           WHERE r.referrer_id = ? AND r.beneficiary = 'referrer'`,
          referrer.id,
        )
      )[0],
    );
    const balance: PayeeBalance = (await referrerBalance(world.ctx, referrer))[0] ?? {
      currency: 'USD',
      owedCents: 0,
      paidOutCents: 0,
      receivableCents: 0,
      recoveringCents: 0,
    };
    expect(balance.paidOutCents, `after ${JSON.stringify(s)}`).toBe(handedOver);
    expect(balance.receivableCents).toBeGreaterThanOrEqual(0);
    expect(balance.recoveringCents).toBeLessThanOrEqual(balance.receivableCents);
    expect(ledgerSum, `after ${JSON.stringify(s)}`).toBe(balance.paidOutCents + balance.owedCents - balance.receivableCents);
  }
}
