/**
 * The three HubSpot cards, rendered with the SDK's own testing utilities and driven as a rep
 * would: `hubspot.fetch` signs each request (v3) and calls the running service, which reads a
 * sandbox HubSpot. Nothing is a canned answer.
 */
import { Alert, Button, EmptyState, Form, hubspot, Input, Select, StatusTag, TableRow, TextArea } from '@hubspot/ui-extensions';
import { createRenderer, type RenderedNode, RenderedNodeType } from '@hubspot/ui-extensions/testing';
import type { ReactElement } from 'react';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DealReferralCard } from '../../app-manifest/hubspot/src/app/cards/DealReferralCard.tsx';
import { EligibilityCard } from '../../app-manifest/hubspot/src/app/cards/EligibilityCard.tsx';
import { LogReferralCard } from '../../app-manifest/hubspot/src/app/cards/LogReferralCard.tsx';
import { OBJECT_TYPE, REFERLOOP_API } from '../../app-manifest/hubspot/src/app/cards/referloop.ts';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { signingHubSpotFetch } from '../support/hubspot-card-fetch.ts';
import { eventually, startWithSandboxHubSpot, type TestService } from '../support/service.ts';
import { startSmtpServer, type SmtpTestServer } from '../support/smtp-server.ts';

const APP = { clientId: 'cards-client', clientSecret: 'cards-secret', appId: 5151 };
/**
 * Long enough for a round trip through the service and the sandbox CRM on a busy machine: a read
 * can wait behind the worker's jobs of the test before (an ask's email and timeline note).
 */
const WAIT = { timeoutInMs: 25_000 };
vi.setConfig({ testTimeout: 60_000 });

let sandbox: HubSpotSandbox;
let svc: TestService;
let smtp: SmtpTestServer;

beforeAll(async () => {
  smtp = await startSmtpServer();
  ({ hubspot: sandbox, svc } = await startWithSandboxHubSpot(APP, { webhookBatchMs: 20, webhookRetryMs: 100 }, { SMTP_URL: smtp.url }));
  vi.spyOn(hubspot, 'fetch').mockImplementation(
    signingHubSpotFetch({ clientSecret: APP.clientSecret, publicApi: REFERLOOP_API, serviceUrl: svc.url }),
  );
});
afterAll(async () => {
  vi.restoreAllMocks();
  await svc?.stop();
  await sandbox?.close();
  await smtp?.stop();
});

type Person = { id: number; email: string; firstName: string; lastName: string };
const SAM = { id: 9000001, email: 'sam.seller@sandbox-portal.example', firstName: 'Sam', lastName: 'Seller' };

/** A card on a record of the sandbox portal, seen by `user`. */
function renderCard(
  card: ReactElement,
  record: { objectTypeId: string; objectId: string },
  options: { user?: Person; portalId?: number; recordEmail?: string } = {},
) {
  const renderer = createRenderer('crm.record.tab');
  const { context, actions } = renderer.mocks;
  context.portal.id = options.portalId ?? sandbox.state.portalId;
  context.crm = { objectTypeId: record.objectTypeId, objectId: Number(record.objectId) };
  Object.assign(context.user, options.user ?? SAM, { emails: [(options.user ?? SAM).email] });
  // What HubSpot answers the card's read of the record's own properties.
  actions.fetchCrmObjectProperties.willCall(
    async (): Promise<Record<string, string>> => (options.recordEmail ? { email: options.recordEmail } : {}),
  );
  renderer.render(card);
  return renderer;
}

type Renderer = ReturnType<typeof renderCard>;

/** Types into an input as the rep does (the SDK types `trigger`'s argument as the handler itself). */
function fill(renderer: Renderer, values: Record<string, string>) {
  for (const [name, value] of Object.entries(values)) renderer.find(Input, { name }).trigger('onChange', value as never);
}

/** All the text a node shows, its descendants' words joined by spaces (the SDK's `text` holds a node's own only). */
function textOf(node: Renderer | RenderedNode): string {
  if ('getRootNode' in node) return textOf(node.getRootNode());
  if (node.nodeType === RenderedNodeType.Text) return node.text;
  return node.childNodes
    .map(textOf)
    .filter((t) => t !== '')
    .join(' ');
}

