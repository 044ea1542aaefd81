import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { createLogger } from '../../../src/log.ts';
import type { NotificationIntent } from '../../../src/notify/enqueue.ts';
import { enqueueNotifications } from '../../../src/notify/enqueue.ts';
import { generateWebhookSecret } from '../../../src/notify/referrer-webhooks.ts';
import { createCipher } from '../../../src/store/crypto.ts';
import { migrateDb, openDb, type Db } from '../../../src/store/db.ts';
import { createStore, type Store } from '../../../src/store/index.ts';
import { installations, outbox, programs, referrals, referrers, rewards, webhookEndpoints } from '../../../src/store/schema.ts';

export const TEST_KEY_HEX = '7'.repeat(64);
export const cipher = createCipher(Buffer.from(TEST_KEY_HEX, 'hex'));
export const silentLog = createLogger({ level: 'silent' });

export function createTestDb(path = ':memory:'): Db {
  const db = openDb(path);
  migrateDb(db);
  return db;
}

const stores = new WeakMap<Db, Store>();

/**
 * The repositories over a test database, as the notifier and the routes take them: one store per
 * connection, as in the service, so its transactions take turns.
 */
export function storeOf(db: Db): Store {
  let store = stores.get(db);
  if (!store) {
    store = createStore(db, cipher);
    stores.set(db, store);
  }
  return store;
}

/** A clock the test moves; starts at the real time so signatures pass the receiver's freshness check. */
export function testClock(start = new Date()) {
  let ms = start.getTime();
  return {
    now: () => new Date(ms),
    advance: (by: number) => void (ms += by),
  };
}

export const program: NotificationIntent['program'] = {
  name: 'Acme Referral Program',
  senderName: 'Acme Partnerships',
  senderEmail: 'referrals@acme.test',
  discretion: { showStage: true, showReward: true, showDealAmount: false, showInternalNotes: false },
  // These tests are about delivery: every step is told at once. The quiet period has its own tests.
  quietPeriodSeconds: 0,
};

export function insertInstallation(db: Db, id = `inst_${randomUUID()}`): string {
  db.insert(installations)
    .values({
      id,
      crm: 'hubspot',
      accountId: id,
      status: 'active',
      scopes: [],
      accessTokenEnc: cipher.encrypt('token'),
      settings: {},
      updatedAt: new Date().toISOString(),
    })
    .run();
  db.insert(programs)
    .values({ id: defaultProgramId(id), installationId: id, isDefault: true })
    .run();
  return id;
}

/** The default program insertInstallation gives an installation. */
const defaultProgramId = (installationId: string) => `prg_${installationId}`;

export interface ReferrerFixture {
  id: string;
  installationId: string;
  email: string;
  name: string;
  accessKey: string;
}

export function insertReferrer(
  db: Db,
  installationId: string,
  options: { name: string; email: string; digest?: boolean; emailOptOut?: boolean; crmPersonId?: string; company?: string },
): ReferrerFixture {
  const id = `rfr_${randomUUID()}`;
  const accessKey = randomUUID();
  db.insert(referrers)
    .values({
      id,
      installationId,
      email: options.email,
      name: options.name,
      type: 'partner',
      company: options.company ?? null,
      digest: options.digest ?? false,
      emailOptOut: options.emailOptOut ?? false,
      accessKey,
      ...(options.crmPersonId ? { crmPersonType: 'contact' as const, crmPersonId: options.crmPersonId } : {}),
    })
    .run();
  return { id, installationId, email: options.email, name: options.name, accessKey };
}

export interface ReferralFixture {
  id: string;
  referrerId: string;
  installationId: string;
  refereeName: string;
  refereeCompany: string;
}

export function insertReferral(
  db: Db,
  referrer: ReferrerFixture,
  referee: { firstName: string; lastName: string; company: string },
): ReferralFixture {
  const id = `ref_${randomUUID()}`;
  const now = new Date().toISOString();
  const email = `${referee.firstName}.${referee.lastName}@${referee.company.toLowerCase().replace(/\W/g, '')}.test`.toLowerCase();
  db.insert(referrals)
    .values({
      id,
      installationId: referrer.installationId,
      referrerId: referrer.id,
      programId: defaultProgramId(referrer.installationId),
      programVersion: 1,
      status: 'submitted',
      refereeEmail: email,
      refereeEmailKey: email,
      refereeFirstName: referee.firstName,
      refereeLastName: referee.lastName,
      refereeCompany: referee.company,
      submittedByKind: 'referrer',
      verdict: {},
      submittedAt: now,
      updatedAt: now,
    })
    .run();
  return {
    id,
    referrerId: referrer.id,
    installationId: referrer.installationId,
    refereeName: `${referee.firstName} ${referee.lastName}`,
    refereeCompany: referee.company,
  };
}

