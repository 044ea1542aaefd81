import { pino, type Logger } from 'pino';

/**
 * Structured JSON logs. Tokens, secrets and referee personal data are redacted by key wherever
 * they appear, so a careless `log.info({ referral })` cannot leak them.
 *
 * A request or a job logs through a child logger that carries its id (`requestId`, `jobId`),
 * handed down in its UseCaseContext. Not AsyncLocalStorage: on Node 20 it turns on async hooks
 * for the whole process, which cost every webhook request a third of a millisecond.
 */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const secretKeys = [
    'accessToken',
    'refreshToken',
    'access_token',
    'refresh_token',
    'token',
    'secret',
    'password',
    'clientSecret',
    'authorization',
    'cookie',
    'email',
    'firstName',
    'lastName',
    'phone',
    'referee',
  ];
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: undefined,
      redact: { paths: [...secretKeys, ...secretKeys.map((k) => `*.${k}`), 'req.headers.authorization'], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? process.stdout,
  );
}

export type { Logger };
