import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Signature } from '@hubspot/api-client';
import type { ObjectName } from './defaults.ts';
import { SINGULAR, TYPE_IDS, type Change } from './model.ts';

/**
 * Webhook delivery as https://developers.hubspot.com/docs/api/webhooks describes it:
 * JSON array batches of at most 100 events, signed (v1 and v3), at least once, in any order,
 * each failed notification retried on its own (so batches regroup) up to 10 times with backoff.
 * Times are compressed; faults make the bad days reproducible.
 */

/** One subscription as in webhooks-hsmeta.json: legacy `contact.creation`, or generic `object.*` + objectType. */
export interface Subscription {
  subscriptionType: string;
  objectType?: string;
  propertyName?: string;
}

/** The app's webhook declaration, found from this file in the source tree and in dist/. */
const MANIFEST = 'app-manifest/hubspot/src/app/webhooks/webhooks-hsmeta.json';

/**
 * The subscriptions the app manifest declares, as HubSpot would deliver them once the project is
 * uploaded: the sandbox reads them rather than keeping a copy that could drift.
 */
export function manifestSubscriptions(): Subscription[] {
  const file = ['../../../', '../../../../']
    .map((up) => fileURLToPath(new URL(`${up}${MANIFEST}`, import.meta.url)))
    .find((candidate) => existsSync(candidate));
  if (!file) throw new Error(`the sandbox HubSpot needs ${MANIFEST} for its webhook subscriptions`);
  const { config } = JSON.parse(readFileSync(file, 'utf8')) as {
    config: { subscriptions: Record<'crmObjects' | 'legacyCrmObjects' | 'hubEvents', (Subscription & { active: boolean })[]> };
  };
  const { crmObjects, legacyCrmObjects, hubEvents } = config.subscriptions;
  return [...crmObjects, ...legacyCrmObjects, ...hubEvents]
    .filter((s) => s.active)
    .map(({ subscriptionType, objectType, propertyName }) => ({
      subscriptionType,
      ...(objectType ? { objectType } : {}),
      ...(propertyName ? { propertyName } : {}),
    }));
}

export interface WebhookOptions {
  clientSecret: string;
  appId: number;
  portalId: number;
  subscriptions: Subscription[];
  batchMs: number;
  retryBaseMs: number;
  shuffle: boolean;
}

export interface Delivery {
  at: string;
  url: string;
  /** HTTP status, `error` when no answer came, `dropped` when a fault swallowed the whole batch. */
  status: number | 'error' | 'dropped';
  ok: boolean;
  events: Record<string, unknown>[];
  dropped: number;
}

interface Pending {
  event: Record<string, unknown>;
  readyAt: number;
}

const MAX_BATCH = 100;
const MAX_RETRIES = 10;
const TIMEOUT_MS = 5_000;
const MAX_CONCURRENT = 10;
/** Deliveries kept for inspection; a long-running sandbox forgets older ones. */
const KEPT_DELIVERIES = 1000;

// Decoded before signing, exactly as the receiver must (https://developers.hubspot.com/docs/api/webhooks/validating-requests).
const SIGNED_ESCAPES: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

export class WebhookDispatcher {
  url: string | undefined;
  readonly deliveries: Delivery[] = [];
  readonly faults = { drop: 0, duplicate: false, delayMs: 0, shuffle: false };
  private queue: Pending[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private nextEventId = 2_841_000_000;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly options: WebhookOptions) {
    this.faults.shuffle = options.shuffle;
  }

  /** The notifications one change produces, one per matching subscription. */
  enqueue(change: Change): void {
    const singular = SINGULAR[change.type];
    this.options.subscriptions.forEach((subscription, index) => {
      const [scope, kind] = subscription.subscriptionType.split('.');
      const sameObject = scope === singular || (scope === 'object' && subscription.objectType === singular);
      if (!sameObject || kind !== change.kind) return;
      if (change.kind === 'propertyChange' && subscription.propertyName !== change.propertyName) return;
      const event: Record<string, unknown> = {
        eventId: this.nextEventId++,
        subscriptionId: 3_100_400 + index,
        portalId: this.options.portalId,
        appId: this.options.appId,
        occurredAt: change.occurredAt,
        subscriptionType: subscription.subscriptionType,
        attemptNumber: 0,
        ...(scope === 'object' ? { objectTypeId: TYPE_IDS[change.type] } : {}),
        changeSource: change.source,
        sourceId: change.source === 'API' ? String(this.options.appId) : 'userId:71820451',
        ...this.details(change),
      };
      this.queue.push({ event, readyAt: Date.now() });
    });
    this.schedule(this.options.batchMs);
  }

