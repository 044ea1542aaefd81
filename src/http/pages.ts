import { Router } from 'express';
import { escapeHtml } from '../notify/templates.ts';
import type { Store } from '../store/index.ts';
import type { SettingsLinks } from './settings-link.ts';

/** A minimal, dependency-free HTML page for the few screens a browser sees. */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Referloop</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1f2933}
h1{font-size:1.5rem}table{border-collapse:collapse}td,th{padding:.25rem .75rem .25rem 0;text-align:left;vertical-align:top}
code{background:#f0f4f8;padding:0 .25rem;border-radius:3px}.ok{color:#1b7f3b}.bad{color:#b42318}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/**
 * Where the install lands: what was connected and provisioned, and what to do next. Opened only
 * through the signed, short-lived link the install's callback redirects to.
 */
export function settingsPage(store: Store, links: SettingsLinks, now: () => Date): Router {
  const router = Router();
  router.get('/app/settings', async (req, res) => {
    const id = links.verify(req.query, now());
    if (!id) {
      res
        .status(403)
        .type('html')
        .send(
          page(
            'Referloop settings',
            '<p>This link is not valid or has expired. Install again from the CRM to get a new one, or use the API with the admin token.</p>',
          ),
        );
      return;
    }
    const installation = await store.installations.get(id);
    if (!installation) {
      res.status(404).type('html').send(page('Referloop settings', '<p>No such installation.</p>'));
      return;
    }
    const settings = await store.installations.settings(installation);
    const report = settings.provisioning;
    const pipelines = Object.entries(settings.stageMapping ?? {})
      .map(
        ([pipeline, stages]) =>
          `<tr><th>${escapeHtml(pipeline)}</th><td>${Object.entries(stages)
            .map(([s, step]) => `${escapeHtml(s)} → ${escapeHtml(step)}`)
            .join('<br>')}</td></tr>`,
      )
      .join('');
    const version = (await store.programs.currentDefault(installation.id))?.version ?? 0;
    const issued = await store.cardKeys.takeRevealOnce(installation.id);
    const cardKey = issued
      ? `<h2>Card key</h2><p>Paste this key into the <code>Referloop</code> External Credential's <code>CardKey</code> principal (parameter <code>CardKey</code>) in Setup. It is shown only this once; rotate it with <code>POST /api/v1/installations/${escapeHtml(installation.id)}/card-keys</code>.</p>
<p><code>${escapeHtml(issued.key)}</code></p>`
      : '';
    res.type('html').send(
      page(
        'Referloop is connected',
        `<p class="ok">Connected ${escapeHtml(installation.crm)} account <code>${escapeHtml(installation.accountId)}</code> (${escapeHtml(installation.status)}).</p>
<table><tr><th>Installation</th><td><code>${escapeHtml(installation.id)}</code></td></tr>
<tr><th>Program</th><td>version ${version}: edit with <code>PUT /api/v1/program</code></td></tr>
<tr><th>Created in the CRM</th><td>${escapeHtml((report?.created ?? []).join(', ') || 'nothing new')}</td></tr>
<tr><th>Already there</th><td>${escapeHtml((report?.existing ?? []).join(', ') || '—')}</td></tr>
<tr><th>Missing</th><td class="${report?.missing.length ? 'bad' : 'ok'}">${escapeHtml((report?.missing ?? []).join(', ') || 'nothing')}</td></tr></table>
${cardKey}
<h2>Stage mapping</h2><table>${pipelines || '<tr><td>No pipelines found.</td></tr>'}</table>
<p>Change the program and the mapping through the API with the admin token (<code>npx referloop token</code> prints it).</p>`,
      ),
    );
  });
  return router;
}
