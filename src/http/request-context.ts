import type { Response } from 'express';
import type { Logger } from '../log.ts';
import type { UseCaseContext } from '../use-cases/context.ts';

/** The request's logger, which carries its request id (set by the app's first middleware). */
export function requestLog(ctx: UseCaseContext, res: Response): Logger {
  return (res.locals.log as Logger | undefined) ?? ctx.log;
}

/** The use-case context of one request: what it logs carries the request id. */
export function requestContext(ctx: UseCaseContext, res: Response): UseCaseContext {
  return { ...ctx, log: requestLog(ctx, res) };
}
