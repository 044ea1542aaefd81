import { defineConfig } from 'vitest/config';

// `npm run test:unit` runs the `unit` project alone, in seconds: the pure tests (domain rules,
// parsing, mapping, the test set-up's decisions) and the use cases on the fake CRM and SQLite
// :memory:, none of which starts a server, a process or an external database.
const unitTests = ['tests/unit/**/*.test.ts', 'tests/use-cases/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start servers and child processes; two cores.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      // Threads start faster than forks, and the unit tests share no process state.
      { extends: true, test: { name: 'unit', include: unitTests, pool: 'threads' } },
      // Integration, contract and end-to-end tests.
      { extends: true, test: { name: 'integration', include: ['tests/**/*.test.ts'], exclude: unitTests } },
    ],
  },
});
