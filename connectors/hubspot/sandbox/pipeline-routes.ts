import { invalid, notFound } from './http.ts';
import type { CrmModel } from './model.ts';
import { scopesFor, typeOf, type Route } from './routes.ts';

/** Deal pipelines and their stages, with the won/closed metadata Referloop reads. */
export function pipelineRoutes(model: CrmModel): Route[] {
  function dealPipelines(type: string | undefined) {
    if (typeOf(type) !== 'deals') throw invalid(`This portal has pipelines for deals only, not ${type}`);
    return model.pipelines;
  }
  function pipeline(type: string | undefined, id: string | undefined) {
    const found = dealPipelines(type).find((p) => p.id === id);
    if (!found) throw notFound(`Pipeline ${id} does not exist`);
    return found;
  }

  return [
    // Pipelines — https://developers.hubspot.com/docs/api/crm/pipelines
    [
      'GET',
      /^\/crm\/v3\/pipelines\/([^/]+)$/,
      () => scopesFor('deals', 'schema-read'),
      (ctx) => ({
        status: 200,
        body: { results: dealPipelines(ctx.params[0]).map((p) => model.pipelineJson(p)) },
      }),
    ],
    [
      'GET',
      /^\/crm\/v3\/pipelines\/([^/]+)\/([^/]+)$/,
      () => scopesFor('deals', 'schema-read'),
      (ctx) => ({
        status: 200,
        body: model.pipelineJson(pipeline(ctx.params[0], ctx.params[1])),
      }),
    ],
    [
      'GET',
      /^\/crm\/v3\/pipelines\/([^/]+)\/([^/]+)\/stages$/,
      () => scopesFor('deals', 'schema-read'),
      (ctx) => ({
        status: 200,
        body: { results: model.pipelineJson(pipeline(ctx.params[0], ctx.params[1])).stages },
      }),
    ],
  ];
}
