/**
 * Every referrer email signs its reader in: a deal step's email, sent by the real notifier to a real
 * SMTP server, carries a single-use link that opens a portal session for that referrer; a second
 * use, or a link opened after it expired, gets the page that offers a fresh one.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorHandler } from '../../../src/http/errors.ts';
import { portalRouter } from '../../../src/http/portal.route.ts';
import { createLogger } from '../../../src/log.ts';
import { createSmtpEmailChannel, type EmailChannel } from '../../../src/notify/email.ts';
import { createNotifier, type Notifier } from '../../../src/notify/notifier.ts';
import { startSmtpServer, type SmtpTestServer } from '../../support/smtp-server.ts';
import { createWorld, CUSTOMER, type World } from '../../use-cases/world.ts';

const MINUTE = 60_000;

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

describe('the sign-in link in every referrer email', () => {
  let world: World;
  let notifier: Notifier;
  let server: ReturnType<express.Express['listen']>;
  let baseUrl: string;
  beforeEach(async () => {
    world = await createWorld();
    const app = express();
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Two link requests an hour per email: the links minted for emails must not use them up.
    app.use(portalRouter(world.ctx, baseUrl, { magicLinkTtlMs: 15 * MINUTE, sessionTtlMs: 60 * MINUTE, perEmailLimit: 2 }));
    app.use(errorHandler(() => undefined));
    notifier = createNotifier({
      store: world.store,
      email,
      now: world.ctx.now,
      log: createLogger({ level: 'silent' }),
      publicBaseUrl: baseUrl,
      signInLinkTtlMs: 15 * MINUTE,
    });
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await world.close();
  });

  /** Opens the link as the browser does: the page, then the token from the fragment posted as a form. */
  async function follow(link: string): Promise<{ status: number; cookie: string | null; body: string }> {
    const [pageUrl, token] = link.split('#') as [string, string];
    expect((await fetch(pageUrl)).status).toBe(200);
    const res = await fetch(pageUrl, { method: 'POST', body: new URLSearchParams({ token }), redirect: 'manual' });
    return { status: res.status, cookie: res.headers.get('set-cookie'), body: await res.text() };
  }

  const linkIn = (text: string) => new RegExp(`${baseUrl}/portal/${world.installation.id}/link#[A-Za-z0-9_-]+`).exec(text)?.[0];

  it("signs the referrer in once from a deal step's email; the link works once", async () => {
    const referee = `pat.${Math.random().toString(36).slice(2, 8)}@acme.example`;
    const pushed = await world.refer({ email: referee, firstName: 'Pat', lastName: 'Lee' });
    const deal = world.crm.createDeal({ name: 'Acme platform', amountCents: 2_500_000, contactIds: [pushed.crmPersonId!] });
    expect((await world.sync()).failed).toEqual([]);
    world.advance(10_000);
    world.crm.moveStage(deal.id, 'won');
    expect((await world.sync()).failed).toEqual([]);
    const before = smtp.messages(CUSTOMER.email).length;
    await notifier.runOnce();

    const mails = await smtp.waitForMessages(before + 1, { to: CUSTOMER.email });
    const won = mails.slice(before).find((m) => m.subject === 'Pat Lee became a customer');
    expect(won, mails.map((m) => m.subject).join('\n')).toBeDefined();
    const link = linkIn(won!.text);
    expect(link, won!.text).toBeDefined();
    expect(won!.html).toContain(`href="${link}"`);
    // The outbox keeps the message, never the token.
    const stored = await world.rows<{ payload: string }>('SELECT payload FROM outbox WHERE referral_id = ?', pushed.id);
    expect(stored.some((r) => r.payload.includes(link!.split('#')[1]!))).toBe(false);

    const first = await follow(link!);
    expect(first.status).toBe(303);
    expect(first.cookie).toMatch(/^referloop_session=/);
    const session = await fetch(`${baseUrl}/api/v1/session`, { headers: { cookie: first.cookie!.split(';')[0]! } });
    expect(session.status).toBe(200);
    const body = (await session.json()) as { subject: { kind: string; id: string }; installationId: string };
    expect(body.subject).toMatchObject({ kind: 'referrer', id: pushed.referrerId });
    expect(body.installationId).toBe(world.installation.id);

    const again = await follow(link!);
    expect(again.status).toBe(400);
    expect(again.cookie).toBeNull();
    expect(again.body).toContain('This sign-in link was already used.');
    expect(again.body).toContain('Send me a fresh link');
  });

  it('mints a fresh link for each email; one opened after the expiry setting offers a fresh one', async () => {
    const before = smtp.messages(CUSTOMER.email).length;
    await world.refer({ email: `sam.${Math.random().toString(36).slice(2, 8)}@acme.example`, firstName: 'Sam' });
    await notifier.runOnce();
    const mails = (await smtp.waitForMessages(before + 2, { to: CUSTOMER.email })).slice(before);
    const links = mails.map((m) => linkIn(m.text));
    expect(links.every(Boolean)).toBe(true);
    expect(new Set(links).size).toBe(links.length);

    world.advance(15 * MINUTE + 1);
    const late = await follow(links[0]!);
    expect(late.status).toBe(400);
    expect(late.body).toContain('This sign-in link has expired.');
    expect(late.body).toContain('Send me a fresh link');
    // Links minted for emails are not sign-in requests: the referrer can still ask for one.
    const asked = await fetch(`${baseUrl}/api/v1/portal/${world.installation.id}/magic-links`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: CUSTOMER.email }),
    });
    expect(asked.status).toBe(202);
  });
});
