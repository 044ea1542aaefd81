/**
 * Every email template rendered in Chromium at a phone's width (390 px): nothing scrolls sideways,
 * and markup typed into any field (a referral from the portal can carry it) shows as text.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renderDigest, renderEmail } from '../../../src/notify/templates.ts';
import { type EmailPayload, INTERNAL_TOPICS, type OutboxTopic, REFERRER_TOPICS, type VisibleData } from '../../../src/notify/topics.ts';

const CHROMIUM = '/usr/bin/chromium';
const PHONE = { width: 390, height: 844 };

/** Markup that would run or show as an element if a field were not escaped, and words too long for a phone. */
const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script><b>bold</b>';
const LONG = 'Supercalifragilisticexpialidocious'.repeat(3);

const data: VisibleData = {
  referral: {
    id: 'ref_1',
    status: 'accepted',
    refereeName: `Bob ${HOSTILE} ${LONG}`,
    refereeCompany: `Globex ${HOSTILE}`,
    reason: `duplicate ${HOSTILE}`,
    notes: `notes ${HOSTILE} ${LONG}`,
  },
  deal: { stage: `Contract ${HOSTILE}`, amount: 25_000, currency: 'USD' },
  reward: {
    id: 'rwd_1',
    status: 'paid',
    dueDate: '2026-06-30',
    amount: 1000,
    currency: 'EUR',
    payoutReference: `PAY-${HOSTILE}`,
    reason: `r ${HOSTILE}`,
  },
  account: { name: `Initech ${HOSTILE}`, reasons: [`NPS 9 ${HOSTILE}`] },
  referrer: { id: 'rfr_1', name: `Ann ${HOSTILE}`, email: 'ann@partner.test', company: `P ${HOSTILE}`, type: 'partner' },
  endpoint: { id: 'we_1', url: `https://partner.example/${LONG}/${LONG}`, failingSince: '2026-03-01T00:00:00.000Z', lastError: HOSTILE },
};

function payload(topic: OutboxTopic): EmailPayload {
  return {
    topic,
    messageId: 'msg_1',
    occurredAt: '2026-03-10T10:00:00.000Z',
    program: { name: `Acme ${HOSTILE}`, senderName: `Acme Team ${HOSTILE}`, senderEmail: 'team@acme.test' },
    audience: 'referrer',
    data,
    to: { name: `Ann ${HOSTILE} ${LONG}`, email: 'ann@partner.test' },
  };
}

const UNSUBSCRIBE = `https://referloop.example/unsubscribe/rfr_1?key=${'k'.repeat(120)}`;
const PORTAL = `https://referloop.example/portal/${LONG}`;
const TOPICS: OutboxTopic[] = [...REFERRER_TOPICS, ...INTERNAL_TOPICS, 'webhook_endpoint.disabled', 'portal.deletion_requested'];

let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\``);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
});
afterAll(async () => {
  await browser?.close();
});

async function measure(html: string) {
  const page = await browser.newPage({ viewport: PHONE, javaScriptEnabled: true });
  try {
    await page.setContent(html, { waitUntil: 'load' });
    // Evaluated in the page (a string: this project's TypeScript has no DOM types).
    return (await page.evaluate(`({
      scrollWidth: document.documentElement.scrollWidth,
      injected: document.querySelectorAll('img, script, b').length,
      pwned: window.__pwned ?? 0,
      text: document.body.textContent,
      links: [...document.querySelectorAll('a')].map((a) => a.getAttribute('href')),
    })`)) as { scrollWidth: number; injected: number; pwned: number; text: string; links: (string | null)[] };
  } finally {
    await page.close();
  }
}

describe('email HTML in Chromium at 390 px', () => {
  test.each(TOPICS)('%s fits the phone and shows every field as text', async (topic) => {
    const email = renderEmail(payload(topic), UNSUBSCRIBE, PORTAL);
    const shown = await measure(email.html);
    expect(shown.scrollWidth).toBeLessThanOrEqual(PHONE.width);
    expect(shown.injected).toBe(0);
    expect(shown.pwned).toBe(0);
    expect(shown.text).toContain('Hi Ann <img src=x');
    expect(shown.links).toEqual([PORTAL, UNSUBSCRIBE]);
  });

  test('a digest of every referrer topic fits too', async () => {
    const email = renderDigest(
      REFERRER_TOPICS.map((t) => payload(t)),
      UNSUBSCRIBE,
      PORTAL,
    );
    const shown = await measure(email.html);
    expect(shown.scrollWidth).toBeLessThanOrEqual(PHONE.width);
    expect(shown.injected).toBe(0);
    expect(shown.text).toContain('Globex <img src=x');
  });
});
