/**
 * What the referrer reads while a deal moves: the fake CRM drives the deal, the real notifier sends
 * to a real SMTP server. Steps within the quiet period are told once; the final step at once.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.ts';
import { createSmtpEmailChannel, type EmailChannel } from '../../../src/notify/email.ts';
import { createNotifier, type Notifier } from '../../../src/notify/notifier.ts';
import { type ParsedMail, startSmtpServer, type SmtpTestServer } from '../../support/smtp-server.ts';
import { changeReward } from '../../../src/use-cases/manage-rewards.ts';
import { submitReferral } from '../../../src/use-cases/submit-referral.ts';
import { createWorld, CUSTOMER, PARTNER, type World } from '../../use-cases/world.ts';

const SECOND = 1000;

let smtp: SmtpTestServer;
let email: EmailChannel;
beforeAll(async () => {
  smtp = await startSmtpServer();
  email = createSmtpEmailChannel(smtp.url);
});
afterAll(async () => {
  email?.close();
  await smtp?.stop();
});

describe('deal steps told to the referrer', () => {
  let world: World;
  let notifier: Notifier;
  let referee: string;
  beforeEach(async () => {
    world = await createWorld();
    notifier = createNotifier({
      store: world.store,
      email,
      now: world.ctx.now,
      log: createLogger({ level: 'silent' }),
      publicBaseUrl: 'http://referloop.test',
    });
    // A referee per test: the SMTP server is shared, so each test reads its own referral's mail.
    referee = `pat.${Math.random().toString(36).slice(2, 8)}@acme.example`;
  });
  afterEach(async () => await world.close());

  /** A referral pushed to the CRM and its deal at the first stage, applied; the referral is contacted. */
  async function referredDeal() {
    const pushed = await world.refer({ email: referee, firstName: 'Pat', lastName: 'Lee' });
    world.advance(SECOND);
    const deal = world.crm.createDeal({ name: 'Acme platform', amountCents: 2_500_000, contactIds: [pushed.crmPersonId!] });
    expect((await world.sync()).failed).toEqual([]);
    return { referralId: pushed.id, dealId: deal.id };
  }

  async function moveTo(dealId: string, stageId: string, after: number) {
    world.advance(after);
    world.crm.moveStage(dealId, stageId);
    expect((await world.sync()).failed).toEqual([]);
    await notifier.runOnce();
  }

  /** The referral's own messages; its rewards (the qualified and won fees) have their own tests. */
  const stepMails = (mails: ParsedMail[]) => mails.filter((m) => !m.subject.startsWith('Your reward'));

  const emailRows = (referralId: string) =>
    world.rows<{ topic: string; status: string; why: string | null }>(
      "SELECT topic, status, last_error AS why FROM outbox WHERE referral_id = ? AND channel = 'email' AND topic LIKE 'referral.%' ORDER BY id",
      referralId,
    );

  it('a deal driven from new to closed won within the quiet period sends one message, at once', async () => {
    const before = smtp.messages(CUSTOMER.email).length;
    const { referralId, dealId } = await referredDeal();
    await notifier.runOnce();
    await moveTo(dealId, 'proposal', 10 * SECOND);
    await moveTo(dealId, 'won', 10 * SECOND);

    const rows = (await emailRows(referralId)).filter((r) => r.topic !== 'referral.received' && r.topic !== 'referral.accepted');
    expect(rows).toEqual([
      { topic: 'referral.contacted', status: 'cancelled', why: 'superseded by the later step in_sales_process' },
      { topic: 'referral.in_sales_process', status: 'cancelled', why: 'superseded by the later step won' },
      { topic: 'referral.won', status: 'delivered', why: null },
    ]);
    const mails = stepMails((await smtp.waitForMessages(before + 5, { to: CUSTOMER.email })).slice(before));
    expect(mails.map((m) => m.subject)).toEqual([
      'We received your referral of Pat Lee',
      'Your referral of Pat Lee was accepted',
      'Pat Lee became a customer',
    ]);

    // The timeline says what happened at each step, with the stages as the CRM names them.
    expect((await world.store.referrals.timeline(referralId)).map((e) => [e.toStatus, e.reasons[0]])).toEqual([
      ['submitted', expect.any(String)],
      ['accepted', expect.any(String)],
      ['contacted', 'stage "New" (new) of pipeline sales is mapped to contacted'],
      ['qualified', 'passed on the way to in sales process (stage "Proposal" (proposal) of pipeline sales is mapped to in sales process)'],
      ['in_sales_process', 'stage "Proposal" (proposal) of pipeline sales is mapped to in sales process'],
      ['closed_won', 'deal stage "Closed won" (won) is closed won in the CRM'],
    ]);

    // A replay of the same CRM changes writes and sends nothing more.
    const footprint = await world.footprint();
    await world.apply([{ objectType: 'deal', id: dealId }]);
    expect(await notifier.runOnce()).toEqual({ delivered: 0, failed: 0, disabled: 0 });
    expect(await world.footprint()).toEqual(footprint);
    world.advance(10 * 60 * SECOND);
    expect(await notifier.runOnce()).toEqual({ delivered: 0, failed: 0, disabled: 0 });
    expect(smtp.messages(CUSTOMER.email)).toHaveLength(before + 5);
  });

  it('across a longer span, each step once and in order', async () => {
    const before = smtp.messages(CUSTOMER.email).length;
    const { referralId, dealId } = await referredDeal();
    await notifier.runOnce(); // received, accepted; contacted waits out its quiet period
    world.advance(61 * SECOND);
    await notifier.runOnce();
    await moveTo(dealId, 'proposal', 5 * 60 * SECOND);
    world.advance(61 * SECOND);
    await notifier.runOnce();
    await moveTo(dealId, 'won', 5 * 60 * SECOND);

    expect((await emailRows(referralId)).map((r) => [r.topic, r.status])).toEqual([
      ['referral.received', 'delivered'],
      ['referral.accepted', 'delivered'],
      ['referral.contacted', 'delivered'],
      ['referral.in_sales_process', 'delivered'],
      ['referral.won', 'delivered'],
    ]);
    const mails = stepMails((await smtp.waitForMessages(before + 7, { to: CUSTOMER.email })).slice(before));
    expect(mails.map((m) => m.subject)).toEqual([
      'We received your referral of Pat Lee',
      'Your referral of Pat Lee was accepted',
      'We contacted Pat Lee',
      'Pat Lee is in our sales process',
      'Pat Lee became a customer',
    ]);
    // The stage as the CRM shows it, not its id.
    expect(mails[3]!.text).toContain('Current stage: Proposal.');
  });

  it('a deal moving back is never told an earlier step after a later one', async () => {
    const { referralId, dealId } = await referredDeal();
    await notifier.runOnce();
    world.advance(61 * SECOND);
    await notifier.runOnce(); // contacted told
    await moveTo(dealId, 'proposal', 10 * 60 * SECOND);
    world.advance(61 * SECOND);
    await notifier.runOnce(); // in sales process told
    await moveTo(dealId, 'new', 10 * 60 * SECOND);
    world.advance(61 * SECOND);
    await notifier.runOnce();

    expect((await emailRows(referralId)).slice(2)).toEqual([
      { topic: 'referral.contacted', status: 'delivered', why: null },
      { topic: 'referral.in_sales_process', status: 'delivered', why: null },
      {
        topic: 'referral.contacted',
        status: 'cancelled',
        why: 'the referrer was already told of in_sales_process, a step at or after contacted',
      },
    ]);
  });

  const rewardMails = async (referrerEmail: string, subjectPart: string) =>
    (await smtp.waitForMessages(1, { to: referrerEmail })).filter((m) => m.subject.includes(subjectPart));

  it('the referrer hears a reward earned, rejected with the reason, paid, and recovered after payment', async () => {
    // A partner's 10% commission on a $25,000 deal is over the approval threshold: earned, pending.
    const partnerReferral = await world.refer(
      { email: `lee@kim-${referee.slice(4, 10)}.example`, firstName: 'Lee', lastName: 'Kim' },
      PARTNER,
    );
    const partnerDeal = world.crm.createDeal({ name: 'Kim deal', amountCents: 2_500_000, contactIds: [partnerReferral.crmPersonId!] });
    await world.sync();
    await moveTo(partnerDeal.id, 'won', 2 * SECOND);
    const commission = (await world.store.rewards.forReferral(partnerReferral.id)).find((r) => r.status === 'pending')!;
    expect(
      (
        await changeReward(world.ctx, {
          reward: commission,
          action: 'reject',
          actor: 'finance',
          reason: "the deal was already sourced by Acme's own team",
        })
      ).ok,
    ).toBe(true);
    await notifier.runOnce();

    // A customer's $500 won fee is approved at once; paid, then the deal is reopened: recovered.
    const { referralId, dealId } = await referredDeal();
    await moveTo(dealId, 'won', 2 * SECOND);
    const wonFee = (await world.store.rewards.forReferral(referralId)).find((r) => r.milestone === 'closed_won')!;
    expect((await changeReward(world.ctx, { reward: wonFee, action: 'mark_paid', actor: 'finance', payoutReference: 'PAY-7' })).ok).toBe(
      true,
    );
    await moveTo(dealId, 'proposal', 60 * SECOND);

    const topicsOf = (id: string) =>
      world.column("SELECT topic FROM outbox WHERE referral_id = ? AND channel = 'email' AND topic LIKE 'reward.%' ORDER BY id", id);
    expect(await topicsOf(partnerReferral.id)).toEqual(['reward.earned', 'reward.rejected']);
    expect(await topicsOf(referralId)).toEqual(['reward.approved', 'reward.approved', 'reward.paid', 'reward.recovered']);

    await smtp.waitForMessages(1, { to: PARTNER.email });
    const [earned] = await rewardMails(PARTNER.email, 'You earned a reward for referring Lee Kim');
    expect(earned!.text).toContain('earned you a reward of $2,500.00. It is waiting for approval');
    const [rejected] = await rewardMails(PARTNER.email, 'Your reward for referring Lee Kim was not approved');
    expect(rejected!.text).toContain("Reason: the deal was already sourced by Acme's own team.");
    expect(rejected!.html).toContain('Reason: the deal was already sourced by Acme&#39;s own team.');
    const [recovered] = await rewardMails(CUSTOMER.email, 'Your reward for referring Pat Lee was taken back');
    expect(recovered!.text).toContain('We paid your reward of $500.00 for referring Pat Lee, but the deal behind it no longer stands');
    expect(recovered!.text).toContain('It will be deducted from your next payout.');
    expect(recovered!.text).toContain('See all your referrals and rewards: http://referloop.test/portal/');
  });

  it("a rep's duplicate is told to the rep on the CRM record, never to the referrer", async () => {
    const first = await world.refer({ email: referee, firstName: 'Pat', lastName: 'Lee' });
    const duplicate = await submitReferral(world.ctx, {
      installation: world.installation,
      referrer: PARTNER,
      referee: { email: referee, firstName: 'Pat', lastName: 'Lee' },
      submittedBy: { kind: 'rep', id: 'rep-2', name: 'Rita Rep' },
      source: 'test',
    });
    expect(duplicate.outcome).toBe('rejected');
    const crmNotifier = createNotifier({
      store: world.store,
      email,
      crm: async () => await world.ctx.crm.client(world.installation),
      now: world.ctx.now,
      log: createLogger({ level: 'silent' }),
      publicBaseUrl: 'http://referloop.test',
    });
    await crmNotifier.runOnce();

    const notes = world.crm.notes(first.crmPersonId!);
    expect(notes.map((n) => n.title)).toContain('Referral program: Referral of Pat Lee by Pia Partner was not accepted');
    const note = notes.find((n) => n.title.includes('was not accepted'))!;
    expect(note.body).toContain('the referrer was not told');
    expect(note.body).toContain(`already referred`);
    // The partner, whose referral a colleague logged, hears nothing of it.
    const partnerId = (await world.store.referrals.get(duplicate.outcome === 'rejected' ? duplicate.referral.id : ''))!.referrerId;
    expect((await world.column("SELECT count(*) FROM outbox WHERE referrer_id = ? AND channel != 'crm'", partnerId))[0]).toBe(0);
  });
});
