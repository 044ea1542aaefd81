/**
 * Conformance of the PostgreSQL repositories installations, programs, oauth-states, sessions,
 * console-users, card-keys and audit with the SQLite ones: each test makes the same calls on a
 * fresh SQLite store and on this file's PostgreSQL store, and expects the same answers (generated
 * ids, tokens and hashes compared by where they first appeared, ciphertexts by what they decrypt
 * to, instants the database stamps by their shape). PostgreSQL's many writers get tests of their own:
 * what must happen once happens once when several ask at the same moment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultProgram, type Program } from '../../../../src/domain/program.ts';
import type { Store } from '../../../../src/store/contract.ts';
import { createStore } from '../../../../src/store/index.ts';
import { openPostgres } from '../../../../src/store/postgres/db.ts';
import { createPostgresStore } from '../../../../src/store/postgres/index.ts';
import { scratchPostgresStore } from '../../../support/postgres.ts';
import { cipher, createTestDb } from '../../notify/fixtures.ts';

let pg: Store & { url: string };
beforeAll(async () => {
  pg = await scratchPostgresStore();
});
afterAll(async () => {
  await pg?.close();
});

// Instants the tests pass in are in 2030; the ones the databases stamp (created_at defaults) are today's.
const T0 = new Date('2030-01-01T00:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const pause = () => new Promise((resolve) => setTimeout(resolve, 3));

// The PostgreSQL store is shared by every test: each works on accounts of its own.
let tests = 0;
const unique = () => `t${++tests}-${Date.now().toString(36)}`;

/** One store of the pair, with what the test keeps of it (its installation's id…) and its aliases. */
interface Side {
  name: 'sqlite' | 'postgres';
  store: Store;
  vars: Record<string, string>;
  aliases: Map<string, string>;
}

const GENERATED = /^(inst|prg|usr|ckey|rlk)_/;
const OPAQUE_KEYS = new Set(['tokenHash', 'keyHash', 'csrfToken', 'hint', 'token', 'emailHash']);
const STAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The value with what legitimately differs between two stores replaced by what it stands for. */
function normalize(side: Side, value: unknown, key?: string): unknown {
  if (Array.isArray(value)) return value.map((item) => normalize(side, item));
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(side, v, k)]));
  }
  if (typeof value !== 'string') return value;
  if (key?.endsWith('Enc')) return `decrypts to ${normalize(side, side.store.cipher.decrypt(value), key.slice(0, -3))}`;
  if (GENERATED.test(value) || (key && OPAQUE_KEYS.has(key))) {
    let alias = side.aliases.get(value);
    if (!alias) {
      alias = `#${side.aliases.size + 1}`;
      side.aliases.set(value, alias);
    }
    return alias;
  }
  if (STAMP.test(value) && !value.startsWith('2030-')) return '<stamped by the database>';
  return value;
}

/** A fresh SQLite store and the shared PostgreSQL one; `both(fn)` runs fn on each, in turn, and returns the two answers normalized. */
function pair() {
  const sides: Side[] = [
    { name: 'sqlite', store: createStore(createTestDb(), cipher), vars: {}, aliases: new Map() },
    { name: 'postgres', store: pg, vars: {}, aliases: new Map() },
  ];
  const both = async <T>(fn: (side: Side) => Promise<T>): Promise<[unknown, unknown]> => {
    const answers: unknown[] = [];
    for (const side of sides) answers.push(normalize(side, await fn(side)));
    return answers as [unknown, unknown];
  };
  /** Both answers equal; the (normalized) answer. */
  const same = async <T>(fn: (side: Side) => Promise<T>): Promise<unknown> => {
    const [sqlite, postgres] = await both(fn);
    expect(postgres).toEqual(sqlite);
    return sqlite;
  };
  /** Both calls fail; their messages (which differ by dialect) are not compared. */
  const bothFail = async (fn: (side: Side) => Promise<unknown>) => {
    for (const side of sides) await expect(fn(side), side.name).rejects.toThrow();
  };
  return { sides, both, same, bothFail };
}

const install = (side: Side, accountId: string, extra: { accountName?: string; refreshToken?: string } = {}) =>
  side.store.installations.upsert({
    crm: 'hubspot',
    accountId,
    ...(extra.accountName !== undefined ? { accountName: extra.accountName } : {}),
    tokens: {
      accessToken: `access-${accountId}`,
      ...(extra.refreshToken ? { refreshToken: extra.refreshToken } : {}),
      expiresAt: '2030-01-01T01:00:00.000Z',
      scopes: ['crm.objects.deals.read', 'oauth'],
    },
    now: T0,
  });

/** An installation of the side's own, its id kept as `vars.inst`. */
async function withInstallation(side: Side, accountId: string): Promise<string> {
  const { row } = await install(side, accountId);
  side.vars.inst = row.id;
  return row.id;
}

