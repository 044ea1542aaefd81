import { describe, expect, test } from 'vitest';
import { renderDigest, renderEmail, renderNote } from '../../../src/notify/templates.ts';
import { INTERNAL_TOPICS, REFERRER_TOPICS, type EmailPayload, type VisibleData } from '../../../src/notify/topics.ts';

const program = { name: 'Acme Referrals', senderName: 'Acme Team', senderEmail: 'team@acme.test' };
const data: VisibleData = {
  referral: { id: 'ref_1', status: 'accepted', refereeName: 'Bob <b>Buyer</b>', refereeCompany: 'Globex & Co' },
  reward: { id: 'rwd_1', status: 'paid', dueDate: '2026-06-30', amount: 1000, currency: 'EUR', payoutReference: 'P-1' },
  account: { name: 'Initech', reasons: ['NPS 9'] },
  referrer: { id: 'rfr_1', name: 'Ann', email: 'ann@p.test', company: null, type: 'partner' },
};

function payload(topic: EmailPayload['topic'], extra: Partial<EmailPayload> = {}): EmailPayload {
  return {
    topic,
    messageId: 'msg_1',
    occurredAt: '2026-03-10T10:00:00.000Z',
    program,
    audience: 'referrer',
    data,
    to: { name: 'Ann', email: 'ann@p.test' },
    ...extra,
  };
}

describe('templates', () => {
  test.each([...REFERRER_TOPICS, ...INTERNAL_TOPICS])('%s renders text and HTML with the program and reader', (topic) => {
    const email = renderEmail(payload(topic), 'https://app.test/unsubscribe/rfr_1?key=k');
    expect(email.subject.length).toBeGreaterThan(5);
    expect(email.text).toMatch(/^Hi Ann,\n\n/);
    expect(email.text).toContain('Acme Team\nAcme Referrals');
    expect(email.text).toContain('https://app.test/unsubscribe/rfr_1?key=k');
    expect(email.html).toContain('<a href="https://app.test/unsubscribe/rfr_1?key=k">Unsubscribe</a>');
  });

  test('HTML is escaped, text is not', () => {
    const email = renderEmail(payload('referral.accepted'), undefined);
    expect(email.text).toContain('Bob <b>Buyer</b> (Globex & Co)');
    expect(email.html).toContain('Bob &#60;b&#62;Buyer&#60;/b&#62; (Globex &#38; Co)');
    expect(email.html).not.toContain('<b>');
    expect(email.html).not.toContain('Unsubscribe');
  });

  test('declines and losses say why', () => {
    const declined = { ...data, referral: { ...data.referral!, reason: 'already referred by someone else on 2026-01-04' } };
    expect(renderEmail(payload('referral.declined', { data: declined }), undefined).text).toContain(
      'Reason: already referred by someone else on 2026-01-04.',
    );
    const expired = { ...data, referral: { ...data.referral!, reason: 'expired' } };
    expect(renderEmail(payload('referral.lost', { data: expired }), undefined).text).toContain(
      'expired: the referral window passed without a deal',
    );
  });

  test('rewards show the amount in the currency, when the program shows it', () => {
    expect(renderEmail(payload('reward.paid'), undefined).text).toContain('We paid your reward of €1,000.00 for referring');
    const hidden = { ...data, reward: { id: 'rwd_1', status: 'paid', dueDate: '2026-06-30' } };
    expect(renderEmail(payload('reward.paid', { data: hidden }), undefined).text).toContain('We paid your reward for referring');
  });

  test('a digest lists each update under its own heading', () => {
    const email = renderDigest([payload('referral.received'), payload('referral.accepted')], undefined);
    expect(email.subject).toBe('Your Acme Referrals referral summary: 2 updates');
    expect(email.text.match(/^\* /gm)).toHaveLength(2);
    expect(email.html.match(/<h3>/g)).toHaveLength(2);
  });

  test('a CRM note carries the words without greeting or links', () => {
    const note = renderNote(payload('referral.won'));
    expect(note.title).toBe('Acme Referrals: Bob <b>Buyer</b> (Globex & Co) became a customer');
    expect(note.body).not.toMatch(/Hi Ann|unsubscribe/i);
  });

  test('a promotion names the new tier and why', () => {
    const promotion = {
      fromTier: 'silver',
      toTier: 'gold',
      reasons: ['3 closed-won referrals in the 365 days up to 2026-06-30 meet rule gold'],
    };
    const email = renderEmail(payload('referrer.promoted', { data: { promotion } }), undefined);
    expect(email.subject).toBe('You are now gold in Acme Referrals');
    expect(email.text).toContain('you moved up from silver to gold.');
    expect(email.text).toContain('Why: 3 closed-won referrals in the 365 days up to 2026-06-30 meet rule gold.');
  });
});

