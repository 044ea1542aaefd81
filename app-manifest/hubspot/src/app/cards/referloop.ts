import { hubspot } from '@hubspot/ui-extensions';

/**
 * Referloop's API. `referloop render hubspot` replaces this placeholder origin with the service's
 * PUBLIC_BASE_URL, here and in app-hsmeta.json's permittedUrls.fetch, which must list it.
 */
export const REFERLOOP_API = 'https://referloop.example.com/api/v1';

/** The CRM record a card sits on, as the API takes it: the portal names the installation. */
export interface CardRecord {
  portalId: string;
  objectTypeId: string;
  objectId: string;
}

/** HubSpot's object type ids of the records the cards sit on. */
export const OBJECT_TYPE = { contact: '0-1', company: '0-2', deal: '0-3' } as const;

type Answer<T> = { ok: true; body: T } | { ok: false; message: string };

/**
 * A call to Referloop through `hubspot.fetch`, which signs it with the app's v3 signature: a GET
 * with the query, or a POST when there is a body. The portal goes in the query or the body, which
 * the signature covers. Every failure comes back as a sentence a rep can read.
 */
export async function callReferloop<T>(
  path: string,
  request: { portalId: string; query?: Record<string, string>; body?: Record<string, unknown> },
): Promise<Answer<T>> {
  const query = new URLSearchParams({ portalId: request.portalId, ...request.query }).toString();
  let response: Response;
  try {
    response = await hubspot.fetch(
      request.body ? `${REFERLOOP_API}${path}` : `${REFERLOOP_API}${path}?${query}`,
      request.body ? { method: 'POST', body: { portalId: request.portalId, ...request.body } } : { method: 'GET' },
    );
  } catch (err) {
    return { ok: false, message: `Referloop could not be reached: ${err instanceof Error ? err.message : String(err)}.` };
  }
  const body = (await response.json().catch(() => null)) as (T & { error?: { message?: string } }) | null;
  if (response.ok && body) return { ok: true, body };
  // HubSpot's proxy hides the body of most non-2xx answers; the API's own message when it gets through.
  return { ok: false, message: body?.error?.message ?? `Referloop answered ${response.status}: try again in a moment.` };
}

/** An amount in the currency's major unit, as the API sends it, e.g. "USD 1,250.00". */
export function formatMoney(amount: number, currency: string): string {
  return `${currency} ${amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** An ISO instant or date as a day, e.g. "2026-03-31". */
export function formatDay(iso: string | null): string {
  return iso ? iso.slice(0, 10) : 'no date';
}

/** A status or code as words: `in_sales_process` → "in sales process". */
export function words(code: string): string {
  return code.replace(/_/g, ' ');
}