describe('installations', () => {
  it('upsert creates, then on reinstall keeps the id, name and settings and replaces the grant', async () => {
    const { same } = pair();
    const account = unique();
    expect(
      await same(async (s) => {
        const first = await install(s, account, { accountName: 'Acme', refreshToken: 'refresh-1' });
        s.vars.inst = first.row.id;
        return first;
      }),
    ).toMatchObject({
      created: true,
      row: { accountName: 'Acme', status: 'active', settings: {}, scopes: ['crm.objects.deals.read', 'oauth'] },
    });
    await same(async (s) => s.store.installations.updateSettings(s.vars.inst!, { webToLeadCodeField: '00N1' }, at(1)));
    await same(async (s) => s.store.installations.markDisconnected(s.vars.inst!, 'token revoked', at(2)));
    const again = await same(async (s) => install(s, account));
    expect(again).toMatchObject({
      created: false,
      row: {
        id: '#1',
        accountName: 'Acme',
        status: 'active',
        statusReason: null,
        refreshTokenEnc: null,
        settings: { webToLeadCodeField: '00N1' },
        updatedAt: T0.toISOString(),
      },
    });
    // A new name replaces the old one.
    expect(await same(async (s) => (await install(s, account, { accountName: 'Acme Inc' })).row.accountName)).toBe('Acme Inc');
  });

  it('get, findByAccount and list; missing ones are undefined', async () => {
    const { same } = pair();
    const [a, b] = [unique(), unique()];
    await same(async (s) => {
      s.vars.a = (await install(s, a)).row.id;
      await pause();
      s.vars.b = (await install(s, b)).row.id;
      return [s.vars.a, s.vars.b];
    });
    expect(await same((s) => s.store.installations.get(s.vars.b!))).toMatchObject({ id: '#2', accountId: b, crm: 'hubspot' });
    expect(await same((s) => s.store.installations.findByAccount('hubspot', a))).toMatchObject({ id: '#1' });
    expect(await same((s) => s.store.installations.findByAccount('salesforce', a))).toBeUndefined();
    expect(await same((s) => s.store.installations.get('inst_missing'))).toBeUndefined();
    // The PostgreSQL store holds other tests' installations too: compare this test's, in the order listed.
    const listed = await same(async (s) =>
      (await s.store.installations.list()).filter((row) => row.accountId === a || row.accountId === b).map((row) => row.id),
    );
    expect(listed).toEqual(['#1', '#2']);
  });

  it('tokens decrypt the grant; saveTokens keeps the refresh token and instance URL a refresh leaves out', async () => {
    const { same } = pair();
    const account = unique();
    await same(async (s) => {
      await install(s, account, { refreshToken: 'refresh-1' });
    });
    const tokens = (s: Side) => s.store.installations.findByAccount('hubspot', account).then((row) => s.store.installations.tokens(row!));
    expect(await same(tokens)).toEqual({
      accessToken: `access-${account}`,
      refreshToken: 'refresh-1',
      expiresAt: '2030-01-01T01:00:00.000Z',
      scopes: ['crm.objects.deals.read', 'oauth'],
    });
    await same(async (s) => {
      const row = await s.store.installations.findByAccount('hubspot', account);
      await s.store.installations.saveTokens(
        row!.id,
        { accessToken: 'access-2', instanceUrl: 'https://org.salesforce-sandbox.invalid' },
        at(5),
      );
      await s.store.installations.saveTokens(row!.id, { accessToken: 'access-3' }, at(6));
    });
    expect(await same(tokens)).toEqual({
      accessToken: 'access-3',
      refreshToken: 'refresh-1',
      instanceUrl: 'https://org.salesforce-sandbox.invalid',
      scopes: ['crm.objects.deals.read', 'oauth'],
    });
    expect(await same(async (s) => (await s.store.installations.findByAccount('hubspot', account))!.updatedAt)).toBe(at(6).toISOString());
  });

  it('updateSettings merges at the top level, drops keys set to undefined, and ignores a missing installation', async () => {
    const { same } = pair();
    const account = unique();
    await same((s) => withInstallation(s, account));
    const stageMapping = { default: { appointmentscheduled: 'qualified', closedwon: 'closed_won' } };
    await same(async (s) => {
      await s.store.installations.updateSettings(s.vars.inst!, { stageMapping, webToLeadCodeField: '00N1' }, at(1));
      await s.store.installations.updateSettings(s.vars.inst!, { stageLabels: { default: { closedwon: 'Closed won' } } }, at(2));
      await s.store.installations.updateSettings(
        s.vars.inst!,
        { webToLeadCodeField: undefined, stageMapping: { p2: { s: 'won' } } },
        at(3),
      );
      await s.store.installations.updateSettings('inst_missing', { webToLeadCodeField: 'x' }, at(4));
    });
    const settings = await same(async (s) => {
      const row = await s.store.installations.get(s.vars.inst!);
      return { settings: await s.store.installations.settings(row!), updatedAt: row!.updatedAt };
    });
    expect(settings).toEqual({
      settings: { stageMapping: { p2: { s: 'won' } }, stageLabels: { default: { closedwon: 'Closed won' } } },
      updatedAt: at(3).toISOString(),
    });
    expect(await same((s) => s.store.installations.get('inst_missing'))).toBeUndefined();
  });

  it('routeFor answers the route, this process sees its own disconnect at once, and forgets unknown accounts', async () => {
    const { same } = pair();
    const account = unique();
    expect(await same((s) => s.store.installations.routeFor('hubspot', account))).toBeUndefined();
    await same((s) => withInstallation(s, account));
    // Unknown a moment ago, known now: an unknown account is never remembered.
    expect(await same((s) => s.store.installations.routeFor('hubspot', account))).toEqual({ id: '#1', status: 'active' });
    await same((s) => s.store.installations.markDisconnected(s.vars.inst!, 'uninstalled', at(1)));
    expect(await same((s) => s.store.installations.routeFor('hubspot', account))).toEqual({ id: '#1', status: 'disconnected' });
  });

  it('routeFor reuses a route for a second, then reads again (on PostgreSQL, another process changed it meanwhile)', async () => {
    const account = unique();
    const { row } = await install({ name: 'postgres', store: pg, vars: {}, aliases: new Map() }, account);
    const now = Date.now();
    expect(await pg.installations.routeFor('hubspot', account, now)).toEqual({ id: row.id, status: 'active' });
    // Another process disconnects it: this store's cache does not know.
    const other = await scratchPostgresStoreOn(pg);
    await other.installations.markDisconnected(row.id, 'uninstalled', at(1));
    expect(await pg.installations.routeFor('hubspot', account, now + 500)).toEqual({ id: row.id, status: 'active' });
    expect(await pg.installations.routeFor('hubspot', account, now + 1_001)).toEqual({ id: row.id, status: 'disconnected' });
  });

  it('on PostgreSQL, installing one account from several processes at once makes one installation', async () => {
    const account = unique();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        pg.installations.upsert({ crm: 'salesforce', accountId: account, tokens: { accessToken: `a${i}` }, now: at(i) }),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.row.id)).size).toBe(1);
    expect((await pg.installations.list()).filter((row) => row.accountId === account)).toHaveLength(1);
  });

  it('on PostgreSQL, settings patched at once all land', async () => {
    const { row } = await install({ name: 'postgres', store: pg, vars: {}, aliases: new Map() }, unique());
    await Promise.all(Array.from({ length: 8 }, (_, i) => pg.installations.updateSettings(row.id, { [`key${i}`]: i } as never, at(i))));
    const settings = (await pg.installations.get(row.id))!.settings;
    expect(Object.keys(settings).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `key${i}`));
  });
});

