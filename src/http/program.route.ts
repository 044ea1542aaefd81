import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { decimalToMinorUnits } from '../domain/money.ts';
import type { Program } from '../domain/program.ts';
import { programChanges } from '../domain/program-changes.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { ProgramRow, ProgramVersion } from '../store/programs.repo.ts';
import {
  addToProgram,
  createProgram,
  NEW_PROGRAM_SOURCES,
  removeFromProgram,
  saveProgram,
  simulateDraft,
} from '../use-cases/program-settings.ts';
import { scheduleReevaluation } from '../use-cases/reevaluate-accounts.ts';
import { actorOf, principalOf } from './auth.ts';
import { ApiError, parseInput } from './errors.ts';
import {
  installationIds,
  requestedInstallationId,
  resolveInstallation,
  resolveProgram,
  visibleOr404,
  visibleTo,
} from './installation-scope.ts';
import { programSchema } from './program.schema.ts';
import { simulateSchema } from './schemas.ts';
import { requestContext } from './request-context.ts';
import { referrerView } from './views.ts';

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

const programName = z.string().trim().min(1, 'give the program a name').max(200);
/** `?programId=` on the `/program` routes: that program of the installation instead of its default. */
const programQuery = z.object({ programId: z.string().trim().min(1).max(100).optional() });
const newProgramSchema = z.strictObject({
  name: programName,
  /** Version 1 copies the default program's current settings, or starts from a fresh install's. */
  from: z.enum(NEW_PROGRAM_SOURCES, { error: `expected one of ${NEW_PROGRAM_SOURCES.join(', ')}` }).default('default'),
});
const renameSchema = z.strictObject({ name: programName });

/** A program in a listing: which it is, its name and current version, without its settings. */
function programSummary(program: ProgramRow, version: ProgramVersion) {
  const { program: settings, ...summary } = programDocument(program, version);
  return { ...summary, name: settings.name };
}

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
 * An installation's programs side by side: `/installations/:id/programs` lists and creates them;
 * `/programs/:id` and its versions read and change one; `/program` is the same for the
 * installation's default program, or the one `?programId=` names (the installation by
 * `installationId` when several are connected).
 */
export function programRouter(ctx: UseCaseContext): Router {
  const router = Router();
  const { store } = ctx;

  const programOf = async (req: Request, res: Response): Promise<ProgramRow> => {
    const id = req.params.id as string | undefined;
    if (id === undefined) {
      const installation = await resolveInstallation(store, requestedInstallationId(req.query), principalOf(res));
      return await resolveProgram(store, installation, parseInput(programQuery, req.query, 'query').programId);
    }
    const program = await store.programs.get(id);
    if (!program || !visibleTo(principalOf(res), program)) throw new ApiError('not_found', `No program ${id}.`);
    return program;
  };

  router.get('/programs', async (req, res) => {
    const ids = await installationIds(store, requestedInstallationId(req.query), principalOf(res));
    const items = [];
    for (const installationId of ids)
      for (const program of await store.programs.list(installationId))
        items.push(programSummary(program, (await store.programs.current(program.id))!));
    res.json({ items });
  });

  router.get('/installations/:id/programs', async (req, res) => {
    const installation = await resolveInstallation(store, req.params.id, principalOf(res));
    const items = [];
    for (const program of await store.programs.list(installation.id))
      items.push(programSummary(program, (await store.programs.current(program.id))!));
    res.json({ items });
  });

  router.post('/installations/:id/programs', async (req, res) => {
    const installation = await resolveInstallation(store, req.params.id, principalOf(res));
    const body = parseInput(newProgramSchema, req.body ?? {});
    const created = await createProgram(requestContext(ctx, res), {
      installationId: installation.id,
      name: body.name,
      from: body.from,
      actor: actorOf(principalOf(res)),
    });
    res.status(201).json(programDocument(created.program, created.version));
  });

  /** Renaming is a change of its settings' name: a new version, like any other change. */
  router.patch('/programs/:id', async (req, res) => {
    const program = await programOf(req, res);
    const { name } = parseInput(renameSchema, req.body ?? {});
    const current = (await store.programs.current(program.id))!;
    const result = await saveProgram(requestContext(ctx, res), program, { ...current.program, name }, actorOf(principalOf(res)));
    res.json(programSummary(program, result.version));
  });

  /** The program's referrers, in the order they joined it. */
  router.get('/programs/:id/referrers', async (req, res) => {
    const program = await programOf(req, res);
    const members = await store.programs.members(program.id);
    res.json({ items: members.map(({ referrer, joinedAt }) => ({ ...referrerView(referrer), joinedAt })) });
  });

  const referrerOf = async (req: Request, res: Response, program: ProgramRow) => {
    const referrer = await store.referrals.referrer(req.params.referrerId as string);
    if (!referrer || referrer.installationId !== program.installationId)
      throw new ApiError('not_found', `No referrer ${req.params.referrerId} in this program's installation.`);
    return visibleOr404(principalOf(res), referrer, `referrer ${referrer.id}`);
  };

  /** Adds a referrer of the installation to the program (again: nothing changes). */
  router.put('/programs/:id/referrers/:referrerId', async (req, res) => {
    const program = await programOf(req, res);
    const referrer = await referrerOf(req, res, program);
    const joined = await addToProgram(requestContext(ctx, res), program, referrer.id, actorOf(principalOf(res)));
    res.status(joined ? 201 : 200).json({ programId: program.id, referrerId: referrer.id });
  });

  /** Removes a referrer from the program, never from their last one; their link for it is retired. */
  router.delete('/programs/:id/referrers/:referrerId', async (req, res) => {
    const program = await programOf(req, res);
    const referrer = await referrerOf(req, res, program);
    const result = await removeFromProgram(requestContext(ctx, res), program, referrer.id, actorOf(principalOf(res)));
    if (result.outcome === 'not_member') throw new ApiError('not_found', `The referrer ${referrer.email} is not in program ${program.id}.`);
    if (result.outcome === 'refused') throw new ApiError('conflict', result.reason);
    res.json({ programId: program.id, referrerId: referrer.id, linkRetired: result.linkRetired });
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
