import { randomUUID } from 'node:crypto';
import { isRecord } from './http.ts';
import { TEN_SECONDLY_BODY } from './rate-limits.ts';
import type { Reply } from './routes.ts';

/** Answers queued by tests, taken by the next requests whose path matches, before any route runs. */
export class InjectedFailures {
  private readonly failures: { status: number; count: number; body: unknown; headers: Record<string, string>; match?: string | RegExp }[] =
    [];

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
    const failure = this.failures.find(
      (f) => f.count > 0 && (f.match === undefined || (typeof f.match === 'string' ? path.includes(f.match) : f.match.test(path))),
    );
    if (!failure) return undefined;
    failure.count -= 1;
    return { status: failure.status, body: failure.body, headers: failure.headers };
  }
}