/** A second PostgreSQL store on the same database: another process, with caches of its own. */
async function scratchPostgresStoreOn(store: Store & { url: string }): Promise<Store> {
  const other = createPostgresStore(openPostgres(store.url, { poolSize: 1 }), store.cipher);
  others.push(other);
  return other;
}
const others: Store[] = [];
afterAll(async () => {
  await Promise.all(others.map((store) => store.close()));
});

describe('programs', () => {
  const settings = (name: string): Program => ({ ...defaultProgram(), name });

  it('create, get, defaultProgram and list; one default per installation', async () => {
    const { same, bothFail } = pair();
    await same((s) => withInstallation(s, unique()));
    expect(await same((s) => s.store.programs.defaultProgram(s.vars.inst!))).toBeUndefined();
    expect(await same((s) => s.store.programs.list(s.vars.inst!))).toEqual([]);
    const created = await same(async (s) => {
      const main = await s.store.programs.create(s.vars.inst!, true);
      s.vars.main = main.id;
      return main;
    });
    expect(created).toEqual({ id: '#2', installationId: '#1', isDefault: true, createdAt: '<stamped by the database>' });
    await same(async (s) => {
      await pause();
      s.vars.second = (await s.store.programs.create(s.vars.inst!, false)).id;
    });
    await bothFail((s) => s.store.programs.create(s.vars.inst!, true));
    expect(await same((s) => s.store.programs.get(s.vars.second!))).toMatchObject({ id: '#3', isDefault: false });
    expect(await same((s) => s.store.programs.get('prg_missing'))).toBeUndefined();
    expect(await same((s) => s.store.programs.defaultProgram(s.vars.inst!))).toMatchObject({ id: '#2' });
    expect(await same(async (s) => (await s.store.programs.list(s.vars.inst!)).map((p) => p.id))).toEqual(['#2', '#3']);
  });

  it('versions: numbered from 1, newest first, JSON kept, claims defaulted for a version saved without them', async () => {
    const { same } = pair();
    await same(async (s) => {
      await withInstallation(s, unique());
      s.vars.main = (await s.store.programs.create(s.vars.inst!, true)).id;
    });
    expect(await same((s) => s.store.programs.current(s.vars.main!))).toBeUndefined();
    expect(await same((s) => s.store.programs.currentDefault(s.vars.inst!))).toBeUndefined();
    expect(await same((s) => s.store.programs.currentDefault('inst_missing'))).toBeUndefined();
    const { claims: _claims, ...withoutClaims } = settings('Before claims');
    const first = await same(async (s) =>
      s.store.programs.addVersion((await s.store.programs.get(s.vars.main!))!, withoutClaims as Program, 'user:1 a@b.test'),
    );
    expect(first).toEqual({
      programId: '#1',
      version: 1,
      program: settings('Before claims'),
      createdBy: 'user:1 a@b.test',
      createdAt: '<stamped by the database>',
    });
    const second = await same(async (s) =>
      s.store.programs.addVersion((await s.store.programs.get(s.vars.main!))!, settings('Second'), 'user:2'),
    );
    expect(second).toMatchObject({ version: 2, program: { name: 'Second' } });
    expect(await same((s) => s.store.programs.current(s.vars.main!))).toMatchObject({ version: 2 });
    expect(await same((s) => s.store.programs.currentDefault(s.vars.inst!))).toMatchObject({ version: 2 });
    expect(await same((s) => s.store.programs.version(s.vars.main!, 1))).toMatchObject({ version: 1, program: { name: 'Before claims' } });
    expect(await same((s) => s.store.programs.version(s.vars.main!, 3))).toBeUndefined();
    expect(await same(async (s) => (await s.store.programs.history(s.vars.main!)).map((v) => v.version))).toEqual([2, 1]);
    expect(await same((s) => s.store.programs.history('prg_missing'))).toEqual([]);
  });

  it('memberships: a referrer joins programs once each, listed in the order joined, and leaves one', async () => {
    const { same } = pair();
    const programIds = await same(async (s) => {
      await withInstallation(s, unique());
      s.vars.main = (await s.store.programs.create(s.vars.inst!, true)).id;
      await pause();
      s.vars.partners = (await s.store.programs.create(s.vars.inst!, false)).id;
      s.vars.referrer = (
        await s.store.referrals.insertReferrer({ installationId: s.vars.inst!, email: 'p@x.test', name: 'P', type: 'partner' })
      ).id;
      return [s.vars.main, s.vars.partners];
    });
    expect(programIds).toEqual(['#1', '#2']);
    expect(await same((s) => s.store.programs.programsOf(s.vars.referrer!))).toEqual([]);
    const joins = await same(async (s) => {
      const partners = (await s.store.programs.get(s.vars.partners!))!;
      const first = await s.store.programs.join(partners, s.vars.referrer!);
      await pause();
      const main = await s.store.programs.join((await s.store.programs.get(s.vars.main!))!, s.vars.referrer!);
      return [first, main, await s.store.programs.join(partners, s.vars.referrer!)];
    });
    expect(joins).toEqual([true, true, false]);
    expect(await same(async (s) => (await s.store.programs.programsOf(s.vars.referrer!)).map((p) => p.id))).toEqual(['#2', '#1']);
    expect(await same((s) => s.store.programs.programsOf('rfr_missing'))).toEqual([]);
    const emailsIn = (s: Side, programId: string) => s.store.programs.members(programId).then((m) => m.map((row) => row.referrer.email));
    expect(await same((s) => emailsIn(s, s.vars.partners!))).toEqual(['p@x.test']);

    const leaves = await same(async (s) => {
      const partners = (await s.store.programs.get(s.vars.partners!))!;
      return [await s.store.programs.leave(partners, s.vars.referrer!), await s.store.programs.leave(partners, s.vars.referrer!)];
    });
    expect(leaves).toEqual([true, false]);
    expect(await same(async (s) => (await s.store.programs.programsOf(s.vars.referrer!)).map((p) => p.id))).toEqual(['#1']);
    expect(await same((s) => emailsIn(s, s.vars.partners!))).toEqual([]);
    expect(await same((s) => emailsIn(s, s.vars.main!))).toEqual(['p@x.test']);
  });

  it('on PostgreSQL, versions added at once get consecutive numbers', async () => {
    const inst = (await install({ name: 'postgres', store: pg, vars: {}, aliases: new Map() }, unique())).row.id;
    const program = await pg.programs.create(inst, true);
    const added = await Promise.all(Array.from({ length: 6 }, (_, i) => pg.programs.addVersion(program, settings(`v${i}`), 'test')));
    expect(added.map((v) => v.version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await pg.programs.history(program.id)).map((v) => v.version)).toEqual([6, 5, 4, 3, 2, 1]);
  });
});

