import { salesforceNames } from '../settings.ts';
import { OUTBOUND_NS, SOAP_ENV_NS, SOBJECT_NS, XSI_NS, child, escapeXml, parseXml, soapBodyContent } from '../soap.ts';
import { makeId, type OrgStore, type SfRecord } from './store.ts';

/** Fields each outbound message action sends, as configured in the package (app-manifest/salesforce). */
export function outboundFields(namespace: string): Record<string, string[]> {
  const n = salesforceNames(namespace);
  return {
    Opportunity: [
      ...['AccountId', 'Amount', 'CloseDate', 'ContactId', 'IsClosed', 'IsWon', 'LastModifiedDate', 'Name'],
      ...[n.opportunity.referralId, 'StageName', 'SystemModstamp'],
    ],
    Lead: [
      ...['ConvertedAccountId', 'ConvertedContactId', 'ConvertedOpportunityId', 'Email', 'IsConverted'],
      ...['LastModifiedDate', 'Status', 'SystemModstamp'],
    ],
    Contact: ['AccountId', 'Email', 'LastModifiedDate', 'SystemModstamp'],
    Account: ['LastModifiedDate', 'Name', 'SystemModstamp', 'Website'],
  };
}

/** One notifications() call per object's action; the documented maximum is 100 notifications. */
const MAX_NOTIFICATIONS = 100;
const MAX_ATTEMPTS = 10;
const ACTION_PREFIX = '04k';
const NOTIFICATION_PREFIX = '04l';

interface Notification {
  id: string;
  sobject: string;
  recordId: string;
}

interface Message {
  sobject: string;
  notifications: Notification[];
  attempts: number;
  dueAt: number;
}

export interface DeliveredMessage {
  sobject: string;
  notificationIds: string[];
  attempts: number;
  xml: string;
}

export interface OutboundOptions {
  store: OrgStore;
  orgId: string;
  apiVersion: string;
  namespace: string;
  instanceUrl: () => string;
  url: string | undefined;
  retryMs: number;
  batchDelayMs: number;
}

/**
 * Salesforce's outbound messaging queue: notifications are batched per action, sent with the
 * record's data at send time, retried with growing intervals until acknowledged, and can be
 * delivered twice, out of order, or never (faults).
 * https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_notifications.htm
 */
export class OutboundMessenger {
  url: string | undefined;
  readonly delivered: DeliveredMessage[] = [];
  dropped = 0;
  failedAttempts = 0;
  drop = 0;
  duplicate = false;
  reorder = false;
  private pending: Notification[] = [];
  private queue: Message[] = [];
  private sequence = 0;
  private busy = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly fields: Record<string, string[]>;

  constructor(private readonly o: OutboundOptions) {
    this.url = o.url;
    this.fields = outboundFields(o.namespace);
  }

  /** Records created or updated: the package's flows fire one notification each. */
  enqueue(changes: { sobject: string; id: string }[]): void {
    for (const c of changes) {
      if (!this.fields[c.sobject]) continue;
      this.sequence += 1;
      this.pending.push({ id: makeId(NOTIFICATION_PREFIX, this.sequence), sobject: c.sobject, recordId: c.id });
    }
    if (this.pending.length > 0) this.schedule(this.o.batchDelayMs);
  }

  setUrl(url: string): void {
    this.url = url;
    for (const m of this.queue) m.dueAt = Date.now();
    this.schedule(0);
  }

  isIdle(): boolean {
    return this.pending.length === 0 && this.queue.length === 0 && !this.busy;
  }