  private details(change: Change): Record<string, unknown> {
    const upper = (type: ObjectName) => SINGULAR[type].toUpperCase();
    switch (change.kind) {
      case 'creation':
        return { objectId: Number(change.id), changeFlag: 'CREATED' };
      case 'deletion':
        return { objectId: Number(change.id), changeFlag: 'DELETED' };
      case 'propertyChange':
        return { objectId: Number(change.id), propertyName: change.propertyName, propertyValue: change.propertyValue };
      case 'merge':
        return {
          objectId: Number(change.id),
          primaryObjectId: Number(change.id),
          mergedObjectIds: change.mergedIds.map(Number),
          newObjectId: Number(change.id),
          numberOfPropertiesMoved: change.propertiesMoved,
        };
      case 'associationChange':
        return {
          associationType: `${upper(change.type)}_TO_${upper(change.toType)}`,
          fromObjectId: Number(change.id),
          toObjectId: Number(change.toId),
          associationRemoved: change.removed,
          isPrimaryAssociation: change.primary,
        };
    }
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.flush();
      },
      Math.max(0, delayMs),
    );
  }

  private flush(): void {
    if (!this.url) return;
    const now = Date.now();
    while (this.inFlight < MAX_CONCURRENT) {
      const ready = this.queue.filter((p) => p.readyAt <= now).slice(0, MAX_BATCH);
      if (!ready.length) break;
      this.queue = this.queue.filter((p) => !ready.includes(p));
      this.inFlight += 1;
      void this.deliver(this.url, ready).finally(() => {
        this.inFlight -= 1;
        this.flush();
        this.checkIdle();
      });
    }
    const next = this.queue.reduce((soonest, p) => Math.min(soonest, p.readyAt), Number.POSITIVE_INFINITY);
    if (Number.isFinite(next)) this.schedule(next - now);
    this.checkIdle();
  }

  private async deliver(url: string, batch: Pending[]): Promise<void> {
    const dropped = Math.min(this.faults.drop, batch.length);
    this.faults.drop -= dropped;
    const sent = batch.slice(dropped);
    if (this.faults.shuffle) sent.sort(() => Math.random() - 0.5);
    if (!sent.length) {
      this.log({ at: new Date().toISOString(), url, status: 'dropped', ok: false, events: [], dropped });
      return;
    }
    if (this.faults.delayMs) await new Promise((resolve) => setTimeout(resolve, this.faults.delayMs));
    let ok = await this.post(
      url,
      sent.map((p) => p.event),
      dropped,
    );
    if (this.faults.duplicate)
      ok =
        (await this.post(
          url,
          sent.map((p) => p.event),
          0,
        )) && ok;
    if (ok) return;
    for (const pending of sent) {
      const attempt = Number(pending.event.attemptNumber) + 1;
      if (attempt > MAX_RETRIES) continue;
      // Randomised per notification, so one failed batch comes back regrouped.
      const delay = Math.min(this.options.retryBaseMs * 2 ** (attempt - 1), this.options.retryBaseMs * 30) * (0.5 + Math.random());
      this.queue.push({ event: { ...pending.event, attemptNumber: attempt }, readyAt: Date.now() + delay });
    }
  }

  private async post(url: string, events: Record<string, unknown>[], dropped: number): Promise<boolean> {
    const body = JSON.stringify(events);
    const timestamp = Date.now();
    const signedUrl = url.replace(/%[0-9A-Fa-f]{2}/g, (e) => SIGNED_ESCAPES[e.toUpperCase()] ?? e);
    // HubSpot's own signing code, so the receiver is checked against the vendor, not against itself.
    const v3 = Signature.getSignature('POST', 'v3', {
      signature: '',
      clientSecret: this.options.clientSecret,
      requestBody: body,
      url: signedUrl,
      timestamp,
    });
    const v1 = Signature.getSignature('POST', 'v1', { signature: '', clientSecret: this.options.clientSecret, requestBody: body });
    let status: number | 'error' = 'error';
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hubspot-signature-version': 'v1',
          'x-hubspot-signature': v1,
          'x-hubspot-signature-v3': v3,
          'x-hubspot-request-timestamp': String(timestamp),
        },
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      status = response.status;
      await response.arrayBuffer();
    } catch {
      // connection refused, reset or timed out: a failure like any non-2xx
    }
    const ok = typeof status === 'number' && status >= 200 && status < 300;
    this.log({ at: new Date(timestamp).toISOString(), url, status, ok, events, dropped });
    return ok;
  }

  private log(delivery: Delivery): void {
    this.deliveries.push(delivery);
    if (this.deliveries.length > KEPT_DELIVERIES) this.deliveries.splice(0, this.deliveries.length - KEPT_DELIVERIES);
  }

  setUrl(url: string | undefined): void {
    this.url = url;
    this.schedule(0);
  }

  /** Resolves once nothing is queued, waiting for a retry, or in flight. */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  private checkIdle(): void {
    if (this.queue.length || this.inFlight) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.queue = [];
    this.checkIdle();
  }
}
