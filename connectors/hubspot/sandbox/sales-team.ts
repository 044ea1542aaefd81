/**
 * Plays a sales team against a running sandbox HubSpot over its HTTP API, the way a rep would in
 * HubSpot's UI: a deal for a contact, moved through the pipeline. Used by `referloop sandbox-deal`
 * so a newcomer can see the whole loop; it talks to the sandbox only.
 */
import { SandboxDealError } from '../../crm-registration.ts';
import { HUBSPOT_SCOPES } from '../oauth.ts';

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

export async function workSandboxDeal(
  sandboxUrl: string,
  credentials: { clientId: string; clientSecret: string },
  deal: SalesTeamDeal,
): Promise<{ dealId: string; contactId: string }> {
  if (!Number.isFinite(deal.amount) || deal.amount <= 0)
    throw new SandboxDealError(`The deal amount must be a positive number, not ${deal.amount}.`);
  const token = await sandboxToken(sandboxUrl, credentials);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await reach(sandboxUrl, `${sandboxUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as { id?: string; message?: string; stages?: { id: string }[] };
    return { ok: res.ok, status: res.status, json };
  };
  const succeeded = async (method: string, path: string, body?: unknown) => {
    const { ok, status, json } = await call(method, path, body);
    if (!ok) throw new Error(`sandbox HubSpot ${method} ${path}: ${status} ${json.message ?? ''}`);
    return json;
  };

  // Everything is checked before the deal is created, so a mistake leaves no half-made deal.
  const contact = await call('GET', `/crm/v3/objects/contacts/${encodeURIComponent(deal.email)}?idProperty=email`);
  if (contact.status === 404)
    throw new SandboxDealError(`The sandbox HubSpot has no contact ${deal.email}: log a referral for that email first.`);
  if (!contact.ok) throw new Error(`sandbox HubSpot contact lookup: ${contact.status} ${contact.json.message ?? ''}`);
  const stageIds = ((await succeeded('GET', `/crm/v3/pipelines/deals/${PIPELINE}`)).stages ?? []).map((s) => s.id);
  const unknown = deal.stages.filter((stage) => !stageIds.includes(stage));
  if (unknown.length) throw new SandboxDealError(`Unknown deal stage ${unknown.join(', ')}: the stages are ${stageIds.join(', ')}.`);

  const created = await succeeded('POST', '/crm/v3/objects/deals', {
    properties: {
      dealname: deal.dealName ?? `Deal for ${deal.email}`,
      pipeline: PIPELINE,
      dealstage: 'appointmentscheduled',
      amount: String(deal.amount),
    },
    associations: [
      { to: { id: contact.json.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: DEAL_TO_CONTACT }] },
    ],
  });
  for (const stage of deal.stages) {
    const closing = stage === 'closedwon' || stage === 'closedlost';
    await succeeded('PATCH', `/crm/v3/objects/deals/${created.id}`, {
      properties: { dealstage: stage, ...(closing ? { closedate: new Date().toISOString() } : {}) },
    });
  }
  return { dealId: created.id!, contactId: contact.json.id! };
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
