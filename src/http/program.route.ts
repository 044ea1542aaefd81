import { Router, type Request, type Response } from 'express';
import type { Program } from '../domain/program.ts';
import type { UseCaseContext } from '../ports/context.ts';
import { replaceProgram, simulateDraft } from '../use-cases/program-settings.ts';
import { principalOf } from './auth.ts';
import { parseInput } from './errors.ts';
import { resolveInstallation } from './installation-scope.ts';
import { programSchema } from './program.schema.ts';
import { installationQuery, simulateSchema } from './schemas.ts';
import { requestContext } from './request-context.ts';

export function programRouter(ctx: UseCaseContext): Router {
  const router = Router();
  const { store } = ctx;
  const installationOf = (req: Request, res: Response) =>
    resolveInstallation(store, parseInput(installationQuery, req.query, 'query').installationId, principalOf(res));

  router.get('/program', (req, res) => {
    const installation = installationOf(req, res);
    const current = store.programs.current(installation.id)!;
    res.json({ installationId: installation.id, version: current.version, program: current.program, createdAt: current.createdAt, createdBy: current.createdBy });
  });

  router.get('/program/versions', (req, res) => {
    const installation = installationOf(req, res);
    res.json({ items: store.programs.history(installation.id).map(({ version, createdAt, createdBy }) => ({ version, createdAt, createdBy })) });
  });

  router.put('/program', (req, res) => {
    const installation = installationOf(req, res);
    const program = parseInput(programSchema, req.body) as Program;
    const version = replaceProgram(requestContext(ctx, res), installation.id, program, 'admin');
    res.json({ installationId: installation.id, version: version.version, program: version.program, createdAt: version.createdAt });
  });

  /** A draft's cost over the stored deals, before saving it. */
  router.post('/program/simulate', (req, res) => {
    const installation = installationOf(req, res);
    const { months } = parseInput(simulateSchema, req.query, 'query');
    const draft = parseInput(programSchema, req.body) as Program;
    res.json({ installationId: installation.id, months, ...simulateDraft(requestContext(ctx, res), installation.id, draft, months) });
  });

  return router;
}
