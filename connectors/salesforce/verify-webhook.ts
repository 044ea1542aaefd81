import type { InboundRequest, Verdict } from '../connector.ts';
import { MAX_XML_DEPTH, OUTBOUND_NS, child, parseXml, soapBodyContent } from './soap.ts';

/** 100 notifications of a handful of fields each stay far below this. */
export const MAX_OUTBOUND_BODY_BYTES = 1024 * 1024;

export function header(request: InboundRequest, name: string): string | undefined {
  const key = Object.keys(request.headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : request.headers[key];
}

/**
 * Outbound Messages carry no signature. This only checks that the request is a well-formed
 * SOAP 1.1 `notifications` call; trust comes from the caller matching OrganizationId to a
 * connected org (`unknownAccount: 'refuse'`), plus HTTPS, Salesforce IP allowlisting and,
 * optionally, Salesforce's client certificate at the edge.
 * https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_security.htm
 */
export function verifyOutboundMessage(request: InboundRequest): Verdict {
  if (request.method.toUpperCase() !== 'POST') return { ok: false, reason: 'outbound messages are POSTed' };
  if (request.rawBody.length > MAX_OUTBOUND_BODY_BYTES) return { ok: false, reason: 'body too large' };
  if (!/^text\/xml\s*(;|$)/i.test(header(request, 'content-type') ?? '')) {
    return { ok: false, reason: 'content-type must be text/xml (SOAP 1.1)' };
  }
  // The OM WSDL binds notifications() to soapAction="". Salesforce's own header is undocumented,
  // so a missing one is accepted and only a different action is refused.
  const soapAction = header(request, 'soapaction');
  if (soapAction !== undefined && !['', '""'].includes(soapAction.trim())) {
    return { ok: false, reason: `unexpected SOAPAction ${soapAction}` };
  }
  const notifications = soapBodyContent(parseXml(request.rawBody.toString('utf8')));
  if (notifications?.ns !== OUTBOUND_NS || notifications.local !== 'notifications') {
    return {
      ok: false,
      reason: `not a well-formed SOAP envelope (no DTD, at most ${MAX_XML_DEPTH} levels deep) carrying outbound-message notifications`,
    };
  }
  if (!child(notifications, OUTBOUND_NS, 'OrganizationId')) return { ok: false, reason: 'OrganizationId missing' };
  return { ok: true };
}
