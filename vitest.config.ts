import { defineConfig } from 'vitest/config';

// `npm run test:unit` runs the `unit` project alone: pure tests (domain rules, parsing, mapping,
// the test set-up's decisions) that start no server, process or database, in seconds.
const unitTests = 'tests/unit/**/*.test.ts';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start servers and child processes; two cores.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      // Threads start faster than forks, and the unit tests share no process state.
      { extends: true, test: { name: 'unit', include: [unitTests], pool: 'threads' } },
      // Integration, contract and end-to-end tests.
      { extends: true, test: { name: 'integration', include: ['tests/**/*.test.ts'], exclude: [unitTests] } },
    ],
  },
});
