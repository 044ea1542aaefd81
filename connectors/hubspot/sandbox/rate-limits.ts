import { randomUUID } from 'node:crypto';
import { HttpError } from './http.ts';
import type { Ctx, Reply } from './routes.ts';

/** HubSpot's documented limits, enforced over arrivals; the answers are its 429 samples' shapes. */
export interface RateLimit {
  points: number;
  durationMs: number;
}

/** What the API was asked, for tests, the benchmark and the soak (injected failures are counted apart). */
export interface SandboxStats {
  apiCalls: number;
  searchCalls: number;
  /** Real 429s: calls over the portal's limits. */
  rateLimitBreaches: number;
  /** Of those, over the search limit. */
  searchRateLimitBreaches: number;
  /** Answers made up by `failAtRandom` (not counted in the calls or the breaches). */
  injectedFaults: number;
}

export class SlidingWindow {
  private hits: number[] = [];
  constructor(readonly limit: RateLimit) {}
  take(now: number): number | null {
    this.hits = this.hits.filter((t) => t > now - this.limit.durationMs);
    if (this.hits.length >= this.limit.points) return null;
    this.hits.push(now);
    return this.limit.points - this.hits.length;
  }
}

export const TEN_SECONDLY_BODY = {
  status: 'error',
  message: 'You have reached your ten_secondly_rolling limit.',
  errorType: 'RATE_LIMIT',
  policyName: 'TEN_SECONDLY_ROLLING',
  // Not in the documented 429 sample, but the spec's Error requires a category.
  category: 'RATE_LIMITS',
};
const SEARCH_SECONDLY_BODY = {
  status: 'error',
  message: 'You have reached your secondly limit.',
  errorType: 'RATE_LIMIT',
  category: 'RATE_LIMITS',
};

/** Wraps a handler in the portal's limits, counting calls and real (not injected) breaches in `stats`. */
export function rateLimited(
  limits: { api: RateLimit; search: RateLimit },
  stats: SandboxStats,
): (ctx: Ctx, handle: (ctx: Ctx) => Reply) => Reply {
  const apiWindow = new SlidingWindow(limits.api);
  const searchWindow = new SlidingWindow(limits.search);

  /** Search has its own per-second limit and no rate-limit headers; everything else shares the ten-secondly window. */
  function limited(ctx: Ctx, handle: (ctx: Ctx) => Reply): Reply {
    const now = Date.now();
    stats.apiCalls += 1;
    if (ctx.path.endsWith('/search')) {
      stats.searchCalls += 1;
      if (searchWindow.take(now) === null) {
        stats.searchRateLimitBreaches += 1;
        return breach({ status: 429, body: { ...SEARCH_SECONDLY_BODY, correlationId: randomUUID(), requestId: randomUUID() } });
      }
      return handle(ctx);
    }
    const remaining = apiWindow.take(now);
    const headers = {
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(apiWindow.limit.durationMs),
      'X-HubSpot-RateLimit-Max': String(apiWindow.limit.points),
      'X-HubSpot-RateLimit-Remaining': String(remaining ?? 0),
    };
    if (remaining === null)
      return breach({ status: 429, headers, body: { ...TEN_SECONDLY_BODY, correlationId: randomUUID(), requestId: randomUUID() } });
    try {
      const reply = handle(ctx);
      return { ...reply, headers: { ...headers, ...reply.headers } };
    } catch (error) {
      if (error instanceof HttpError) throw new HttpError(error.status, error.body, { ...headers, ...error.headers });
      throw error;
    }
  }

  /** A real (not injected) rate-limit answer: what a client that obeys the limits never sees. */
  function breach(reply: Reply): Reply {
    stats.rateLimitBreaches += 1;
    return reply;
  }

  return limited;
}
