/**
 * INBOX_RETENTION_DAYS end to end: the service's sweeper deletes processed webhook events past the
 * retention as soon as it starts, and keeps recent and dead ones.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateDb, openDb } from '../../src/store/db.ts';
import { startTestService, type TestService } from '../support/service.ts';

const dir = mkdtempSync(join(tmpdir(), 'referloop-retention-'));
let svc: TestService | undefined;
afterAll(async () => {
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('inbox retention', () => {
  it('deletes processed events older than INBOX_RETENTION_DAYS when the service starts, keeping recent and dead ones', async () => {
    const databaseUrl = `file:${join(dir, 'referloop.db')}`;
    const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    const seed = openDb(databaseUrl);
    migrateDb(seed);
    const insert = seed.$client.prepare(
      `INSERT INTO inbox (crm, account_id, installation_id, event_key, object_type, object_id, change, occurred_at, status, received_at)
       VALUES ('hubspot', '24681357', NULL, ?, 'deal', '1', 'updated', ?, ?, ?)`,
    );
    insert.run('old-done', daysAgo(12), 'done', daysAgo(12));
    insert.run('old-ignored', daysAgo(11), 'ignored', daysAgo(11));
    insert.run('old-dead', daysAgo(11), 'dead', daysAgo(11));
    insert.run('recent-done', daysAgo(2), 'done', daysAgo(2));
    seed.$client.close();

    svc = await startTestService({ DATABASE_URL: databaseUrl, INBOX_RETENTION_DAYS: '7', SANDBOX: 'off' });
    const keys = svc.sqlite.prepare('SELECT event_key AS key FROM inbox ORDER BY id').all() as { key: string }[];
    expect(keys.map((k) => k.key)).toEqual(['old-dead', 'recent-done']);
  });
});
