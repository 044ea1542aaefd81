import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CrmCurrencies } from '../../connectors/connector.ts';
import { changeReward } from '../../src/use-cases/manage-rewards.ts';
import { reconcileInstallation } from '../../src/use-cases/reconcile-installation.ts';
import { createWorld, PARTNER, type World } from './world.ts';

const MINUTE = 60_000;

/** Two dated EUR rates in a USD portal: 1 EUR = 1.05 USD in January and February, 1.085 from March. */
const DATED_EUR: CrmCurrencies = {
  companyCurrency: 'USD',
  limitation: null,
  rates: [
    { currency: 'EUR', rate: '1.05', meaning: 'company_per_unit', from: '2026-01-01', until: '2026-03-01', source: 'fake rate 1' },
    { currency: 'EUR', rate: '1.085', meaning: 'company_per_unit', from: '2026-03-01', until: null, source: 'fake rate 2' },
  ],
};

describe('rewards on deals in another currency than the program’s (fake CRM, real store)', () => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
  });
  afterEach(async () => await world.close());

  async function wonEuroDeal(closeDate: string, amountCents = 2_000_000) {
    const pushed = await world.refer({ email: 'pat@acme.example', firstName: 'Pat', lastName: 'Lee' }, PARTNER);
    world.advance(MINUTE);
    const deal = world.crm.createDeal({ name: 'Acme GmbH', amountCents, currency: 'EUR', contactIds: [pushed.crmPersonId!], closeDate });
    await world.sync();
    world.advance(MINUTE);
    world.crm.moveStage(deal.id, 'won');
    expect((await world.sync()).failed).toEqual([]);
    return { referralId: pushed.id, dealId: deal.id };
  }
  const rewards = async (referralId: string) =>
    (await world.store.rewards.forReferral(referralId)).sort((a, b) => a.idempotencyKey.localeCompare(b.idempotencyKey));

  it('pays 10% of the EUR first-year value converted at the rate in force on the close date, named in the reasons', async () => {
    world.crm.setCurrencies(DATED_EUR);
    const { referralId } = await wonEuroDeal('2026-02-20');
    const [commission] = await rewards(referralId);
    expect(commission).toMatchObject({ kind: 'commission', amountCents: 210_000, currency: 'USD', status: 'pending' });
    // The reward keeps the deal amount and the rate, its source and date, for finance.
    expect(commission!.conversion).toEqual({
      dealCurrency: 'EUR',
      dealAmountCents: 2_000_000,
      rateDate: '2026-02-20',
      rates: [{ currency: 'EUR', rate: '1.05', meaning: 'company_per_unit', source: 'fake rate 1', from: '2026-01-01' }],
    });
    expect(commission!.reasons).toContain(
      '€20,000.00 is $21,000.00 at 1 EUR = 1.05 USD (fake rate 1, in force since 2026-01-01), the rate in force on the close date 2026-02-20',
    );
  });

  it('without a rate the reward waits in needs_rate with the reason, and the next reconciliation settles it', async () => {
    const { referralId } = await wonEuroDeal('2026-03-31');
    expect(await rewards(referralId)).toEqual([expect.objectContaining({ status: 'needs_rate', amountCents: 0, netCents: 0 })]);
    const waiting = (await rewards(referralId))[0]!;
    expect(waiting.reasons.at(-1)).toBe(
      'waits for an exchange rate: no EUR exchange rate against the company currency USD is in force on 2026-03-31',
    );
    const refused = await changeReward(world.ctx, { reward: waiting, action: 'approve', actor: 'finance' });
    expect(refused).toMatchObject({ ok: false, reason: expect.stringContaining('waits for an exchange rate') });

    // Nothing changes until the CRM has a rate: reconciling again leaves it waiting.
    await reconcileInstallation(world.ctx, world.installation.id);
    expect((await rewards(referralId)).map((r) => r.status)).toEqual(['needs_rate']);

    world.crm.setCurrencies(DATED_EUR);
    world.advance(MINUTE);
    await reconcileInstallation(world.ctx, world.installation.id);
    expect((await rewards(referralId)).map((r) => [r.status, r.amountCents, r.netCents])).toEqual([
      ['reversed', 0, 0],
      ['pending', 217_000, 217_000],
    ]);
    // Settled once: another reconciliation adds nothing.
    const before = await world.footprint();
    await reconcileInstallation(world.ctx, world.installation.id);
    expect(await world.footprint()).toEqual(before);
  });
});
