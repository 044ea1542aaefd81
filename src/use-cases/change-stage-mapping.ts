import { changeStageMapping, type StageMapping, type StageMappingProblem } from '../domain/referral-lifecycle.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import type { UseCaseContext } from '../ports/context.ts';

export type ChangeStageMappingResult = { outcome: 'saved'; mapping: StageMapping } | { outcome: 'refused'; problems: StageMappingProblem[] };

/** An admin maps pipelines' stages to lifecycle steps; checked against the CRM's pipelines as they are now. */
export async function changeInstallationStageMapping(ctx: UseCaseContext, installation: InstallationRow, requested: StageMapping, actor: string): Promise<ChangeStageMappingResult> {
  const { store } = ctx;
  const stages = await ctx.crm.client(installation).listPipelineStages();
  const current = (store.installations.settings(installation).stageMapping ?? {}) as StageMapping;
  const change = changeStageMapping(current, requested, stages);
  if (!change.ok) return { outcome: 'refused', problems: change.problems };
  const now = ctx.now();
  store.transaction(() => {
    store.installations.updateSettings(installation.id, { stageMapping: change.mapping }, now);
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
