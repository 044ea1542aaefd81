/**
 * Referral asks end to end, against each sandbox CRM: an eligible account's champion is asked
 * through the API, the ask arrives at a real SMTP server signed by the account's owner, its link
 * signs the champion in and lands on the ask's page, and the ask is noted on the company's CRM
 * timeline. A champion opted out of email in the CRM is refused, with nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { signV3 } from '../../connectors/hubspot/verify-webhook.ts';
import type { SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import { startSmtpServer, type SmtpTestServer } from '../support/smtp-server.ts';
import { eventually, startWithSandboxHubSpot, startWithSandboxSalesforce, type TestService } from '../support/service.ts';

/** One CRM behind the service: seeds an eligible customer account with its champion first, and reads its timeline. */
interface CrmUnderTest {
  svc: TestService;
  installationId: string;
  /** The owner the account is given, who signs the ask by default. */
  owner: { name: string; email: string };
  account(
    name: string,
    champion: { email: string; firstName: string; lastName: string; emailOptOut?: boolean },
    options?: { nps?: number },
  ): string;
  setNps(companyId: string, nps: number): void;
  companyNotes(companyId: string): string[];
  /** A call signed as the CRM's record card sends it (HubSpot's hubspot.fetch). */
  card?(path: string, json: Record<string, unknown>): Promise<Response>;
  close(): Promise<void>;
}

const tenure = () => new Date(Date.now() - 400 * 86_400_000).toISOString().slice(0, 10);

const HUBSPOT_APP = { clientId: 'e2e-asks-client', clientSecret: 'e2e-asks-secret', appId: 4343 };

async function hubspotUnderTest(smtp: SmtpTestServer): Promise<CrmUnderTest> {
  let hubspot: HubSpotSandbox;
  const started = await startWithSandboxHubSpot(HUBSPOT_APP, { webhookBatchMs: 20, webhookRetryMs: 100 }, { SMTP_URL: smtp.url });
  hubspot = started.hubspot;
  const casey = hubspot.state.owners[1]!;
  return {
    svc: started.svc,
    installationId: started.installationId,
    owner: { name: `${casey.firstName} ${casey.lastName}`, email: casey.email },
    account(name, champion, options = {}) {
      const company = hubspot.state.create('companies', {
        name,
        domain: `${name.toLowerCase().replaceAll(' ', '-')}.example`,
        lifecyclestage: 'customer',
        hs_lifecyclestage_customer_date: `${tenure()}T00:00:00Z`,
        referloop_nps: String(options.nps ?? 10),
        hubspot_owner_id: casey.id,
      });
      hubspot.state.create(
        'contacts',
        {
          email: champion.email,
          firstname: champion.firstName,
          lastname: champion.lastName,
          ...(champion.emailOptOut ? { hs_email_optout: 'true' } : {}),
        },
        [{ type: 'companies', id: company.id }],
      );
      hubspot.state.create('contacts', { email: `second@${name.toLowerCase().replaceAll(' ', '-')}.example`, lastname: 'Second' }, [
        { type: 'companies', id: company.id },
      ]);
      return company.id;
    },
    setNps: (companyId, nps) => void hubspot.state.update('companies', companyId, { referloop_nps: String(nps) }),
    card(path, json) {
      const url = `${started.svc.url}/api/v1${path}`;
      const body = JSON.stringify({ portalId: String(hubspot.state.portalId), ...json });
      const timestamp = String(Date.now());
      return fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hubspot-signature-v3': signV3(HUBSPOT_APP.clientSecret, 'POST', url, body, timestamp),
          'x-hubspot-request-timestamp': timestamp,
        },
        body,
      });
    },
    companyNotes: (companyId) =>
      hubspot.state
        .associatedIds('companies', companyId, 'notes')
        .map((id) => hubspot.state.get('notes', id)!.properties.hs_note_body ?? ''),
    async close() {
      await started.svc.stop();
      await hubspot.close();
    },
  };
}

