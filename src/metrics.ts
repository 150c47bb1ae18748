import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from './store/index.js';

export interface MetricSources {
  readonly store: Pick<Store, 'ingestCommits'>;
  readonly evaluator: {
    readonly stats: { passes: number; monitorsEvaluated: number; eventsEvaluated: number; lastPassMs: number; busyMs: number };
  };
  readonly deliveries: { readonly stats: { attempts: number; delivered: number; failed: number } };
}

/** Prometheus metrics for one Vigil process. */
export function createMetrics({ store, evaluator, deliveries }: MetricSources): {
  registry: Registry;
  observeIngest: (accepted: number, rejected: number) => void;
} {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vigil_' });
  const events = new Counter({
    name: 'vigil_ingest_check_ins_total',
    help: 'Check-in lines received, by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  // Metrics that read the parts' own numbers when scraped: a `_total` is a counter (it only
  // grows, so rate() works and promtool agrees), anything else a gauge.
  const reading = (name: string, help: string, read: () => number) =>
    name.endsWith('_total')
      ? new Counter({
          name,
          help,
          registers: [registry],
          collect() {
            this.reset();
            this.inc(read());
          },
        })
      : new Gauge({
          name,
          help,
          registers: [registry],
          collect() {
            this.set(read());
          },
        });
  reading('vigil_ingest_commits_total', 'Durable group commits of check-ins', () => store.ingestCommits);
  reading('vigil_evaluator_passes_total', 'Evaluation passes', () => evaluator.stats.passes);
  reading('vigil_evaluator_monitors_evaluated_total', 'Monitors decided by the evaluator', () => evaluator.stats.monitorsEvaluated);
  reading('vigil_evaluator_events_evaluated_total', 'Check-in events read by the evaluator', () => evaluator.stats.eventsEvaluated);
  reading('vigil_evaluator_last_pass_seconds', 'Duration of the last evaluation pass', () => evaluator.stats.lastPassMs / 1000);
  reading('vigil_evaluator_busy_seconds_total', 'Time spent in evaluation passes', () => evaluator.stats.busyMs / 1000);
  reading('vigil_delivery_attempts_total', 'Notification delivery attempts', () => deliveries.stats.attempts);
  reading('vigil_deliveries_delivered_total', 'Notifications delivered', () => deliveries.stats.delivered);
  reading('vigil_deliveries_failed_total', 'Notifications given up on', () => deliveries.stats.failed);
  const accepted = events.labels('accepted');
  const rejected = events.labels('rejected');
  return {
    registry,
    observeIngest: (a, r) => {
      if (a) accepted.inc(a);
      if (r) rejected.inc(r);
    },
  };
}
