import { formatMoney, toMinorUnits } from '../domain/money.ts';
import type { EmailPayload, OutboxTopic, Sender, VisibleData } from './topics.ts';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

interface Block {
  subject: string;
  paragraphs: string[];
}

type Template = (data: VisibleData, program: Sender) => Block;

function referee(data: VisibleData): string {
  const r = data.referral;
  if (!r) return 'your referral';
  return r.refereeCompany ? `${r.refereeName} (${r.refereeCompany})` : r.refereeName;
}

function amount(value: { amount?: number | null; currency?: string } | undefined): string | undefined {
  if (value?.amount == null || !value.currency) return undefined;
  return formatMoney(toMinorUnits(value.amount, value.currency), value.currency);
}

const stage = (d: VisibleData) => (d.deal?.stage ? [`Current stage: ${d.deal.stage}.`] : []);
const notes = (d: VisibleData) => (d.referral?.notes ? [`Notes: ${d.referral.notes}`] : []);
const ofAmount = (d: VisibleData) => (amount(d.reward) ? ` of ${amount(d.reward)}` : '');

/** One template per moment; the payload is already what this reader may see. */
const TEMPLATES: Record<OutboxTopic, Template> = {
  'referral.received': (d, p) => ({
    subject: `We received your referral of ${referee(d)}`,
    paragraphs: [`Thank you for referring ${referee(d)} to ${p.name}. We will review it and tell you what happens next.`],
  }),
  'referral.accepted': (d) => ({
    subject: `Your referral of ${referee(d)} was accepted`,
    paragraphs: [`Good news: your referral of ${referee(d)} was accepted. Our team will reach out to them.`, ...notes(d)],
  }),
  'referral.declined': (d) => ({
    subject: `Your referral of ${referee(d)} was not accepted`,
    paragraphs: [`We could not accept your referral of ${referee(d)}.`, `Reason: ${d.referral?.reason ?? 'not given'}.`],
  }),
  'referral.contacted': (d) => ({
    subject: `We contacted ${referee(d)}`,
    paragraphs: [`Our team has been in touch with ${referee(d)}.`, ...notes(d)],
  }),
  'referral.in_sales_process': (d) => ({
    subject: `${referee(d)} is in our sales process`,
    paragraphs: [`${referee(d)} is now talking with our sales team.`, ...stage(d)],
  }),
  'referral.won': (d, p) => {
    const deal = amount(d.deal);
    return {
      subject: `${referee(d)} became a customer`,
      paragraphs: [`${referee(d)} signed with ${p.name}. Thank you for the introduction!`, ...(deal ? [`Deal amount: ${deal}.`] : [])],
    };
  },
  'referral.lost': (d) => {
    const reason = d.referral?.reason;
    return {
      subject: `Update on your referral of ${referee(d)}`,
      paragraphs:
        reason === 'expired'
          ? [`Your referral of ${referee(d)} expired: the referral window passed without a deal.`]
          : [`${referee(d)} decided not to go ahead this time.`, ...(reason ? [`Reason: ${reason}.`] : [])],
    };
  },
  'reward.approved': (d) => ({
    subject: `Your reward for referring ${referee(d)} was approved`,
    paragraphs: [
      `Your reward${ofAmount(d)} for referring ${referee(d)} was approved.`,
      ...(d.reward ? [`It is due on ${d.reward.dueDate}.`] : []),
    ],
  }),
  'reward.paid': (d) => ({
    subject: `Your reward for referring ${referee(d)} was paid`,
    paragraphs: [
      `We paid your reward${ofAmount(d)} for referring ${referee(d)}.`,
      ...(d.reward?.payoutReference ? [`Payout reference: ${d.reward.payoutReference}.`] : []),
    ],
  }),
  'referrer.promoted': (d, p) => ({
    subject: d.promotion ? `You are now ${d.promotion.toTier} in ${p.name}` : `Your tier in ${p.name} changed`,
    paragraphs: [
      d.promotion
        ? `Thank you for your referrals: you moved up from ${d.promotion.fromTier ?? 'the base tier'} to ${d.promotion.toTier}.`
        : 'Thank you for your referrals: you moved up a tier.',
      ...(d.promotion?.reasons[0] ? [`Why: ${d.promotion.reasons[0]}.`] : []),
      'Rewards for deals closing from now on follow your new tier.',
    ],
  }),
  'referee.reward_earned': (d, p) => ({
    subject: `You earned a reward from ${p.name}`,
    paragraphs: [
      `Welcome to ${p.name}! As a referred customer you earned a reward${ofAmount(d)}.`,
      ...(d.reward ? [`It is due on ${d.reward.dueDate}; we will let you know how it is paid.`] : []),
    ],
  }),
  'finance.rewards_digest': (d, p) => {
    const f = d.finance;
    const line = (r: { id: string; amount: number; currency: string; dueDate: string; status: string }) =>
      `- ${r.id}: ${amount(r)}, ${r.status}, due ${r.dueDate}`;
    return {
      subject: `${p.name} rewards on ${f?.date}: ${f?.awaitingApproval.length ?? 0} awaiting approval, ${f?.overdue.length ?? 0} overdue`,
      paragraphs: [
        ...(f?.awaitingApproval.length ? [`Waiting for approval (${f.awaitingApproval.length}):`, ...f.awaitingApproval.map(line)] : []),
        ...(f?.overdue.length ? [`Overdue, past their due date and unpaid (${f.overdue.length}):`, ...f.overdue.map(line)] : []),
        'Approve or reject them in Referloop (POST /api/v1/rewards/:id/approve or /reject) and pay them in a payout run (POST /api/v1/payouts).',
      ],
    };
  },
  'account.eligible': (d, p) => ({
    subject: `${d.account?.name ?? 'An account'} is eligible to refer`,
    paragraphs: [
      `${d.account?.name ?? 'An account'} now meets the ${p.name} rules to refer. A good moment to ask them for a referral.`,
      ...(d.account?.reasons ?? []).map((r) => `- ${r}`),
    ],
  }),
  'referral.arrived_internal': (d) => {
    const who = d.referrer
      ? `${d.referrer.name}${d.referrer.company ? ` (${d.referrer.company})` : ''} <${d.referrer.email}>`
      : 'A referrer';
    return {
      subject: `New referral: ${referee(d)}${d.referrer ? ` from ${d.referrer.name}` : ''}`,
      paragraphs: [
        `${who}, who is not a contact in the CRM, referred ${referee(d)}.`,
        ...notes(d),
        ...(d.referral ? [`Referral id: ${d.referral.id}`] : []),
      ],
    };
  },
  'deal.claimed': (d) => {
    const who = d.referrer ? `${d.referrer.name}${d.referrer.company ? ` (${d.referrer.company})` : ''}` : 'A referrer';
    return {
      subject: `${who} claims credit for your deal with ${referee(d)}`,
      paragraphs: [
        `${who} referred ${referee(d)}, who is in one of your open deals, and asks for credit on it.`,
        ...(d.referral?.reason ? [d.referral.reason] : []),
        ...notes(d),
        ...(d.referral ? [`Referral id: ${d.referral.id}`] : []),
      ],
    };
  },
  'webhook_endpoint.disabled': (d) => {
    const e = d.endpoint;
    return {
      subject: `Webhook endpoint disabled: ${e?.url ?? 'unknown'}`,
      paragraphs: [
        `The webhook endpoint ${e?.url} of ${d.referrer?.name ?? 'a referrer'} failed every delivery since ${e?.failingSince} and was disabled.`,
        `Last error: ${e?.lastError}`,
        `Fix the endpoint, then re-enable it with POST /api/v1/webhook-endpoints/${e?.id}/enable.`,
      ],
    };
  },
};