async function salesforceUnderTest(smtp: SmtpTestServer): Promise<CrmUnderTest> {
  const started = await startWithSandboxSalesforce(
    { clientId: 'e2e-asks-sf-client', clientSecret: 'e2e-asks-sf-secret' },
    {},
    (org) => {
      // The org's own NPS and customer-since fields, found at install (see eligibility-salesforce.test.ts).
      org.actions.addCustomField({ sobject: 'Account', name: 'NPS__c', type: 'double', label: 'NPS' });
      org.actions.addCustomField({ sobject: 'Account', name: 'Customer_Since__c', type: 'date', label: 'Customer Since' });
    },
    { SMTP_URL: smtp.url },
  );
  const { salesforce } = started as { salesforce: SalesforceSandbox };
  return {
    svc: started.svc,
    installationId: started.installationId,
    // The sandbox org's admin owns what it creates.
    owner: { name: 'Sandbox Admin', email: 'admin@sandbox.example' },
    account(name, champion, options = {}) {
      const account = salesforce.actions.createAccount({
        Name: name,
        Type: 'Customer - Direct',
        NPS__c: options.nps ?? 9,
        Customer_Since__c: tenure(),
      });
      salesforce.actions.createContact({
        AccountId: account.Id,
        Email: champion.email,
        FirstName: champion.firstName,
        LastName: champion.lastName,
        ...(champion.emailOptOut ? { HasOptedOutOfEmail: true } : {}),
      });
      salesforce.actions.createContact({
        AccountId: account.Id,
        Email: `second@${name.toLowerCase().replaceAll(' ', '-')}.example`,
        LastName: 'Second',
      });
      return String(account.Id);
    },
    setNps: (companyId, nps) => void salesforce.actions.updateRecord({ sobject: 'Account', id: companyId, fields: { NPS__c: nps } }),
    companyNotes: (companyId) =>
      salesforce.state
        .records('Task')
        .filter((t) => String(t.WhatId).slice(0, 15) === companyId.slice(0, 15))
        .map((t) => `${String(t.Subject)}\n${String(t.Description)}`),
    async close() {
      await started.svc.stop();
      await salesforce.close();
    },
  };
}

let smtp: SmtpTestServer;
beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(async () => {
  await smtp?.stop();
});

