/**
 * The program API: what GET answers can be PUT back, an identical PUT makes no version, versions
 * are read one by one, and `/program` is the installation's default program.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everySettingProgram } from '../support/every-setting-program.ts';
import { installSandbox, startTestService, type TestService } from '../support/service.ts';

interface ProgramDocument {
  id: string;
  installationId: string;
  isDefault: boolean;
  version: number;
  createdAt: string;
  createdBy: string;
  program: { payoutDays: number; [key: string]: unknown };
  changed?: boolean;
  message?: string;
}

describe('program API', () => {
  let svc: TestService;
  let installationId: string;
  let programId: string;
  const versionCount = () => (svc.sqlite.prepare('SELECT count(*) AS n FROM program_versions').get() as { n: number }).n;
  const json = async <T>(res: Response | Promise<Response>) => (await res).json() as Promise<T>;

  beforeAll(async () => {
    svc = await startTestService();
    installationId = await installSandbox(svc);
  });
  afterAll(async () => svc?.stop());

  it("lists the installation's programs: one default program", async () => {
    const { items } = await json<{ items: Omit<ProgramDocument, 'program'>[] }>(svc.api(`/programs?installationId=${installationId}`));
    expect(items).toEqual([expect.objectContaining({ installationId, isDefault: true, version: 1 })]);
    expect(items[0]).not.toHaveProperty('program');
    programId = items[0]!.id;
    expect(programId).toMatch(/^prg_/);
  });

  it('/program is the default program', async () => {
    expect(await json(svc.api('/program'))).toEqual(await json(svc.api(`/programs/${programId}`)));
  });

  it('what GET gave, PUT back unchanged, makes no new version and says so', async () => {
    const document = await json<ProgramDocument>(svc.api(`/programs/${programId}`));
    const before = versionCount();
    const res = await svc.api(`/programs/${programId}`, { method: 'PUT', json: document });
    expect(res.status).toBe(200);
    const answer = await json<ProgramDocument>(res);
    expect(answer).toMatchObject({ id: programId, version: 1, changed: false });
    expect(answer.message).toMatch(/Nothing changed/);
    expect(versionCount()).toBe(before);
  });

  it('a change is a new version; every version is readable one by one', async () => {
    const document = await json<ProgramDocument>(svc.api(`/programs/${programId}`));
    const res = await svc.api(`/programs/${programId}`, {
      method: 'PUT',
      json: { ...document, program: { ...document.program, payoutDays: 45 } },
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ version: 2, changed: true, program: { payoutDays: 45 } });

    const v1 = await json<ProgramDocument>(svc.api(`/programs/${programId}/versions/1`));
    const v2 = await json<ProgramDocument>(svc.api(`/program/versions/2?installationId=${installationId}`));
    expect([v1.version, v1.program.payoutDays]).toEqual([1, 90]);
    expect([v2.version, v2.program.payoutDays, v2.id]).toEqual([2, 45, programId]);
    const { items } = await json<{ items: { version: number; changes: string[] }[] }>(svc.api(`/programs/${programId}/versions`));
    expect(items.map((v) => v.version)).toEqual([2, 1]);
    // Each version with what it changed from the one before, in words.
    expect(items.map((v) => v.changes)).toEqual([['Rewards due 90 → 45 days after close'], []]);
  });

  it('a change made on an older version is refused with the current one, nothing written', async () => {
    const old = await json<ProgramDocument>(svc.api(`/programs/${programId}/versions/1`));
    const before = versionCount();
    const res = await svc.api(`/programs/${programId}`, { method: 'PUT', json: { ...old, program: { ...old.program, payoutDays: 30 } } });
    expect(res.status).toBe(409);
    expect(await json(res)).toMatchObject({ error: { code: 'conflict', details: { currentVersion: 2 } } });
    expect(versionCount()).toBe(before);
  });

  it.each([
    ['another program id', { id: 'prg_other' }, 'id'],
    ['another installation', { installationId: 'inst_other' }, 'installationId'],
    ['a field the document does not have', { colour: 'blue' }, ''],
  ])('refuses a document naming %s, nothing written', async (_what, patch, field) => {
    const document = await json<ProgramDocument>(svc.api(`/programs/${programId}`));
    const before = versionCount();
    const res = await svc.api(`/programs/${programId}`, {
      method: 'PUT',
      json: { ...document, ...patch, program: { ...document.program, payoutDays: 10 } },
    });
    expect(res.status).toBe(400);
    if (field) expect(await json(res)).toMatchObject({ error: { details: { issues: [{ field }] } } });
    expect(versionCount()).toBe(before);
  });

  it('unknown programs and versions are 404, a version that is no number is 400', async () => {
    expect((await svc.api('/programs/prg_nope')).status).toBe(404);
    expect((await svc.api(`/programs/${programId}/versions/99`)).status).toBe(404);
    expect((await svc.api(`/programs/${programId}/versions/first`)).status).toBe(400);
  });

  it('a referral is locked to its program and version', async () => {
    const res = await svc.api('/referrals', {
      method: 'POST',
      json: {
        referrer: { email: 'ada@advisors.io', name: 'Ada', type: 'advisor' },
        referee: { email: 'kim@kimco.example' },
        submittedBy: { kind: 'rep' },
      },
    });
    expect(res.status).toBe(201);
    const { id } = await json<{ id: string }>(res);
    const row = svc.sqlite.prepare('SELECT program_id AS programId, program_version AS version FROM referrals WHERE id = ?').get(id);
    expect(row).toEqual({ programId, version: 2 });
  });
  it('a program with every setting comes back from GET as it was PUT, and PUT back as GET gave it makes no version', async () => {
    const current = await json<ProgramDocument>(svc.api('/program'));
    const program = everySettingProgram();
    const saved = await svc.api('/program', { method: 'PUT', json: { ...current, program } });
    expect(saved.status).toBe(200);
    const document = await json<ProgramDocument>(svc.api('/program'));
    expect(document.program).toEqual(program);
    const before = versionCount();
    const again = await svc.api('/program', { method: 'PUT', json: document });
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ version: document.version, changed: false });
    expect(versionCount()).toBe(before);
    expect(await json(svc.api('/program'))).toEqual(document);
  });
});
