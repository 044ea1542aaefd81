/**
 * Plays a sales team against a running sandbox HubSpot over its HTTP API, the way a rep would in
 * HubSpot's UI: a deal for a contact, moved through the pipeline, an account's NPS changed. Used by
 * `referloop sandbox-deal` and the first-run tour so a newcomer can see the whole loop; it talks to
 * the sandbox only.
 */
import { SandboxDealError, type SandboxSalesTeam } from '../../crm-registration.ts';
import { HUBSPOT_SCOPES } from '../oauth.ts';
import { defaultPipelines } from './defaults.ts';

export interface SalesTeamDeal {
  email: string;
  amount: number;
  /** Deal stage ids of the default pipeline, in order; `closedwon` also sets the close date. */
  stages: string[];
  dealName?: string;
}

/** Deal-to-contact, HubSpot-defined (associations v4). */
const DEAL_TO_CONTACT = 3;
const PIPELINE = 'default';

/** The sandbox's default pipeline as the tour moves a deal through it: open stages in order, then won (probability 1) or lost. */
function defaultPipelineStages(): SandboxSalesTeam['stages'] {
  const stages = [...defaultPipelines().find((p) => p.id === PIPELINE)!.stages].sort((a, b) => a.displayOrder - b.displayOrder);
  const closed = stages.filter((s) => s.metadata.isClosed === 'true');
  return {
    open: stages.filter((s) => s.metadata.isClosed !== 'true').map((s) => s.id),
    won: closed.find((s) => s.metadata.probability === '1.0')!.id,
    lost: closed.find((s) => s.metadata.probability !== '1.0')!.id,
    labels: Object.fromEntries(stages.map((s) => [s.id, s.label])),
  };
}
const STAGES = defaultPipelineStages();
const FIRST_STAGE = STAGES.open[0]!;

type Call = (method: string, path: string, body?: unknown) => Promise<{ ok: boolean; status: number; json: SandboxAnswer }>;
interface SandboxAnswer {
  id?: string;
  message?: string;
  stages?: { id: string }[];
  results?: { id: string; properties: Record<string, string | null> }[];
}

