import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HUBSPOT_OPTIONAL_SCOPES, HUBSPOT_SCOPES } from '../../../connectors/hubspot/index.ts';
import { parseHubSpotWebhook } from '../../../connectors/hubspot/parse-webhook.ts';
import {
  COMPANY_ELIGIBILITY_PROPERTIES,
  COMPANY_PROPERTIES,
  CONTACT_PROPERTIES,
  DEAL_PROPERTIES,
  toAccountField,
} from '../../../connectors/hubspot/map.ts';
import { REFERLOOP_PROPERTIES } from '../../../connectors/hubspot/provision.ts';
import { defaultProperties } from '../../../connectors/hubspot/sandbox/defaults.ts';
import { manifestSubscriptions } from '../../../connectors/hubspot/sandbox/index.ts';
import { detectEligibilityFields, mappedFieldNames } from '../../../src/domain/eligibility-fields.ts';
import { repoRoot, sampleJson } from '../../fixtures/hubspot/samples.ts';

const project = path.join(repoRoot, 'app-manifest/hubspot');
const json = (relative: string) => JSON.parse(readFileSync(path.join(project, relative), 'utf8'));

function hsmetaFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : hsmetaFiles(full);
    return entry.name.endsWith('-hsmeta.json') ? [full] : [];
  });
}

describe('the HubSpot project in app-manifest/hubspot', () => {
  const app = json('src/app/app-hsmeta.json');
  const webhooks = json('src/app/webhooks/webhooks-hsmeta.json');
  const subscriptions = [
    ...webhooks.config.subscriptions.crmObjects,
    ...webhooks.config.subscriptions.legacyCrmObjects,
    ...webhooks.config.subscriptions.hubEvents,
  ];

  it('asks for exactly the scopes the connector requests at install', () => {
    expect(app.config.auth.requiredScopes).toEqual([...HUBSPOT_SCOPES]);
    expect(app.config.auth.optionalScopes).toEqual([...HUBSPOT_OPTIONAL_SCOPES]);
    expect(app.config.distribution).toBe('marketplace');
    expect(app.config.auth.type).toBe('oauth');
  });

  it('redirects to the OAuth callback route', () => {
    for (const url of app.config.auth.redirectUrls) expect(new URL(url).pathname).toBe('/oauth/hubspot/callback');
  });

  it('subscribes, all active, to exactly what the sandbox delivers: the sandbox reads this manifest', () => {
    expect(subscriptions.every((s) => s.active === true)).toBe(true);
    const strip = (s: { subscriptionType: string; propertyName?: string; objectType?: string }) =>
      JSON.stringify([s.subscriptionType, s.objectType, s.propertyName]);
    expect(manifestSubscriptions().map(strip).sort()).toEqual(subscriptions.map(strip).sort());
  });

  it('watches every company property eligibility reads by default, and those are what the mapping detects', () => {
    const watched = subscriptions.filter((s) => s.subscriptionType === 'company.propertyChange').map((s) => s.propertyName);
    expect(watched).toEqual(expect.arrayContaining([...COMPANY_ELIGIBILITY_PROPERTIES]));
    // A portal as Referloop leaves it after install: HubSpot's standard properties and the provisioned ones.
    const portal = [...defaultProperties('companies'), ...REFERLOOP_PROPERTIES.companies].map(toAccountField);
    expect(mappedFieldNames(detectEligibilityFields(portal)).sort()).toEqual([...COMPANY_ELIGIBILITY_PROPERTIES].sort());
  });

  it('watches only properties the connector reads', () => {
    const read: Record<string, string[]> = { contact: CONTACT_PROPERTIES, company: COMPANY_PROPERTIES, deal: DEAL_PROPERTIES };
    const unread = subscriptions
      .filter((s) => s.subscriptionType.endsWith('.propertyChange'))
      .filter((s) => !read[s.subscriptionType.split('.')[0]]?.includes(s.propertyName));
    expect(unread).toEqual([]);
  });

  it('every subscription yields events the parser turns into hints (none ignored)', () => {
    const events = subscriptions.map((s, i) => ({
      eventId: i,
      subscriptionId: i,
      portalId: 1,
      appId: 2,
      occurredAt: 1763745600000 + i,
      attemptNumber: 0,
      subscriptionType: s.subscriptionType,
      objectId: 10 + i,
      propertyName: s.propertyName,
      propertyValue: 'x',
      associationType: s.subscriptionType.startsWith('deal') ? 'DEAL_TO_CONTACT' : 'CONTACT_TO_COMPANY',
      fromObjectId: 1,
      toObjectId: 2,
    }));
    expect(parseHubSpotWebhook(Buffer.from(JSON.stringify(events)))).toMatchObject({ ok: true, ignored: 0 });
  });

  it('has unique uids, one app component, and the three cards, whose entrypoints exist and whose API origin is permitted', () => {
    const metas = hsmetaFiles(path.join(project, 'src')).map((f) => JSON.parse(readFileSync(f, 'utf8')));
    expect(new Set(metas.map((m) => m.uid)).size).toBe(metas.length);
    expect(metas.filter((m) => m.type === 'app')).toHaveLength(1);
    const cards = metas.filter((m) => m.type === 'card').map((m) => m.config);
    expect(cards.map((c) => [c.name, c.objectTypes]).sort()).toEqual([
      ['Log a referral', ['contacts', 'companies', 'deals']],
      ['Referral and reward', ['deals']],
      ['Referral eligibility', ['companies']],
    ]);
    for (const card of cards) {
      expect(card.location).toBe('crm.record.tab');
      expect(existsSync(path.join(project, 'src', card.entrypoint)), card.entrypoint).toBe(true);
    }
    const api =
      /export const REFERLOOP_API = '([^']+)'/.exec(readFileSync(path.join(project, 'src/app/cards/referloop.ts'), 'utf8'))?.[1] ?? '';
    expect(app.config.permittedUrls.fetch).toEqual([new URL(api).origin]);
    expect(new URL(webhooks.config.settings.targetUrl).pathname).toBe('/webhooks/hubspot');
  });

  it('follows the 2026.03 template formats', () => {
    const template = sampleJson<{ platformVersion: string; srcDir: string }>('project/hsproject.2026.03.json');
    expect(json('hsproject.json')).toMatchObject({ platformVersion: template.platformVersion, srcDir: template.srcDir });
    const templateApp = sampleJson<{ config: Record<string, unknown> }>('project/app-hsmeta.oauth-marketplace.2026.03.json');
    expect(Object.keys(app.config).sort()).toEqual(Object.keys(templateApp.config).sort());
    const templateHooks = sampleJson<{ config: { subscriptions: Record<string, unknown> } }>('project/webhooks-hsmeta.2026.03.json');
    expect(Object.keys(webhooks.config.subscriptions).sort()).toEqual(Object.keys(templateHooks.config.subscriptions).sort());
  });
});
