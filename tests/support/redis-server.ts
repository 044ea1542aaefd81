import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort } from './ports.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const installHint = 'redis-server is not on PATH and REDIS_URL is unset: apt-get install -y redis-server';

// Children outlive a crashed test run unless killed with it.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function track(child: ChildProcess): { exited: Promise<void>; output: () => string } {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  live.add(child);
  const exited = new Promise<void>((done) => {
    child.once('exit', () => {
      live.delete(child);
      done();
    });
    child.once('error', () => done());
  });
  return { exited, output: () => output };
}

/** One PING over a raw socket; true once the server answers PONG (not LOADING). */
function ping(port: number): Promise<boolean> {
  return new Promise((answer) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(500, () => socket.destroy());
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      answer(data.toString().startsWith('+PONG'));
      socket.destroy();
    });
    socket.once('close', () => answer(false));
    socket.once('error', () => answer(false));
  });
}

export interface RedisServer {
  url: string;
  port: number;
  /** Final: SIGTERM, wait, delete the data folder. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash; the data folder stays for `restart()`. */
  kill(): Promise<void>;
  /** Start again on the same port and data folder (stopping it first if it runs). */
  restart(): Promise<void>;
}

export interface RedisServerOptions {
  appendonly?: boolean;
  appendfsync?: 'always' | 'everysec' | 'no';
}

/** A private redis-server on a free port with its own temp folder; RDB snapshots off. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (spawnSync('redis-server', ['--version']).error) throw new Error(installHint);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'referloop-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
    '--appendfsync',
    options.appendfsync ?? 'everysec',
  ];

  let current: { child: ChildProcess; exited: Promise<void> } | undefined;
  async function launch(): Promise<void> {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const { exited, output } = track(child);
    current = { child, exited };
    const deadline = Date.now() + 10_000;
    while (child.exitCode === null && Date.now() < deadline) {
      if (await ping(port)) return;
      await sleep(20);
    }
    child.kill('SIGKILL');
    throw new Error(`redis-server on port ${port} did not start:\n${output()}`);
  }
  async function halt(signal: NodeJS.Signals): Promise<void> {
    if (!current) return;
    const { child, exited } = current;
    current = undefined;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  }

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      await halt('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    kill: () => halt('SIGKILL'),
    async restart() {
      await halt('SIGTERM');
      await launch();
    },
  };
}

/** REDIS_URL when set, else a private redis-server; `stop()` only stops what it started. */
export async function redisUrlForTests(): Promise<{ url: string; stop(): Promise<void> }> {
  const url = process.env.REDIS_URL;
  if (url) return { url, stop: async () => {} };
  const server = await startRedisServer();
  return { url: server.url, stop: () => server.stop() };
}

/** Deletes a test's keys (SCAN, not KEYS, so a shared REDIS_URL is not blocked). */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url);
  for await (const keys of client.scanStream({ match: `${prefix}:*`, count: 500 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) await client.del(...keys);
  }
  await client.quit();
}

export interface TsProcess {
  pid: number;
  exited: Promise<void>;
  /** stdout and stderr so far, for failure messages. */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs a TypeScript file in a child `node --import tsx` with extra environment variables. */
export function spawnTsProcess(file: string, env: Record<string, string> = {}): TsProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { exited, output } = track(child);
  return {
    pid: child.pid ?? 0,
    exited,
    output,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