/** Calls the sandbox's API as the pretend sales team (a token of its own); `succeeded` throws on a refusal. */
async function salesTeamCalls(sandboxUrl: string, credentials: { clientId: string; clientSecret: string }) {
  const token = await sandboxToken(sandboxUrl, credentials);
  const call: Call = async (method, path, body) => {
    const res = await reach(sandboxUrl, `${sandboxUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { ok: res.ok, status: res.status, json: (await res.json()) as SandboxAnswer };
  };
  const succeeded = async (method: string, path: string, body?: unknown) => {
    const { ok, status, json } = await call(method, path, body);
    if (!ok) throw new Error(`sandbox HubSpot ${method} ${path}: ${status} ${json.message ?? ''}`);
    return json;
  };
  return { call, succeeded };
}

/** The contact of this email, or a SandboxDealError saying to log a referral first. */
async function contactId(call: Call, email: string): Promise<string> {
  const contact = await call('GET', `/crm/v3/objects/contacts/${encodeURIComponent(email)}?idProperty=email`);
  if (contact.status === 404)
    throw new SandboxDealError(`The sandbox HubSpot has no contact ${email}: log a referral for that email first.`);
  if (!contact.ok) throw new Error(`sandbox HubSpot contact lookup: ${contact.status} ${contact.json.message ?? ''}`);
  return contact.json.id!;
}

async function pipelineStages(succeeded: Awaited<ReturnType<typeof salesTeamCalls>>['succeeded']): Promise<string[]> {
  return ((await succeeded('GET', `/crm/v3/pipelines/deals/${PIPELINE}`)).stages ?? []).map((s) => s.id);
}

async function createDeal(
  call: Call,
  deal: { email: string; amount: number; name?: string | undefined },
): Promise<{ dealId: string; contactId: string }> {
  if (!Number.isFinite(deal.amount) || deal.amount <= 0)
    throw new SandboxDealError(`The deal amount must be a positive number, not ${deal.amount}.`);
  const contact = await contactId(call, deal.email);
  const created = await call('POST', '/crm/v3/objects/deals', {
    properties: {
      dealname: deal.name ?? `Deal for ${deal.email}`,
      pipeline: PIPELINE,
      dealstage: FIRST_STAGE,
      amount: String(deal.amount),
    },
    associations: [{ to: { id: contact }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: DEAL_TO_CONTACT }] }],
  });
  if (!created.ok) throw new Error(`sandbox HubSpot deal creation: ${created.status} ${created.json.message ?? ''}`);
  return { dealId: created.json.id!, contactId: contact };
}

async function moveDeal(call: Call, dealId: string, stage: string): Promise<void> {
  const closing = stage === 'closedwon' || stage === 'closedlost';
  const moved = await call('PATCH', `/crm/v3/objects/deals/${encodeURIComponent(dealId)}`, {
    properties: { dealstage: stage, ...(closing ? { closedate: new Date().toISOString() } : {}) },
  });
  if (moved.status === 404) throw new SandboxDealError(`The sandbox HubSpot has no deal ${dealId}.`);
  if (!moved.ok) throw new Error(`sandbox HubSpot deal ${dealId}: ${moved.status} ${moved.json.message ?? ''}`);
}

export async function workSandboxDeal(
  sandboxUrl: string,
  credentials: { clientId: string; clientSecret: string },
  deal: SalesTeamDeal,
): Promise<{ dealId: string; contactId: string }> {
  if (!Number.isFinite(deal.amount) || deal.amount <= 0)
    throw new SandboxDealError(`The deal amount must be a positive number, not ${deal.amount}.`);
  const { call, succeeded } = await salesTeamCalls(sandboxUrl, credentials);
  // Everything is checked before the deal is created, so a mistake leaves no half-made deal.
  await contactId(call, deal.email);
  const stageIds = await pipelineStages(succeeded);
  const unknown = deal.stages.filter((stage) => !stageIds.includes(stage));
  if (unknown.length) throw new SandboxDealError(`Unknown deal stage ${unknown.join(', ')}: the stages are ${stageIds.join(', ')}.`);

  const created = await createDeal(call, { email: deal.email, amount: deal.amount, name: deal.dealName });
  for (const stage of deal.stages) await moveDeal(call, created.dealId, stage);
  return created;
}

/** Two years back: a customer long enough for the default "customer for 90 days" rule. */
const LONG_AGO_MS = 2 * 365 * 86_400_000;

/** The first-run tour's sales team: each move is one call (or two) to the sandbox, as a rep's click would be. */
export function hubspotSalesTeam(sandboxUrl: string, credentials: { clientId: string; clientSecret: string }): SandboxSalesTeam {
  const calls = () => salesTeamCalls(sandboxUrl, credentials);
  return {
    stages: STAGES,
    async createDeal(deal) {
      const { dealId } = await createDeal((await calls()).call, deal);
      return { dealId };
    },
    async moveDeal(dealId, stage) {
      await moveDeal((await calls()).call, dealId, stage);
    },
    async ensureCustomerAccount(account) {
      const { succeeded } = await calls();
      const found = await succeeded('POST', '/crm/v3/objects/companies/search', {
        filterGroups: [{ filters: [{ propertyName: 'domain', operator: 'EQ', value: account.domain }] }],
        properties: ['referloop_nps'],
        limit: 1,
      });
      const existing = found.results?.[0];
      if (existing) {
        const nps = existing.properties.referloop_nps;
        return { companyId: existing.id, nps: nps == null || nps === '' ? null : Number(nps) };
      }
      const created = await succeeded('POST', '/crm/v3/objects/companies', {
        properties: {
          name: account.name,
          domain: account.domain,
          lifecyclestage: 'customer',
          hs_lifecyclestage_customer_date: new Date(Date.now() - LONG_AGO_MS).toISOString(),
          referloop_nps: String(account.nps),
        },
      });
      return { companyId: created.id!, nps: account.nps };
    },
    async setAccountNps(companyId, nps) {
      const { succeeded } = await calls();
      await succeeded('PATCH', `/crm/v3/objects/companies/${encodeURIComponent(companyId)}`, {
        properties: { referloop_nps: String(nps) },
      });
    },
  };
}

/** fetch, with "nothing answers there" told as the likely cause rather than a network stack trace. */
async function reach(sandboxUrl: string, url: string | URL, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    throw new SandboxDealError(`Nothing answers at ${sandboxUrl}: start the service with the sandbox HubSpot first (npm start).`);
  }
}

/** The sandbox's consent page approves by itself: authorize, then exchange the code. */
async function sandboxToken(sandboxUrl: string, credentials: { clientId: string; clientSecret: string }): Promise<string> {
  const redirectUri = 'http://localhost/sales-team';
  const authorize = new URL(`${sandboxUrl}/oauth/authorize`);
  authorize.search = new URLSearchParams({
    client_id: credentials.clientId,
    redirect_uri: redirectUri,
    scope: HUBSPOT_SCOPES.join(' '),
    state: 'sales-team',
  }).toString();
  const consent = await reach(sandboxUrl, authorize, { redirect: 'manual' });
  const code = new URL(consent.headers.get('location') ?? redirectUri).searchParams.get('code');
  if (!code)
    throw new SandboxDealError(
      `The sandbox HubSpot at ${sandboxUrl} gave no authorization code (is the service running with the sandbox?)`,
    );
  const res = await reach(sandboxUrl, `${sandboxUrl}/oauth/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
      redirect_uri: redirectUri,
      code,
    }),
  });
  const json = (await res.json()) as { access_token?: string };
  if (!json.access_token) throw new Error('the sandbox HubSpot refused the token request');
  return json.access_token;
}
