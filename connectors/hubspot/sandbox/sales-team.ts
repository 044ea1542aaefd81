/**
 * Plays a sales team against a running sandbox HubSpot over its HTTP API, the way a rep would in
 * HubSpot's UI: a deal for a contact, moved through the pipeline. Used by `referloop sandbox-deal`
 * so a newcomer can see the whole loop; it talks to the sandbox only.
 */
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

export async function workSandboxDeal(
  sandboxUrl: string,
  credentials: { clientId: string; clientSecret: string },
  deal: SalesTeamDeal,
): Promise<{ dealId: string; contactId: string }> {
  const token = await sandboxToken(sandboxUrl, credentials);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sandboxUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as { id?: string; message?: string };
    if (!res.ok) throw new Error(`sandbox HubSpot ${method} ${path}: ${res.status} ${json.message ?? ''}`);
    return json;
  };
  const contact = await call('GET', `/crm/v3/objects/contacts/${encodeURIComponent(deal.email)}?idProperty=email`);
  const created = await call('POST', '/crm/v3/objects/deals', {
    properties: { dealname: deal.dealName ?? `Deal for ${deal.email}`, pipeline: 'default', dealstage: 'appointmentscheduled', amount: String(deal.amount) },
    associations: [{ to: { id: contact.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: DEAL_TO_CONTACT }] }],
  });
  for (const stage of deal.stages) {
    const closing = stage === 'closedwon' || stage === 'closedlost';
    await call('PATCH', `/crm/v3/objects/deals/${created.id}`, {
      properties: { dealstage: stage, ...(closing ? { closedate: new Date().toISOString() } : {}) },
    });
  }
  return { dealId: created.id!, contactId: contact.id! };
}

/** The sandbox's consent page approves by itself: authorize, then exchange the code. */
async function sandboxToken(sandboxUrl: string, credentials: { clientId: string; clientSecret: string }): Promise<string> {
  const redirectUri = 'http://localhost/sales-team';
  const authorize = new URL(`${sandboxUrl}/oauth/authorize`);
  authorize.search = new URLSearchParams({ client_id: credentials.clientId, redirect_uri: redirectUri, scope: HUBSPOT_SCOPES.join(' '), state: 'sales-team' }).toString();
  const consent = await fetch(authorize, { redirect: 'manual' });
  const code = new URL(consent.headers.get('location') ?? redirectUri).searchParams.get('code');
  if (!code) throw new Error(`the sandbox HubSpot at ${sandboxUrl} gave no authorization code (is the service running with the sandbox?)`);
  const res = await fetch(`${sandboxUrl}/oauth/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: credentials.clientId, client_secret: credentials.clientSecret, redirect_uri: redirectUri, code }),
  });
  const json = (await res.json()) as { access_token?: string };
  if (!json.access_token) throw new Error('the sandbox HubSpot refused the token request');
  return json.access_token;
}