describe('oauth states', () => {
  const state = (name: string, expiresAt: Date, purpose?: 'install' | 'sign_in') => ({
    state: name,
    crm: 'salesforce' as const,
    codeVerifier: name.endsWith('pkce') ? 'verifier' : null,
    expiresAt: expiresAt.toISOString(),
    ...(purpose ? { purpose } : {}),
  });

  it('a state works once; saving drops expired states; a state saved twice is refused', async () => {
    const { same, bothFail } = pair();
    const id = unique();
    await same(async (s) => {
      await s.store.oauthStates.save(state(`${id}-old`, at(10)), at(0));
      await s.store.oauthStates.save(state(`${id}-pkce`, at(20), 'sign_in'), at(5));
    });
    await bothFail((s) => s.store.oauthStates.save(state(`${id}-pkce`, at(30)), at(5)));
    expect(await same((s) => s.store.oauthStates.take(`${id}-pkce`))).toEqual({
      state: `${id}-pkce`,
      crm: 'salesforce',
      codeVerifier: 'verifier',
      expiresAt: at(20).toISOString(),
      purpose: 'sign_in',
    });
    expect(await same((s) => s.store.oauthStates.take(`${id}-pkce`))).toBeUndefined();
    // Saved at minute 15: the state that expired at minute 10 is gone; one expiring then would stay.
    await same(async (s) => {
      await s.store.oauthStates.save(state(`${id}-edge`, at(15)), at(11));
      await s.store.oauthStates.save(state(`${id}-new`, at(40)), at(15));
    });
    expect(await same((s) => s.store.oauthStates.take(`${id}-old`))).toBeUndefined();
    expect(await same((s) => s.store.oauthStates.take(`${id}-edge`))).toMatchObject({ purpose: 'install', codeVerifier: null });
    expect(await same((s) => s.store.oauthStates.take(`${id}-new`))).toMatchObject({ state: `${id}-new` });
  });

  it('on PostgreSQL, one state taken by several callbacks at once is given to one', async () => {
    const id = unique();
    await pg.oauthStates.save(state(id, new Date('2099-01-01T00:00:00.000Z')), at(0));
    const taken = await Promise.all(Array.from({ length: 6 }, () => pg.oauthStates.take(id)));
    expect(taken.filter(Boolean)).toHaveLength(1);
  });
});

