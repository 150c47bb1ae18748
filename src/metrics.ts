import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { IngestWriter } from './ingest/writer.js';

/** Prometheus metrics for one Vigil process. */
export function createMetrics(writer: IngestWriter): { registry: Registry; observeIngest: (accepted: number, rejected: number) => void } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vigil_' });
  const events = new Counter({
    name: 'vigil_ingest_check_ins_total',
    help: 'Check-in lines received, by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'vigil_ingest_commits_total',
    help: 'Group commits made by the ingest writer',
    registers: [registry],
    collect() {
      this.set(writer.stats.commits);
    },
  });
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
