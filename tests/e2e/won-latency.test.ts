/**
 * The quiet period never delays the news that matters: a HubSpot deal walked from its first stage
 * to closed won within a minute reaches the referrer's inbox (a real SMTP server) as one "became a
 * customer" email, seconds after the won stage is set, and the steps before it are not sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { eventually, startWithSandboxHubSpot, type TestService } from '../support/service.ts';
import { startSmtpServer, type SmtpTestServer } from '../support/smtp-server.ts';

const CLIENT = { clientId: 'e2e-latency-client', clientSecret: 'e2e-latency-secret', appId: 4343 };
const REFERRER = { email: 'pia@partner-firm.com', name: 'Pia Partner', type: 'partner' };

describe('a won deal reaches the referrer at once', () => {
  let hubspot: HubSpotSandbox;
  let svc: TestService;
  let smtp: SmtpTestServer;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    ({ hubspot, svc } = await startWithSandboxHubSpot(CLIENT, { webhookBatchMs: 20, webhookRetryMs: 100 }, { SMTP_URL: smtp.url }));
  });
  afterAll(async () => {
    await svc?.stop();
    await hubspot?.close();
    await smtp?.stop();
  });

  it('new to closed won within the quiet period: one email, seconds after the win', async () => {
    const res = await svc.api('/referrals', {
      method: 'POST',
      json: {
        referrer: REFERRER,
        referee: { email: 'jordan@acme-widgets.com', firstName: 'Jordan', lastName: 'Lee', company: 'Acme Widgets' },
        submittedBy: { kind: 'rep', id: 'rep-7' },
      },
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const contactId = await eventually(
      async () => ((await (await svc.api(`/referrals/${id}`)).json()) as { crm: { person: { id: string } } | null }).crm?.person.id,
      15_000,
      'the referral pushed to HubSpot',
    );
    await smtp.waitForMessages(2, { to: REFERRER.email }); // received, accepted

    const deal = hubspot.state.create(
      'deals',
      { dealname: 'Acme', pipeline: 'default', dealstage: 'appointmentscheduled', amount: '5000' },
      [{ type: 'contacts', id: contactId }],
    );
    await eventually(
      async () => ((await (await svc.api(`/referrals/${id}`)).json()) as { status: string }).status === 'contacted' || undefined,
    );
    hubspot.state.update('deals', deal.id, { dealstage: 'presentationscheduled' });
    const wonAt = Date.now();
    hubspot.state.update('deals', deal.id, { dealstage: 'closedwon', closedate: '2026-03-31T12:00:00Z' });

    const won = await eventually(
      () => smtp.messages(REFERRER.email).find((m) => m.subject === 'Jordan Lee (Acme Widgets) became a customer'),
      10_000,
      'the won email',
    );
    const latencyMs = Date.now() - wonAt;
    console.info(`won deal → referrer inbox: ${latencyMs} ms`);
    expect(latencyMs).toBeLessThan(5_000);
    expect(won.text).toContain('/portal/');

    // The notifier records the delivery just after the SMTP server accepted it.
    const steps = await eventually(() => {
      const rows = svc.sqlite
        .prepare("SELECT topic, status FROM outbox WHERE referral_id = ? AND channel = 'email' AND topic LIKE 'referral.%' ORDER BY id")
        .all(id) as { topic: string; status: string }[];
      return rows.at(-1)?.status === 'delivered' ? rows : undefined;
    });
    expect(steps).toEqual([
      { topic: 'referral.received', status: 'delivered' },
      { topic: 'referral.accepted', status: 'delivered' },
      { topic: 'referral.contacted', status: 'cancelled' },
      { topic: 'referral.in_sales_process', status: 'cancelled' },
      { topic: 'referral.won', status: 'delivered' },
    ]);
    expect(smtp.messages(REFERRER.email).map((m) => m.subject)).not.toContain('We contacted Jordan Lee (Acme Widgets)');
  });
});
