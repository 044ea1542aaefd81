import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultProgram } from '../../src/domain/program.ts';
import { askForReferral } from '../../src/use-cases/ask-for-referral.ts';
import { createWorld, type World } from './world.ts';

const DAY = 24 * 3_600_000;

describe('askForReferral, on the fake CRM and the real store', () => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
    world.crm.addOwner({ id: 'own-1', email: 'casey.csm@vendor.example', name: 'Casey CSM' });
  });
  afterEach(async () => await world.close());

  /** A customer account (eligible under the default program unless `nps` says otherwise), its champion first. */
  async function account(options: { nps?: number; optOut?: boolean; email?: string | null } = {}) {
    const company = world.crm.createCompany({
      name: 'Customer Co',
      domain: 'customer-co.example',
      isCustomer: true,
      lifecycleStage: 'customer',
      customerSince: '2025-01-10',
      nps: options.nps ?? 9,
      ownerId: 'own-1',
    });
    const champion = world.crm.createPerson({
      email: options.email === undefined ? 'carla@customer-co.example' : options.email,
      firstName: 'Carla',
      lastName: 'Champion',
      companyIds: [company.id],
      ...(options.optOut ? { emailOptOut: true } : {}),
    });
    world.crm.createPerson({ email: 'second@customer-co.example', firstName: 'Second', companyIds: [company.id] });
    await world.apply([{ objectType: 'company', id: company.id }]);
    return { companyId: company.id, championId: champion.id };
  }

  const ask = (companyId: string, over: Partial<Parameters<typeof askForReferral>[1]> = {}) =>
    askForReferral(world.ctx, { installation: world.installation, companyId, trigger: 'manual', caller: 'crm_user', ...over });
  const outbox = async () =>
    (await world.rows('SELECT channel, topic, delivery_key AS "deliveryKey", payload FROM outbox ORDER BY id')) as {
      channel: string;
      topic: string;
      deliveryKey: string;
      payload: string;
    }[];
  const asksRows = async () => Number((await world.column('SELECT count(*) FROM referral_asks'))[0]);

  it('emails the primary contact an ask signed by the CS owner, notes it on the company, and makes them a customer referrer', async () => {
    const { companyId, championId } = await account();
    const before = (await outbox()).length;
    const result = await ask(companyId, { message: 'Your team made our year.', idempotencyKey: 'card-1' });

    expect(result.outcome).toBe('sent');
    if (result.outcome !== 'sent') return;
    expect(result.ask).toMatchObject({
      companyId,
      championId,
      championEmail: 'carla@customer-co.example',
      championName: 'Carla Champion',
      askedByName: 'Casey CSM',
      askedByEmail: 'casey.csm@vendor.example',
      trigger: 'manual',
      status: 'sent',
    });
    const referrer = (await world.store.referrals.referrer(result.ask.referrerId!))!;
    expect(referrer).toMatchObject({
      email: 'carla@customer-co.example',
      type: 'customer',
      company: 'Customer Co',
      crmPersonId: championId,
    });
    const rows = (await outbox()).slice(before);
    expect(rows.map((r) => [r.channel, r.topic, r.deliveryKey])).toEqual([
      ['email', 'referral.ask', `ask:${result.ask.id}:email:${referrer.id}`],
      ['crm', 'account.asked', `ask:${result.ask.id}:company_note:crm:company:${companyId}`],
    ]);
    expect(JSON.parse(rows[0]!.payload).data.ask).toEqual({
      id: result.ask.id,
      accountName: 'Customer Co',
      championName: 'Carla Champion',
      askedBy: { name: 'Casey CSM', email: 'casey.csm@vendor.example' },
      message: 'Your team made our year.',
      programText: null,
    });
    expect(JSON.parse(rows[1]!.payload).company).toEqual({ id: companyId });

    const replay = await ask(companyId, { idempotencyKey: 'card-1' });
    expect(replay).toEqual({ outcome: 'sent', ask: result.ask, replay: true });
    expect((await outbox()).length).toBe(before + 2);
    expect(await world.store.referralAsks.counts([world.installation.id])).toEqual({ sent: 1, refused: 0, referralsFromAsks: 0 });

    // The same key for another account is refused, not answered with this account's ask.
    const other = await account();
    expect(await ask(other.companyId, { idempotencyKey: 'card-1' })).toEqual({
      outcome: 'refused',
      refusal: 'key_reused',
      reasons: [`the idempotency key was used for an ask to company ${companyId}`],
      ask: null,
    });
    expect((await outbox()).length).toBe(before + 2);
  });

  it('sends one ask for two requests with the same key at once', async () => {
    const { companyId } = await account();
    const [a, b] = await Promise.all([
      ask(companyId, { idempotencyKey: 'double-click' }),
      ask(companyId, { idempotencyKey: 'double-click' }),
    ]);
    expect(a.outcome === 'sent' && b.outcome === 'sent' && a.ask.id === b.ask.id).toBe(true);
    expect([a, b].map((r) => r.outcome === 'sent' && r.replay).sort()).toEqual([false, true]);
    expect((await outbox()).filter((r) => r.topic === 'referral.ask')).toHaveLength(1);
  });

  it('sends the ask at once to a champion who reads updates in a daily digest', async () => {
    const { companyId } = await account();
    const referrer = await world.store.referrals.insertReferrer({
      installationId: world.installation.id,
      email: 'carla@customer-co.example',
      name: 'Carla',
      type: 'customer',
      digest: true,
    });
    const result = await ask(companyId);
    expect(result.outcome === 'sent' && result.ask.referrerId).toBe(referrer.id);
    const [email] = (await outbox()).filter((r) => r.topic === 'referral.ask');
    expect(JSON.parse(email!.payload).digestAt).toBeUndefined();
  });

  it('asks the contact the CSM picks, and refuses one of another company', async () => {
    const { companyId } = await account();
    const picked = world.crm.createPerson({ email: 'pick@customer-co.example', firstName: 'Pick', companyIds: [companyId] });
    const elsewhere = world.crm.createPerson({ email: 'out@other.example', firstName: 'Out' });
    const sent = await ask(companyId, { contactId: picked.id });
    expect(sent.outcome === 'sent' && sent.ask.championEmail).toBe('pick@customer-co.example');
    const refused = await ask(companyId, { contactId: elsewhere.id });
    expect(refused).toMatchObject({ outcome: 'refused', refusal: 'unknown_contact', ask: null });
  });

  it.each([
    ['an account that is not eligible', { nps: 5 }, 'not_eligible', /NPS/],
    ['a champion opted out of email in the CRM', { optOut: true }, 'champion_opted_out', /opted out of email/],
    ['a champion without email', { email: null }, 'champion_no_email', /no email address/],
  ])('refuses %s and writes nothing', async (_, options, refusal, reason) => {
    const { companyId } = await account(options);
    const footprint = await world.footprint();
    const asks = await asksRows();
    const result = await ask(companyId);
    expect(result).toMatchObject({ outcome: 'refused', refusal, ask: null });
    if (result.outcome === 'refused') expect(result.reasons.join(' ')).toMatch(reason);
    expect(await world.footprint()).toEqual(footprint);
    expect(await asksRows()).toBe(asks);
  });

  it('refuses an unknown company, and a CRM user signing for someone else when only owners may ask', async () => {
    expect(await ask('co_nope')).toMatchObject({ outcome: 'refused', refusal: 'unknown_company' });
    const { companyId } = await account();
    const result = await ask(companyId, { askedBy: { name: 'Someone', email: 'someone@vendor.example' } });
    expect(result).toMatchObject({ outcome: 'refused', refusal: 'asker_not_allowed', ask: null });
  });

  it('asks automatically when an account becomes eligible, at most once per the program’s period', async () => {
    const program = (await world.store.programs.defaultProgram(world.installation.id))!;
    await world.store.programs.addVersion(
      program,
      { ...defaultProgram(), asks: { askers: ['cs_owner'], automatic: true, minDaysBetweenAutomatic: 30 } },
      'test',
    );
    const { companyId } = await account({ nps: 5 });
    expect(await asksRows()).toBe(0);

    world.advance(DAY);
    world.crm.updateCompany(companyId, { nps: 9 });
    await world.sync();
    const first = await world.store.referralAsks.lastAutomaticSent(world.installation.id, companyId);
    expect(first).toMatchObject({ trigger: 'automatic', status: 'sent', askedByEmail: 'casey.csm@vendor.example' });

    // Not eligible, then eligible again ten days later: within the period, recorded as refused.
    world.advance(DAY);
    world.crm.updateCompany(companyId, { nps: 4 });
    await world.sync();
    world.advance(10 * DAY);
    world.crm.updateCompany(companyId, { nps: 10 });
    await world.sync();
    const rows = await world.rows('SELECT status, refusal FROM referral_asks ORDER BY created_at');
    expect(rows).toEqual([
      { status: 'sent', refusal: null },
      { status: 'refused', refusal: 'too_soon' },
    ]);
    expect((await outbox()).filter((r) => r.topic === 'referral.ask')).toHaveLength(1);
  });

  it('sends no automatic ask under a program that does not enable them', async () => {
    const { companyId } = await account({ nps: 5 });
    world.advance(DAY);
    world.crm.updateCompany(companyId, { nps: 9 });
    await world.sync();
    expect(await asksRows()).toBe(0);
    expect((await outbox()).map((r) => r.topic)).toContain('account.eligible');
  });
});
