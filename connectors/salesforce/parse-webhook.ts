import type { CrmEvent, CrmObjectType, InboundRequest, ParsedWebhook } from '../connector.ts';
import { isSalesforceId, toId18 } from './ids.ts';
import { toIsoInstant } from './map.ts';
import { OUTBOUND_NS, SOBJECT_NS, XSI_NS, attribute, child, parseXml, soapBodyContent, type XmlElement } from './soap.ts';

// A Map: the key is the message's xsi:type, and `sf:constructor` must find nothing.
const OBJECT_TYPES = new Map<string, CrmObjectType>([
  ['Opportunity', 'deal'],
  ['Lead', 'lead'],
  ['Contact', 'contact'],
  ['Account', 'company'],
]);

const MAX_NOTIFICATIONS = 100;

const text = (el: XmlElement | undefined) => el?.text.trim() ?? '';

/** The sObject's fields; an `xsi:nil` field is null. */
function fieldsOf(sObject: XmlElement): Record<string, string | null> {
  // Field names come from the message: no prototype for `__proto__` or `constructor` to hit.
  const fields: Record<string, string | null> = Object.create(null) as Record<string, string | null>;
  for (const f of sObject.children) {
    if (f.ns === SOBJECT_NS) fields[f.local] = attribute(f, XSI_NS, 'nil') === 'true' ? null : f.text;
  }
  return fields;
}

/**
 * One CrmEvent per Notification: a hint that the record changed. The payload is the record at
 * send time, messages can repeat or arrive out of order, so the worker dedupes on the
 * notification Id and re-reads the record.
 * https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_notifications.htm
 */
export function parseOutboundMessage(request: InboundRequest): ParsedWebhook {
  const notifications = soapBodyContent(parseXml(request.rawBody.toString('utf8')));
  if (notifications?.ns !== OUTBOUND_NS || notifications.local !== 'notifications') {
    return { ok: false, reason: 'malformed SOAP: no outbound-message notifications element' };
  }
  const organizationId = text(child(notifications, OUTBOUND_NS, 'OrganizationId'));
  if (!isSalesforceId(organizationId)) return { ok: false, reason: 'malformed SOAP: OrganizationId is not a Salesforce id' };
  const list = notifications.children.filter((c) => c.ns === OUTBOUND_NS && c.local === 'Notification');
  if (list.length === 0 || list.length > MAX_NOTIFICATIONS) {
    return { ok: false, reason: `malformed SOAP: ${list.length} notifications (1 to ${MAX_NOTIFICATIONS} allowed)` };
  }

  const accountId = toId18(organizationId);
  const events: CrmEvent[] = [];
  let ignored = 0;
  for (const notification of list) {
    const notificationId = text(child(notification, OUTBOUND_NS, 'Id'));
    const sObject = child(notification, OUTBOUND_NS, 'sObject');
    const xsiType = sObject && attribute(sObject, XSI_NS, 'type');
    if (!notificationId || !sObject || !xsiType) return { ok: false, reason: 'malformed SOAP: Notification without Id or typed sObject' };
    const type = sObject.resolve(xsiType);
    const fields = fieldsOf(sObject);
    const objectType = type.ns === SOBJECT_NS ? OBJECT_TYPES.get(type.local) : undefined;
    if (!objectType || !fields.Id || !isSalesforceId(fields.Id)) {
      ignored += 1;
      continue;
    }
    const stamp = fields.SystemModstamp ?? fields.LastModifiedDate;
    const event: CrmEvent = {
      accountId,
      eventKey: toId18(notificationId),
      objectType,
      objectId: toId18(fields.Id),
      change: 'updated',
      occurredAt: toIsoInstant(stamp ?? new Date().toISOString()),
    };
    // A converted lead points at the records it became: refresh them with it.
    if (objectType === 'lead' && fields.IsConverted === 'true') {
      event.related = (
        [
          ['contact', fields.ConvertedContactId],
          ['company', fields.ConvertedAccountId],
          ['deal', fields.ConvertedOpportunityId],
        ] as const
      ).flatMap(([t, relatedId]) => (relatedId ? [{ objectType: t, objectId: toId18(relatedId) }] : []));
    }
    events.push(event);
  }
  return { ok: true, events, ignored, accountIds: [accountId] };
}