describe('sessions and sign-in links', () => {
  const link = (
    s: Side,
    values: { email: string; ip: string; expiresAt: Date; createdAt: Date; origin?: 'request' | 'email' | 'invite' },
  ) =>
    s.store.sessions.addLink({
      installationId: s.vars.inst!,
      email: values.email,
      referrerId: values.origin === 'invite' ? null : 'rfr_1',
      ...(values.origin === 'invite' ? { consoleUserId: 'console-user-1' } : {}),
      ip: values.ip,
      expiresAt: values.expiresAt.toISOString(),
      createdAt: values.createdAt.toISOString(),
      ...(values.origin ? { origin: values.origin } : {}),
    });

  it('open, live, revoke: a revoked or expired session is not live', async () => {
    const { same } = pair();
    await same((s) => withInstallation(s, unique()));
    const opened = await same(async (s) => {
      const { token, row } = await s.store.sessions.open({
        subjectKind: 'referrer',
        subjectId: 'rfr_1',
        installationId: s.vars.inst!,
        role: 'referrer',
        expiresAt: at(60).toISOString(),
      });
      s.vars.token = token;
      return row;
    });
    expect(opened).toEqual({
      tokenHash: '#2',
      subjectKind: 'referrer',
      subjectId: 'rfr_1',
      installationId: '#1',
      role: 'referrer',
      csrfToken: '#3',
      expiresAt: at(60).toISOString(),
      revokedAt: null,
      createdAt: '<stamped by the database>',
    });
    expect(await same((s) => s.store.sessions.live(s.vars.token!, at(59)))).toMatchObject({ tokenHash: '#2' });
    expect(await same((s) => s.store.sessions.live(s.vars.token!, at(60)))).toBeUndefined();
    expect(await same((s) => s.store.sessions.live('no-such-token', at(0)))).toBeUndefined();
    await same(async (s) => {
      await s.store.sessions.revoke(s.vars.token!, at(10));
      await s.store.sessions.revoke(s.vars.token!, at(20));
      await s.store.sessions.revoke('no-such-token', at(20));
    });
    expect(await same((s) => s.store.sessions.live(s.vars.token!, at(11)))).toBeUndefined();
  });

  it('a link works once, for its installation and kind of subject, before it expires; each refusal says why', async () => {
    const { same } = pair();
    await same(async (s) => {
      await withInstallation(s, unique());
      s.vars.other = (await install(s, unique())).row.id;
      s.vars.link = await link(s, { email: 'Ann@Example.test', ip: '10.0.0.1', expiresAt: at(15), createdAt: at(0) });
      s.vars.late = await link(s, { email: 'ann@example.test', ip: '10.0.0.1', expiresAt: at(15), createdAt: at(0) });
      s.vars.invite = await link(s, { email: 'bob@example.test', ip: '10.0.0.2', expiresAt: at(15), createdAt: at(0), origin: 'invite' });
    });
    expect(await same((s) => s.store.sessions.useLink('no-such-token', s.vars.inst!, at(1)))).toEqual({ ok: false, reason: 'unknown' });
    expect(await same((s) => s.store.sessions.useLink(s.vars.link!, s.vars.other!, at(1)))).toEqual({ ok: false, reason: 'unknown' });
    expect(await same((s) => s.store.sessions.useConsoleLink(s.vars.link!, s.vars.inst!, at(1)))).toEqual({ ok: false, reason: 'unknown' });
    expect(await same((s) => s.store.sessions.useLink(s.vars.invite!, s.vars.inst!, at(1)))).toEqual({ ok: false, reason: 'unknown' });
    expect(await same((s) => s.store.sessions.useLink(s.vars.link!, s.vars.inst!, at(1)))).toEqual({ ok: true, referrerId: 'rfr_1' });
    expect(await same((s) => s.store.sessions.useLink(s.vars.link!, s.vars.inst!, at(2)))).toEqual({ ok: false, reason: 'used' });
    // Used, then past its expiry: still "used".
    expect(await same((s) => s.store.sessions.useLink(s.vars.link!, s.vars.inst!, at(16)))).toEqual({ ok: false, reason: 'used' });
    expect(await same((s) => s.store.sessions.useLink(s.vars.late!, s.vars.inst!, at(15)))).toEqual({ ok: false, reason: 'expired' });
    expect(await same((s) => s.store.sessions.useConsoleLink(s.vars.invite!, s.vars.inst!, at(14)))).toEqual({
      ok: true,
      consoleUserId: 'console-user-1',
    });
    expect(await same((s) => s.store.sessions.useConsoleLink(s.vars.invite!, s.vars.inst!, at(14)))).toEqual({ ok: false, reason: 'used' });
  });

  it('recentLinkRequests counts requests since the instant, by lower-cased email and by address, not minted links', async () => {
    const { same } = pair();
    const email = `${unique()}@example.test`;
    const ip = `ip-${unique()}`;
    await same(async (s) => {
      await withInstallation(s, unique());
      await link(s, { email: email.toUpperCase(), ip, expiresAt: at(15), createdAt: at(0) });
      await link(s, { email, ip: 'elsewhere', expiresAt: at(15), createdAt: at(5) });
      await link(s, { email: `other-${email}`, ip, expiresAt: at(15), createdAt: at(6) });
      await link(s, { email, ip, expiresAt: at(15), createdAt: at(7), origin: 'email' });
      await link(s, { email, ip, expiresAt: at(15), createdAt: at(8), origin: 'invite' });
    });
    expect(await same((s) => s.store.sessions.recentLinkRequests(email, ip, at(0)))).toEqual({ email: 2, ip: 2 });
    expect(await same((s) => s.store.sessions.recentLinkRequests(email, ip, at(5)))).toEqual({ email: 1, ip: 1 });
    expect(await same((s) => s.store.sessions.recentLinkRequests(email, ip, at(9)))).toEqual({ email: 0, ip: 0 });
    expect(await same((s) => s.store.sessions.recentLinkRequests('nobody@x.test', 'nowhere', at(0)))).toEqual({ email: 0, ip: 0 });
  });

  it('on PostgreSQL, a link opened several times at once works once', async () => {
    const side: Side = { name: 'postgres', store: pg, vars: {}, aliases: new Map() };
    await withInstallation(side, unique());
    const token = await link(side, { email: 'c@example.test', ip: '10.0.0.3', expiresAt: at(15), createdAt: at(0) });
    const used = await Promise.all(Array.from({ length: 6 }, () => pg.sessions.useLink(token, side.vars.inst!, at(1))));
    expect(used.filter((u) => u.ok)).toHaveLength(1);
    expect(used.filter((u) => !u.ok)).toEqual(Array(5).fill({ ok: false, reason: 'used' }));
  });
});