/** The form, once the card has loaded the record's referrals. */
async function formOf(renderer: Renderer) {
  await renderer.waitFor(() => expect(renderer.maybeFind(Form)).not.toBeNull(), WAIT);
  return renderer;
}

async function alertOf(renderer: Renderer, title?: string) {
  await renderer.waitFor(() => expect(renderer.find(Alert, title ? { title } : undefined)).toBeTruthy(), WAIT);
  const alert = renderer.find(Alert, title ? { title } : undefined);
  return { title: alert.props.title, text: textOf(alert) };
}

describe('Log a referral', () => {
  it('logs a referral from a contact, prefilled with the contact’s email, and says it was accepted', async () => {
    const contact = sandbox.state.create('contacts', { email: 'dana@bright-labs.io', firstname: 'Dana' });
    const card = renderCard(
      <LogReferralCard />,
      { objectTypeId: OBJECT_TYPE.contact, objectId: contact.id },
      { recordEmail: 'dana@bright-labs.io' },
    );
    await card.waitFor(() => expect(card.find(Input, { name: 'refereeEmail' }).props.value).toBe('dana@bright-labs.io'), WAIT);
    expect(card.find(EmptyState).props.title).toBe('No referrals yet');

    fill(card, { referrerName: 'Cora Customer', referrerEmail: 'cora@customer.com' });
    card.find(Form).trigger('onSubmit');

    const shown = await alertOf(card);
    expect(shown.title).toBe('Referral accepted');
    expect(shown.text).toMatch(
      /^Referral of dana@bright-labs\.io \(bright-labs\.io\) received\. It is protected until \d{4}-\d{2}-\d{2}\.$/,
    );
    // The form is ready for the next referral, the record's person still prefilled.
    expect(card.find(Input, { name: 'referrerName' }).props.value).toBe('');
    expect(card.find(Input, { name: 'refereeEmail' }).props.value).toBe('dana@bright-labs.io');
  });

  it('names whose referral a duplicate repeats', async () => {
    const first = await svc.api('/referrals', {
      method: 'POST',
      json: {
        referrer: { name: 'Cora Customer', email: 'cora@customer.com', type: 'customer' },
        referee: { email: 'eli@northwind-cards.io' },
      },
    });
    expect(first.status).toBe(201);
    const company = sandbox.state.create('companies', { name: 'Northwind Cards' });
    const card = renderCard(<LogReferralCard />, { objectTypeId: OBJECT_TYPE.company, objectId: company.id });
    fill(await formOf(card), {
      referrerName: 'Pia Partner',
      referrerEmail: 'pia@partner-firm.com',
      refereeEmail: 'eli@northwind-cards.io',
    });
    card.find(Select, { name: 'referrerType' }).trigger('onChange', 'partner' as never);
    card.find(Form).trigger('onSubmit');

    const shown = await alertOf(card);
    expect(shown.title).toBe("Duplicate of Cora Customer (cora@customer.com)'s referral");
    expect(shown.text).toMatch(/^eli@northwind-cards\.io was already referred on \d{4}-\d{2}-\d{2} \(referral [^)]+\)\./);
  });

  it('on a deal, claims the deal and says the claim waits for approval; a second referrer is told the conflict', async () => {
    const alex = sandbox.state.create('contacts', { email: 'alex@globex-cards.io', firstname: 'Alex' });
    const deal = sandbox.state.create(
      'deals',
      { dealname: 'Globex cards deal', pipeline: 'default', dealstage: 'qualifiedtobuy', hubspot_owner_id: '75000001' },
      [{ type: 'contacts', id: alex.id }],
    );
    const onDeal = { objectTypeId: OBJECT_TYPE.deal, objectId: deal.id };

    const first = renderCard(<LogReferralCard />, onDeal);
    fill(await formOf(first), { referrerName: 'Pia Partner', referrerEmail: 'pia@partner-firm.com', refereeEmail: 'alex@globex-cards.io' });
    first.find(Form).trigger('onSubmit');
    const claim = await alertOf(first);
    expect(claim.title).toBe('Claim on this deal waiting for approval');
    expect(claim.text).toContain('(stage Qualified To Buy, owner Sam Seller)');
    expect(claim.text).toMatch(/Without an approval the claim lapses on \d{4}-\d{2}-\d{2}\.$/);

    const second = renderCard(<LogReferralCard />, onDeal);
    fill(await formOf(second), {
      referrerName: 'Cora Customer',
      referrerEmail: 'cora@customer.com',
      refereeEmail: 'bo@globex-cards-labs.io',
    });
    second.find(Form).trigger('onSubmit');
    const conflict = await alertOf(second);
    expect(conflict.title).toBe(`Conflict with deal ${deal.id} (owner Sam Seller)`);
    expect(conflict.text).toContain('Pia Partner');
  });

  it('offers the open deals to choose from when there are several, and claims the one the rep picks', async () => {
    const kim = sandbox.state.create('contacts', { email: 'kim@umbrella-cards.io', firstname: 'Kim' });
    const deals = ['Umbrella east', 'Umbrella west'].map((dealname) =>
      sandbox.state.create('deals', { dealname, pipeline: 'default', dealstage: 'qualifiedtobuy', hubspot_owner_id: '75000001' }, [
        { type: 'contacts', id: kim.id },
      ]),
    );
    const card = renderCard(
      <LogReferralCard />,
      { objectTypeId: OBJECT_TYPE.contact, objectId: kim.id },
      { recordEmail: 'kim@umbrella-cards.io' },
    );
    await card.waitFor(() => expect(card.find(Input, { name: 'refereeEmail' }).props.value).toBe('kim@umbrella-cards.io'), WAIT);
    fill(card, { referrerName: 'Quinn Quest', referrerEmail: 'quinn@quest-consulting.example' });
    card.find(Form).trigger('onSubmit');

    const choose = await alertOf(card, 'Choose the deal this referral claims');
    expect(choose.text).toMatch(/^There are 2 open deals: .*Umbrella east.*Umbrella west.*\. Name the deal this referral claims\.$/);
    const picker = card.find(Select, { name: 'dealId' });
    expect(picker.props.options.map((o) => o.value).sort()).toEqual(deals.map((d) => d.id).sort());
    picker.trigger('onChange', deals[1]!.id as never);
    card.find(Form).trigger('onSubmit');

    const claim = await alertOf(card, 'Claim on this deal waiting for approval');
    expect(claim.text).toContain('Umbrella west');
    expect(card.maybeFind(Select, { name: 'dealId' })).toBeNull();
  });

  it('shows the service’s refusal in words: an address that is not one, a portal Referloop is not installed in', async () => {
    const card = renderCard(<LogReferralCard />, {
      objectTypeId: OBJECT_TYPE.company,
      objectId: sandbox.state.create('companies', { name: 'Typo Inc' }).id,
    });
    fill(await formOf(card), { referrerName: 'Pia Partner', referrerEmail: 'pia@partner-firm.com', refereeEmail: 'not-an-address' });
    card.find(Form).trigger('onSubmit');
    const refused = await alertOf(card, 'Not logged');
    expect(refused.text).toMatch(/referee\.email/);

    const elsewhere = renderCard(<LogReferralCard />, { objectTypeId: OBJECT_TYPE.contact, objectId: '1' }, { portalId: 424242 });
    const error = await alertOf(elsewhere, 'Referrals not loaded');
    expect(error.text).toBe('Referloop is not installed in HubSpot portal 424242.');
  });

  it('with programs side by side, logs the referral into the program the rep picks', async () => {
    const [installation] = (await (await svc.api('/installations')).json()) as { id: string }[];
    const created = await svc.api(`/installations/${installation!.id}/programs`, {
      method: 'POST',
      json: { name: 'Partner program', from: 'blank' },
    });
    const partners = (await created.json()) as { id: string };
    const contact = sandbox.state.create('contacts', { email: 'nico@two-programs.io', firstname: 'Nico' });
    const card = renderCard(
      <LogReferralCard />,
      { objectTypeId: OBJECT_TYPE.contact, objectId: contact.id },
      { recordEmail: 'nico@two-programs.io' },
    );
    await card.waitFor(() => expect(card.maybeFind(Select, { name: 'programId' })).not.toBeNull(), WAIT);
    const choice = card.find(Select, { name: 'programId' });
    expect(choice.props.options.map((o) => o.label)).toEqual(['Referral program', 'Partner program']);
    choice.trigger('onChange', partners.id as never);
    fill(card, { referrerName: 'Paz Partner', referrerEmail: 'paz@partner-two.com' });
    await card.waitFor(() => expect(card.find(Input, { name: 'refereeEmail' }).props.value).toBe('nico@two-programs.io'), WAIT);
    card.find(Select, { name: 'referrerType' }).trigger('onChange', 'partner' as never);
    card.find(Form).trigger('onSubmit');
    expect((await alertOf(card)).title).toBe('Referral accepted');

    const listed = (await (await svc.api(`/referrals?programId=${partners.id}`)).json()) as { items: { referee: { email: string } }[] };
    expect(listed.items.map((r) => r.referee.email)).toEqual(['nico@two-programs.io']);
  });
});

