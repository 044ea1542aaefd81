/**
 * A referrer's deletion request from the portal: recorded in the audit log and emailed (through the
 * outbox, by the real notifier to a real SMTP server) to the program's sender address, once per
 * referrer per day however often they ask.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorHandler } from '../../../src/http/errors.ts';
import { portalRouter } from '../../../src/http/portal.route.ts';
import { SESSION_COOKIE } from '../../../src/http/sessions.ts';
import { createLogger } from '../../../src/log.ts';
import { createSmtpEmailChannel, type EmailChannel } from '../../../src/notify/email.ts';
import { createNotifier, type Notifier } from '../../../src/notify/notifier.ts';
import { defaultProgram } from '../../../src/domain/program.ts';
import { createProgram, saveProgram } from '../../../src/use-cases/program-settings.ts';
import { startSmtpServer, type SmtpTestServer } from '../../support/smtp-server.ts';
import { createWorld, PARTNER, type World } from '../../use-cases/world.ts';

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

describe('a deletion request from the portal', () => {
  let world: World;
  let notifier: Notifier;
  let server: ReturnType<express.Express['listen']>;
  let baseUrl: string;
  beforeEach(async () => {
    world = await createWorld();
    const app = express();
    app.use(portalRouter(world.ctx, 'http://referloop.test', { magicLinkTtlMs: 15 * 60_000, sessionTtlMs: 48 * 3_600_000 }));
    app.use(errorHandler(() => undefined));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    notifier = createNotifier({
      store: world.store,
      email,
      now: world.ctx.now,
      log: createLogger({ level: 'silent' }),
      publicBaseUrl: 'http://referloop.test',
    });
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await world.close();
  });

  it("tells the program's sender address once a day, and says what happens next", async () => {
    const referral = await world.refer({ email: 'pat@acme.example', firstName: 'Pat' }, PARTNER);
    const session = await world.store.sessions.open({
      subjectKind: 'referrer',
      subjectId: referral.referrerId,
      installationId: world.installation.id,
      role: 'referrer',
      expiresAt: new Date(world.ctx.now().getTime() + 48 * 3_600_000).toISOString(),
    });
    const ask = () =>
      fetch(`${baseUrl}/api/v1/portal/${world.installation.id}/me/deletion-request`, {
        method: 'POST',
        headers: { cookie: `${SESSION_COOKIE}=${session.token}`, 'x-csrf-token': session.row.csrfToken },
      });
    const program = (await world.store.programs.currentDefault(world.installation.id))!.program;
    const notices = () => smtp.messages(program.senderEmail).filter((m) => m.subject.startsWith('Data deletion request from Pia Partner'));
    const before = notices().length;

    // Without the CSRF token nothing is recorded or sent.
    const forged = await fetch(`${baseUrl}/api/v1/portal/${world.installation.id}/me/deletion-request`, {
      method: 'POST',
      headers: { cookie: `${SESSION_COOKIE}=${session.token}` },
    });
    expect(forged.status).toBe(403);

    const first = await ask();
    expect(first.status).toBe(202);
    expect(((await first.json()) as { message: string }).message).toBe(
      "Your request to delete your data is recorded. The program's team has been told by email: they delete what they " +
        `do not have to keep (payout and tax records may have to stay) and will tell you at ${PARTNER.email} what was done.`,
    );
    world.advance(60 * 60_000);
    expect((await ask()).status).toBe(202);
    await notifier.runOnce();

    const [notice] = (await smtp.waitForMessages(before + 1, { to: program.senderEmail })).filter((m) =>
      m.subject.startsWith('Data deletion request from Pia Partner'),
    );
    expect(notice!.subject).toBe(`Data deletion request from Pia Partner (${program.name})`);
    expect(notice!.text).toContain(
      `Pia Partner <${PARTNER.email}> asked, in the referrer portal of ${program.name}, for their data to be deleted.`,
    );
    expect(notice!.text).toContain(`Referrer id: ${referral.referrerId}`);
    // An admin notice: no referrer sign-in link or unsubscribe in it.
    expect(notice!.text).not.toContain('/portal/');
    expect(notice!.listUnsubscribe).toBeUndefined();

    const requests = async () =>
      (await world.rows<{ n: number }>("SELECT count(*) AS n FROM audit_log WHERE action = 'referrer.deletion_requested'"))[0]!;
    const queued = async () =>
      (await world.rows<{ n: number }>("SELECT count(*) AS n FROM outbox WHERE topic = 'portal.deletion_requested'"))[0]!;
    expect((await requests()).n).toBe(2);
    expect((await queued()).n).toBe(1);

    // The next day's request is told again.
    world.advance(24 * 60 * 60_000);
    expect((await ask()).status).toBe(202);
    await notifier.runOnce();
    await smtp.waitForMessages(before + 2, { to: program.senderEmail });
    expect(notices()).toHaveLength(before + 2);
    expect((await queued()).n).toBe(2);
  });

  it('tells the team of the referrer’s own program when they are not in the default one', async () => {
    const { program: partners } = await createProgram(world.ctx, {
      installationId: world.installation.id,
      name: 'Partner program',
      from: 'blank',
      actor: 'test',
    });
    await saveProgram(
      world.ctx,
      partners,
      { ...defaultProgram(), name: 'Partner program', senderEmail: 'partners@vendor.example' },
      'test',
    );
    const referral = await world.refer({ email: 'pat@acme.example', firstName: 'Pat' }, PARTNER, partners.id);
    const session = await world.store.sessions.open({
      subjectKind: 'referrer',
      subjectId: referral.referrerId,
      installationId: world.installation.id,
      role: 'referrer',
      expiresAt: new Date(world.ctx.now().getTime() + 48 * 3_600_000).toISOString(),
    });
    const answer = await fetch(`${baseUrl}/api/v1/portal/${world.installation.id}/me/deletion-request`, {
      method: 'POST',
      headers: { cookie: `${SESSION_COOKIE}=${session.token}`, 'x-csrf-token': session.row.csrfToken },
    });
    expect(answer.status).toBe(202);
    const told = await world.rows<{ payload: string }>("SELECT payload FROM outbox WHERE topic = 'portal.deletion_requested'");
    expect(told.map((row) => (JSON.parse(row.payload) as { to: { email: string } }).to.email)).toEqual(['partners@vendor.example']);
  });
});
