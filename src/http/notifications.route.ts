import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { escapeHtml } from '../notify/templates.ts';
import type { Store } from '../store/index.ts';
import type { ReferrerRow } from '../store/referrals.repo.ts';

export interface NotificationsRouterDeps {
  store: Store;
  now?: () => Date;
}

function digestOf(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The referrer whose access key is in `?key=`; compared in constant time. */
async function authorize(store: Store, req: Request): Promise<ReferrerRow | undefined> {
  const key = typeof req.query.key === 'string' ? req.query.key : '';
  const referrer = await store.referrals.referrer(String(req.params.referrerId));
  if (!referrer || !key || !timingSafeEqual(digestOf(key), digestOf(referrer.accessKey))) return undefined;
  return referrer;
}

function page(res: Response, status: number, title: string, body: string): void {
  // The key is in the URL: never leak it in a Referer, never cache the page.
  res
    .status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'X-Robots-Tag': 'noindex',
      'Content-Security-Policy':
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    })
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<title>${escapeHtml(title)}</title><style>body{font-family:Arial,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}` +
        `button{font-size:1rem;padding:.5rem 1rem;margin:.25rem 0}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
    );
}

const notFound = (res: Response) =>
  page(res, 404, 'Link not valid', '<p>This link is not valid. Use the link from your most recent email.</p>');

const form = (action: string, label: string, fields = '') =>
  `<form method="post" action="${escapeHtml(action)}">${fields}<button type="submit">${escapeHtml(label)}</button></form>`;

/**
 * Referrers' email preferences, reached from the link in every email (mounted at the root).
 * GET only shows the page, so link scanners cannot unsubscribe anyone; POST does it, and is
 * also the RFC 8058 one-click target named in List-Unsubscribe.
 */
export function notificationsRouter(deps: NotificationsRouterDeps): Router {
  const { store } = deps;
  const clock = deps.now ?? (() => new Date());
  const router = express.Router();

  const update = async (referrer: ReferrerRow, values: { emailOptOut: boolean; digest?: boolean }) => {
    await store.transaction(async () => {
      await store.referrals.updateReferrer(referrer.id, values);
      await store.audit.record({
        installationId: referrer.installationId,
        actor: 'referrer',
        action: 'referrer.email_preferences',
        subjectType: 'referrer',
        subjectId: referrer.id,
        before: { emailOptOut: referrer.emailOptOut, digest: referrer.digest },
        after: values,
        at: clock().toISOString(),
      });
    });
  };

  const preferencesUrl = (req: Request) =>
    `/preferences/${encodeURIComponent(String(req.params.referrerId))}?key=${encodeURIComponent(String(req.query.key))}`;

  router.get('/unsubscribe/:referrerId', async (req, res) => {
    const referrer = await authorize(store, req);
    if (!referrer) return notFound(res);
    if (referrer.emailOptOut) {
      return page(
        res,
        200,
        'You are unsubscribed',
        `<p>${escapeHtml(referrer.email)} receives no referral program emails.</p>` +
          form(preferencesUrl(req), 'Subscribe again', '<input type="hidden" name="digest" value="false">'),
      );
    }
    page(
      res,
      200,
      'Unsubscribe from referral emails?',
      `<p>${escapeHtml(referrer.email)} will stop receiving updates about your referrals and rewards by email.</p>` +
        form(req.originalUrl, 'Unsubscribe') +
        (referrer.digest
          ? ''
          : `<p>Or get one daily summary instead:</p>${form(preferencesUrl(req), 'Send me a daily summary', '<input type="hidden" name="digest" value="true">')}`),
    );
  });

  router.post('/unsubscribe/:referrerId', async (req, res) => {
    const referrer = await authorize(store, req);
    if (!referrer) return notFound(res);
    if (!referrer.emailOptOut) await update(referrer, { emailOptOut: true });
    page(res, 200, 'You are unsubscribed', `<p>${escapeHtml(referrer.email)} will receive no more referral program emails.</p>`);
  });

  router.post('/preferences/:referrerId', express.urlencoded({ extended: false, limit: '1kb' }), async (req, res) => {
    const referrer = await authorize(store, req);
    if (!referrer) return notFound(res);
    const digest = (req.body as Record<string, unknown> | undefined)?.digest === 'true';
    await update(referrer, { emailOptOut: false, digest });
    page(
      res,
      200,
      'Preferences saved',
      `<p>${escapeHtml(referrer.email)} will receive ${digest ? 'one daily summary' : 'an email for each update'}.</p>`,
    );
  });

  return router;
}
