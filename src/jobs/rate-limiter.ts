import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { RateLimit, RateLimiter } from '../../connectors/connector.ts';

/*
 * Why not rate-limiter-flexible: its limiters (memory, Redis, and RateLimiterQueue on top) count
 * in fixed windows that open at the first call, so the end of one window and the start of the
 * next can together pass 2x the limit within one CRM window. A CRM counts in sliding windows, so
 * both limiters here keep a sliding log: a call is admitted only when fewer than `points` calls
 * were admitted in the last `durationMs`, which bounds every window of that length, however aligned.
 */

/** For one process: per-bucket log of admission times on the monotonic clock. */
export function createMemoryRateLimiter(): RateLimiter {
  const buckets = new Map<string, { log: number[]; holdUntil: number }>();
  const bucketOf = (name: string) => {
    let bucket = buckets.get(name);
    if (!bucket) buckets.set(name, (bucket = { log: [], holdUntil: 0 }));
    return bucket;
  };

  return {
    async take(name, { points, durationMs }: RateLimit) {
      const bucket = bucketOf(name);
      for (;;) {
        const now = performance.now();
        while (bucket.log.length > 0 && bucket.log[0]! <= now - durationMs) bucket.log.shift();
        // The admission whose expiry frees a slot: `points` back from the newest.
        const edge = bucket.log[bucket.log.length - points];
        const waitMs = Math.max(bucket.holdUntil - now, edge === undefined ? 0 : edge + durationMs - now);
        if (waitMs <= 0) {
          bucket.log.push(now);
          return;
        }
        await sleep(Math.ceil(waitMs));
      }
    },
    async holdOff(name, ms) {
      const bucket = bucketOf(name);
      bucket.holdUntil = Math.max(bucket.holdUntil, performance.now() + ms);
    },
  };
}

// Times are Redis server microseconds (one clock for every worker; whole milliseconds would let
// rounding squeeze a window by up to 1 ms). Returns 0 when admitted, else microseconds to wait.
//
// A Redis that restarted (or failed over) lost the log, while the CRM still counts the calls of
// its last window: a full window admitted at once would pass the CRM's limit. So the log is
// trusted only from when this Redis started (KEYS[3], taken from its uptime the first time a
// bucket is seen), and nothing is admitted until one window after it. Redis counts uptime as
// whole seconds of the clock between its start and now, so it reads 1 s a moment after a start
// late in a second: one second less is never earlier than the real start. A Redis up for longer
// than a window and a second costs nothing.
const takeScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local points, window = tonumber(ARGV[1]), tonumber(ARGV[2]) * 1000
local since = tonumber(redis.call('GET', KEYS[3]))
if not since then
  local uptime = tonumber(string.match(redis.call('INFO', 'server'), 'uptime_in_seconds:(%d+)'))
  since = now - math.max(uptime - 1, 0) * 1000000
  redis.call('SET', KEYS[3], since, 'PX', 86400000)
end
if now < since + window then return since + window - now end
local hold = redis.call('PTTL', KEYS[2])
if hold > 0 then return hold * 1000 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
if used < points then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 0
end
local edge = redis.call('ZRANGE', KEYS[1], used - points, used - points, 'WITHSCORES')
return tonumber(edge[2]) + window - now
`;

// Never shortens a longer hold already in place.
const holdScript = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
`;

/** Shared by every process on the same Redis and `keyPrefix`: a sorted-set log per bucket. */
export function createRedisRateLimiter(redis: Redis, keyPrefix: string): RateLimiter {
  // The hash tag keeps a bucket's keys in one slot, as a script on Redis Cluster needs.
  const keys = (bucket: string) =>
    [`${keyPrefix}:{${bucket}}:log`, `${keyPrefix}:{${bucket}}:hold`, `${keyPrefix}:{${bucket}}:since`] as const;

  return {
    async take(bucket, { points, durationMs }: RateLimit) {
      const [log, hold, since] = keys(bucket);
      const member = randomUUID();
      for (;;) {
        const waitUs = Number(await redis.eval(takeScript, 3, log, hold, since, points, Math.ceil(durationMs), member));
        if (waitUs <= 0) return;
        await sleep(Math.ceil(waitUs / 1000));
      }
    },
    async holdOff(bucket, ms) {
      if (ms <= 0) return;
      await redis.eval(holdScript, 1, keys(bucket)[1], Math.ceil(ms));
    },
  };
}
