/**
 * Programs side by side over HTTP: an installation's programs are listed, created (copied from the
 * default or from a fresh install's) and renamed; `/program?programId=` reads one; a referral names
 * its program, which must be one its referrer belongs to; referrers join and leave programs; bad
 * input writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSandbox, startTestService, type TestService } from '../support/service.ts';

interface ProgramDocument {
  id: string;
  installationId: string;
  isDefault: boolean;
  version: number;
  program: { name: string; payoutDays: number; rewardRules: unknown[] };
}

describe('programs side by side over the API', () => {
  let svc: TestService;
  let installationId: string;
  let defaultId: string;
  let partnersId: string;
  const json = async <T>(res: Response | Promise<Response>) => (await res).json() as Promise<T>;
  const count = (table: string) => (svc.sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  const refer = (referrerEmail: string, refereeEmail: string, programId?: string) =>
    svc.api('/referrals', {
      method: 'POST',
      json: {
        referrer: { email: referrerEmail, name: 'Someone', type: 'partner' },
        referee: { email: refereeEmail },
        submittedBy: { kind: 'rep' },
        ...(programId ? { programId } : {}),
      },
    });

  beforeAll(async () => {
    svc = await startTestService();
    installationId = await installSandbox(svc);
    defaultId = (await json<ProgramDocument>(svc.api('/program'))).id;
  });
  afterAll(async () => svc?.stop());

  it('creates a program copied from the default or blank; a nameless one or an unknown source is 400 and writes nothing', async () => {
    const before = count('programs');
    for (const body of [{ name: '  ' }, { name: 'X', from: 'elsewhere' }, { name: 'X', extra: true }]) {
      const res = await svc.api(`/installations/${installationId}/programs`, { method: 'POST', json: body });
      expect(res.status).toBe(400);
    }
    expect(count('programs')).toBe(before);

    const res = await svc.api(`/installations/${installationId}/programs`, {
      method: 'POST',
      json: { name: 'Partner program', from: 'blank' },
    });
    expect(res.status).toBe(201);
    const created = await json<ProgramDocument>(res);
    expect(created).toMatchObject({ installationId, isDefault: false, version: 1, program: { name: 'Partner program', payoutDays: 90 } });
    partnersId = created.id;
    const copy = await json<ProgramDocument>(
      svc.api(`/installations/${installationId}/programs`, { method: 'POST', json: { name: 'Copy of the default' } }),
    );
    const defaults = await json<ProgramDocument>(svc.api('/program'));
    expect(copy.program).toEqual({ ...defaults.program, name: 'Copy of the default' });
    expect(
      svc.sqlite.prepare("SELECT subject_id AS id FROM audit_log WHERE action = 'program.created' ORDER BY audit_log.id").all(),
    ).toEqual([{ id: partnersId }, { id: copy.id }]);
  });

  it('lists the programs with their names; /program?programId= reads one, another installation’s or none is 404', async () => {
    const { items } = await json<{ items: { id: string; name: string; isDefault: boolean }[] }>(
      svc.api(`/installations/${installationId}/programs`),
    );
    expect(items.map((p) => [p.name, p.isDefault])).toEqual([
      ['Referral program', true],
      ['Partner program', false],
      ['Copy of the default', false],
    ]);
    expect(await json(svc.api(`/program?programId=${partnersId}`))).toEqual(await json(svc.api(`/programs/${partnersId}`)));
    expect((await svc.api('/program?programId=prg_nope')).status).toBe(404);
    expect((await svc.api('/installations/inst_nope/programs')).status).toBe(404);
  });

  it('renames a program as a new version of its settings', async () => {
    const res = await svc.api(`/programs/${partnersId}`, { method: 'PATCH', json: { name: 'Partners' } });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ id: partnersId, name: 'Partners', version: 2 });
    expect((await svc.api(`/programs/${partnersId}`, { method: 'PATCH', json: { name: '' } })).status).toBe(400);
    expect((await json<ProgramDocument>(svc.api(`/programs/${partnersId}`))).program.name).toBe('Partners');
  });

  it('a referral names its program; one the referrer is not in is 409, an unknown one 404, and neither writes anything', async () => {
    const first = await refer('pat@partners.example', 'lee@lee-co.example', partnersId);
    expect(first.status).toBe(201);
    expect(await json(first)).toMatchObject({ programId: partnersId, program: { id: partnersId, name: 'Partners', version: 2 } });
    expect((await json<{ status: string }>(refer('ada@advisors.example', 'kim@kim-co.example'))).status).toBe('accepted');

    const before = count('referrals');
    const notMember = await refer('ada@advisors.example', 'max@max-co.example', partnersId);
    expect(notMember.status).toBe(409);
    expect(await json(notMember)).toMatchObject({ error: { code: 'conflict', details: { reason: 'not_member', programId: partnersId } } });
    const unknown = await refer('ada@advisors.example', 'max@max-co.example', 'prg_nope');
    expect(unknown.status).toBe(404);
    expect(count('referrals')).toBe(before);

    const { items } = await json<{ items: { programId: string; referee: { email: string } }[] }>(
      svc.api(`/referrals?programId=${partnersId}`),
    );
    expect(items.map((r) => [r.programId, r.referee.email])).toEqual([[partnersId, 'lee@lee-co.example']]);
  });

  it('a referrer joins a program (once), then can be referred into it', async () => {
    const ada = await json<{ items: { id: string; email: string }[] }>(svc.api('/referrers'));
    const adaId = ada.items.find((r) => r.email === 'ada@advisors.example')!.id;
    expect((await svc.api(`/programs/${partnersId}/referrers/${adaId}`, { method: 'PUT' })).status).toBe(201);
    expect((await svc.api(`/programs/${partnersId}/referrers/${adaId}`, { method: 'PUT' })).status).toBe(200);
    expect((await svc.api(`/programs/${partnersId}/referrers/rfr_nope`, { method: 'PUT' })).status).toBe(404);
    expect((await json<{ programIds: string[] }>(svc.api(`/referrers/${adaId}`))).programIds).toEqual([defaultId, partnersId]);
    expect((await refer('ada@advisors.example', 'max@max-co.example', partnersId)).status).toBe(201);
  });

  it('lists a program’s referrers; removes one from it (never from their last program), after which they cannot be referred into it', async () => {
    type Members = { items: { id: string; email: string; joinedAt: string }[] };
    const members = await json<Members>(svc.api(`/programs/${partnersId}/referrers`));
    expect(members.items.map((r) => r.email)).toEqual(['pat@partners.example', 'ada@advisors.example']);
    expect(members.items.every((r) => /^\d{4}-\d{2}-\d{2}T/.test(r.joinedAt))).toBe(true);
    const [pat, ada] = members.items;

    const auditRows = () => count('audit_log');
    const before = auditRows();
    const last = await svc.api(`/programs/${partnersId}/referrers/${pat!.id}`, { method: 'DELETE' });
    expect(last.status).toBe(409);
    expect(await json(last)).toMatchObject({ error: { code: 'conflict', message: expect.stringContaining('only program') } });
    expect((await svc.api(`/programs/${partnersId}/referrers/rfr_nope`, { method: 'DELETE' })).status).toBe(404);
    expect(auditRows()).toBe(before);

    const removed = await svc.api(`/programs/${partnersId}/referrers/${ada!.id}`, { method: 'DELETE' });
    expect(removed.status).toBe(200);
    expect(await json(removed)).toEqual({ programId: partnersId, referrerId: ada!.id, linkRetired: false });
    const again = await svc.api(`/programs/${partnersId}/referrers/${ada!.id}`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect((await json<Members>(svc.api(`/programs/${partnersId}/referrers`))).items.map((r) => r.email)).toEqual(['pat@partners.example']);
    expect((await json<{ programIds: string[] }>(svc.api(`/referrers/${ada!.id}`))).programIds).toEqual([defaultId]);
    expect((await refer('ada@advisors.example', 'zoe@zoe-co.example', partnersId)).status).toBe(409);
    expect(auditRows()).toBe(before + 1);
  });

  it('creates a referrer in the programs named; an unknown one is 404 and writes nothing', async () => {
    const before = count('referrers');
    const unknown = await svc.api('/referrers', {
      method: 'POST',
      json: { email: 'new@partners.example', name: 'New', type: 'partner', programIds: ['prg_nope'] },
    });
    expect(unknown.status).toBe(404);
    expect(count('referrers')).toBe(before);
    const res = await svc.api('/referrers', {
      method: 'POST',
      json: { email: 'new@partners.example', name: 'New', type: 'partner', programIds: [partnersId] },
    });
    expect(res.status).toBe(201);
    const { id } = await json<{ id: string }>(res);
    expect((await json<{ programIds: string[] }>(svc.api(`/referrers/${id}`))).programIds).toEqual([partnersId]);
  });

  it('a payout run names its program; an unknown one is 404', async () => {
    const res = await svc.api('/payouts', { method: 'POST', json: { dueOn: '2026-12-31', programId: 'prg_nope' } });
    expect(res.status).toBe(404);
    expect(count('payout_runs')).toBe(0);
  });
});
