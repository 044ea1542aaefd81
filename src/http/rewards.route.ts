import { type Response, Router } from 'express';
import type { UseCaseContext } from '../ports/context.ts';
import { changeReward } from '../use-cases/manage-rewards.ts';
import { actorOf, principalOf } from './auth.ts';
import { ApiError, parseInput } from './errors.ts';
import { installationIds, visibleOr404 } from './installation-scope.ts';
import { approveRewardSchema, listRewardsQuery, markPaidSchema, rejectRewardSchema } from './schemas.ts';
import { rewardView } from './views.ts';
import { requestContext } from './request-context.ts';

export function rewardsRouter(ctx: UseCaseContext): Router {
  const router = Router();
  const { store } = ctx;
  const rewardOf = async (id: string, res: Response) => visibleOr404(principalOf(res), await store.rewards.get(id), `reward ${id}`);

  router.get('/rewards', async (req, res) => {
    const query = parseInput(listRewardsQuery, req.query, 'query');
    const page = await store.rewards.list({
      installationIds: await installationIds(store, query.installationId, principalOf(res)),
      ...(query.status ? { status: query.status } : {}),
      ...(query.cursor ? { cursor: query.cursor } : {}),
      limit: query.limit,
    });
    res.json({ items: page.items.map(rewardView), nextCursor: page.nextCursor });
  });

  router.get('/rewards/:id', async (req, res) => {
    const reward = await rewardOf(req.params.id, res);
    res.json({
      ...rewardView(reward),
      ledger: await store.rewards.ledger(reward.id),
      audit: await store.audit.forSubject('reward', reward.id),
    });
  });

  const act = (action: 'approve' | 'reject' | 'mark_paid', extract: (body: unknown) => { reason?: string; payoutReference?: string }) =>
    router.post(`/rewards/:id/${action.replace('_', '-')}`, async (req, res) => {
      const reward = await rewardOf(req.params.id, res);
      const result = await changeReward(requestContext(ctx, res), {
        reward,
        action,
        actor: actorOf(principalOf(res)),
        ...extract(req.body ?? {}),
      });
      if (!result.ok)
        throw new ApiError('illegal_state', `Cannot ${action.replace('_', ' ')} reward ${reward.id}: ${result.reason}.`, {
          status: reward.status,
        });
      res.json(rewardView(result.reward));
    });
  act('approve', (body) => {
    const { note } = parseInput(approveRewardSchema, body);
    return note ? { reason: note } : {};
  });
  act('reject', (body) => parseInput(rejectRewardSchema, body));
  act('mark_paid', (body) => {
    const { payoutReference } = parseInput(markPaidSchema, body);
    return { payoutReference, reason: `paid with reference ${payoutReference}` };
  });

  return router;
}
