/**
 * The webhook load generator, run as its own process (`node --import tsx tests/bench/load.ts <spec>`)
 * so it never shares an event loop with the server it measures. Keep-alive, a fixed number of
 * connections each with one request in flight, every request signed (X-HubSpot-Signature-v3)
 * at send time. Prints one JSON line with the results on stdout.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { signV3 } from '../../connectors/hubspot/verify-webhook.ts';
import { syntheticEvent, type HsEvent } from './hubspot-events.ts';
import { percentile } from './util.ts';

export interface LoadSpec {
  /** Where to POST, exactly as the receiver signs it (its PUBLIC_BASE_URL + path). */
  url: string;
  secret: string;
  concurrency: number;
  /** `synthetic`: unique generated events for warmupMs + durationMs; `batches`: each batch of `file` once, in order. */
  mode: 'synthetic' | 'batches';
  eventsPerRequest: number;
  warmupMs: number;
  durationMs: number;
  maxRequests: number;
  portalId: number;
  appId: number;
  idBase: number;
  file?: string;
}

export interface LoadResult {
  requests: number;
  /** Including the warm-up. */
  totalRequests: number;
  events: number;
  errors: number;
  statuses: Record<string, number>;
  elapsedMs: number;
  requestsPerSec: number;
  eventsPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  firstSentAt: number;
  lastAckAt: number;
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
  const target = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency, maxFreeSockets: spec.concurrency });
  const ctx = { portalId: spec.portalId, appId: spec.appId };
  const baseTs = Date.now() - 60_000;
  const batches = spec.mode === 'batches' ? (JSON.parse(readFileSync(spec.file!, 'utf8')) as HsEvent[][]) : [];

  let sequence = 0;
  const nextBatch = (): HsEvent[] | undefined => {
    if (spec.mode === 'batches') return batches[sequence++];
    const events: HsEvent[] = [];
    for (let i = 0; i < spec.eventsPerRequest; i++) events.push(syntheticEvent(ctx, sequence++, spec.idBase, baseTs));
    return events;
  };

  const post = (events: HsEvent[]): Promise<number> =>
    new Promise((resolve) => {
      const body = Buffer.from(JSON.stringify(events));
      const timestamp = String(Date.now());
      const req = request(
        {
          agent,
          method: 'POST',
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          headers: {
            'content-type': 'application/json',
            'content-length': body.length,
            'x-hubspot-signature-v3': signV3(spec.secret, 'POST', spec.url, body, timestamp),
            'x-hubspot-request-timestamp': timestamp,
          },
        },
        (res) => {
          res.resume();
          res.once('end', () => resolve(res.statusCode ?? 0));
          res.once('error', () => resolve(0));
        },
      );
      req.once('error', () => resolve(0));
      req.end(body);
    });

  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let events = 0;
  let errors = 0;
  let totalRequests = 0;
  let measuring = spec.warmupMs <= 0;
  const started = performance.now();
  let measureFrom = started;
  let stopAt = started + spec.warmupMs + spec.durationMs;
  let firstSentAt = 0;
  let lastAckAt = 0;
  if (spec.warmupMs > 0) {
    setTimeout(() => {
      measuring = true;
      measureFrom = performance.now();
      stopAt = measureFrom + spec.durationMs;
    }, spec.warmupMs);
  }

  const connection = async () => {
    for (;;) {
      const now = performance.now();
      if (now >= stopAt || (measuring && latencies.length >= spec.maxRequests)) return;
      const batch = nextBatch();
      if (!batch) return;
      const counted = measuring;
      if (counted && !firstSentAt) firstSentAt = Date.now();
      const t0 = performance.now();
      const status = await post(batch);
      const t1 = performance.now();
      totalRequests += 1;
      if (!counted) continue;
      lastAckAt = Date.now();
      latencies.push(t1 - t0);
      statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
      if (status === 200) events += batch.length;
      else errors += 1;
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, connection));
  const elapsedMs = performance.now() - measureFrom;
  agent.destroy();

  const sorted = Float64Array.from(latencies).sort();
  const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
  const result: LoadResult = {
    requests: latencies.length,
    totalRequests,
    events,
    errors,
    statuses,
    elapsedMs: round(elapsedMs, 1),
    requestsPerSec: round((latencies.length * 1000) / elapsedMs, 1),
    eventsPerSec: round((events * 1000) / elapsedMs, 1),
    latencyMs: {
      p50: round(percentile(sorted, 50)),
      p90: round(percentile(sorted, 90)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted[sorted.length - 1] ?? 0),
      mean: round(mean),
    },
    firstSentAt,
    lastAckAt,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