  pendingCount(): number {
    return this.pending.length + this.queue.reduce((n, m) => n + m.notifications.length, 0);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pump(), Math.max(0, delayMs));
  }

  private batch(): void {
    const bySobject = new Map<string, Notification[]>();
    for (const n of this.pending) bySobject.set(n.sobject, [...(bySobject.get(n.sobject) ?? []), n]);
    this.pending = [];
    const messages: Message[] = [];
    for (const [sobject, list] of bySobject) {
      for (let i = 0; i < list.length; i += MAX_NOTIFICATIONS) {
        messages.push({ sobject, notifications: list.slice(i, i + MAX_NOTIFICATIONS), attempts: 0, dueAt: Date.now() });
      }
    }
    this.queue.push(
      ...(this.reorder ? messages.reverse().map((m) => ({ ...m, notifications: [...m.notifications].reverse() })) : messages),
    );
  }

  private async pump(): Promise<void> {
    if (this.busy || this.closed) return;
    this.busy = true;
    try {
      this.batch();
      for (let next = this.nextDue(); next && this.url; next = this.nextDue()) {
        this.queue.splice(this.queue.indexOf(next), 1);
        await this.deliver(next, this.url);
      }
    } finally {
      this.busy = false;
    }
    const later = this.queue.reduce((min, m) => Math.min(min, m.dueAt), Number.POSITIVE_INFINITY);
    if (this.pending.length > 0) this.schedule(this.o.batchDelayMs);
    else if (Number.isFinite(later) && this.url) this.schedule(later - Date.now());
  }

  private nextDue(): Message | undefined {
    const now = Date.now();
    return this.queue.find((m) => m.dueAt <= now);
  }

  private async deliver(message: Message, url: string): Promise<void> {
    if (this.drop > 0) {
      this.drop -= 1;
      this.dropped += 1;
      return;
    }
    message.attempts += 1;
    const xml = this.messageXml(message);
    if (await this.post(url, xml)) {
      this.delivered.push({
        sobject: message.sobject,
        notificationIds: message.notifications.map((n) => n.id),
        attempts: message.attempts,
        xml,
      });
      if (this.duplicate) await this.post(url, this.messageXml(message));
      return;
    }
    this.failedAttempts += 1;
    // Real intervals grow to 2 h over 24 h; here they are compressed by `retryMs`.
    if (message.attempts < MAX_ATTEMPTS) {
      message.dueAt = Date.now() + Math.min(this.o.retryMs * 2 ** (message.attempts - 1), this.o.retryMs * 64);
      this.queue.push(message);
    } else {
      this.dropped += 1;
    }
  }

  /** Delivered only on HTTP 200 with `<Ack>true</Ack>`; anything else is a failed attempt. */
  private async post(url: string, xml: string): Promise<boolean> {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '""' },
        body: xml,
        signal: AbortSignal.timeout(10_000),
      });
      const response = soapBodyContent(parseXml(await res.text()));
      return (
        res.status === 200 &&
        response?.ns === OUTBOUND_NS &&
        response.local === 'notificationsResponse' &&
        child(response, OUTBOUND_NS, 'Ack')?.text.trim() === 'true'
      );
    } catch {
      return false;
    }
  }

  /** The documented notifications() envelope (samples/outbound-message/*.request.xml). */
  messageXml(message: Message): string {
    const org15 = this.o.orgId.slice(0, 15);
    const base = this.o.instanceUrl();
    const notifications = message.notifications.flatMap((n) => {
      const record = this.o.store.get(n.sobject, n.recordId);
      if (!record) return [];
      return [
        `   <Notification>\n    <Id>${n.id}</Id>\n    <sObject xsi:type="sf:${n.sobject}" xmlns:sf="${SOBJECT_NS}">\n` +
          this.sObjectFields(n.sobject, record) +
          `    </sObject>\n   </Notification>\n`,
      ];
    });
    return (
      `<?xml version="1.0" encoding="UTF-8"?>\n` +
      `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV_NS}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="${XSI_NS}">\n` +
      ` <soapenv:Body>\n` +
      `  <notifications xmlns="${OUTBOUND_NS}">\n` +
      `   <OrganizationId>${this.o.orgId}</OrganizationId>\n` +
      `   <ActionId>${makeId(ACTION_PREFIX, Object.keys(this.fields).indexOf(message.sobject) + 1)}</ActionId>\n` +
      `   <SessionId xsi:nil="true"/>\n` +
      `   <EnterpriseUrl>${escapeXml(`${base}/services/Soap/c/${this.o.apiVersion}/${org15}`)}</EnterpriseUrl>\n` +
      `   <PartnerUrl>${escapeXml(`${base}/services/Soap/u/${this.o.apiVersion}/${org15}`)}</PartnerUrl>\n` +
      notifications.join('') +
      `  </notifications>\n` +
      ` </soapenv:Body>\n` +
      `</soapenv:Envelope>\n`
    );
  }

  /** Id first, then the chosen fields alphabetically; null fields are left out, as in the sample. */
  private sObjectFields(sobject: string, record: SfRecord): string {
    const def = this.o.store.schema.get(sobject);
    const names = ['Id', ...[...(this.fields[sobject] ?? [])].sort()];
    return names
      .filter((name) => record[name] !== null && record[name] !== undefined && def?.fields.has(name))
      .map((name) => {
        const type = def?.fields.get(name)?.type;
        const value = record[name];
        const text =
          typeof value === 'number' && ['currency', 'double', 'percent'].includes(type ?? '') && Number.isInteger(value)
            ? value.toFixed(1)
            : type === 'datetime'
              ? new Date(Date.parse(String(value).replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))).toISOString()
              : String(value);
        return `     <sf:${name}>${escapeXml(text)}</sf:${name}>\n`;
      })
      .join('');
  }
}
