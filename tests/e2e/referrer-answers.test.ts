/**
 * Who hears of a refused referral: a rep's duplicate or conflict is answered to the rep (the API's
 * 409), never emailed to the referrer; a referrer's own submission gets one answer, in words with
 * no internal ids.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSandbox, startTestService, type TestService } from '../support/service.ts';

interface Refusal {
  error: { code: string; details: { rejectedReferralId: string; referralId?: string } };
}

describe('answers to the referrer', () => {
  let svc: TestService;
  let firstId: string;
  const told = (referralId: string) =>
    svc.sqlite.prepare('SELECT topic, channel, payload FROM outbox WHERE referral_id = ? ORDER BY id').all(referralId) as {
      topic: string;
      channel: string;
      payload: string;
    }[];
  const submit = async (referrerEmail: string, refereeEmail: string, kind: 'rep' | 'referrer') =>
    svc.api('/referrals', {
      method: 'POST',
      json: {
        referrer: { email: referrerEmail, name: 'Someone', type: 'customer' },
        referee: { email: refereeEmail, firstName: 'Jo' },
        submittedBy: { kind },
      },
    });

  beforeAll(async () => {
    svc = await startTestService();
    await installSandbox(svc);
    const first = await submit('pia@partner-firm.com', 'jordan@acme-widgets.com', 'rep');
    expect(first.status).toBe(201);
    firstId = ((await first.json()) as { id: string }).id;
  });
  afterAll(async () => svc?.stop());

  it("a rep's accepted referral: the referrer hears it was received and accepted", () => {
    expect(
      told(firstId)
        .filter((r) => r.channel === 'email')
        .map((r) => r.topic),
    ).toEqual(['referral.received', 'referral.accepted']);
  });

  it.each([
    ['a duplicate', 'ria@customer-co.com', 'jordan@acme-widgets.com', 'duplicate'],
    ['a self-referral', 'sam@self-ref.example', 'sam@self-ref.example', 'conflict'],
  ])('%s logged by a rep is answered to the rep and not to the referrer', async (_what, referrerEmail, refereeEmail, code) => {
    const res = await submit(referrerEmail, refereeEmail, 'rep');
    expect(res.status).toBe(409);
    const { error } = (await res.json()) as Refusal;
    expect(error.code).toBe(code);
    // Nothing to the referrer; the rep may also find a note on the referee's CRM record, if it has one.
    expect(
      told(error.details.rejectedReferralId).filter((r) => !(r.topic === 'referral.rejected_internal' && r.channel === 'crm')),
    ).toEqual([]);
  });

  it("a referrer's own duplicate gets one answer, without internal ids", async () => {
    const res = await submit('ria@customer-co.com', 'jordan@acme-widgets.com', 'referrer');
    expect(res.status).toBe(409);
    const { error } = (await res.json()) as Refusal;
    expect(error.details.referralId).toBe(firstId);
    const rows = told(error.details.rejectedReferralId);
    expect(rows.filter((r) => r.channel === 'email').map((r) => r.topic)).toEqual(['referral.declined']);
    expect(new Set(rows.map((r) => r.topic))).toEqual(new Set(['referral.declined']));
    for (const row of rows) {
      // The payload names the referrer's own referral (their reference); the reason names no record.
      const { reason } = (JSON.parse(row.payload) as { data: { referral: { reason: string } } }).data.referral;
      expect(reason).toContain('was already referred on');
      expect(reason).not.toMatch(/\b(ref|rfr|inst|prg)_[0-9a-z]{8,}/);
      expect(row.payload).not.toContain(firstId);
    }
  });
});
