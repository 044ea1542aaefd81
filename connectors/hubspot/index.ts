import type { CrmConnector, HttpReply } from '../connector.ts';
import { hubspotCardCalls } from './cards.ts';
import { HubSpotClient } from './client.ts';
import { createHubSpotOAuth } from './oauth.ts';
import { parseHubSpotWebhook } from './parse-webhook.ts';
import { verifyHubSpotSignature } from './verify-webhook.ts';

export { HUBSPOT_OPTIONAL_SCOPES, HUBSPOT_SCOPES } from './oauth.ts';
export { DEFAULT_RATE_LIMIT, SEARCH_RATE_LIMIT } from './client.ts';
export { REFERLOOP_GROUP, REFERLOOP_PROPERTIES } from './provision.ts';

export interface HubSpotConnectorConfig {
  clientId: string;
  /** Also the key of webhook signatures. */
  clientSecret: string;
  /** When set, webhook events of other apps sharing the target URL are ignored. */
  appId?: string;
  apiBaseUrl: string;
  authorizeUrl: string;
  /** Used for the OAuth endpoints; CRM calls go through @hubspot/api-client's own HTTP stack. */
  fetch?: typeof fetch;
  /** Currency of deals without `deal_currency_code` (single-currency portals leave it empty). */
  defaultCurrency?: string;
  requestTimeoutMs?: number;
}

/** 100 events of well under 1 KB each (https://developers.hubspot.com/docs/api/webhooks), with room to spare. */
const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

const ERROR_CODES: Record<number, string> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  413: 'too_large',
  429: 'rate_limited',
};

const json = (status: number, body: unknown): HttpReply => ({
  status,
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify(body),
});

export function createHubSpotConnector(config: HubSpotConnectorConfig): CrmConnector {
  const oauth = createHubSpotOAuth(config);
  return {
    kind: 'hubspot',
    oauth,
    webhooks: {
      maxBodyBytes: MAX_WEBHOOK_BODY_BYTES,
      // HubSpot retries anything but a 2xx for a day, so events of unknown portals are recorded and acknowledged.
      unknownAccount: 'record',
      verify: (request, now) => verifyHubSpotSignature(request, config.clientSecret, now),
      parse: (request) => parseHubSpotWebhook(request.rawBody, { appId: config.appId }),
      acknowledge: () => json(200, { status: 'ok' }),
      refuse: (status, message) =>
        json(status, { error: { code: ERROR_CODES[status] ?? (status >= 500 ? 'unavailable' : 'error'), message } }),
    },
    client: async (session, deps) =>
      new HubSpotClient(session, deps, {
        apiBaseUrl: config.apiBaseUrl,
        oauth,
        defaultCurrency: config.defaultCurrency ?? 'USD',
        requestTimeoutMs: config.requestTimeoutMs ?? 30_000,
      }),
    cards: hubspotCardCalls(config.clientSecret),
  };
}
