/**
 * The architecture's arrows, checked by `npm test` (STYLE.md): the domain is pure, use cases speak
 * to the connector interface only, connectors never reach into the app, and only the composition
 * roots wire concrete things together.
 */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'src/domain takes facts and returns decisions: no store, http, jobs, config, connectors or I/O libraries.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: {
        path: [
          '^src/(store|http|jobs|notify|use-cases)/',
          '^src/(config|main|cli|log|metrics)\\.ts$',
          '^connectors/',
          'node_modules/(express|bullmq|ioredis|drizzle-orm|better-sqlite3|zod|jsforce|@hubspot|pino|nodemailer)',
        ],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'src-names-no-concrete-connector',
      comment:
        'The app knows the connector interface and the registry, never one CRM: a new CRM is its folder and a line in connectors/registry.ts.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^connectors/', pathNot: '^connectors/(connector|registry|payouts/provider|payouts/registry)\\.ts$' },
    },
    {
      name: 'payout-providers-stay-in-their-folders',
      comment:
        'A payout provider (connectors/payouts/<provider>/) uses its own files and connectors/payouts/provider.ts, never a CRM or another provider.',
      severity: 'error',
      from: { path: '^connectors/payouts/([^/]+)/' },
      to: { path: '^connectors/', pathNot: ['^connectors/payouts/$1/', '^connectors/payouts/provider\\.ts$'] },
    },
    {
      name: 'use-cases-speak-to-ports',
      comment: 'Use cases know ports and the connector interface, not the http edge, queue implementations or the composition roots.',
      severity: 'error',
      from: { path: '^src/use-cases/' },
      to: { path: ['^src/http/', '^src/jobs/(bullmq|embedded)', '^src/(main|cli)\\.ts$'] },
    },
    {
      name: 'connectors-stay-outside-the-app',
      comment: "A connector never imports src/, except the domain's money conversions: one exact path from CRM decimals to minor units.",
      severity: 'error',
      from: { path: '^connectors/' },
      to: { path: '^src/', pathNot: '^src/domain/money\\.ts$' },
    },
    {
      name: 'money-is-a-leaf',
      comment: 'Connectors import src/domain/money.ts, so it imports nothing that would bring the app in behind it.',
      severity: 'error',
      from: { path: '^src/domain/money\\.ts$' },
      to: {},
    },
    {
      name: 'one-crm-never-imports-another',
      comment: 'A CRM folder uses its own files and the shared connectors/*.ts, never another CRM folder.',
      severity: 'error',
      from: { path: '^connectors/([^/]+)/' },
      to: { path: '^connectors/[^/]+/', pathNot: '^connectors/$1/' },
    },
    {
      name: 'crms-do-not-import-the-registry',
      comment: 'The registry imports the CRMs; a CRM that imported it back would make a cycle through every other CRM.',
      severity: 'error',
      from: { path: '^connectors/[^/]+/' },
      to: { path: '^connectors/registry\\.ts$' },
    },
    {
      name: 'only-composition-roots-wire-concrete-things',
      comment: 'Queue and rate-limiter implementations are chosen in src/main.ts and src/cli.ts only.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(main|cli)\\.ts$' },
      to: { path: '^src/jobs/(bullmq-queue|embedded-queue|rate-limiter)\\.ts$' },
    },
    {
      name: 'the-store-is-sealed',
      comment:
        'Only src/store/ (and the embedded queue, which lives in the same database) touches drizzle, SQL or the schema; ' +
        'everything else speaks to repositories, so a second store implementation has one place to fill.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/store/', '^src/jobs/embedded-queue\\.ts$'] },
      to: { path: ['node_modules/(drizzle-orm|better-sqlite3)/', '^src/store/schema\\.ts$'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
