import type { CrmClient } from '../../connectors/connector.ts';
import type { PayoutProvider } from '../../connectors/payouts/provider.ts';
import type { CrmKind, RegisteredConnector } from '../../connectors/registry.ts';
import type { Logger } from '../log.ts';
import type { NotificationIntent } from '../notify/enqueue.ts';
import type { Store } from '../store/index.ts';
import type { InstallationRow } from '../store/installations.repo.ts';

/** The CRM side as use cases see it: connectors by kind, clients per installation. */
export interface CrmAccess {
  connector(kind: CrmKind): RegisteredConnector | undefined;
  client(installation: InstallationRow): Promise<CrmClient>;
}

export type JobKind = 'sync' | 'push-referrals' | 'reconcile' | 'reevaluate-accounts' | 'send-payouts';

/** Schedules work for the workers; coalesces repeated requests for the same installation. */
export interface Scheduler {
  /**
   * `key` names the work instead of a time bucket: the same key schedules one job while it waits or
   * runs (e.g. one re-evaluation per eligibility mapping), and runs at once.
   */
  schedule(kind: JobKind, installationId: string, options?: { delayMs?: number; key?: string }): Promise<void>;
  /** Whether work can be scheduled right now (Redis connected); answered without waiting. */
  available(): boolean;
}

export interface UseCaseContext {
  store: Store;
  crm: CrmAccess;
  scheduler: Scheduler;
  /** Writes outbox rows; call inside the transaction of the change that causes them. */
  notify(intent: NotificationIntent, now: Date): Promise<void>;
  now(): Date;
  log: Logger;
  /** The payout provider runs are sent through; unset with PAYOUT_PROVIDER=csv (runs are exported). */
  payoutProvider?: PayoutProvider;
}
