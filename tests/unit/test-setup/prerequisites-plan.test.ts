import { describe, expect, it } from 'vitest';
import { planSetup, shellCommand, type MachineFacts } from '../../support/prerequisites-plan.ts';

const everything: MachineFacts = {
  rootWithApt: true,
  apt: true,
  redisServerOnPath: true,
  chromiumInstalled: true,
  postgres: {
    url: 'postgres://postgres@127.0.0.1:5432/postgres',
    local: true,
    answering: true,
    serverVersions: ['15'],
    clusters: ['15'],
    installedNow: false,
  },
};

function facts(change: Partial<Omit<MachineFacts, 'postgres'>> & { postgres?: Partial<MachineFacts['postgres']> }): MachineFacts {
  return { ...everything, ...change, postgres: { ...everything.postgres, ...change.postgres } };
}

const bare = { redisServerOnPath: false, chromiumInstalled: false, postgres: { answering: false, serverVersions: [], clusters: [] } };

describe('planSetup', () => {
  it.each([
    ['root', true],
    ['not root', false],
  ])('does nothing when everything is there (%s)', (_, rootWithApt) => {
    expect(planSetup(facts({ rootWithApt }))).toEqual({ kind: 'ready' });
  });

  it('as root with apt, installs every missing package in one apt-get call', () => {
    expect(planSetup(facts(bare))).toEqual({
      kind: 'provision',
      steps: [{ kind: 'apt-install', packages: ['redis-server', 'chromium', 'postgresql'] }],
    });
  });

  it('then configures the PostgreSQL it installed for the tests and restarts it when Debian already started it', () => {
    expect(planSetup(facts({ postgres: { installedNow: true, answering: true } }))).toEqual({
      kind: 'provision',
      steps: [
        { kind: 'trust-local-postgres', version: '15' },
        { kind: 'restart-postgres', version: '15' },
      ],
    });
    expect(planSetup(facts({ postgres: { installedNow: true, answering: false } })).kind).toBe('provision');
  });

  it('starts an installed, stopped cluster without touching its configuration', () => {
    expect(planSetup(facts({ postgres: { answering: false } }))).toEqual({
      kind: 'provision',
      steps: [{ kind: 'start-postgres', version: '15' }],
    });
  });

  it('creates a missing cluster on the newest installed server, with trust authentication', () => {
    expect(planSetup(facts({ postgres: { answering: false, serverVersions: ['15', '16'], clusters: ['15'] } }))).toEqual({
      kind: 'provision',
      steps: [
        { kind: 'create-postgres-cluster', version: '16' },
        { kind: 'trust-local-postgres', version: '16' },
        { kind: 'start-postgres', version: '16' },
      ],
    });
  });

  it('leaves a PostgreSQL that answers alone, installed or not', () => {
    expect(planSetup(facts({ postgres: { serverVersions: [], clusters: [] } }))).toEqual({ kind: 'ready' });
  });

  it('without root, stops with the one command that does the same', () => {
    const plan = planSetup(facts({ ...bare, rootWithApt: false }));
    expect(plan).toEqual({
      kind: 'stop',
      missing: ['redis-server', 'Chromium at /usr/bin/chromium', 'PostgreSQL answering at 127.0.0.1:5432'],
      command:
        "sudo sh -c 'apt-get update && apt-get install -y redis-server chromium postgresql && pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'",
    });
  });

  it('without root, a stopped cluster gets its start command only', () => {
    expect(planSetup(facts({ rootWithApt: false, postgres: { answering: false } }))).toEqual({
      kind: 'stop',
      missing: ['PostgreSQL answering at 127.0.0.1:5432'],
      command: "sudo sh -c 'pg_ctlcluster --skip-systemctl-redirect 15 main start'",
    });
  });

  it('without apt, names what to install', () => {
    const plan = planSetup(facts({ rootWithApt: false, apt: false, chromiumInstalled: false }));
    expect(plan).toMatchObject({ kind: 'stop', missing: ['Chromium at /usr/bin/chromium'] });
    expect(plan.kind === 'stop' && plan.command).toMatch(/^install chromium \(Chromium at \/usr\/bin\/chromium\)/);
  });

  it('never tries to start a database on another machine, even as root', () => {
    const url = 'postgres://ci@db.internal:6543/referloop';
    expect(planSetup(facts({ postgres: { url, local: false, answering: false } }))).toEqual({
      kind: 'stop',
      missing: ['PostgreSQL answering at db.internal:6543'],
      command: 'start the PostgreSQL server at db.internal:6543, or point TEST_DATABASE_URL at one',
    });
  });
});

describe('shellCommand', () => {
  it('writes trust authentication for the local socket and both loopback addresses', () => {
    expect(shellCommand({ kind: 'trust-local-postgres', version: '15' })).toBe(
      'printf "local all all trust\\nhost all all 127.0.0.1/32 trust\\nhost all all ::1/128 trust\\n" > /etc/postgresql/15/main/pg_hba.conf',
    );
  });
});
