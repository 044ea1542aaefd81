import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobKind, UseCaseContext } from '../../src/ports/context.ts';
import { changeEligibilityFields } from '../../src/use-cases/eligibility-fields.ts';
import { reconcileInstallation } from '../../src/use-cases/reconcile-installation.ts';
import { eligibilityBasis, reevaluateAccounts, scheduleReevaluation } from '../../src/use-cases/reevaluate-accounts.ts';
import { createWorld, type World } from './world.ts';

const DAY_MS = 86_400_000;
const CSM = { id: 'owner-7', email: 'casey@vendor.example', name: 'Casey CSM' };

describe('re-evaluating accounts', () => {
  let world: World;
  let scheduled: { kind: JobKind; installationId: string; key?: string }[];
  let ctx: UseCaseContext;
  beforeEach(async () => {
    world = await createWorld('2026-03-02T09:00:00.000Z');
    world.crm.addOwner(CSM);
    scheduled = [];
    ctx = {
      ...world.ctx,
      scheduler: {
        async schedule(kind, installationId, options) {
          scheduled.push({ kind, installationId, key: options?.key });
        },
        available: () => true,
      },
    };
  });
  afterEach(async () => await world.close());

  const mapping = async () =>
    (await world.store.installations.settings((await world.store.installations.get(world.installation.id))!)).eligibilityFields!;
  const eligibleNotices = async () =>
    ((await world.column("SELECT payload FROM outbox WHERE topic = 'account.eligible' ORDER BY id")) as string[]).length;
  const decisions = async () => (await world.footprint()).decisions;

  it('after a mapping change: each known account once, in a job keyed by the mapping, with write-back and the CS owner told', async () => {
    world.crm.addAccountField({ name: 'promoter_score', label: 'Promoter score (survey)', kind: 'number', options: [] });
    const customer = { customerSince: '2025-06-01', lifecycleStage: 'customer', ownerId: CSM.id };
    const initech = world.crm.createCompany({ name: 'Initech', nps: 3, fields: { promoter_score: 10 }, ...customer });
    const globex = world.crm.createCompany({ name: 'Globex', nps: 3, fields: { promoter_score: 4 }, ...customer });
    await world.apply([initech, globex].map((c) => ({ objectType: 'company' as const, id: c.id })));
    expect(world.crm.written(initech.id)?.company).toMatchObject({ eligible: false });

    const changed = await changeEligibilityFields(ctx, world.installation, { ...(await mapping()), nps: 'promoter_score' }, 'admin');
    expect(changed.outcome).toBe('saved');
    await scheduleReevaluation(ctx, world.installation.id);
    await scheduleReevaluation(ctx, world.installation.id);
    const basis = await eligibilityBasis(ctx, world.installation.id);
    expect(scheduled).toEqual([
      { kind: 'reevaluate-accounts', installationId: world.installation.id, key: basis },
      { kind: 'reevaluate-accounts', installationId: world.installation.id, key: basis },
    ]);

    world.advance(60_000);
    expect(await reevaluateAccounts(ctx, world.installation.id)).toEqual({ accounts: 2, failed: 0 });
    expect(world.crm.written(initech.id)?.company).toMatchObject({ eligible: true });
    expect(world.crm.written(globex.id)?.company).toMatchObject({ eligible: false, eligibilityReason: expect.stringMatching(/NPS 4/) });
    expect(await eligibleNotices()).toBe(1);

    // Done for this basis: scheduling again asks for nothing, and running again changes nothing.
    scheduled.length = 0;
    await scheduleReevaluation(ctx, world.installation.id);
    expect(scheduled).toEqual([]);
    const before = await decisions();
    await reevaluateAccounts(ctx, world.installation.id);
    expect(await decisions()).toBe(before);
    expect(await eligibleNotices()).toBe(1);
  });

  it('a mapping change while the queue is down schedules nothing at once; reconciliation schedules it', async () => {
    await changeEligibilityFields(ctx, world.installation, { ...(await mapping()), healthScore: null }, 'admin');
    await scheduleReevaluation({ ...ctx, scheduler: { ...ctx.scheduler, available: () => false } }, world.installation.id);
    expect(scheduled).toEqual([]);
    await reconcileInstallation(ctx, world.installation.id);
    expect(scheduled).toContainEqual({
      kind: 'reevaluate-accounts',
      installationId: world.installation.id,
      key: await eligibilityBasis(ctx, world.installation.id),
    });
  });

  it('a re-evaluation that could not read the CRM is scheduled again by reconciliation', async () => {
    const acme = world.crm.createCompany({ name: 'Acme', nps: 9, customerSince: '2025-06-01', lifecycleStage: 'customer' });
    await world.apply([{ objectType: 'company', id: acme.id }]);
    await changeEligibilityFields(ctx, world.installation, { ...(await mapping()), healthScore: null }, 'admin');
    world.crm.failNext('invalid');
    await expect(reevaluateAccounts(ctx, world.installation.id)).rejects.toThrow();
    await reconcileInstallation(ctx, world.installation.id);
    expect(scheduled).toContainEqual({
      kind: 'reevaluate-accounts',
      installationId: world.installation.id,
      key: await eligibilityBasis(ctx, world.installation.id),
    });
  });
});

describe('the nightly tenure pass', () => {
  let world: World;
  beforeEach(async () => {
    // Day 1 of the test: Hooli became a customer 82 days ago; the default program wants 90.
    world = await createWorld('2026-03-02T09:00:00.000Z');
    world.crm.addOwner(CSM);
  });
  afterEach(async () => await world.close());

  it('makes an account eligible on the day its tenure crosses the minimum, with no CRM change, once', async () => {
    const hooli = world.crm.createCompany({
      name: 'Hooli',
      nps: 10,
      customerSince: '2025-12-10',
      lifecycleStage: 'customer',
      ownerId: CSM.id,
    });
    await reconcileInstallation(world.ctx, world.installation.id);
    expect(world.crm.written(hooli.id)?.company).toMatchObject({
      eligible: false,
      eligibilityReason: expect.stringMatching(/customer for 82 days, fewer than 90/),
    });
    // The write-back's own change comes back through the next reconciliation, the same day: no new decision.
    world.advance(60_000);
    await reconcileInstallation(world.ctx, world.installation.id);

    // The day before the crossing: nothing to do.
    world.advance(7 * DAY_MS);
    await reconcileInstallation(world.ctx, world.installation.id);
    expect(world.crm.written(hooli.id)?.company).toMatchObject({ eligible: false, eligibilityReason: expect.stringMatching(/82 days/) });

    // 2026-03-10, 00:05: the first reconciliation of the day re-reads Hooli; later ones the same day do not.
    world.advance(15 * 3_600_000 + 5 * 60_000);
    await reconcileInstallation(world.ctx, world.installation.id);
    expect(world.crm.written(hooli.id)?.company).toMatchObject({ eligible: true });
    const told = (await world.column("SELECT payload FROM outbox WHERE topic = 'account.eligible'")) as string[];
    expect(told).toHaveLength(1);
    expect(JSON.parse(told[0]!)).toMatchObject({ to: { email: CSM.email }, data: { account: { name: 'Hooli' } } });

    // Once its write-back came back, later reconciliations of the day read nothing.
    world.advance(60_000);
    await reconcileInstallation(world.ctx, world.installation.id);
    const reads = world.crm.calls.filter((c) => c === 'getCompanies').length;
    world.advance(3_600_000);
    await reconcileInstallation(world.ctx, world.installation.id);
    expect(world.crm.calls.filter((c) => c === 'getCompanies').length).toBe(reads);
  });
});
