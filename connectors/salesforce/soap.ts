import { XMLParser, XMLValidator } from 'fast-xml-parser';

// Outbound Messaging WSDL: https://developer.salesforce.com/docs/platform/api/guide/sforce-api-om-outboundmessaging-wsdl.html
export const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const OUTBOUND_NS = 'http://soap.sforce.com/2005/09/outbound';
export const SOBJECT_NS = 'urn:sobject.enterprise.soap.sforce.com';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

/** The one answer Salesforce takes as delivered (HTTP 200); it covers every notification in the message. */
export const ACK_XML = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="${SOAP_ENV_NS}">
 <soapenv:Body>
  <notificationsResponse xmlns="${OUTBOUND_NS}">
   <Ack>true</Ack>
  </notificationsResponse>
 </soapenv:Body>
</soapenv:Envelope>
`;

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** SOAP 1.1 fault; anything but the Ack makes Salesforce retry the message later. */
export function faultXml(faultcode: 'Client' | 'Server', message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="${SOAP_ENV_NS}">
 <soapenv:Body>
  <soapenv:Fault>
   <faultcode>soapenv:${faultcode}</faultcode>
   <faultstring>${escapeXml(message)}</faultstring>
  </soapenv:Fault>
 </soapenv:Body>
</soapenv:Envelope>
`;
}

/** An element with its namespace resolved, so prefixes chosen by the sender do not matter. */
export interface XmlElement {
  ns: string | undefined;
  local: string;
  attributes: { ns: string | undefined; local: string; value: string }[];
  children: XmlElement[];
  text: string;
  /** Resolves a QName value such as xsi:type="sf:Opportunity". */
  resolve(qname: string): { ns: string | undefined; local: string };
}

type OrderedNode = { [name: string]: OrderedNode[] | string } & { ':@'?: Record<string, string> };

/**
 * An Outbound Message nests six elements deep (Envelope, Body, notifications, Notification,
 * sObject, field); anything far deeper is hostile, and is refused before it is walked.
 */
export const MAX_XML_DEPTH = 32;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  parseTagValue: false,
  trimValues: true,
  maxNestedTags: MAX_XML_DEPTH,
});

/**
 * Parses a SOAP document; undefined when it is not well-formed, carries a DTD (forbidden in
 * SOAP) or nests deeper than MAX_XML_DEPTH (the parser throws on those; every parser error is
 * a refusal, not a bug of ours).
 */
export function parseXml(xml: string): XmlElement | undefined {
  if (/<!DOCTYPE/i.test(xml) || XMLValidator.validate(xml) !== true) return undefined;
  let nodes: OrderedNode[];
  try {
    nodes = parser.parse(xml) as OrderedNode[];
  } catch {
    return undefined;
  }
  const root = nodes.find((n) => !Object.keys(n).some((k) => k.startsWith('?')));
  return root ? toElement(root, new Map()) : undefined;
}

function toElement(node: OrderedNode, inherited: Map<string, string>): XmlElement {
  const name = Object.keys(node).find((k) => k !== ':@') ?? '';
  const rawAttributes = Object.entries(node[':@'] ?? {}).map(([k, v]) => [k.slice(2), v] as const);
  const scope = new Map(inherited);
  for (const [k, v] of rawAttributes) {
    if (k === 'xmlns') scope.set('', v);
    else if (k.startsWith('xmlns:')) scope.set(k.slice(6), v);
  }
  const resolve = (qname: string, useDefault: boolean) => {
    const i = qname.indexOf(':');
    const prefix = i < 0 ? '' : qname.slice(0, i);
    return { ns: prefix || useDefault ? scope.get(prefix) : undefined, local: qname.slice(i + 1) };
  };
  const content = node[name];
  const childNodes = Array.isArray(content) ? content : [];
  return {
    ...resolve(name, true),
    attributes: rawAttributes
      .filter(([k]) => k !== 'xmlns' && !k.startsWith('xmlns:'))
      .map(([k, value]) => ({ ...resolve(k, false), value })),
    children: childNodes.filter((c) => !('#text' in c)).map((c) => toElement(c, scope)),
    text: childNodes.map((c) => (typeof c['#text'] === 'string' ? c['#text'] : '')).join(''),
    resolve: (qname) => resolve(qname, true),
  };
}

export function child(el: XmlElement | undefined, ns: string, local: string): XmlElement | undefined {
  return el?.children.find((c) => c.ns === ns && c.local === local);
}

export function attribute(el: XmlElement, ns: string, local: string): string | undefined {
  return el.attributes.find((a) => a.ns === ns && a.local === local)?.value;
}

/** The first element of the SOAP Body, when `root` is a SOAP 1.1 Envelope. */
export function soapBodyContent(root: XmlElement | undefined): XmlElement | undefined {
  if (root?.ns !== SOAP_ENV_NS || root.local !== 'Envelope') return undefined;
  return child(root, SOAP_ENV_NS, 'Body')?.children[0];
}
