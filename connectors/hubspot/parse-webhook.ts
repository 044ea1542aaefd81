import { hash } from 'node:crypto';
import type { CrmChange, CrmEvent, CrmObjectType, ParsedWebhook } from '../connector.ts';

/**
 * HubSpot webhook batches → CrmEvent hints.
 * https://developers.hubspot.com/docs/api/webhooks: a JSON array of at most 100 events,
 * delivered at least once and in any order; `eventId` is not unique.
 */

const MAX_EVENTS_PER_BATCH = 100;

/**
 * HubSpot's events are flat objects holding at most an array of ids, and a property value is at
 * most 65,536 characters. Anything nested deeper or longer is refused before it is hashed.
 */
const MAX_EVENT_DEPTH = 4;
const MAX_EVENT_VALUES = 1_000;
const MAX_STRING_LENGTH = 65_536;
/** Ids and portal ids are stored and indexed; HubSpot's are numbers far shorter than this. */
const MAX_ID_LENGTH = 64;

// Maps, not object literals: the keys come from the request, and `constructor` or `__proto__`
// must find nothing rather than Object.prototype's members.
const OBJECT_NAMES = new Map<string, CrmObjectType>([
  ['contact', 'contact'],
  ['company', 'company'],
  ['deal', 'deal'],
]);
const OBJECT_TYPE_IDS = new Map<string, CrmObjectType>([
  ['0-1', 'contact'],
  ['0-2', 'company'],
  ['0-3', 'deal'],
]);

const CHANGES = new Map<string, CrmChange>([
  ['creation', 'created'],
  ['propertyChange', 'updated'],
  ['deletion', 'deleted'],
  ['privacyDeletion', 'deleted'],
  ['merge', 'merged'],
  ['restore', 'restored'],
  ['associationChange', 'associated'],
]);

type HsEvent = Record<string, unknown>;
type Ref = { objectType: CrmObjectType; objectId: string };

function id(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  return typeof value === 'string' && value !== '' && value.length <= MAX_ID_LENGTH ? value : undefined;
}

/**
 * Why an event is too deep or too large to hash and store, if it is. Walked level by level
 * without recursion, so a value nested 50,000 levels deep costs four steps, not our stack.
 */
function shapeProblem(event: HsEvent): string | undefined {
  let values = 0;
  let level: object[] = [event];
  for (let depth = 1; level.length > 0; depth++) {
    const next: object[] = [];
    for (const container of level) {
      for (const key in container) {
        const value = (container as Record<string, unknown>)[key];
        if (++values > MAX_EVENT_VALUES) return `has more than ${MAX_EVENT_VALUES} values`;
        if (typeof value === 'string') {
          if (value.length > MAX_STRING_LENGTH) return `has a value longer than ${MAX_STRING_LENGTH} characters`;
        } else if (typeof value === 'object' && value !== null) {
          if (depth + 1 >= MAX_EVENT_DEPTH) return `nests deeper than ${MAX_EVENT_DEPTH} levels`;
          next.push(value);
        }
      }
    }
    level = next;
  }
  return undefined;
}

/** CONTACT_TO_DEAL → ['contact', 'deal']; also the generic event's fromObjectTypeId/toObjectTypeId. */
function associationSides(event: HsEvent): [CrmObjectType | undefined, CrmObjectType | undefined] {
  const fromId = OBJECT_TYPE_IDS.get(String(event.fromObjectTypeId));
  const toId = OBJECT_TYPE_IDS.get(String(event.toObjectTypeId));
  if (fromId || toId) return [fromId, toId];
  const match = /^(.+)_TO_(.+)$/.exec(String(event.associationType ?? ''));
  const word = (w: string | undefined) =>
    (['CONTACT', 'COMPANY', 'DEAL'] as const).find((name) => w?.includes(name))?.toLowerCase() as CrmObjectType | undefined;
  return [word(match?.[1]), word(match?.[2])];
}

function objectOf(event: HsEvent, objectName: string): CrmObjectType | undefined {
  return objectName === 'object' ? OBJECT_TYPE_IDS.get(String(event.objectTypeId)) : OBJECT_NAMES.get(objectName);
}

/**
 * The event's full identity; retries of one notification share it, distinct changes do not. It
 * starts with the time of the change, so the inbox's unique index grows at its end (events arrive
 * roughly in time order) instead of touching a random page of it for every event.
 */
function eventKey(event: HsEvent, type: string): string {
  const identity = [
    event.portalId,
    type,
    event.objectId,
    event.propertyName,
    event.propertyValue,
    event.occurredAt,
    event.fromObjectId,
    event.toObjectId,
    event.associationType ?? event.associationTypeId,
    event.associationRemoved,
    event.primaryObjectId,
    event.mergedObjectIds,
  ];
  const digest = hash('sha256', JSON.stringify(identity), 'base64url').slice(0, 22);
  return `${String(event.occurredAt)}:${type}:${id(event.objectId) ?? id(event.fromObjectId) ?? ''}:${digest}`;
}

