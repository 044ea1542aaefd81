/**
 * "Exactly one notification per referral transition", seen from the referrer: a deal that was lost
 * and is reopened puts the referral back in the sales process, and the referrer, who was told
 * "lost", must be told so. (Qualified and in_sales_process in one go are still one message.)
 *
 * Edge in this process, a `referloop worker` child process, a sandbox HubSpot; embedded queue.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { seedReferrals, startPipeline, until, waitPushed, type Pipeline } from './harness.ts';

let p: Pipeline;

beforeAll(async () => {
  p = await startPipeline();
  p.startWorker();
}, 30_000);

afterAll(async () => {
  await p?.stop();
});

it('tells the referrer that a lost deal is back in the sales process after it reopens', async () => {
  const [id] = await seedReferrals(p, 1, 'reopen', { personal: true });
  const contacts = await waitPushed(p, [id!]);
  const status = () => p.db.prepare('SELECT status FROM referrals WHERE id = ?').pluck().get(id) as string;
  const reach = (wanted: string) => until(() => status() === wanted, `referral ${wanted}`, 20_000, p.workerOutput);

  // Each move is synced before the next, as when a rep works the deal over days.
  const deal = p.hubspot.state.create(
    'deals',
    { dealname: 'Reopened', pipeline: 'default', dealstage: 'appointmentscheduled', amount: '25000' },
    [{ type: 'contacts', id: contacts.get(id!)! }],
  );
  await reach('contacted');
  p.hubspot.state.update('deals', deal.id, { dealstage: 'presentationscheduled' });
  await reach('in_sales_process');
  p.hubspot.state.update('deals', deal.id, { dealstage: 'closedlost', closedate: '2026-03-31T12:00:00Z' });
  await reach('closed_lost');
  p.hubspot.state.update('deals', deal.id, { dealstage: 'contractsent' });
  await reach('in_sales_process');

  // The outbox is written in the transition's transaction: it is complete once the status is.
  const told = p.db.prepare("SELECT topic FROM outbox WHERE referral_id = ? AND channel = 'email' ORDER BY id").pluck().all(id) as string[];
  expect(told).toEqual([
    'referral.received',
    'referral.accepted',
    'referral.contacted',
    'referral.in_sales_process',
    'referral.lost',
    'referral.in_sales_process',
  ]);
}, 60_000);
