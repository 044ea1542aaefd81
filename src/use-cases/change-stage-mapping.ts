import { CrmError, type PipelineStage } from '../../connectors/connector.ts';
import {
  changeStageMapping,
  type MappedStep,
  type StageMapping,
  type StageMappingProblem,
  stageLabels,
} from '../domain/referral-lifecycle.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import type { UseCaseContext } from '../ports/context.ts';

export type ChangeStageMappingResult =
  | { outcome: 'saved'; mapping: StageMapping }
  | { outcome: 'refused'; problems: StageMappingProblem[] }
  /** The CRM could not list its pipelines, so nothing could be checked or changed. */
  | { outcome: 'crm_unavailable'; reason: string; retryAfterMs?: number };

/** An admin maps pipelines' stages to lifecycle steps; checked against the CRM's pipelines as they are now. */
export async function changeInstallationStageMapping(
  ctx: UseCaseContext,
  installation: InstallationRow,
  requested: StageMapping,
  actor: string,
): Promise<ChangeStageMappingResult> {
  const { store } = ctx;
  let stages: PipelineStage[];
  try {
    stages = await (await ctx.crm.client(installation)).listPipelineStages();
  } catch (err) {
    if (!(err instanceof CrmError)) throw err;
    return {
      outcome: 'crm_unavailable',
      reason: `${err.code}: ${err.message}`,
      ...(err.options.retryAfterMs ? { retryAfterMs: err.options.retryAfterMs } : {}),
    };
  }
  const current = ((await store.installations.settings(installation)).stageMapping ?? {}) as StageMapping;
  const change = changeStageMapping(current, requested, stages);
  if (!change.ok) return { outcome: 'refused', problems: change.problems };
  const now = ctx.now();
  await store.transaction(async () => {
    await store.installations.updateSettings(installation.id, { stageMapping: change.mapping, stageLabels: stageLabels(stages) }, now);
    await store.audit.record({
      installationId: installation.id,
      actor,
      action: 'installation.stage_mapping',
      subjectType: 'installation',
      subjectId: installation.id,
      before: current,
      after: change.mapping,
      at: now.toISOString(),
    });
  });
  return { outcome: 'saved', mapping: change.mapping };
}

export type PipelinesWithMapping =
  | {
      outcome: 'listed';
      pipelines: {
        id: string;
        label: string;
        stages: { id: string; label: string; isClosed: boolean; isWon: boolean; step: MappedStep | null }[];
        /** Mapped stages the CRM no longer has: saving the pipeline as it is would be refused until they are unmapped. */
        unknownStages: { id: string; step: MappedStep }[];
      }[];
    }
  | { outcome: 'crm_unavailable'; reason: string; retryAfterMs?: number };

/** The CRM's pipelines and stages as they are now, with their labels and the step each stage is mapped to. */
export async function pipelinesWithMapping(ctx: UseCaseContext, installation: InstallationRow): Promise<PipelinesWithMapping> {
  let stages: PipelineStage[];
  try {
    stages = await (await ctx.crm.client(installation)).listPipelineStages();
  } catch (err) {
    if (!(err instanceof CrmError)) throw err;
    return {
      outcome: 'crm_unavailable',
      reason: `${err.code}: ${err.message}`,
      ...(err.options.retryAfterMs ? { retryAfterMs: err.options.retryAfterMs } : {}),
    };
  }
  const mapping = ((await ctx.store.installations.settings(installation)).stageMapping ?? {}) as StageMapping;
  const mappedIn = (pipelineId: string): Record<string, MappedStep> => (Object.hasOwn(mapping, pipelineId) ? mapping[pipelineId]! : {});
  const pipelines = new Map<string, { label: string; stages: PipelineStage[] }>();
  for (const stage of [...stages].sort((a, b) => a.displayOrder - b.displayOrder)) {
    const pipeline = pipelines.get(stage.pipelineId) ?? { label: stage.pipelineLabel, stages: [] };
    pipeline.stages.push(stage);
    pipelines.set(stage.pipelineId, pipeline);
  }
  return {
    outcome: 'listed',
    pipelines: [...pipelines].map(([id, pipeline]) => {
      const mapped = mappedIn(id);
      const known = new Set(pipeline.stages.map((s) => s.stageId));
      return {
        id,
        label: pipeline.label,
        stages: pipeline.stages.map((s) => ({
          id: s.stageId,
          label: s.label,
          isClosed: s.isClosed,
          isWon: s.isWon,
          step: Object.hasOwn(mapped, s.stageId) ? mapped[s.stageId]! : null,
        })),
        unknownStages: Object.entries(mapped)
          .filter(([stageId]) => !known.has(stageId))
          .map(([stageId, step]) => ({ id: stageId, step })),
      };
    }),
  };
}