/** A number of milliseconds a Date can hold (±100,000,000 days around 1970). */
function isEpochMs(value: unknown): value is number {
  return typeof value === 'number' && Math.abs(value) <= 8.64e15;
}

/**
 * `occurredAt` (epoch ms) as an ISO instant. Date#toISOString cost more than the rest of an
 * event's parsing; a burst's events share their second, so its formatted prefix is reused.
 */
let cachedSecond = Number.NaN;
let cachedPrefix = '';
function isoInstant(epochMs: number): string {
  const ms = Math.trunc(epochMs); // as Date does
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, -4); // without "000Z"
  }
  const millis = ms - second * 1000;
  return `${cachedPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}

function toEvent(event: HsEvent, type: string): CrmEvent | null {
  const dot = type.indexOf('.');
  const objectName = dot < 0 ? '' : type.slice(0, dot);
  const action = dot < 0 ? '' : type.slice(dot + 1);
  const change = CHANGES.get(action);
  if (!change || (objectName !== 'object' && !OBJECT_NAMES.has(objectName))) return null;
  // Object literals, not spreads of a shared base: V8 builds a spread object property by property,
  // which made parsing cost more than storing.
  const accountId = String(event.portalId);
  const occurredAt = isoInstant(event.occurredAt as number);

  if (action === 'associationChange') {
    const [fromType, toType] = associationSides(event);
    const sides: Ref[] = [];
    const from = id(event.fromObjectId);
    const to = id(event.toObjectId);
    if (fromType && from) sides.push({ objectType: fromType, objectId: from });
    if (toType && to) sides.push({ objectType: toType, objectId: to });
    // Both sides must be records Referloop follows (a contact↔ticket link changes nothing here).
    const [subject, other] = sides;
    if (!subject || !other) return null;
    return {
      accountId,
      eventKey: eventKey(event, type),
      change,
      occurredAt,
      objectType: subject.objectType,
      objectId: subject.objectId,
      related: [other],
    };
  }

  const objectType = objectOf(event, objectName);
  const objectId = id(event.objectId);
  if (!objectType || !objectId) return null;
  const related =
    action === 'merge'
      ? [
          ...new Set([
            id(event.newObjectId) ?? id(event.primaryObjectId),
            ...(Array.isArray(event.mergedObjectIds) ? event.mergedObjectIds.map(id) : []),
          ]),
        ]
          .filter((other): other is string => other !== undefined && other !== objectId)
          .map((other) => ({ objectType, objectId: other }))
      : [];
  return {
    accountId,
    eventKey: eventKey(event, type),
    change,
    occurredAt,
    objectType,
    objectId,
    related: related.length ? related : undefined,
    property: action === 'propertyChange' && typeof event.propertyName === 'string' ? event.propertyName : undefined,
  };
}

/**
 * `appId`, when given, drops events of other apps that share the target URL (they are counted as
 * ignored, like event kinds Referloop does not follow).
 */
export function parseHubSpotWebhook(rawBody: Buffer, opts: { appId?: string } = {}): ParsedWebhook {
  let batch: unknown;
  try {
    batch = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { ok: false, reason: 'body is not valid JSON' };
  }
  if (!Array.isArray(batch)) return { ok: false, reason: 'body must be a JSON array of HubSpot events' };
  if (batch.length > MAX_EVENTS_PER_BATCH)
    return { ok: false, reason: `batch has ${batch.length} events; HubSpot sends at most ${MAX_EVENTS_PER_BATCH}` };

  const events: CrmEvent[] = [];
  const accountIds = new Set<string>();
  let ignored = 0;
  for (let index = 0; index < batch.length; index++) {
    const item: unknown = batch[index];
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return { ok: false, reason: `event ${index} is not an object` };
    const event = item as HsEvent;
    // One docs version names the field eventType; real deliveries use subscriptionType.
    const type = event.subscriptionType ?? event.eventType;
    if (typeof type !== 'string' || id(event.portalId) === undefined || !isEpochMs(event.occurredAt)) {
      return { ok: false, reason: `event ${index} lacks subscriptionType, portalId or occurredAt` };
    }
    const problem = shapeProblem(event);
    if (problem) return { ok: false, reason: `event ${index} ${problem}` };
    accountIds.add(String(event.portalId));
    const parsed = opts.appId !== undefined && id(event.appId) !== opts.appId ? null : toEvent(event, type);
    if (parsed) events.push(parsed);
    else ignored += 1;
  }
  return { ok: true, events, ignored, accountIds: [...accountIds] };
}