export function insertReward(db: Db, referral: ReferralFixture, amountCents: number): string {
  const id = `rwd_${randomUUID()}`;
  db.insert(rewards)
    .values({
      id,
      installationId: referral.installationId,
      referralId: referral.id,
      referrerId: referral.referrerId,
      kind: 'milestone',
      beneficiary: 'referrer',
      milestone: 'closed_won',
      amountCents,
      currency: 'USD',
      status: 'pending',
      dueDate: '2026-04-01',
      requiresApproval: false,
      programId: defaultProgramId(referral.installationId),
      programVersion: 1,
      reasons: [],
      idempotencyKey: id,
      updatedAt: new Date().toISOString(),
    })
    .run();
  return id;
}

/** An endpoint as the admin API creates it; returns the secret shown once. */
export function insertWebhookEndpoint(db: Db, referrer: ReferrerFixture, url: string): { id: string; secret: string } {
  const id = `whe_${randomUUID()}`;
  const secret = generateWebhookSecret();
  db.insert(webhookEndpoints)
    .values({
      id,
      installationId: referrer.installationId,
      referrerId: referrer.id,
      url,
      secretEnc: cipher.encrypt(secret),
      status: 'enabled',
    })
    .run();
  return { id, secret };
}

/** The journey of one referral, as the use cases would tell it; the deal is $25,000. */
export const JOURNEY_TOPICS = [
  'referral.received',
  'referral.accepted',
  'referral.contacted',
  'referral.in_sales_process',
  'referral.won',
  'reward.approved',
  'reward.paid',
] as const;

export function journeyIntents(referral: ReferralFixture, rewardId: string, options: { crmNote?: boolean } = {}): NotificationIntent[] {
  const deal = { amountCents: 2_500_000, currency: 'USD', stage: 'Contract sent' };
  const reward = { id: rewardId, amountCents: 50_000, currency: 'USD', dueDate: '2026-04-01' };
  const status: Record<(typeof JOURNEY_TOPICS)[number], string> = {
    'referral.received': 'submitted',
    'referral.accepted': 'accepted',
    'referral.contacted': 'contacted',
    'referral.in_sales_process': 'qualified',
    'referral.won': 'closed_won',
    'reward.approved': 'closed_won',
    'reward.paid': 'closed_won',
  };
  return JOURNEY_TOPICS.map((topic) => ({
    installationId: referral.installationId,
    topic,
    sourceKey: `test:${referral.id}:${topic}`,
    referralId: referral.id,
    referrerId: referral.referrerId,
    ...(options.crmNote ? { crmNote: true } : {}),
    data: {
      referral: {
        id: referral.id,
        status: status[topic],
        refereeName: referral.refereeName,
        refereeCompany: referral.refereeCompany,
        notes: 'Internal: budget approved by CFO',
      },
      ...(topic === 'referral.in_sales_process' || topic === 'referral.won' ? { deal } : {}),
      ...(topic === 'reward.approved' ? { reward: { ...reward, status: 'approved' } } : {}),
      ...(topic === 'reward.paid' ? { reward: { ...reward, status: 'paid', payoutReference: 'PAY-2026-0042' } } : {}),
    },
    program,
  }));
}

/** Each intent in its own transaction, as each use case would; returns rows written per intent. */
export async function enqueueAll(db: Db, intents: NotificationIntent[], now: Date): Promise<number[]> {
  const store = storeOf(db);
  const written: number[] = [];
  for (const intent of intents) written.push(await store.transaction(() => enqueueNotifications(store.outbox, intent, now)));
  return written;
}

export function outboxRows(db: Db, referrerId?: string) {
  return (referrerId ? db.select().from(outbox).where(eq(outbox.referrerId, referrerId)) : db.select().from(outbox))
    .orderBy(outbox.id)
    .all();
}
