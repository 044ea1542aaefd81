/**
 * Product milestones end to end against each sandbox CRM: "the product" posts that an eligible
 * account completed onboarding; the program names that milestone, so the person who reached it is
 * asked for referrals by email and the ask is noted on the company's timeline. A replay of the same
 * key and a second milestone within the period ask no more; an unknown account is 404, and the
 * account's eligibility answer lists its milestones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import type { SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import { startSmtpServer, type SmtpTestServer } from '../support/smtp-server.ts';
import { eventually, startWithSandboxHubSpot, startWithSandboxSalesforce, type TestService } from '../support/service.ts';

const APP = { clientId: 'e2e-milestones-client', clientSecret: 'e2e-milestones-secret', appId: 4646 };
const tenure = () => new Date(Date.now() - 400 * 86_400_000).toISOString().slice(0, 10);

describe('product milestones (HubSpot)', { timeout: 60_000 }, () => {
  let smtp: SmtpTestServer;
  let hubspot: HubSpotSandbox;
  let svc: TestService;
  let installationId: string;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    ({ hubspot, svc, installationId } = await startWithSandboxHubSpot(
      APP,
      { webhookBatchMs: 20, webhookRetryMs: 100 },
      { SMTP_URL: smtp.url },
    ));
    const current = (await (await svc.api('/program')).json()) as { program: { asks?: Record<string, unknown> } };
    const saved = await svc.api('/program', {
      method: 'PUT',
      json: {
        ...current,
        program: {
          ...current.program,
          asks: {
            askers: ['cs_owner', 'account_owner', 'admins'],
            automatic: false,
            minDaysBetweenAutomatic: 90,
            milestones: ['onboarding_completed'],
          },
        },
      },
    });
    expect(saved.status).toBe(200);
  });
  afterAll(async () => {
    await svc?.stop();
    await hubspot?.close();
    await smtp?.stop();
  });

  const post = (companyId: string, body: Record<string, unknown>) =>
    svc.api(`/accounts/${companyId}/milestones`, { method: 'POST', json: { installationId, ...body } });
  const asks = () => Number(svc.sqlite.prepare("SELECT count(*) FROM referral_asks WHERE status = 'sent'").pluck().get());

  it('a named milestone asks the person who reached it, once per period; replays and unknown accounts ask nothing', async () => {
    const casey = hubspot.state.owners[1]!;
    const company = hubspot.state.create('companies', {
      name: 'Initech',
      domain: 'initech.example',
      lifecyclestage: 'customer',
      hs_lifecyclestage_customer_date: `${tenure()}T00:00:00Z`,
      referloop_nps: '10',
      hubspot_owner_id: casey.id,
    });
    hubspot.state.create('contacts', { email: 'first@initech.example', firstname: 'First', lastname: 'Contact' }, [
      { type: 'companies', id: company.id },
    ]);
    const milton = hubspot.state.create('contacts', { email: 'milton@initech.example', firstname: 'Milton', lastname: 'Waddams' }, [
      { type: 'companies', id: company.id },
    ]);

    const first = await post(company.id, {
      milestone: 'onboarding_completed',
      occurredAt: '2026-12-01T10:00:00Z',
      contactEmail: 'milton@initech.example',
      idempotencyKey: 'product-event-1',
    });
    expect(first.status).toBe(201);
    const body = (await first.json()) as { id: string; ask: { status: string; trigger: string; champion: { id: string } } };
    expect(body.ask).toMatchObject({ status: 'sent', trigger: 'milestone', champion: { id: milton.id } });
    const [mail] = await smtp.waitForMessages(1, { to: 'milton@initech.example', timeoutMs: 15_000 });
    expect(mail!.text).toContain('Hi Milton Waddams,');
    const companyNotes = () =>
      hubspot.state
        .associatedIds('companies', company.id, 'notes')
        .map((id) => hubspot.state.get('notes', id)!.properties.hs_note_body ?? '');
    // The milestone and the ask it caused, both on the company's timeline.
    await eventually(
      () => {
        const notes = companyNotes();
        return notes.some((n) => n.includes('onboarding_completed in the product on 2026-12-01 (milton@initech.example)')) &&
          notes.some((n) => n.includes('for referrals by email'))
          ? notes
          : undefined;
      },
      15_000,
      'the milestone and the ask noted on the company',
    );

    const replay = await post(company.id, {
      milestone: 'onboarding_completed',
      occurredAt: '2026-12-01T10:00:00Z',
      contactEmail: 'milton@initech.example',
      idempotencyKey: 'product-event-1',
    });
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as { id: string }).id).toBe(body.id);

    // Another milestone of the program in the same period is recorded; its ask is refused as too soon.
    const again = await post(company.id, {
      milestone: 'onboarding_completed',
      occurredAt: '2026-12-02T10:00:00Z',
      idempotencyKey: 'product-event-2',
    });
    expect(again.status).toBe(201);
    expect(((await again.json()) as { ask: { status: string; refusal: string } }).ask).toMatchObject({
      status: 'refused',
      refusal: 'too_soon',
    });
    // A milestone the program does not name is only recorded.
    const other = await post(company.id, {
      milestone: 'first_invoice',
      occurredAt: '2026-12-03T10:00:00Z',
      idempotencyKey: 'product-event-3',
    });
    expect(((await other.json()) as { ask: unknown }).ask).toBeNull();
    expect(asks()).toBe(1);
    // Each milestone is noted once, the replay adds none.
    await eventually(
      () => (companyNotes().filter((n) => n.includes('in the product on')).length === 3 ? true : undefined),
      15_000,
      'three milestone notes',
    );

    const unknown = await post('999999999', {
      milestone: 'onboarding_completed',
      occurredAt: '2026-12-01T10:00:00Z',
      idempotencyKey: 'product-event-4',
    });
    expect(unknown.status).toBe(404);
    const invalid = await post(company.id, {
      milestone: 'onboarding_completed',
      occurredAt: 'yesterday',
      idempotencyKey: 'product-event-5',
    });
    expect(invalid.status).toBe(400);
    const rows = Number(svc.sqlite.prepare('SELECT count(*) FROM product_milestones').pluck().get());
    expect(rows).toBe(3);

    const eligibility = (await (await svc.api(`/accounts/${company.id}/eligibility?installationId=${installationId}`)).json()) as {
      milestones: { milestone: string; occurredAt: string; askId: string | null }[];
    };
    expect(eligibility.milestones.map((m) => [m.milestone, m.occurredAt])).toEqual([
      ['first_invoice', '2026-12-03T10:00:00.000Z'],
      ['onboarding_completed', '2026-12-02T10:00:00.000Z'],
      ['onboarding_completed', '2026-12-01T10:00:00.000Z'],
    ]);
  });
});

describe('product milestones (Salesforce)', { timeout: 60_000 }, () => {
  let smtp: SmtpTestServer;
  let salesforce: SalesforceSandbox;
  let svc: TestService;
  let installationId: string;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    ({ salesforce, svc, installationId } = await startWithSandboxSalesforce(
      { clientId: 'e2e-milestones-sf-client', clientSecret: 'e2e-milestones-sf-secret' },
      {},
      (org) => {
        // The org's own NPS and customer-since fields, found at install (as in referral-asks.test.ts).
        org.actions.addCustomField({ sobject: 'Account', name: 'NPS__c', type: 'double', label: 'NPS' });
        org.actions.addCustomField({ sobject: 'Account', name: 'Customer_Since__c', type: 'date', label: 'Customer Since' });
      },
      { SMTP_URL: smtp.url },
    ));
    const current = (await (await svc.api('/program')).json()) as { program: Record<string, unknown> };
    const asks = {
      askers: ['cs_owner', 'account_owner', 'admins'],
      automatic: false,
      minDaysBetweenAutomatic: 90,
      milestones: ['first_payroll_run'],
    };
    expect((await svc.api('/program', { method: 'PUT', json: { ...current, program: { ...current.program, asks } } })).status).toBe(200);
  });
  afterAll(async () => {
    await svc?.stop();
    await salesforce?.close();
    await smtp?.stop();
  });

  const post = (companyId: string, body: Record<string, unknown>) =>
    svc.api(`/accounts/${companyId}/milestones`, { method: 'POST', json: { installationId, ...body } });

  it('a named milestone asks the person who reached it once per period, and is noted on the account', async () => {
    const account = salesforce.actions.createAccount({
      Name: 'Umbrella',
      Type: 'Customer - Direct',
      NPS__c: 10,
      Customer_Since__c: tenure(),
    });
    salesforce.actions.createContact({ AccountId: account.Id, Email: 'first@umbrella.example', LastName: 'First' });
    salesforce.actions.createContact({ AccountId: account.Id, Email: 'alice@umbrella.example', FirstName: 'Alice', LastName: 'Wong' });
    const companyId = String(account.Id);

    const first = await post(companyId, {
      milestone: 'first_payroll_run',
      occurredAt: '2026-12-01T10:00:00Z',
      contactEmail: 'alice@umbrella.example',
      idempotencyKey: 'sf-1',
    });
    expect(first.status).toBe(201);
    expect(((await first.json()) as { ask: { status: string; trigger: string } }).ask).toMatchObject({
      status: 'sent',
      trigger: 'milestone',
    });
    const [mail] = await smtp.waitForMessages(1, { to: 'alice@umbrella.example', timeoutMs: 15_000 });
    expect(mail!.text).toContain('Hi Alice Wong,');

    const again = await post(companyId, { milestone: 'first_payroll_run', occurredAt: '2026-12-05T10:00:00Z', idempotencyKey: 'sf-2' });
    expect(((await again.json()) as { ask: { status: string; refusal: string } }).ask).toMatchObject({
      status: 'refused',
      refusal: 'too_soon',
    });
    expect(
      (await post('001000000000000AAA', { milestone: 'first_payroll_run', occurredAt: '2026-12-01T10:00:00Z', idempotencyKey: 'sf-3' }))
        .status,
    ).toBe(404);

    const tasks = () =>
      salesforce.state
        .records('Task')
        .filter((t) => String(t.WhatId).slice(0, 15) === companyId.slice(0, 15))
        .map((t) => `${String(t.Subject)}\n${String(t.Description)}`);
    await eventually(
      () => {
        const all = tasks();
        return all.filter((t) => t.includes('first_payroll_run in the product')).length === 2 &&
          all.some((t) => t.includes('for referrals by email'))
          ? all
          : undefined;
      },
      15_000,
      'the milestones and the ask noted on the account',
    );
  });
});
