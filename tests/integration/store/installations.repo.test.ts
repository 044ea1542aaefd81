/**
 * Webhook routes (an account's installation and status) on a real SQLite database: reused for a
 * second, forgotten at once when this process installs or disconnects.
 */
import { describe, expect, it } from 'vitest';
import { installationsRepo } from '../../../src/store/installations.repo.ts';
import { cipher, createTestDb, insertInstallation } from '../notify/fixtures.ts';

function setup() {
  const db = createTestDb();
  const repo = installationsRepo(db, cipher);
  // What another process (a `referloop worker`) would write: straight to the table.
  const setStatusElsewhere = (id: string, status: string) =>
    db.$client.prepare('UPDATE installations SET status = ? WHERE id = ?').run(status, id);
  return { db, repo, setStatusElsewhere };
}

describe('installation routes for webhooks', () => {
  it("reuses a known account's route for a second; another process's change shows after it", () => {
    const { db, repo, setStatusElsewhere } = setup();
    const id = insertInstallation(db);
    const t = Date.parse('2026-11-22T09:00:00.000Z');
    expect(repo.routeFor('hubspot', id, t)).toEqual({ id, status: 'active' });
    setStatusElsewhere(id, 'disconnected');
    expect(repo.routeFor('hubspot', id, t + 999)).toEqual({ id, status: 'active' });
    expect(repo.routeFor('hubspot', id, t + 1_000)).toEqual({ id, status: 'disconnected' });
  });

  it("forgets routes at once on this process's disconnect and install", () => {
    const { db, repo } = setup();
    const id = insertInstallation(db);
    const t = Date.parse('2026-11-22T09:00:00.000Z');
    expect(repo.routeFor('hubspot', id, t)?.status).toBe('active');
    repo.markDisconnected(id, 'revoked in HubSpot', new Date(t));
    expect(repo.routeFor('hubspot', id, t + 1)?.status).toBe('disconnected');
    repo.upsert({ crm: 'hubspot', accountId: id, tokens: { accessToken: 'again', scopes: [] }, now: new Date(t + 2) });
    expect(repo.routeFor('hubspot', id, t + 3)?.status).toBe('active');
  });

  it('asks again about an unknown account every time, so an installation made elsewhere is routed at once', () => {
    const { db, repo } = setup();
    const t = Date.parse('2026-11-22T09:00:00.000Z');
    expect(repo.routeFor('hubspot', 'inst_new', t)).toBeUndefined();
    insertInstallation(db, 'inst_new'); // by another process: this one's routes are not told
    expect(repo.routeFor('hubspot', 'inst_new', t + 1)).toEqual({ id: 'inst_new', status: 'active' });
  });
});
