import { randomUUID } from 'node:crypto';
import { isRecord } from './http.ts';
import { type SandboxStats, TEN_SECONDLY_BODY } from './rate-limits.ts';
import type { Reply } from './routes.ts';

/** Marks an answer the sandbox made up, so a count of real rate-limit answers can leave it out. */
export const INJECTED_FAULT_HEADER = 'x-sandbox-injected-fault';

/**
 * Answers queued by tests, taken by the next requests whose path matches, before any route runs;
 * and, for soaks, a share of all API calls failed at random as a busy portal fails them.
 */
export class InjectedFailures {
  private readonly failures: { status: number; count: number; body: unknown; headers: Record<string, string>; match?: string | RegExp }[] =
    [];
  private randomShare = 0;

  constructor(
    private readonly stats: Pick<SandboxStats, 'injectedFaults'>,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * From now on, `share` of the API calls (OAuth aside) are answered with a 429 (half of them,
   * the ten-secondly shape with Retry-After: 1) or a 500, 502 or 503, labelled with
   * `INJECTED_FAULT_HEADER`; 0 stops it.
   */
  failAtRandom(share: number) {
    if (!(share >= 0 && share <= 1)) throw new RangeError(`failAtRandom takes a share from 0 to 1, not ${share}`);
    this.randomShare = share;
  }

  /**
   * The next `count` requests (whose path contains / matches `match`) get this answer. `body`
   * may be a plain body or a sample file shaped `{_http: {headers}, body}`.
   */
  failNext(status: number, count = 1, body?: unknown, match?: string | RegExp) {
    const sample = isRecord(body) && isRecord(body._http) ? body : undefined;
    const headers =
      sample && isRecord(sample._http) && isRecord(sample._http.headers) ? (sample._http.headers as Record<string, string>) : {};
    const fallback = status === 429 ? TEN_SECONDLY_BODY : { status: 'error', message: `injected ${status}` };
    // HubSpot's error schema requires a category; documented samples sometimes leave it out.
    const category = status === 429 ? 'RATE_LIMITS' : status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_ERROR';
    this.failures.push({
      status,
      count,
      headers,
      match,
      body: { correlationId: randomUUID(), category, ...(((sample ? sample.body : body) ?? fallback) as object) },
    });
  }

  take(path: string): Reply | undefined {
    return this.takeQueued(path) ?? this.takeRandom(path);
  }

  private takeRandom(path: string): Reply | undefined {
    if (this.randomShare === 0 || path.startsWith('/oauth/') || this.random() >= this.randomShare) return undefined;
    this.stats.injectedFaults += 1;
    const labels = { [INJECTED_FAULT_HEADER]: '1' };
    if (this.random() < 0.5)
      return { status: 429, headers: { ...labels, 'Retry-After': '1' }, body: { ...TEN_SECONDLY_BODY, correlationId: randomUUID() } };
    const status = [500, 502, 503][Math.floor(this.random() * 3)]!;
    return {
      status,
      headers: labels,
      body: { status: 'error', message: `injected ${status}`, correlationId: randomUUID(), category: 'INTERNAL_ERROR' },
    };
  }

  private takeQueued(path: string): Reply | undefined {
    const failure = this.failures.find(
      (f) => f.count > 0 && (f.match === undefined || (typeof f.match === 'string' ? path.includes(f.match) : f.match.test(path))),
    );
    if (!failure) return undefined;
    failure.count -= 1;
    return { status: failure.status, body: failure.body, headers: failure.headers };
  }
}
