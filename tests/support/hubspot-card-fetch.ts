import { signV3 } from '../../connectors/hubspot/verify-webhook.ts';

/**
 * `hubspot.fetch` as HubSpot's local development proxy runs it (`hs project dev` with a local.json
 * mapping): the card's public API origin is mapped to the service under test, and the request is
 * signed with the app's client secret (v3) over the method, the URL it is sent to, the JSON body
 * and the time. The service's own answer comes back, whatever its status.
 */
export function signingHubSpotFetch(options: { clientSecret: string; publicApi: string; serviceUrl: string }) {
  const publicOrigin = new URL(options.publicApi).origin;
  return async (url: string | URL, init: { method?: string; body?: Record<string, unknown> } = {}): Promise<Response> => {
    const given = new URL(String(url));
    if (given.origin !== publicOrigin) throw new Error(`${given.origin} is not in the app's permittedUrls.fetch (${publicOrigin})`);
    const target = `${options.serviceUrl}${given.pathname}${given.search}`;
    const method = init.method ?? 'GET';
    const body = init.body === undefined ? '' : JSON.stringify(init.body);
    const timestamp = String(Date.now());
    return fetch(target, {
      method,
      headers: {
        'content-type': 'application/json',
        'x-hubspot-signature-v3': signV3(options.clientSecret, method, target, body, timestamp),
        'x-hubspot-request-timestamp': timestamp,
      },
      ...(body ? { body } : {}),
    });
  };
}
