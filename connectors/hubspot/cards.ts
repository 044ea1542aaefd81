import type { CrmCardCalls, InboundRequest } from '../connector.ts';
import { verifyHubSpotSignature } from './verify-webhook.ts';

/**
 * Calls from Referloop's UI-extension cards: `hubspot.fetch` signs each with the v3 signature of
 * webhooks, and the card names its portal in the query (`portalId`) or the JSON body.
 * https://developers.hubspot.com/docs/platform/fetching-data (hubspot.fetch)
 */
export function hubspotCardCalls(clientSecret: string): CrmCardCalls {
  return {
    vendor: 'HubSpot',
    accountNoun: 'portal',
    claims: (request) => Object.keys(request.headers).some((name) => name.toLowerCase() === 'x-hubspot-signature-v3'),
    authenticate(request, now) {
      const verdict = verifyHubSpotSignature(request, clientSecret, now);
      return verdict.ok ? { ok: true, accountId: portalOf(request) } : verdict;
    },
    // https://developers.hubspot.com/docs/api/crm/understanding-the-crm (object type ids)
    objectTypeIds: { '0-1': 'contact', '0-2': 'company', '0-3': 'deal' },
  };
}

function portalOf(request: InboundRequest): string | null {
  const inQuery = new URL(request.url).searchParams.get('portalId');
  if (inQuery) return inQuery;
  try {
    const body = JSON.parse(request.rawBody.toString('utf8')) as { portalId?: unknown };
    return body.portalId === undefined || body.portalId === null || body.portalId === '' ? null : String(body.portalId);
  } catch {
    return null;
  }
}
