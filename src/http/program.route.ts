import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { decimalToMinorUnits } from '../domain/money.ts';
import type { Program } from '../domain/program.ts';
import { programChanges } from '../domain/program-changes.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { ProgramRow, ProgramVersion } from '../store/programs.repo.ts';
import { saveProgram, simulateDraft } from '../use-cases/program-settings.ts';
import { scheduleReevaluation } from '../use-cases/reevaluate-accounts.ts';
import { actorOf, principalOf } from './auth.ts';
import { ApiError, parseInput } from './errors.ts';
import { installationIds, requestedInstallationId, resolveInstallation, visibleTo } from './installation-scope.ts';
import { programSchema } from './program.schema.ts';
import { simulateSchema } from './schemas.ts';
import { requestContext } from './request-context.ts';

/**
 * What GET answers is what PUT takes: `program` is the settings; the other fields say which
 * program and version were read. They may be sent back as they were, and are checked if sent:
 * `version` is the version the change was made on, so a change made on an older one is refused
 * rather than silently undoing what came after.
 */
const programDocumentSchema = z.strictObject({
  id: z.string().optional(),
  installationId: z.string().optional(),
  isDefault: z.boolean().optional(),
  version: z.int().positive().optional(),
  createdAt: z.string().optional(),
  createdBy: z.string().optional(),
  program: programSchema,
});

const versionParam = z.coerce.number({ error: 'expected a version number' }).int().positive();

function programDocument(program: ProgramRow, version: ProgramVersion) {
  return {
    id: program.id,
    installationId: program.installationId,
    isDefault: program.isDefault,
    version: version.version,
    createdAt: version.createdAt,
    createdBy: version.createdBy,
    program: version.program,
  };
}

/**
 * `/programs/:id` and its versions; `/program` is the same for the installation's default program
 * (named by `installationId` when several installations are connected).
 */
export function programRouter(ctx: UseCaseContext): Router {
  const router = Router();
  const { store } = ctx;

  const programOf = async (req: Request, res: Response): Promise<ProgramRow> => {
    const id = req.params.id as string | undefined;
    if (id === undefined) {
      const installation = await resolveInstallation(store, requestedInstallationId(req.query), principalOf(res));
      return (await store.programs.defaultProgram(installation.id))!;
    }
    const program = await store.programs.get(id);
    if (!program || !visibleTo(principalOf(res), program)) throw new ApiError('not_found', `No program ${id}.`);
    return program;
  };

  router.get('/programs', async (req, res) => {
    const ids = await installationIds(store, requestedInstallationId(req.query), principalOf(res));
    const items = [];
    for (const installationId of ids)
      for (const program of await store.programs.list(installationId)) {
        const { program: _settings, ...summary } = programDocument(program, (await store.programs.current(program.id))!);
        items.push(summary);
      }
    res.json({ items });
  });

  for (const base of ['/program', '/programs/:id']) {
    router.get(base, async (req, res) => {
      const program = await programOf(req, res);
      res.json(programDocument(program, (await store.programs.current(program.id))!));
    });

    router.put(base, async (req, res) => {
      const program = await programOf(req, res);
      const document = parseInput(programDocumentSchema, req.body);
      const mismatch = (['id', 'installationId', 'isDefault'] as const).find(
        (field) => document[field] !== undefined && document[field] !== program[field],
      );
      if (mismatch) {
        throw new ApiError(
          'invalid_input',
          `${mismatch} is ${JSON.stringify(document[mismatch])} but this program's is ${JSON.stringify(program[mismatch])}; it cannot be changed.`,
          {
            issues: [{ field: mismatch, message: 'read-only' }],
          },
        );
      }
      const result = await saveProgram(
        requestContext(ctx, res),
        program,
        document.program as Program,
        actorOf(principalOf(res)),
        document.version,
      );
      // The default program's rules decide every account's eligibility.
      if (result.outcome === 'saved' && program.isDefault) await scheduleReevaluation(requestContext(ctx, res), program.installationId);
      if (result.outcome === 'stale') {
        throw new ApiError(
          'conflict',
          `This change was made on version ${document.version}, but the program is at version ${result.version.version} now: read it again and reapply the change.`,
          {
            currentVersion: result.version.version,
          },
        );
      }
      res.json({
        ...programDocument(program, result.version),
        changed: result.outcome === 'saved',
        ...(result.outcome === 'unchanged'
          ? { message: `Nothing changed: version ${result.version.version} already has these settings.` }
          : {}),
      });
    });

    router.get(`${base}/versions`, async (req, res) => {
      const program = await programOf(req, res);
      // Newest first: each version's changes are from the one after it in the list.
      const history = await store.programs.history(program.id);
      res.json({
        items: history.map(({ version, createdAt, createdBy, program: settings }, i) => {
          const previous = history[i + 1];
          return { version, createdAt, createdBy, changes: previous ? programChanges(previous.program, settings) : [] };
        }),
      });
    });

    router.get(`${base}/versions/:version`, async (req, res) => {
      const program = await programOf(req, res);
      const number = parseInput(versionParam, req.params.version, 'version');
      const version = await store.programs.version(program.id, number);
      if (!version) throw new ApiError('not_found', `Program ${program.id} has no version ${number}.`);
      res.json(programDocument(program, version));
    });

    /** A draft's cost over the stored deals, and on a sample deal (`sampleAmount`), before saving it. */
    router.post(`${base}/simulate`, async (req, res) => {
      const program = await programOf(req, res);
      const { months, sampleAmount, sampleReferrerType } = parseInput(simulateSchema, req.query, 'query');
      const draft = parseInput(programSchema, req.body) as Program;
      const sample = sampleAmount
        ? { amountCents: decimalToMinorUnits(sampleAmount, draft.currency), referrerType: sampleReferrerType }
        : undefined;
      res.json({
        installationId: program.installationId,
        programId: program.id,
        months,
        ...(await simulateDraft(requestContext(ctx, res), program, draft, months, sample)),
      });
    });
  }

  return router;
}
