import { createRequire } from 'node:module';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// `npm run test:unit` runs the `unit` project alone, in seconds: the pure tests (domain rules,
// parsing, mapping, the test set-up's decisions) and the use cases on the fake CRM and SQLite
// :memory:, none of which starts a server, a process or an external database.
const unitTests = ['tests/unit/**/*.test.ts', 'tests/use-cases/**/*.test.ts'];

/**
 * The React the HubSpot SDK itself loads, which the cards (their own npm workspace, React 18) and
 * their tests must share: the root's React 19 or a second copy of React 18 would break its hooks.
 * Before `npm ci` has installed the workspace there is none, and the card tests fail to import the SDK.
 */
function sdkReact(): string | undefined {
  const cardsWorkspace = path.resolve(import.meta.dirname, 'app-manifest/hubspot/src/app/cards');
  try {
    const sdkEntry = createRequire(path.join(cardsWorkspace, 'package.json')).resolve('@hubspot/ui-extensions');
    return path.dirname(createRequire(sdkEntry).resolve('react/package.json'));
  } catch {
    return undefined;
  }
}
const cardsReact = sdkReact();

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
      // The use cases again, on a scratch PostgreSQL database each: both stores behave alike. The
      // payout back-fill replays a SQLite migration, which PostgreSQL never had.
      {
        extends: true,
        test: {
          name: 'use-cases-postgres',
          include: ['tests/use-cases/**/*.test.ts'],
          exclude: ['tests/use-cases/payout-backfill.test.ts'],
          env: { REFERLOOP_TEST_STORE: 'postgres' },
        },
      },
      // Both CRMs' end-to-end flows again, on PostgreSQL and Redis: the scale-out deployment.
      {
        extends: true,
        test: {
          name: 'e2e-postgres',
          include: ['tests/e2e/hubspot-flow.test.ts', 'tests/e2e/salesforce-flow.test.ts'],
          env: { REFERLOOP_TEST_STORE: 'postgres' },
        },
      },
      // Integration, contract and end-to-end tests.
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['tests/**/*.test.ts'],
          exclude: [...unitTests, 'tests/soak/**'],
          globalSetup: ['tests/support/build-web.ts'],
        },
      },
      // The short soak (tests/soak/run.ts at 1,000 events): the deployed processes under faults, kills
      // and restarts. `npm test` runs it last, by itself (`npm run test:soak`): sharing two cores with
      // the other suites would make its CRMs and app processes wait on each other, not on the app's rules.
      ...(process.env.REFERLOOP_SOAK === '1'
        ? [{ extends: true as const, test: { name: 'soak', include: ['tests/soak/**/*.test.ts'], testTimeout: 15 * 60_000 } }]
        : []),
      // The HubSpot cards rendered with the SDK's testing utilities, calling the running service.
      {
        extends: true,
        test: { name: 'cards', include: ['tests/cards/**/*.test.tsx'] },
        resolve: { alias: cardsReact ? [{ find: /^react(\/.*)?$/, replacement: `${cardsReact}$1` }] : [] },
      },
    ],
  },
});
