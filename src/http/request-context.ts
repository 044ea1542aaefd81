import type { Response } from 'express';
import type { Logger } from '../log.ts';
import type { UseCaseContext } from '../ports/context.ts';

/** The request's logger, which carries its request id (set by the app's first middleware). */
export function requestLog(ctx: UseCaseContext, res: Response): Logger {
  const requestId = res.locals.requestId as string | undefined;
  if (!requestId) return ctx.log;
  return (res.locals.log ??= ctx.log.child({ requestId })) as Logger;
}

/** The use-case context of one request: what it logs carries the request id. */
export function requestContext(ctx: UseCaseContext, res: Response): UseCaseContext {
  return {
    ...ctx,
    get log() {
      return requestLog(ctx, res);
    },
  };
}