describe('Referral eligibility', () => {
  const tenure = () => `${new Date(Date.now() - 400 * 86_400_000).toISOString().slice(0, 10)}T00:00:00Z`;
  /** A customer of 400 days, owned by Sam, with a primary contact to ask. */
  const account = (name: string, nps: number, champion: { email: string; firstname: string; lastname: string }) => {
    const company = sandbox.state.create('companies', {
      name,
      domain: `${name.toLowerCase().replaceAll(' ', '-')}.example`,
      lifecyclestage: 'customer',
      hs_lifecyclestage_customer_date: tenure(),
      referloop_nps: String(nps),
      hubspot_owner_id: '75000001',
    });
    sandbox.state.create('contacts', champion, [{ type: 'companies', id: company.id }]);
    return company.id;
  };

  it('shows an eligible account’s rules with the values seen, and sends the ask signed by the company’s owner', async () => {
    const companyId = account('Initrode Cards', 10, { email: 'carla@initrode-cards.example', firstname: 'Carla', lastname: 'Champion' });
    const card = renderCard(<EligibilityCard />, { objectTypeId: OBJECT_TYPE.company, objectId: companyId });
    await card.waitFor(() => expect(textOf(card.find(StatusTag))).toBe('Eligible'), WAIT);

    const rows = card
      .findAll(TableRow)
      .slice(1)
      .map((row) => textOf(row));
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^NPS Pass NPS 10 is at least \d+$/),
        expect.stringMatching(/^Customer tenure Pass customer for 400 days/),
      ]),
    );
    expect(textOf(card)).toMatch(/Last evaluated \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);

    card.find(TextArea, { name: 'message' }).trigger('onChange', 'Your rollout was our favourite project.' as never);
    card.find(Button, { variant: 'primary' }).trigger('onClick');
    const sent = await alertOf(card);
    expect(sent).toEqual({
      title: 'Ask sent',
      text: 'Referral ask sent to Carla Champion (carla@initrode-cards.example), signed by Sam Seller.',
    });
    const [mail] = await smtp.waitForMessages(1, { to: 'carla@initrode-cards.example', timeoutMs: 15_000 });
    expect(mail!.text).toContain('Your rollout was our favourite project.');
  });

  it('shows the failing rule of an account that is not eligible, and the ask refused with its reasons', async () => {
    const companyId = account('Vandelay Cards', 3, { email: 'art@vandelay-cards.example', firstname: 'Art', lastname: 'Vandelay' });
    const card = renderCard(<EligibilityCard />, { objectTypeId: OBJECT_TYPE.company, objectId: companyId });
    await card.waitFor(() => expect(textOf(card.find(StatusTag))).toBe('Not eligible'), WAIT);
    expect(card.findAll(TableRow).map((row) => textOf(row))).toContainEqual(expect.stringMatching(/^NPS Fail NPS 3 is below \d+$/));

    card.find(Button, { variant: 'primary' }).trigger('onClick');
    const refused = await alertOf(card);
    expect(refused.title).toBe('Ask refused');
    expect(refused.text).toMatch(/^Not sent: the account is not eligible to refer: NPS 3 is below \d+\.$/);
    expect(smtp.messages('art@vandelay-cards.example')).toEqual([]);
  });
});

