import { CrmError, type PipelineStage } from '../../connectors/connector.ts';
import { changeStageMapping, type StageMapping, type StageMappingProblem, stageLabels } from '../domain/referral-lifecycle.ts';
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
    stages = await ctx.crm.client(installation).listPipelineStages();
  } catch (err) {
    if (!(err instanceof CrmError)) throw err;
    return {
      outcome: 'crm_unavailable',
      reason: `${err.code}: ${err.message}`,
      ...(err.options.retryAfterMs ? { retryAfterMs: err.options.retryAfterMs } : {}),
    };
  }
  const current = (store.installations.settings(installation).stageMapping ?? {}) as StageMapping;
  const change = changeStageMapping(current, requested, stages);
  if (!change.ok) return { outcome: 'refused', problems: change.problems };
  const now = ctx.now();
  store.transaction(() => {
    store.installations.updateSettings(installation.id, { stageMapping: change.mapping, stageLabels: stageLabels(stages) }, now);
    store.audit.record({
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
