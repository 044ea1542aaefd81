import { randomUUID } from 'node:crypto';
import { HttpError, isRecord } from './http.ts';
import type { CrmModel } from './model.ts';
import type { Route } from './routes.ts';

/**
 * The Forms API's unauthenticated submission (the endpoint a site's own form posts to):
 * https://developers.hubspot.com/docs/api-reference/legacy/marketing/forms/v3-legacy/submit-data-unauthenticated
 * `{ fields: [{ objectTypeId?, name, value }], submittedAt?, context? }` → `{ inlineMessage }`. The
 * submission creates the contact, or updates the one with its email, as HubSpot does; each field
 * must name a contact property (tests/fixtures/hubspot/forms-submission.json). Any form id of the
 * portal is accepted: the sandbox keeps no form definitions.
 */
export function formRoutes(model: CrmModel, portalId: number): Route[] {
  return [
    [
      'POST',
      /^\/submissions\/v3\/integration\/submit\/([^/]+)\/([^/]+)$/,
      null,
      (ctx) => {
        if (ctx.params[0] !== String(portalId))
          throw formError(404, [`No form ${ctx.params[1]} in portal ${ctx.params[0]}`], 'FORM_NOT_FOUND');
        const fields = isRecord(ctx.body) && Array.isArray(ctx.body.fields) ? ctx.body.fields : undefined;
        if (!fields?.every((f) => isRecord(f) && typeof f.name === 'string' && typeof f.value === 'string'))
          throw formError(400, ["Error in 'fields'. Each field needs a name and a string value"], 'INVALID_FORM_FIELDS');
        const values = Object.fromEntries((fields as { name: string; value: string }[]).map((f) => [f.name, f.value]));
        if (!values.email) throw formError(400, ["Error in 'fields.email'. Required field 'email' is missing"], 'REQUIRED_FIELD');
        const existing = model.findBy('contacts', 'email', values.email.toLowerCase());
        try {
          if (existing) model.update('contacts', existing.id, values, 'FORM');
          else model.createMany('contacts', [{ properties: values }], 'FORM');
        } catch (err) {
          if (err instanceof HttpError) throw formError(400, [String(err.body.message ?? err.message)], 'INVALID_FORM_FIELDS');
          throw err;
        }
        return { status: 200, body: { inlineMessage: 'Thanks for submitting the form.' } };
      },
    ],
  ];
}

function formError(status: number, messages: string[], errorType: string): HttpError {
  return new HttpError(status, {
    status: 'error',
    message: 'The request is not valid',
    correlationId: randomUUID(),
    errors: messages.map((message) => ({ message, errorType })),
  });
}
