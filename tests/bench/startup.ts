/**
 * `npm run bench:startup` — how long a user waits for the CLI, measured the way a user starts it:
 *
 * - `npx referloop token`: from spawn to exit;
 * - `npm start`: from spawn to the first 200 from `/healthz`.
 *
 * Each run gets a fresh data dir (a first start: key, token and database are created), its own
 * port, `LOG_LEVEL=silent`; the figure is the median of `--runs=<n>` runs (default 5).
 * `npm run -s bench:startup -- --json` prints exactly one JSON object on stdout.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/ports.ts';
import { round } from './util.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const argv = process.argv.slice(2);
const asJson = argv.includes('--json');
const runs = Number(argv.find((a) => a.startsWith('--runs='))?.slice('--runs='.length) ?? '5');
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
const HEALTHZ_TIMEOUT_MS = 60_000;

/** A fresh data dir and port, and only the configuration this run sets. */
function freshEnv(port: number): { env: NodeJS.ProcessEnv; dataDir: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'referloop-startup-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    DATABASE_URL: `file:${join(dataDir, 'referloop.db')}`,
    LOG_LEVEL: 'silent',
  };
  for (const name of ['PUBLIC_BASE_URL', 'REDIS_URL', 'ENCRYPTION_KEY', 'ADMIN_API_TOKEN']) delete env[name];
  return { env, dataDir };
}

async function timeToken(): Promise<number> {
  const { env, dataDir } = freshEnv(await freePort());
  try {
    const started = performance.now();
    const child = spawn('npx', ['referloop', 'token'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    const ms = performance.now() - started;
    if (code !== 0 || !/^\S{20,}\n$/.test(output.split('\n').slice(-2).join('\n'))) {
      throw new Error(`npx referloop token failed (exit ${code}):\n${output}`);
    }
    return ms;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function timeStart(): Promise<number> {
  const port = await freePort();
  const { env, dataDir } = freshEnv(port);
  // Its own process group, so npm, the shell and node all stop together.
  const child = spawn('npm', ['start'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let running = true;
  void exited.then(() => (running = false));
  const started = performance.now();
  try {
    for (;;) {
      if (!running) throw new Error(`npm start exited before /healthz answered:\n${output}`);
      if (performance.now() - started > HEALTHZ_TIMEOUT_MS)
        throw new Error(`/healthz did not answer within ${HEALTHZ_TIMEOUT_MS} ms:\n${output}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (res) => res.status === 200,
        () => false,
      );
      if (ok) return performance.now() - started;
      await sleep(10);
    }
  } finally {
    if (running) process.kill(-child.pid!, 'SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (running) process.kill(-child.pid!, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const progress = (line: string) => process.stderr.write(`${line}\n`);
const figures: Record<string, { medianMs: number; runsMs: number[] }> = {};
for (const [name, measure] of [
  ['npx referloop token', timeToken],
  ['npm start → /healthz', timeStart],
] as const) {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    samples.push(await measure());
    progress(`${name}: run ${i + 1}/${runs} ${Math.round(samples.at(-1)!)} ms`);
  }
  figures[name] = { medianMs: Math.round(median(samples)), runsMs: samples.map((ms) => Math.round(ms)) };
}

const machine = { node: process.version, loadAverage1m: round(loadavg()[0]!) };
if (asJson) {
  process.stdout.write(`${JSON.stringify({ runs, machine, figures })}\n`);
} else {
  process.stdout.write(`| figure | median of ${runs} | runs (ms) |\n|---|---|---|\n`);
  for (const [name, { medianMs, runsMs }] of Object.entries(figures)) {
    process.stdout.write(`| ${name} | ${medianMs} ms | ${runsMs.join(', ')} |\n`);
  }
  process.stdout.write(`\nNode ${machine.node}, load average ${machine.loadAverage1m}\n`);
}