function renderBlock(topic: OutboxTopic, data: VisibleData, program: Sender): Block {
  return TEMPLATES[topic](data, program);
}

export function renderEmail(payload: EmailPayload, unsubscribeUrl: string | undefined): RenderedEmail {
  const block = renderBlock(payload.topic, payload.data, payload.program);
  return layout(payload, block.subject, [{ paragraphs: block.paragraphs }], unsubscribeUrl);
}

/** One summary of a digest referrer's held messages, oldest first. */
export function renderDigest(payloads: EmailPayload[], unsubscribeUrl: string | undefined): RenderedEmail {
  const last = payloads[payloads.length - 1];
  if (!last) throw new Error('A digest needs at least one message');
  const sections = payloads.map((p) => {
    const block = renderBlock(p.topic, p.data, p.program);
    return { heading: block.subject, paragraphs: block.paragraphs };
  });
  const count = payloads.length === 1 ? '1 update' : `${payloads.length} updates`;
  return layout(last, `Your ${last.program.name} referral summary: ${count}`, sections, unsubscribeUrl);
}

/** A CRM timeline note: the same words as the email, without greeting or links. */
export function renderNote(payload: { topic: OutboxTopic; data: VisibleData; program: Sender }): { title: string; body: string } {
  const block = renderBlock(payload.topic, payload.data, payload.program);
  return { title: `${payload.program.name}: ${block.subject}`, body: block.paragraphs.join('\n\n') };
}

function layout(
  payload: EmailPayload,
  subject: string,
  sections: { heading?: string; paragraphs: string[] }[],
  unsubscribeUrl: string | undefined,
): RenderedEmail {
  const { to, program } = payload;
  const text = [
    `Hi ${to.name},`,
    ...sections.map((s) => [...(s.heading ? [`* ${s.heading}`] : []), ...s.paragraphs].join('\n\n')),
    `${program.senderName}\n${program.name}`,
    ...(unsubscribeUrl ? [`--\nTo stop these emails, open ${unsubscribeUrl}`] : []),
  ].join('\n\n');
  const html = [
    '<!doctype html><html><body style="font-family:Arial,sans-serif;line-height:1.5;color:#222">',
    `<p>Hi ${escapeHtml(to.name)},</p>`,
    ...sections.map((s) =>
      [...(s.heading ? [`<h3>${escapeHtml(s.heading)}</h3>`] : []), ...s.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`)].join(''),
    ),
    `<p>${escapeHtml(program.senderName)}<br>${escapeHtml(program.name)}</p>`,
    ...(unsubscribeUrl
      ? [`<p style="font-size:12px;color:#666"><a href="${escapeHtml(unsubscribeUrl)}">Unsubscribe</a> from these emails.</p>`]
      : []),
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
