import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger } from 'pino';

/** The request or job id of the work in progress; every log line carries it. */
const context = new AsyncLocalStorage<{ requestId?: string; jobId?: string }>();

export function withLogContext<T>(ids: { requestId?: string; jobId?: string }, fn: () => T): T {
  return context.run(ids, fn);
}

/**
 * Structured JSON logs. Tokens, secrets and referee personal data are redacted by key wherever
 * they appear, so a careless `log.info({ referral })` cannot leak them.
 */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const secretKeys = [
    'accessToken', 'refreshToken', 'access_token', 'refresh_token', 'token', 'secret', 'password',
    'clientSecret', 'authorization', 'cookie', 'email', 'firstName', 'lastName', 'phone', 'referee',
  ];
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: undefined,
      redact: { paths: [...secretKeys, ...secretKeys.map((k) => `*.${k}`), 'req.headers.authorization'], censor: '[redacted]' },
      mixin: () => ({ ...context.getStore() }),
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? process.stdout,
  );
}

export type { Logger };
