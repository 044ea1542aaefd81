/**
 * HubSpot webhook events as the portal sends them (the sandbox dispatcher's shape:
 * connectors/hubspot/sandbox/webhooks.ts), built deterministically for the benchmark.
 */

export type HsEvent = Record<string, unknown>;

export interface EventContext {
  portalId: number;
  appId: number;
}

let nextEventId = 7_100_000_000;

function base(ctx: EventContext, subscriptionType: string, occurredAt: number, subscriptionId: number): HsEvent {
  return {
    eventId: nextEventId++,
    subscriptionId,
    portalId: ctx.portalId,
    appId: ctx.appId,
    occurredAt,
    subscriptionType,
    attemptNumber: 0,
    changeSource: 'CRM_UI',
    sourceId: 'userId:71820451',
  };
}

export const creation = (ctx: EventContext, type: 'deal' | 'contact' | 'company', objectId: number, at: number): HsEvent => ({
  ...base(ctx, `${type}.creation`, at, 3_100_400),
  objectId,
  changeFlag: 'CREATED',
});

export const propertyChange = (
  ctx: EventContext,
  type: 'deal' | 'contact' | 'company',
  objectId: number,
  propertyName: string,
  propertyValue: string,
  at: number,
): HsEvent => ({
  ...base(ctx, `${type}.propertyChange`, at, 3_100_410),
  objectId,
  propertyName,
  propertyValue,
});

export const associationChange = (
  ctx: EventContext,
  from: 'deal' | 'contact',
  fromId: number,
  to: 'deal' | 'contact',
  toId: number,
  at: number,
): HsEvent => ({
  ...base(ctx, `${from}.associationChange`, at, 3_100_420),
  associationType: `${from.toUpperCase()}_TO_${to.toUpperCase()}`,
  fromObjectId: fromId,
  toObjectId: toId,
  associationRemoved: false,
  isPrimaryAssociation: false,
});

/**
 * Phase 1's traffic: event `n` of an endless, realistic mix (half deal changes, the rest contact,
 * company and association changes), every one about its own record at its own millisecond, so
 * nothing dedupes away.
 */
export function syntheticEvent(ctx: EventContext, n: number, idBase: number, baseTs: number): HsEvent {
  const id = idBase + n;
  const at = baseTs + n;
  switch (n % 10) {
    case 0:
      return creation(ctx, 'deal', id, at);
    case 1:
      return propertyChange(ctx, 'deal', id, 'dealstage', 'qualifiedtobuy', at);
    case 2:
      return propertyChange(ctx, 'deal', id, 'amount', '25000', at);
    case 3:
      return propertyChange(ctx, 'deal', id, 'dealstage', 'presentationscheduled', at);
    case 4:
      return propertyChange(ctx, 'deal', id, 'closedate', '1774958400000', at);
    case 5:
      return creation(ctx, 'contact', id, at);
    case 6:
      return propertyChange(ctx, 'contact', id, 'lifecyclestage', 'opportunity', at);
    case 7:
      return propertyChange(ctx, 'company', id, 'name', `Company ${id}`, at);
    case 8:
      return associationChange(ctx, 'deal', id, 'contact', id + 1, at);
    default:
      return propertyChange(ctx, 'deal', id, 'dealstage', 'closedwon', at);
  }
}

/**
 * What HubSpot sends when a rep creates a deal on a referred contact and works it to closed won:
 * creation with its subscribed properties, the association (both sides), then stage changes.
 * Ten events per deal. `at` is filled in by the caller (arrival order).
 */
export function dealLifecycle(ctx: EventContext, dealId: number, contactId: number): ((at: number) => HsEvent)[] {
  return [
    (at) => creation(ctx, 'deal', dealId, at),
    (at) => propertyChange(ctx, 'deal', dealId, 'pipeline', 'default', at),
    (at) => propertyChange(ctx, 'deal', dealId, 'dealstage', 'appointmentscheduled', at),
    (at) => propertyChange(ctx, 'deal', dealId, 'amount', '25000', at),
    (at) => associationChange(ctx, 'deal', dealId, 'contact', contactId, at),
    (at) => associationChange(ctx, 'contact', contactId, 'deal', dealId, at),
    (at) => propertyChange(ctx, 'deal', dealId, 'dealstage', 'qualifiedtobuy', at),
    (at) => propertyChange(ctx, 'deal', dealId, 'dealstage', 'presentationscheduled', at),
    (at) => propertyChange(ctx, 'deal', dealId, 'closedate', '1774958400000', at),
    (at) => propertyChange(ctx, 'deal', dealId, 'dealstage', 'closedwon', at),
  ];
}

/** mulberry32: a small seeded PRNG, so every run sends the same order. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Order = 'interleaved' | 'grouped' | 'waves';

/**
 * Arrival order of per-record sequences, each sequence's own order kept:
 * - `interleaved`: a uniformly random merge (many reps working many deals at once) — the default;
 * - `grouped`: one record's events after the other's (the friendliest case for coalescing);
 * - `waves`: every record's 1st event, then every 2nd, … (a bulk import then bulk updates).
 */
export function arrange<T>(sequences: T[][], order: Order, seed: number): T[] {
  if (order === 'grouped') return sequences.flat();
  if (order === 'waves') {
    const out: T[] = [];
    const longest = Math.max(0, ...sequences.map((s) => s.length));
    for (let i = 0; i < longest; i++) for (const s of sequences) if (i < s.length) out.push(s[i]!);
    return out;
  }
  const random = prng(seed);
  // Pick the next sequence with probability proportional to what it has left: a uniform merge.
  const slots: number[] = sequences.flatMap((s, i) => s.map(() => i));
  for (let i = slots.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [slots[i], slots[j]] = [slots[j]!, slots[i]!];
  }
  const cursor = sequences.map(() => 0);
  return slots.map((i) => sequences[i]![cursor[i]!++]!);
}