describe('Referral and reward', () => {
  it('shows who referred a won deal, the share, the evidence and each reward’s amount, status, due date and what it is given as', async () => {
    const logged = await svc.api('/referrals', {
      method: 'POST',
      json: {
        referrer: { name: 'Rita Reseller', email: 'rita@reseller.example', type: 'partner' },
        referee: { email: 'jordan@acme-cards.io', firstName: 'Jordan', lastName: 'Lee', company: 'Acme Cards' },
        submittedBy: { kind: 'rep', id: 'rep-7' },
      },
    });
    expect(logged.status).toBe(201);
    const { id } = (await logged.json()) as { id: string };
    const referral = async () =>
      (await (await svc.api(`/referrals/${id}`)).json()) as { crm: { person: { id: string } } | null; rewards: unknown[] };
    const contactId = await eventually(async () => (await referral()).crm?.person.id, 15_000, 'the referral pushed to HubSpot');
    const deal = sandbox.state.create(
      'deals',
      { dealname: 'Acme Cards platform', pipeline: 'default', dealstage: 'qualifiedtobuy', amount: '25000' },
      [{ type: 'contacts', id: contactId }],
    );
    sandbox.state.update('deals', deal.id, { dealstage: 'closedwon', closedate: new Date().toISOString() });
    await eventually(async () => ((await referral()).rewards.length ? true : undefined), 15_000, 'the reward for the won deal');
    // Two rewards a program could also grant on the deal: a gift card, and recognition, which has no amount.
    const { store } = svc.service.runtime;
    const row = (await store.referrals.get(id))!;
    const grants = [
      { grant: { kind: 'gift_card' as const }, amountCents: 50_000 },
      { grant: { kind: 'recognition' as const, badge: 'Top referrer', message: 'Thank you, Rita' }, amountCents: 0 },
    ];
    for (const { grant, amountCents } of grants) {
      await store.rewards.accrue(
        {
          installationId: row.installationId,
          referralId: id,
          referrerId: row.referrerId,
          dealId: deal.id,
          kind: 'milestone',
          beneficiary: 'referrer',
          milestone: 'closed_won',
          amountCents,
          currency: 'USD',
          status: 'approved',
          dueDate: '2027-01-31',
          requiresApproval: false,
          programId: row.programId,
          programVersion: row.programVersion,
          reasons: ['granted by the test'],
          grant,
          idempotencyKey: `test-reward:${id}:${grant.kind}`,
          updatedAt: new Date().toISOString(),
        },
        'test',
      );
    }

    const card = renderCard(<DealReferralCard />, { objectTypeId: OBJECT_TYPE.deal, objectId: deal.id });
    await card.waitFor(() => expect(textOf(card)).toContain('Referred by Rita Reseller'), WAIT);
    expect(textOf(card)).toContain('Rita Reseller (rita@reseller.example), partner');
    expect(textOf(card)).toMatch(/100% \(sourced, [a-z ]+\)/);
    expect(textOf(card)).toContain(`Evidence: the deal's contact ${contactId} is the person referred.`);
    expect(textOf(card)).toContain(`Attributed to deal ${deal.id} (sourced)`);
    expect(textOf(card)).toMatch(/reward at closed won: USD [\d,]+\.\d{2}, due \d{4}-\d{2}-\d{2}/);
    expect(textOf(card)).toContain('reward at closed won: USD 500.00 (Gift card), due 2027-01-31');
    expect(textOf(card)).toContain('reward at closed won: Recognition: Top referrer, due 2027-01-31');
    expect(textOf(card.find(StatusTag))).toMatch(/^(pending|approved|payable)$/);
  });

  it('says so on a deal no referral is linked to', async () => {
    const deal = sandbox.state.create('deals', { dealname: 'Unreferred', pipeline: 'default', dealstage: 'qualifiedtobuy' });
    const card = renderCard(<DealReferralCard />, { objectTypeId: OBJECT_TYPE.deal, objectId: deal.id });
    await card.waitFor(() => expect(card.find(EmptyState).props.title).toBe('No referral on this deal'), WAIT);
  });
});
