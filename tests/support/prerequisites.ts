/**
 * `npm run test:setup`, the first step of `npm test`: checks that the machine has what the tests
 * need (see `prerequisites-plan.ts`). When something is missing it installs and starts it as root
 * on Debian or Ubuntu (as in CI), and otherwise stops at once with the one command to run.
 * Everything present costs a few file checks and one TCP connect.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import {
  CHROMIUM_PATH,
  DEFAULT_TEST_DATABASE_URL,
  hostAndPort,
  isLocalHost,
  planSetup,
  shellCommand,
  type MachineFacts,
  type SetupStep,
} from './prerequisites-plan.ts';

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function listDir(path: string): string[] {
  return existsSync(path) ? readdirSync(path).sort((a, b) => Number(a) - Number(b)) : [];
}

function answers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(port || 5432) });
    socket.setTimeout(1_000, () => socket.destroy());
    socket.once('connect', () => {
      resolve(true);
      socket.destroy();
    });
    socket.once('close', () => resolve(false));
    socket.once('error', () => resolve(false));
  });
}

async function gatherFacts(installedPostgresNow: boolean): Promise<MachineFacts> {
  const url = process.env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
  const apt = existsSync('/usr/bin/apt-get');
  const serverVersions = listDir('/usr/lib/postgresql');
  return {
    rootWithApt: apt && process.getuid?.() === 0,
    apt,
    redisServerOnPath: onPath('redis-server'),
    chromiumInstalled: existsSync(CHROMIUM_PATH),
    postgres: {
      url,
      local: isLocalHost(url),
      answering: await answers(url),
      serverVersions,
      clusters: serverVersions.filter((version) => existsSync(`/etc/postgresql/${version}/main`)),
      installedNow: installedPostgresNow,
    },
  };
}

function run(step: SetupStep, aptUpdated: boolean): void {
  const commands = [...(step.kind === 'apt-install' && !aptUpdated ? ['apt-get update -qq'] : []), shellCommand(step)];
  for (const command of commands) {
    process.stderr.write(`test set-up: ${command}\n`);
    try {
      execFileSync('sh', ['-c', command], {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } catch (err) {
      process.stderr.write(
        `test set-up: that failed (${(err as { status?: number }).status === undefined ? String(err) : `exit ${(err as { status: number }).status}`})\n`,
      );
      process.exit(1);
    }
  }
}

async function waitForPostgres(url: string): Promise<boolean> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await answers(url)) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

let aptUpdated = false;
// Set when this run installs PostgreSQL, cleared once it has configured and started it.
let installedPostgres = false;
// Each round takes the steps the facts call for, then looks again: an install changes what is there.
for (let round = 0; ; round++) {
  const facts = await gatherFacts(installedPostgres);
  const plan = planSetup(facts);
  if (plan.kind === 'ready') break;
  if (plan.kind === 'stop' || round === 3) {
    const missing = plan.kind === 'stop' ? plan.missing : ['(still missing after setting up)'];
    process.stderr.write(`npm test needs ${missing.join(', ')}.\n`);
    if (plan.kind === 'stop') process.stderr.write(`Run: ${plan.command}\n`);
    process.exit(1);
  }
  for (const step of plan.steps) {
    run(step, aptUpdated);
    if (step.kind === 'apt-install') {
      aptUpdated = true;
      installedPostgres ||= step.packages.includes('postgresql');
    }
  }
  if (plan.steps.some((step) => step.kind === 'start-postgres' || step.kind === 'restart-postgres')) {
    installedPostgres = false;
    if (!(await waitForPostgres(facts.postgres.url))) {
      process.stderr.write(`test set-up: PostgreSQL started but does not answer at ${hostAndPort(facts.postgres.url)}\n`);
      process.exit(1);
    }
  }
}