describe('templates, as the referrer reads them', () => {
  const HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(1)>"\'&';
  const hostile: VisibleData = {
    referral: { id: 'r', status: 's', refereeName: HOSTILE, refereeCompany: HOSTILE, reason: HOSTILE, notes: HOSTILE },
    deal: { stage: HOSTILE, amount: 10, currency: 'USD' },
    reward: { id: 'w', status: 'paid', dueDate: HOSTILE, amount: 5, currency: 'USD', payoutReference: HOSTILE, reason: HOSTILE },
    account: { name: HOSTILE, reasons: [HOSTILE] },
    referrer: { id: 'f', name: HOSTILE, email: HOSTILE, company: HOSTILE, type: 'partner' },
    endpoint: { id: HOSTILE, url: HOSTILE, failingSince: HOSTILE, lastError: HOSTILE },
  };
  const all = [...REFERRER_TOPICS, ...INTERNAL_TOPICS, 'webhook_endpoint.disabled', 'portal.deletion_requested'] as const;

  test.each(all)('%s escapes every field in HTML', (topic) => {
    const hostileProgram = { name: HOSTILE, senderName: HOSTILE, senderEmail: 'x@y.test' };
    const email = renderEmail(
      payload(topic, { data: hostile, program: hostileProgram, to: { name: HOSTILE, email: 'a@b.test' } }),
      HOSTILE,
      HOSTILE,
    );
    expect(email.html).not.toMatch(/<script|<img|onerror=alert\(1\)>|"'&[^#]/);
    expect(email.html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(email.text).toContain(HOSTILE);
  });

  test('the sign-off names the program once when the sender has its name', () => {
    const same = { name: 'Referral program', senderName: 'Referral program', senderEmail: 'r@acme.test' };
    const email = renderEmail(payload('referral.accepted', { program: same }), undefined);
    expect(email.text.match(/Referral program/g)).toHaveLength(1);
    expect(email.html.match(/Referral program/g)).toHaveLength(1);
  });

  test('every referrer email links the portal, in text and HTML', () => {
    const email = renderEmail(payload('reward.earned'), undefined, 'https://app.test/portal/inst_1');
    expect(email.text).toContain('See all your referrals and rewards: https://app.test/portal/inst_1');
    expect(email.html).toContain('<a href="https://app.test/portal/inst_1"');
  });

  test('rewards earned, rejected and recovered say what happened and why', () => {
    const reward = { ...data.reward!, status: 'pending', reason: 'the customer cancelled within 30 days' };
    const read = (topic: EmailPayload['topic']) => renderEmail(payload(topic, { data: { ...data, reward } }), undefined).text;
    expect(read('reward.earned')).toContain('earned you a reward of €1,000.00. It is waiting for approval');
    expect(read('reward.rejected')).toContain('Reason: the customer cancelled within 30 days.');
    expect(read('reward.recovered')).toContain('was taken back.\n\nReason: the customer cancelled within 30 days.');
  });

  test('a lost deal does not show its internal code', () => {
    const lost = { ...data, referral: { ...data.referral!, reason: 'deal_lost' } };
    expect(renderEmail(payload('referral.lost', { data: lost }), undefined).text).not.toContain('deal_lost');
  });
});