describe('console users', () => {
  const invite = (
    s: Side,
    email: string,
    extra: { name?: string | null; crmUserId?: string | null; role?: 'admin' | 'viewer'; now?: Date } = {},
  ) =>
    s.store.consoleUsers.upsert({
      installationId: s.vars.inst!,
      email,
      ...(extra.name !== undefined ? { name: extra.name } : {}),
      ...(extra.crmUserId !== undefined ? { crmUserId: extra.crmUserId } : {}),
      role: extra.role ?? 'admin',
      invitedBy: 'crm',
      now: extra.now ?? at(0),
    });

  it('upsert: one row per email; again changes role, name and CRM id and un-revokes; revoke ends their sessions', async () => {
    const { same } = pair();
    await same((s) => withInstallation(s, unique()));
    const first = await same(async (s) => {
      const result = await invite(s, 'Ann@Example.test', { name: 'Ann', crmUserId: '42' });
      s.vars.ann = result.row.id;
      return result;
    });
    expect(first).toEqual({
      before: undefined,
      row: {
        id: '#2',
        installationId: '#1',
        email: 'ann@example.test',
        name: 'Ann',
        role: 'admin',
        crmUserId: '42',
        invitedBy: 'crm',
        createdAt: at(0).toISOString(),
        revokedAt: null,
      },
    });
    await same(async (s) => {
      s.vars.bob = (await invite(s, 'bob@example.test', { role: 'viewer', now: at(1) })).row.id;
      const { token } = await s.store.sessions.open({
        subjectKind: 'user',
        subjectId: s.vars.ann!,
        installationId: s.vars.inst!,
        role: 'admin',
        expiresAt: at(600).toISOString(),
      });
      s.vars.session = token;
    });
    await same(async (s) => {
      await s.store.consoleUsers.revoke(s.vars.ann!, at(2));
      await s.store.consoleUsers.revoke(s.vars.ann!, at(3));
      await s.store.consoleUsers.revoke('usr_missing', at(3));
    });
    expect(await same((s) => s.store.sessions.live(s.vars.session!, at(4)))).toBeUndefined();
    expect(await same((s) => s.store.consoleUsers.get(s.vars.ann!))).toMatchObject({ revokedAt: at(2).toISOString() });
    const again = await same((s) => invite(s, 'ANN@example.test', { name: null, role: 'viewer', now: at(5) }));
    expect(again).toMatchObject({
      before: { id: '#2', revokedAt: at(2).toISOString(), role: 'admin' },
      row: { id: '#2', revokedAt: null, role: 'viewer', name: 'Ann', crmUserId: '42', createdAt: at(0).toISOString() },
    });
    expect(await same((s) => invite(s, 'ann@example.test', { name: 'Ann B', crmUserId: '43' }))).toMatchObject({
      row: { name: 'Ann B', crmUserId: '43' },
    });
    expect(await same(async (s) => (await s.store.consoleUsers.list(s.vars.inst!)).map((u) => [u.id, u.email]))).toEqual([
      ['#2', 'ann@example.test'],
      ['#3', 'bob@example.test'],
    ]);
    expect(await same((s) => s.store.consoleUsers.get('usr_missing'))).toBeUndefined();
    expect(await same((s) => s.store.consoleUsers.list('inst_missing'))).toEqual([]);
  });

  it('on PostgreSQL, the same email invited several times at once is one user', async () => {
    const side: Side = { name: 'postgres', store: pg, vars: {}, aliases: new Map() };
    await withInstallation(side, unique());
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => invite(side, 'dup@example.test', { name: `n${i}` })));
    expect(new Set(results.map((r) => r.row.id)).size).toBe(1);
    expect(results.filter((r) => r.before === undefined)).toHaveLength(1);
    expect(await pg.consoleUsers.list(side.vars.inst!)).toHaveLength(1);
  });
});

