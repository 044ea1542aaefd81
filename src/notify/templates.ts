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
const givenAs = (d: VisibleData) => (d.reward?.givenAs ? [`Given as: ${d.reward.givenAs}.`] : []);

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
          : [
              `${referee(d)} decided not to go ahead this time. Thank you all the same: introductions like yours are how we grow.`,
              ...(reason && reason !== 'deal_lost' ? [`Reason: ${reason}.`] : []),
            ],
    };
  },
  'reward.approved': (d) => ({
    subject: `Your reward for referring ${referee(d)} was approved`,
    paragraphs: [
      `Your reward${ofAmount(d)} for referring ${referee(d)} was approved.`,
      ...givenAs(d),
      ...(d.reward ? [`It is due on ${d.reward.dueDate}.`] : []),
    ],
  }),
  'reward.paid': (d) =>
    // Recognition is given, not paid: it has no amount to name.
    d.reward?.message !== undefined
      ? {
          subject: `Thank you for referring ${referee(d)}`,
          paragraphs: [`${d.reward.givenAs ?? 'Recognition'}.`, d.reward.message],
        }
      : {
          subject: `Your reward for referring ${referee(d)} was paid`,
          paragraphs: [
            `We paid your reward${ofAmount(d)} for referring ${referee(d)}.`,
            ...givenAs(d),
            ...(d.reward?.payoutReference ? [`Payout reference: ${d.reward.payoutReference}.`] : []),
          ],
        },
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
  'reward.earned': (d) => ({
    subject: `You earned a reward for referring ${referee(d)}`,
    paragraphs: [
      `Your referral of ${referee(d)} earned you a reward${ofAmount(d)}. It is waiting for approval; we will tell you once it is approved.`,
    ],
  }),
  'reward.rejected': (d) => ({
    subject: `Your reward for referring ${referee(d)} was not approved`,
    paragraphs: [
      `We could not approve your reward${ofAmount(d)} for referring ${referee(d)}.`,
      `Reason: ${d.reward?.reason ?? 'not given'}.`,
    ],
  }),
  'reward.recovered': (d) => ({
    subject: `Your reward for referring ${referee(d)} was taken back`,
    paragraphs: [
      `We paid your reward${ofAmount(d)} for referring ${referee(d)}, but the deal behind it no longer stands, so the reward was taken back.`,
      ...(d.reward?.reason ? [`Reason: ${d.reward.reason}.`] : []),
      'It will be deducted from your next payout.',
    ],
  }),
  'account.eligible': (d, p) => ({
    subject: `${d.account?.name ?? 'An account'} is eligible to refer`,
    paragraphs: [
      `${d.account?.name ?? 'An account'} now meets the ${p.name} rules to refer. A good moment to ask them for a referral.`,
      ...(d.account?.reasons ?? []).map((r) => `- ${r}`),
    ],
  }),
  'referral.ask': (d, p) => ({
    subject: `${d.ask?.askedBy.name ?? p.senderName} would value an introduction`,
    paragraphs: [
      `Thank you for working with us${d.ask ? ` at ${d.ask.accountName}` : ''}. It means a lot to our team.`,
      ...(d.ask?.message ? [d.ask.message] : []),
      d.ask?.programText ??
        `If you know peers who could use ${p.name} too, would you introduce us? It takes a minute on your own page: add one or several people, and we will keep you posted on each.`,
    ],
  }),
  'account.asked': (d) => ({
    subject: `Referral ask sent to ${d.ask?.championName ?? 'the account champion'}`,
    paragraphs: [
      `${d.ask?.askedBy.name ?? 'A colleague'} asked ${d.ask?.championName ?? 'the account champion'} of ${
        d.ask?.accountName ?? 'this account'
      } for referrals by email.`,
      ...(d.ask?.message ? [`Personal line: ${d.ask.message}`] : []),
      ...(d.ask ? [`Ask id: ${d.ask.id}`] : []),
    ],
  }),
  'account.milestone': (d) => ({
    subject: `Product milestone: ${d.milestone?.name ?? 'reached'}`,
    paragraphs: [
      `The account reached ${d.milestone?.name ?? 'a milestone'} in the product on ${d.milestone?.occurredAt.slice(0, 10) ?? 'a recent day'}${
        d.milestone?.contactEmail ? ` (${d.milestone.contactEmail})` : ''
      }.`,
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
  'referral.rejected_internal': (d) => {
    const who = d.referrer ? `${d.referrer.name} <${d.referrer.email}>` : 'a referrer';
    return {
      subject: `Referral of ${referee(d)} by ${d.referrer?.name ?? 'a referrer'} was not accepted`,
      paragraphs: [
        `The referral of ${referee(d)} you logged for ${who} was not accepted, and the referrer was not told.`,
        ...(d.referral?.reason ? [d.referral.reason] : []),
        ...(d.referral ? [`Referral id: ${d.referral.id}`] : []),
      ],
    };
  },
  'portal.sign_in': (d, p) => ({
    subject: `Your sign-in link for ${p.name}`,
    paragraphs: [
      `Open this link to see your referrals and rewards: ${d.signIn?.url}`,
      `It works once, for ${d.signIn?.minutes} minutes. If you did not ask for it, ignore this email.`,
    ],
  }),
  'console.invite': (d, p) => ({
    subject: `You are invited to run ${p.name} in Referloop`,
    paragraphs: [
      `${d.consoleInvite?.invitedBy} invited you to the referral program console of ${p.name} as ${d.consoleInvite?.role}.`,
      `Sign in with this link: ${d.consoleInvite?.url}`,
      `It works once, for ${d.consoleInvite?.hours} hours; ask for another invite once it has expired.`,
    ],
  }),
  'console.sign_in': (d, p) => ({
    subject: `Your sign-in link for the ${p.name} console`,
    paragraphs: [
      `Open this link to sign in to the referral program console: ${d.signIn?.url}`,
      `It works once, for ${d.signIn?.minutes} minutes. If you did not ask for it, ignore this email.`,
    ],
  }),
  'portal.deletion_requested': (d, p) => {
    const who = d.referrer
      ? `${d.referrer.name} <${d.referrer.email}>${d.referrer.company ? ` (${d.referrer.company})` : ''}`
      : 'A referrer';
    return {
      subject: `Data deletion request from ${d.referrer?.name ?? 'a referrer'} (${p.name})`,
      paragraphs: [
        `${who} asked, in the referrer portal of ${p.name}, for their data to be deleted.`,
        'Delete or anonymise what you do not have to keep (payouts and tax records may have to stay), then tell them what was done.',
        ...(d.referrer ? [`Referrer id: ${d.referrer.id}`] : []),
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

/** Links every email to a referrer carries. */
export interface EmailLinks {
  /** The referrer's portal (notify/portal-link.ts): where every referral and reward is shown. */
  portalUrl?: string | undefined;
  unsubscribeUrl?: string | undefined;
}

export function renderEmail(payload: EmailPayload, unsubscribeUrl: string | undefined, portalUrl?: string): RenderedEmail {
  const block = renderBlock(payload.topic, payload.data, payload.program);
  return layout(payload, block.subject, [{ paragraphs: block.paragraphs }], { unsubscribeUrl, portalUrl });
}

/** One summary of a digest referrer's held messages, oldest first. */
export function renderDigest(payloads: EmailPayload[], unsubscribeUrl: string | undefined, portalUrl?: string): RenderedEmail {
  const last = payloads[payloads.length - 1];
  if (!last) throw new Error('A digest needs at least one message');
  const sections = payloads.map((p) => {
    const block = renderBlock(p.topic, p.data, p.program);
    return { heading: block.subject, paragraphs: block.paragraphs };
  });
  const count = payloads.length === 1 ? '1 update' : `${payloads.length} updates`;
  return layout(last, `Your ${last.program.name} referral summary: ${count}`, sections, { unsubscribeUrl, portalUrl });
}

/** A CRM timeline note: the same words as the email, without greeting or links. */
export function renderNote(payload: { topic: OutboxTopic; data: VisibleData; program: Sender }): { title: string; body: string } {
  const block = renderBlock(payload.topic, payload.data, payload.program);
  return { title: `${payload.program.name}: ${block.subject}`, body: block.paragraphs.join('\n\n') };
}

/**
 * The sign-off: the sender, then the program when it has another name (never the same name twice).
 * An ask is signed by the colleague who asks.
 */
function signature(program: Sender, data: VisibleData): string[] {
  const sender = data.ask?.askedBy.name ?? program.senderName;
  return sender.trim() === program.name.trim() ? [program.name] : [sender, program.name];
}

/** The portal button's words: an ask invites referrals, every other message shows them. */
function portalAction(data: VisibleData): string {
  return data.ask ? 'Introduce someone you know' : 'See all your referrals and rewards';
}

// Inline styles only: mail clients drop <style> blocks and external CSS. One column at most 560 px
// wide, long words and links wrap, so nothing scrolls sideways on a 390 px phone.
const WRAP = 'overflow-wrap:anywhere;word-break:break-word';
const BODY = `margin:0;padding:0;background:#f4f5f7;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222;${WRAP}`;
const CARD = 'max-width:560px;margin:0 auto;padding:24px 20px;background:#ffffff;box-sizing:border-box';
const BUTTON =
  'display:inline-block;padding:10px 18px;background:#1f5fbf;color:#ffffff;text-decoration:none;border-radius:4px;font-weight:bold;max-width:100%;box-sizing:border-box';

function layout(
  payload: EmailPayload,
  subject: string,
  sections: { heading?: string; paragraphs: string[] }[],
  links: EmailLinks,
): RenderedEmail {
  const { to, program } = payload;
  const { unsubscribeUrl, portalUrl } = links;
  const text = [
    `Hi ${to.name},`,
    ...sections.map((s) => [...(s.heading ? [`* ${s.heading}`] : []), ...s.paragraphs].join('\n\n')),
    ...(portalUrl ? [`${portalAction(payload.data)}: ${portalUrl}`] : []),
    signature(program, payload.data).join('\n'),
    ...(unsubscribeUrl ? [`--\nTo stop these emails, open ${unsubscribeUrl}`] : []),
  ].join('\n\n');
  const html = [
    '<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>${escapeHtml(subject)}</title></head>`,
    `<body style="${BODY}"><div style="${CARD}">`,
    `<p style="margin:0 0 16px">Hi ${escapeHtml(to.name)},</p>`,
    ...(payload.data.signIn
      ? [
          `<p style="margin:0 0 16px"><a href="${escapeHtml(payload.data.signIn.url)}" style="${BUTTON}">Sign in to the referrer portal</a></p>`,
        ]
      : []),
    ...sections.map((s) =>
      [
        ...(s.heading ? [`<h3>${escapeHtml(s.heading)}</h3>`] : []),
        ...s.paragraphs.map((p) => `<p style="margin:0 0 16px">${escapeHtml(p)}</p>`),
      ].join(''),
    ),
    ...(portalUrl
      ? [`<p style="margin:24px 0"><a href="${escapeHtml(portalUrl)}" style="${BUTTON}">${escapeHtml(portalAction(payload.data))}</a></p>`]
      : []),
    `<p style="margin:0 0 16px">${signature(program, payload.data).map(escapeHtml).join('<br>')}</p>`,
    ...(unsubscribeUrl
      ? [
          `<p style="font-size:12px;color:#666;margin:24px 0 0"><a href="${escapeHtml(unsubscribeUrl)}">Unsubscribe</a> from these emails.</p>`,
        ]
      : []),
    '</div></body></html>',
  ].join('\n');
  return { subject, text, html };
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
