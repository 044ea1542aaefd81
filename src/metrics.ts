import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's Prometheus metrics, one registry per process (tests build their own). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    webhookEvents: new Counter({
      name: 'referloop_webhook_events_total',
      help: 'CRM webhook events received, by CRM and outcome (stored, duplicate, unknown_account).',
      labelNames: ['crm', 'outcome'] as const,
      registers: [registry],
    }),
    webhookRequests: new Counter({
      name: 'referloop_webhook_requests_total',
      help: 'CRM webhook requests, by CRM and HTTP status.',
      labelNames: ['crm', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'referloop_http_request_duration_seconds',
      help: 'HTTP request duration by route and status.',
      labelNames: ['route', 'status'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [registry],
    }),
    syncedRecords: new Counter({
      name: 'referloop_synced_records_total',
      help: 'CRM records fetched and applied by the sync worker, by object type.',
      labelNames: ['object_type'] as const,
      registers: [registry],
    }),
    jobs: new Counter({
      name: 'referloop_jobs_total',
      help: 'Jobs run by name and outcome.',
      labelNames: ['name', 'outcome'] as const,
      registers: [registry],
    }),
    referralTransitions: new Counter({
      name: 'referloop_referral_transitions_total',
      help: 'Referral lifecycle transitions by target status.',
      labelNames: ['to'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