describe('card keys', () => {
  const issue = (s: Side, minutes: number, overlapMinutes: number, revealOnce?: boolean) =>
    s.store.cardKeys.issue({
      installationId: s.vars.inst!,
      createdBy: 'user:1',
      now: at(minutes),
      overlapUntil: at(minutes + overlapMinutes),
      ...(revealOnce !== undefined ? { revealOnce } : {}),
    });

  it('issue rotates: older active keys expire at the overlap unless sooner, and lose a secret not yet shown', async () => {
    const { same } = pair();
    await same((s) => withInstallation(s, unique()));
    const first = await same(async (s) => {
      const issued = await issue(s, 0, 60, true);
      s.vars.first = issued.key;
      return issued;
    });
    expect(first).toEqual({
      key: '#2',
      row: {
        id: '#3',
        installationId: '#1',
        keyHash: '#4',
        hint: '#5',
        createdBy: 'user:1',
        createdAt: at(0).toISOString(),
        expiresAt: null,
        revokedAt: null,
        revealOnceEnc: 'decrypts to #2',
      },
    });
  });

  it('list, active, get, authenticate, takeRevealOnce and revoke', async () => {
    const { same } = pair();
    await same((s) => withInstallation(s, unique()));
    await same(async (s) => {
      s.vars.k1 = (await issue(s, 0, 60, true)).key;
    });
    // The install's key is shown once, and is the key.
    const taken = await same(async (s) => {
      const result = await s.store.cardKeys.takeRevealOnce(s.vars.inst!);
      return { sameKey: result?.key === s.vars.k1, row: result?.row };
    });
    expect(taken).toMatchObject({ sameKey: true, row: { revealOnceEnc: null } });
    expect(await same((s) => s.store.cardKeys.takeRevealOnce(s.vars.inst!))).toBeUndefined();
    await same(async (s) => {
      s.vars.k2 = (await issue(s, 10, 60, true)).key;
      s.vars.k3 = (await issue(s, 20, 5)).key;
    });
    // k1 expires at 70 → 25 (sooner), k2 at 25; k2's secret was never shown and never will be.
    expect(await same((s) => s.store.cardKeys.takeRevealOnce(s.vars.inst!))).toBeUndefined();
    const listed = await same((s) => s.store.cardKeys.list(s.vars.inst!));
    expect((listed as { expiresAt: string | null; revealOnceEnc: string | null }[]).map((k) => [k.expiresAt, k.revealOnceEnc])).toEqual([
      [at(25).toISOString(), null],
      [at(25).toISOString(), null],
      [null, null],
    ]);
    expect(await same(async (s) => (await s.store.cardKeys.active(s.vars.inst!, at(24))).length)).toBe(3);
    expect(await same(async (s) => (await s.store.cardKeys.active(s.vars.inst!, at(25))).length)).toBe(1);
    const authenticated = await same(async (s) => {
      const [k1, k3] = [await s.store.cardKeys.authenticate(s.vars.k1!, at(24)), await s.store.cardKeys.authenticate(s.vars.k3!, at(100))];
      const expired = await s.store.cardKeys.authenticate(s.vars.k1!, at(25));
      const unknown = await s.store.cardKeys.authenticate('rlk_not-a-key', at(0));
      s.vars.k3id = k3!.id;
      return { k1: k1?.createdAt, k3: k3?.createdAt, expired, unknown };
    });
    expect(authenticated).toEqual({ k1: at(0).toISOString(), k3: at(20).toISOString(), expired: undefined, unknown: undefined });
    const revoked = await same((s) => s.store.cardKeys.revoke(s.vars.k3id!, at(30)));
    expect(revoked).toMatchObject({ revokedAt: at(30).toISOString(), revealOnceEnc: null, createdAt: at(20).toISOString() });
    expect(await same((s) => s.store.cardKeys.authenticate(s.vars.k3!, at(31)))).toBeUndefined();
    expect(await same((s) => s.store.cardKeys.get(s.vars.k3id!))).toMatchObject({ revokedAt: at(30).toISOString() });
    expect(await same((s) => s.store.cardKeys.get('ckey_missing'))).toBeUndefined();
    expect(await same((s) => s.store.cardKeys.revoke('ckey_missing', at(30)))).toBeUndefined();
    // A new key after every one expired or was revoked: nothing to rotate.
    expect(await same(async (s) => (await issue(s, 40, 5, true)).row.expiresAt)).toBeNull();
    expect(await same(async (s) => (await s.store.cardKeys.active(s.vars.inst!, at(40))).length)).toBe(1);
  });

  it('a revoked key is never revealed', async () => {
    const { same } = pair();
    await same(async (s) => {
      await withInstallation(s, unique());
      const { row } = await issue(s, 0, 60, true);
      await s.store.cardKeys.revoke(row.id, at(1));
    });
    expect(await same((s) => s.store.cardKeys.takeRevealOnce(s.vars.inst!))).toBeUndefined();
  });

  it('on PostgreSQL, the install key asked for several times at once is shown once', async () => {
    const side: Side = { name: 'postgres', store: pg, vars: {}, aliases: new Map() };
    await withInstallation(side, unique());
    const { key } = await issue(side, 0, 60, true);
    const taken = await Promise.all(Array.from({ length: 6 }, () => pg.cardKeys.takeRevealOnce(side.vars.inst!)));
    expect(taken.filter(Boolean).map((t) => t!.key)).toEqual([key]);
  });

  it('on PostgreSQL, two rotations at once leave one key without an expiry', async () => {
    const side: Side = { name: 'postgres', store: pg, vars: {}, aliases: new Map() };
    await withInstallation(side, unique());
    await issue(side, 0, 60);
    await Promise.all([issue(side, 10, 60), issue(side, 10, 60), issue(side, 10, 60)]);
    const keys = await pg.cardKeys.list(side.vars.inst!);
    expect(keys).toHaveLength(4);
    expect(keys.filter((k) => k.expiresAt === null)).toHaveLength(1);
  });
});

