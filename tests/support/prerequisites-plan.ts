/**
 * What `npm test` needs from the machine besides node_modules, and what to do when some of it is
 * missing: the decision only, from facts gathered by `prerequisites.ts`, so it can be tested
 * without touching the machine's services.
 *
 * - `redis-server` on PATH: the tests start their own servers on free ports;
 * - PostgreSQL answering at TEST_DATABASE_URL (default 127.0.0.1:5432);
 * - Chromium at /usr/bin/chromium, for the browser tests.
 */

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface MachineFacts {
  /** Running as root on Debian or Ubuntu (apt-get present): the set-up may install and start services. */
  rootWithApt: boolean;
  /** apt-get is present (Debian or Ubuntu), whoever runs. */
  apt: boolean;
  redisServerOnPath: boolean;
  chromiumInstalled: boolean;
  postgres: {
    /** TEST_DATABASE_URL, or the default. */
    url: string;
    /** The URL names this machine (127.0.0.1, ::1 or localhost), so the set-up can start it. */
    local: boolean;
    answering: boolean;
    /** Server versions installed under /usr/lib/postgresql, newest last. */
    serverVersions: string[];
    /** Versions that have a `main` cluster under /etc/postgresql. */
    clusters: string[];
    /** The set-up installed the server in this run and has not configured it yet. */
    installedNow: boolean;
  };
}

export type SetupStep =
  | { kind: 'apt-install'; packages: string[] }
  | { kind: 'create-postgres-cluster'; version: string }
  | { kind: 'trust-local-postgres'; version: string }
  | { kind: 'start-postgres'; version: string }
  | { kind: 'restart-postgres'; version: string };

export type SetupPlan =
  | { kind: 'ready' }
  /** Steps to take, then gather the facts again. */
  | { kind: 'provision'; steps: SetupStep[] }
  | { kind: 'stop'; missing: string[]; command: string };

export function planSetup(facts: MachineFacts): SetupPlan {
  const { postgres } = facts;
  const packages = [
    ...(facts.redisServerOnPath ? [] : ['redis-server']),
    ...(facts.chromiumInstalled ? [] : ['chromium']),
    ...(postgres.answering || !postgres.local || postgres.serverVersions.length > 0 ? [] : ['postgresql']),
  ];
  const version = postgres.serverVersions.at(-1);
  const hasCluster = version !== undefined && postgres.clusters.includes(version);
  // A server this run installed, or a cluster it creates, gets the tests' trust authentication;
  // an existing one is left as it is configured.
  const configure = postgres.installedNow || !hasCluster;
  const postgresSteps: SetupStep[] =
    !postgres.local || version === undefined || (postgres.answering && !postgres.installedNow)
      ? []
      : [
          ...(hasCluster ? [] : [{ kind: 'create-postgres-cluster' as const, version }]),
          ...(configure ? [{ kind: 'trust-local-postgres' as const, version }] : []),
          // A server that already answers (Debian starts it on install) restarts to read its new pg_hba.conf.
          { kind: postgres.answering ? ('restart-postgres' as const) : ('start-postgres' as const), version },
        ];

  const missing = [
    ...(facts.redisServerOnPath ? [] : ['redis-server']),
    ...(facts.chromiumInstalled ? [] : [`Chromium at ${CHROMIUM_PATH}`]),
    ...(postgres.answering ? [] : [`PostgreSQL answering at ${hostAndPort(postgres.url)}`]),
  ];
  if (missing.length === 0 && postgresSteps.length === 0) return { kind: 'ready' };

  // A database on another machine is not ours to start.
  if (!postgres.answering && !postgres.local) {
    return {
      kind: 'stop',
      missing,
      command: `start the PostgreSQL server at ${hostAndPort(postgres.url)}, or point TEST_DATABASE_URL at one`,
    };
  }
  if (facts.rootWithApt) {
    return { kind: 'provision', steps: packages.length > 0 ? [{ kind: 'apt-install', packages }] : postgresSteps };
  }
  return { kind: 'stop', missing, command: manualCommand(facts, packages, postgresSteps) };
}

/** The one command a person runs instead, with the same steps the set-up would take as root. */
function manualCommand(facts: MachineFacts, packages: string[], postgresSteps: SetupStep[]): string {
  if (!facts.apt) {
    return `install ${packages.length ? packages.join(', ') : 'nothing new'}${packages.includes('chromium') ? ` (Chromium at ${CHROMIUM_PATH})` : ''}, start PostgreSQL on ${hostAndPort(facts.postgres.url)}, then run npm test again`;
  }
  const commands = [
    ...(packages.length ? ['apt-get update', `apt-get install -y ${packages.join(' ')}`] : []),
    // After an install the server's version is not known yet: start whichever was installed.
    ...(packages.includes('postgresql')
      ? ['pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start']
      : postgresSteps.map(shellCommand)),
  ];
  return `sudo sh -c '${commands.join(' && ')}'`;
}

export function shellCommand(step: SetupStep): string {
  switch (step.kind) {
    case 'apt-install':
      return `apt-get install -y ${step.packages.join(' ')}`;
    case 'create-postgres-cluster':
      return `pg_createcluster ${step.version} main`;
    case 'trust-local-postgres':
      return `printf "local all all trust\\nhost all all 127.0.0.1/32 trust\\nhost all all ::1/128 trust\\n" > /etc/postgresql/${step.version}/main/pg_hba.conf`;
    case 'start-postgres':
      return `pg_ctlcluster --skip-systemctl-redirect ${step.version} main start`;
    case 'restart-postgres':
      return `pg_ctlcluster --skip-systemctl-redirect ${step.version} main restart`;
  }
}

export function hostAndPort(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname || '127.0.0.1'}:${parsed.port || '5432'}`;
}

export function isLocalHost(url: string): boolean {
  return ['127.0.0.1', '[::1]', 'localhost', ''].includes(new URL(url).hostname);
}