describe.each([
  ['HubSpot', hubspotUnderTest],
  ['Salesforce', salesforceUnderTest],
])('referral asks against the sandbox %s', { timeout: 60_000 }, (crm, start) => {
  let t: CrmUnderTest;
  beforeAll(async () => {
    t = await start(smtp);
  });
  afterAll(async () => {
    await t?.close();
  });

  const ask = (companyId: string, body: Record<string, unknown> = {}) =>
    t.svc.api(`/accounts/${companyId}/asks`, { method: 'POST', json: { installationId: t.installationId, ...body } });
  const askRows = () => Number(t.svc.sqlite.prepare('SELECT count(*) FROM referral_asks').pluck().get());

  it('asks an eligible account’s champion: the email arrives signed by the owner, its link signs them in on the ask’s page', async () => {
    const champion = { email: `carla.${crm.toLowerCase()}@globex.example`, firstName: 'Carla', lastName: 'Champion' };
    const companyId = t.account(`Globex ${crm}`, champion);
    const eligibility = await t.svc.api(`/accounts/${companyId}/eligibility?installationId=${t.installationId}`);
    expect(((await eligibility.json()) as { eligible: boolean }).eligible).toBe(true);

    const res = await ask(companyId, { message: 'Your rollout was our favourite project this year.', idempotencyKey: `ask-${crm}` });
    expect(res.status).toBe(201);
    const sent = (await res.json()) as { id: string; status: string; champion: { email: string }; askedBy: { name: string } };
    expect(sent).toMatchObject({ status: 'sent', champion: { email: champion.email }, askedBy: t.owner, trigger: 'manual' });

    const [mail] = await smtp.waitForMessages(1, { to: champion.email, timeoutMs: 15_000 });
    expect(mail!.subject).toBe(`${t.owner.name} would value an introduction`);
    expect(mail!.text).toContain('Hi Carla Champion,');
    expect(mail!.text).toContain('Your rollout was our favourite project this year.');
    expect(mail!.text).toContain(`${t.owner.name}\nReferral program`);
    expect(mail!.listUnsubscribe).toMatch(/\/unsubscribe\//);
    const link = new RegExp(`${t.svc.url}/portal/${t.installationId}/link\\?to=ask%2F${sent.id}#[A-Za-z0-9_-]+`).exec(mail!.text)?.[0];
    expect(link, mail!.text).toBeDefined();

    // Opened as the portal's link page does: the page, then the token and the landing posted as a form.
    const [pageUrl, token] = link!.split('#') as [string, string];
    expect((await fetch(pageUrl)).status).toBe(200);
    const signedIn = await fetch(pageUrl.split('?')[0]!, {
      method: 'POST',
      body: new URLSearchParams({ token, to: `ask/${sent.id}` }),
      redirect: 'manual',
    });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe(`/portal/${t.installationId}/ask/${sent.id}`);
    const cookie = signedIn.headers.get('set-cookie')!.split(';')[0]!;
    const page = await fetch(`${t.svc.url}/api/v1/portal/${t.installationId}/asks/${sent.id}`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.json()).toMatchObject({
      id: sent.id,
      referrerName: 'Carla Champion',
      askedBy: { name: t.owner.name },
      message: 'Your rollout was our favourite project this year.',
      referrals: [],
    });

    const notes = await eventually(
      () => (t.companyNotes(companyId).length ? t.companyNotes(companyId) : undefined),
      15_000,
      'company note',
    );
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('Referral ask sent to Carla Champion');

    // The same key again: the first ask, no second email.
    const replay = await ask(companyId, { idempotencyKey: `ask-${crm}` });
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as { id: string }).id).toBe(sent.id);
    const summary = (await (await t.svc.api(`/reports/summary?installationId=${t.installationId}`)).json()) as { asks: unknown };
    expect(summary.asks).toEqual({ sent: 1, refused: 0, referralsFromAsks: 0 });
    expect(smtp.messages(champion.email)).toHaveLength(1);
  });

  it('refuses a champion opted out of email in the CRM, and writes nothing', async () => {
    const champion = { email: `otto.${crm.toLowerCase()}@initech.example`, firstName: 'Otto', lastName: 'Optout', emailOptOut: true };
    const companyId = t.account(`Initech ${crm}`, champion);
    const asks = askRows();
    const res = await ask(companyId);
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      error: {
        code: 'conflict',
        message: 'The referral ask was not sent: the contact opted out of email in the CRM.',
        details: { refusal: 'champion_opted_out', reasons: ['the contact opted out of email in the CRM'] },
      },
    });
    expect(askRows()).toBe(asks);
    expect(await t.svc.service.runtime.store.referrals.referrerByEmail(t.installationId, champion.email)).toBeUndefined();
  });

  it('asks by itself when the program enables it and an account becomes eligible', async () => {
    const document = (await (await t.svc.api(`/program?installationId=${t.installationId}`)).json()) as {
      program: Record<string, unknown>;
    };
    const put = await t.svc.api(`/program?installationId=${t.installationId}`, {
      method: 'PUT',
      json: { ...document, program: { ...document.program, asks: { askers: ['cs_owner'], automatic: true, minDaysBetweenAutomatic: 90 } } },
    });
    expect(put.status).toBe(200);
    const champion = { email: `ada.${crm.toLowerCase()}@soylent.example`, firstName: 'Ada', lastName: 'Auto' };
    const companyId = t.account(`Soylent ${crm}`, champion, { nps: 5 });
    const eligibility = async () =>
      ((await (await t.svc.api(`/accounts/${companyId}/eligibility?installationId=${t.installationId}`)).json()) as { eligible: boolean })
        .eligible;
    expect(await eligibility()).toBe(false);

    t.setNps(companyId, 10);
    await eventually(async () => ((await eligibility()) ? true : undefined), 15_000, 'the account eligible');
    const [mail] = await smtp.waitForMessages(1, { to: champion.email, timeoutMs: 15_000 });
    expect(mail!.subject).toBe(`${t.owner.name} would value an introduction`);
    const automatic = await t.svc.service.runtime.store.referralAsks.lastAutomaticSent(t.installationId, companyId);
    expect(automatic).toMatchObject({ trigger: 'automatic', status: 'sent', championEmail: champion.email });
  });

  // HubSpot's card signs its calls; Salesforce's cards call with their key (tests/e2e/salesforce-cards.test.ts).
  if (crm === 'HubSpot') {
    it('answers the CRM card’s refusals with a 2xx, the reasons in the body, and writes nothing', async () => {
      const companyId = t.account(`Umbrella ${crm}`, {
        email: `ulla.${crm.toLowerCase()}@umbrella.example`,
        firstName: 'Ulla',
        lastName: 'Optout',
        emailOptOut: true,
      });
      const asks = askRows();
      const fromCard = await t.card!(`/accounts/${companyId}/asks`, {});
      expect(fromCard.status).toBe(200);
      expect(await fromCard.json()).toEqual({
        id: null,
        companyId,
        status: 'refused',
        refusal: 'champion_opted_out',
        reasons: ['the contact opted out of email in the CRM'],
      });
      expect(askRows()).toBe(asks);
    });

    it('takes an ask from the CRM card, signed by the record owner', async () => {
      const companyId = t.account(`Hooli ${crm}`, {
        email: `hana.${crm.toLowerCase()}@hooli.example`,
        firstName: 'Hana',
        lastName: 'Hooli',
      });
      const res = await t.card!(`/accounts/${companyId}/asks`, { idempotencyKey: 'card-ask-1' });
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({
        status: 'sent',
        askedBy: t.owner,
        champion: { email: `hana.${crm.toLowerCase()}@hooli.example` },
      });
    });
  }
});