describe('audit and decisions', () => {
  it('record and forSubject (newest first, JSON and nulls kept); decide, decisionsFor and latestDecisions', async () => {
    const { same } = pair();
    const subject = unique();
    await same(async (s) => {
      await withInstallation(s, unique());
      await s.store.audit.record({
        installationId: s.vars.inst!,
        actor: 'user:1',
        action: 'program.update',
        subjectType: 'program',
        subjectId: subject,
        before: null,
        after: { name: 'New', rewardRules: [{ amountCents: 5_000 }], nested: { ok: true, none: null } },
        at: at(1).toISOString(),
      });
      await s.store.audit.record({
        installationId: null,
        actor: 'system',
        action: 'note',
        subjectType: 'program',
        subjectId: subject,
        before: 'a string',
        after: [1, 'two', 3.5],
        at: at(2).toISOString(),
      });
      await s.store.audit.record({
        actor: 'system',
        action: 'other',
        subjectType: 'referral',
        subjectId: subject,
        at: at(3).toISOString(),
      });
    });
    const trail = await same((s) => s.store.audit.forSubject('program', subject));
    expect((trail as { id: number }[]).map(({ id: _id, ...rest }) => rest)).toEqual([
      {
        installationId: null,
        actor: 'system',
        action: 'note',
        subjectType: 'program',
        subjectId: subject,
        before: 'a string',
        after: [1, 'two', 3.5],
        at: at(2).toISOString(),
      },
      {
        installationId: '#1',
        actor: 'user:1',
        action: 'program.update',
        subjectType: 'program',
        subjectId: subject,
        before: null,
        after: { name: 'New', rewardRules: [{ amountCents: 5_000 }], nested: { ok: true, none: null } },
        at: at(1).toISOString(),
      },
    ]);
    expect(await same((s) => s.store.audit.forSubject('program', 'nothing'))).toEqual([]);

    await same(async (s) => {
      const decide = (
        subjectId: string,
        kind: 'eligibility' | 'attribution',
        outcome: unknown,
        subjectType: 'company' | 'deal' = 'company',
      ) => s.store.audit.decide({ installationId: s.vars.inst!, subjectType, subjectId, kind, outcome });
      await decide('c1', 'eligibility', { eligible: false, reasons: ['too_new'] });
      await decide('c2', 'eligibility', { eligible: true, reasons: [] });
      await decide('c1', 'eligibility', { eligible: true, reasons: ['aged'] });
      // Several at once land in the order given.
      await s.store.audit.decideAll([
        { installationId: s.vars.inst!, subjectType: 'company', subjectId: 'c3', kind: 'attribution', outcome: { first: true } },
        { installationId: s.vars.inst!, subjectType: 'company', subjectId: 'c3', kind: 'attribution', outcome: { second: true } },
      ]);
      await s.store.audit.decideAll([]);
      await decide('c1', 'attribution', { winner: null });
      await decide('c1', 'eligibility', { eligible: true }, 'deal');
    });
    const outcomes = (rows: unknown) =>
      (rows as { subjectId: string; kind: string; outcome: unknown }[]).map((r) => [r.subjectId, r.kind, r.outcome]);
    expect(outcomes(await same((s) => s.store.audit.decisionsFor(s.vars.inst!, 'company', 'c1')))).toEqual([
      ['c1', 'attribution', { winner: null }],
      ['c1', 'eligibility', { eligible: true, reasons: ['aged'] }],
      ['c1', 'eligibility', { eligible: false, reasons: ['too_new'] }],
    ]);
    expect(outcomes(await same((s) => s.store.audit.decisionsFor(s.vars.inst!, 'company', 'c3')))).toEqual([
      ['c3', 'attribution', { second: true }],
      ['c3', 'attribution', { first: true }],
    ]);
    expect(outcomes(await same((s) => s.store.audit.latestDecisions(s.vars.inst!, 'company', 'eligibility')))).toEqual([
      ['c2', 'eligibility', { eligible: true, reasons: [] }],
      ['c1', 'eligibility', { eligible: true, reasons: ['aged'] }],
    ]);
    expect(await same((s) => s.store.audit.latestDecisions(s.vars.inst!, 'referral', 'reward_plan'))).toEqual([]);
    expect(await same((s) => s.store.audit.decisionsFor('inst_missing', 'company', 'c1'))).toEqual([]);
    const createdAt = await same(async (s) => (await s.store.audit.decisionsFor(s.vars.inst!, 'deal', 'c1'))[0]?.createdAt);
    expect(createdAt).toBe('<stamped by the database>');
  });
});
