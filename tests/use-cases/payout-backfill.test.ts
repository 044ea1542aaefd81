import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changeReward } from '../../src/use-cases/manage-rewards.ts';
import { referrerBalance } from '../../src/use-cases/payout-runs.ts';
import { createWorld, PARTNER, type World } from './world.ts';

const MINUTE = 60_000;
const migrations = resolve(import.meta.dirname, '../../migrations');
/** The back-fill statements of the migration that added paid_cents. */
const backfill = readFileSync(join(migrations, readdirSync(migrations).find((f) => f.endsWith('_payout_runs.sql'))!), 'utf8')
  .split('--> statement-breakpoint')
  .map((s) => s.trim())
  .filter((s) => /^(--[^\n]*\n)*UPDATE `rewards` SET `paid_cents`/.test(s));

describe('the payout migration back-fills what paid rewards were paid', () => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
  });
  afterEach(async () => await world.close());

  it('a paid reward gets its net; a paid reward clawed back before the migration becomes owed back', async () => {
    expect(backfill).toHaveLength(2);
    const rewards: string[] = [];
    for (const [email, amountCents] of [
      ['pat@acme.example', 500_000],
      ['sam@globex.example', 800_000],
    ] as const) {
      const pushed = await world.refer({ email }, PARTNER);
      world.advance(MINUTE);
      const deal = world.crm.createDeal({ name: email, amountCents, contactIds: [pushed.crmPersonId!], closeDate: '2026-03-31' });
      world.crm.moveStage(deal.id, 'won');
      await world.sync();
      const reward = (await world.store.rewards.forReferral(pushed.id)).find((r) => r.netCents > 0)!;
      expect((await changeReward(world.ctx, { reward, action: 'mark_paid', actor: 'test', payoutReference: 'old-wire' })).ok).toBe(true);
      rewards.push(reward.id);
      if (email === 'pat@acme.example') {
        world.advance(MINUTE);
        world.crm.moveStage(deal.id, 'proposal');
        await world.sync();
      }
    }
    // As the store was before the migration: nothing recorded what was paid.
    await world.rows('UPDATE rewards SET paid_cents = NULL');
    for (const statement of backfill) await world.rows(statement);

    const row = async (id: string) => (await world.rows('SELECT status, paid_cents AS paid FROM rewards WHERE id = ?', id))[0];
    expect(await Promise.all(rewards.map(row))).toEqual([
      { status: 'reversed', paid: 50_000 },
      { status: 'paid', paid: 80_000 },
    ]);
    const referrer = (await world.store.referrals.referrer((await world.store.rewards.get(rewards[0]!))!.referrerId))!;
    expect(await referrerBalance(world.ctx, referrer)).toEqual([
      { currency: 'USD', owedCents: 0, paidOutCents: 130_000, receivableCents: 50_000, recoveringCents: 0 },
    ]);
  });
});
