import { execFileSync } from 'node:child_process';

/**
 * Vitest global setup of the integration project: the service serves the built front end, so it
 * is built once from the sources under test before any file runs. Building it in each browser
 * test instead raced: one file's build emptied dist/web while another's pages were loading.
 */
export default function buildWeb(): void {
  // NODE_ENV is 'test' under vitest, which would make Vite bundle React's development build.
  execFileSync('npm', ['run', '-s', 'build:web'], { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
}
